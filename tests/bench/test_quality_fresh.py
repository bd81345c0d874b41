"""bench.quality's fresh set (``--set fresh``): every class of the holdout set, files and requests of
its own (none of the other sets'), and facts that hold for its files: every number a check expects
is computed here again from the files, and a wrong value, or a filter that let too much through,
fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from bench import quality_data as data
from bench import quality_dev as dev
from bench import quality_fresh as fresh
from bench import quality_holdout as holdout
from bench.quality import SETS
from bench.quality_cases import CASES
from bench.quality_targets import FILES
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_paths_in_workspace,
    assert_well_formed,
    assert_wrong_answers_fail,
    expected_patterns,
)

FRESH = {c.name: c for c in fresh.CASES}
_FLAGS = re.I | re.S


def test_the_fresh_set_has_every_class_of_the_holdout_set_and_nothing_of_the_other_sets() -> None:
    assert SETS["fresh"].cases is fresh.CASES and SETS["fresh"].files is fresh.FILES
    assert len(FRESH) == len(fresh.CASES) >= 30
    assert {c.kind for c in fresh.CASES} >= {c.kind for c in holdout.CASES}
    others = (*CASES, *holdout.CASES, *dev.CASES, *data.CASES)
    assert not FRESH.keys() & {c.name for c in others}
    assert not {t for c in fresh.CASES for t in c.turns} & {t for c in others for t in c.turns}
    assert not fresh.FILES.keys() & (FILES.keys() | holdout.FILES.keys() | dev.FILES.keys() | data.FILES.keys())
    assert_well_formed(fresh.CASES)


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "fresh")


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    rows = list(csv.DictReader(io.StringIO(fresh.FILES["slo/latency.csv"])))
    users = json.loads(fresh.FILES["access/users.json"])["users"]
    log = [line.split() for line in fresh.FILES["logs/node.log"].splitlines()]
    flags = yaml.safe_load(fresh.FILES["config/flags.yaml"])
    standup = fresh.FILES["notes/standup.md"]
    requests = sum(int(r["requests"]) for r in rows)
    eu = [int(r["p95_ms"]) for r in rows if r["region"] == "eu-west"]
    per_service: dict[str, int] = defaultdict(int)
    for r in rows:
        per_service[r["service"]] += int(r["requests"])
    slowest = max(rows, key=lambda r: int(r["p95_ms"]))["service"]
    no_mfa = [u["login"] for u in users if not u["mfa"]]
    admins = [u for u in users if u["role"] == "admin"]
    per_team = Counter(u["team"] for u in users)
    full = sorted({f[3] for f in log if f[4].startswith("disk=") and int(f[4][5:-1]) > 90})
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(fresh.FILES["config/quotas.json"])
    taker = re.search(r"Notes taken by (\w+)", standup)
    upgrade = re.search(r"database .*Owner: (\w+)", standup)
    rotation = re.search(r"API keys .*\((\S+@\S+)\)", standup)
    assert taker and upgrade and rotation
    return {
        "fresh-rollout": f"{flags['flags']['new-checkout']['rollout']}%.",
        "fresh-note-taker": f"{taker.group(1)} took them.",
        "fresh-flags-owner": flags["owner"],
        "fresh-rollout-and-upgrade": f"{flags['flags']['fast-search']['rollout']}%; {upgrade.group(1)}.",
        "fresh-total-requests": f"{requests:,} requests.",
        "fresh-eu-p95": f"{sum(eu) / len(eu):.1f} ms on average.",
        "fresh-slowest-service": slowest,
        "fresh-error-share": f"{100 * sum(int(r['errors']) for r in rows) / requests:.2f}% were errors.",
        "fresh-requests-per-service": "\n".join(f"- {name}: {n:,}" for name, n in per_service.items()),
        "fresh-no-mfa": ", ".join(no_mfa),
        "fresh-admin-count": f"{len(admins)} admins.",
        "fresh-users-per-team": "\n".join(f"- {team}: {n}" for team, n in per_team.items()),
        "fresh-warn-count": f"{sum(f[2] == 'WARN' for f in log)} WARN lines.",
        "fresh-full-nodes": " and ".join(full),
        "fresh-mail-actions": "\n".join(line for line in standup.splitlines() if line.startswith("- ")),
        "fresh-no-mfa-to-file": "\n".join(no_mfa),
        "fresh-mail-total": f"{requests:,}",
        "fresh-follow-up-slowest": slowest,
        "fresh-follow-up-admins": ", ".join(u["login"] for u in admins if not u["mfa"]),
        "fresh-follow-up-owner": rotation.group(1),
        "fresh-broken-quotas": f"config/quotas.json is not valid JSON: {broken.value}",
    }


def test_every_number_a_fresh_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["fresh-error-share"] == "0.47% were errors." and answers["fresh-eu-p95"] == "265.0 ms on average."
    assert answers["fresh-full-nodes"] == "node-3 and node-5"
    rows = list(csv.DictReader(io.StringIO(fresh.FILES["slo/latency.csv"])))
    share = 100 * sum(int(r["errors"]) for r in rows) / sum(int(r["requests"]) for r in rows)
    assert all(re.search(p, f"{share:.6f}%", _FLAGS) for p in expected_patterns(FRESH["fresh-error-share"]))  # unrounded
    assert_answers_meet_checks(fresh.CASES, answers)


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"fresh-total-requests": "250,000 requests", "fresh-eu-p95": "282.9 ms",
             "fresh-error-share": "4.67% were errors", "fresh-admin-count": "7 admins",
             "fresh-no-mfa": "bkim, cwong, gmoreau, asilva", "fresh-full-nodes": "node-3, node-4 and node-5",
             "fresh-follow-up-admins": "cwong and bkim", "fresh-warn-count": "5 WARN lines",
             "fresh-requests-per-service": "- api: 52,000\n- web: 90,000\n- search: 39,000\n- auth: 9,000",
             "fresh-users-per-team": "- platform: 2\n- data: 2\n- web: 2"}
    assert_wrong_answers_fail(fresh.CASES, wrong)
