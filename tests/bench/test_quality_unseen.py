"""bench.quality's unseen set (``--set unseen``): every class of the holdout set, files and requests
of its own (none of the other sets'), and facts that hold for its files: every number a check
expects is computed here again from the files, and a wrong value, or a filter that let too much
through, fails the check."""

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
from bench import quality_unseen as unseen
from bench.quality import SETS
from bench.quality_cases import CASES
from bench.quality_targets import FILES
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_paths_in_workspace,
    assert_well_formed,
    assert_wrong_answers_fail,
)

UNSEEN = {c.name: c for c in unseen.CASES}


def test_the_unseen_set_has_every_class_of_the_holdout_set_and_nothing_of_the_other_sets() -> None:
    assert SETS["unseen"].cases is unseen.CASES and SETS["unseen"].files is unseen.FILES
    assert len(UNSEEN) == len(unseen.CASES) >= 30
    assert {c.kind for c in unseen.CASES} >= {c.kind for c in holdout.CASES}
    others = (*CASES, *holdout.CASES, *dev.CASES, *data.CASES, *fresh.CASES)
    assert not UNSEEN.keys() & {c.name for c in others}
    assert not {t for c in unseen.CASES for t in c.turns} & {t for c in others for t in c.turns}
    other_files = FILES.keys() | holdout.FILES.keys() | dev.FILES.keys() | data.FILES.keys() | fresh.FILES.keys()
    assert not unseen.FILES.keys() & other_files
    assert_well_formed(unseen.CASES)


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "unseen")


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    queues = list(csv.DictReader(io.StringIO(unseen.FILES["ops/queues.csv"])))
    hosts = json.loads(unseen.FILES["inventory/hosts.json"])["hosts"]
    gateway = yaml.safe_load(unseen.FILES["deploy/gateway.yaml"])
    runs = [dict(field.split("=", 1) for field in line.split()[1:4])
            for line in unseen.FILES["logs/scheduler.log"].splitlines()]
    incident = unseen.FILES["notes/incident-2026-11-19.md"]
    processed = sum(int(q["processed"]) for q in queues)
    depth_by_consumer: dict[str, int] = defaultdict(int)
    for q in queues:
        depth_by_consumer[q["consumer"]] += int(q["depth"])
    unpatched = [h["name"] for h in hosts if not h["patched"]]
    failed = [r for r in runs if r["status"] == "failed"]
    most_failed = max(queues, key=lambda q: int(q["failed"]))
    lock_timeout = next(line for line in unseen.FILES["logs/scheduler.log"].splitlines() if "lock timeout" in line)
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(unseen.FILES["config/retention.json"])
    commander = re.search(r"Incident commander: (\w+)", incident)
    scribe = re.search(r"Scribe: (\w+)", incident)
    grace = re.search(r"Grace Liu: (.+)", incident)
    follow_ups = incident.split("## Follow-ups")[1]
    assert commander and scribe and grace
    return {
        "unseen-gateway-image": gateway["image"],
        "unseen-commander": commander.group(1),
        "unseen-admin-port": str(gateway["ports"]["admin"]),
        "unseen-memory-and-scribe": f"{gateway['limits']['memory']}; {scribe.group(1)}",
        "unseen-upstream-and-db-ram": f"{gateway['env']['UPSTREAM']}; "
                                      f"{next(h['ram_gb'] for h in hosts if h['name'] == 'db-7')} GB",
        "unseen-timeout-and-grace": f"{gateway['timeouts']['connect_ms']} ms; {grace.group(1)}",
        "unseen-processed-total": f"{processed:,}",
        "unseen-deepest-queue": max(queues, key=lambda q: int(q["depth"]))["queue"],
        "unseen-failure-share": f"{100 * sum(int(q['failed']) for q in queues) / processed:.2f}%",
        "unseen-depth-by-consumer": "\n".join(f"- {name}: {n}" for name, n in depth_by_consumer.items()),
        "unseen-busy-queues": ", ".join(q["queue"] for q in queues if int(q["depth"]) > 50),
        "unseen-ram-total": f"{sum(h['ram_gb'] for h in hosts)} GB",
        "unseen-disk-free-total": f"{sum(h['disk_free_gb'] for h in hosts)} GB",
        "unseen-unpatched": ", ".join(unpatched),
        "unseen-patched-share": f"{100 * sum(h['patched'] for h in hosts) / len(hosts):.1f}%",
        "unseen-hosts-per-os": "\n".join(f"- {os}: {n}" for os, n in Counter(h["os"] for h in hosts).items()),
        "unseen-failed-runs": f"{len(failed)} failed runs",
        "unseen-failures-per-job": "\n".join(f"- {job}: {n}" for job, n in Counter(r["job"] for r in failed).items()),
        "unseen-unpatched-to-file": "\n".join(unpatched),
        "unseen-mail-follow-up-owners": ", ".join(re.findall(r"^- ([\w ]+):", follow_ups, re.M)),
        "unseen-failed-runs-to-file": str(len(failed)),
        "unseen-mail-processed": str(processed),
        "unseen-follow-up-mail-commander": commander.group(1),
        "unseen-follow-up-most-ram": max(hosts, key=lambda h: h["ram_gb"])["name"],
        "unseen-follow-up-queue-depth": f"{most_failed['queue']}: {most_failed['depth']}",
        "unseen-follow-up-lock-timeout": lock_timeout.split("duration_s=")[1].split()[0],
        "unseen-broken-retention": f"config/retention.json is not valid JSON: {broken.value}",
    }


def test_every_number_an_unseen_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["unseen-failure-share"] == "0.56%" and answers["unseen-patched-share"] == "66.7%"
    assert answers["unseen-busy-queues"] == "orders, emails-retry, reports"
    assert answers["unseen-follow-up-queue-depth"] == "emails: 8"
    assert_answers_meet_checks(unseen.CASES, answers)


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"unseen-processed-total": "31,000", "unseen-failure-share": "5.57%",
             "unseen-busy-queues": "orders, orders-dlq, emails-retry, reports",
             "unseen-unpatched": "app-2, ci-runner, cache-1", "unseen-ram-total": "6 hosts",
             "unseen-disk-free-total": "809.5 GB", "unseen-patched-share": "4 hosts",
             "unseen-depth-by-consumer": "- order-svc: 120\n- notify-svc: 60\n- batch-svc: 250\n- pay-svc: 3",
             "unseen-hosts-per-os": "- debian-12: 2\n- debian-11: 2\n- ubuntu-24.04: 1",
             "unseen-follow-up-queue-depth": "emails: 76, depth 8 (orders: 120)",
             "unseen-failures-per-job": "- sync-dns: 1\n- vacuum-db: 1"}
    assert_wrong_answers_fail(unseen.CASES, wrong)
