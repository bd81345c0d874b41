"""bench.quality's development set (``--set dev``): the classes the holdout set has, files of its
own (none of the tuning or holdout sets'), and facts that hold for its files: every number a check
expects is computed here again from the files, and a wrong one fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bench import quality_dev as dev
from bench import quality_holdout as holdout
from bench.quality import SETS
from bench.quality_cases import CASES, Case, Kind
from bench.quality_targets import FILES
from tests.bench.quality_sets import laid_out, named_paths

DEV = {c.name: c for c in dev.CASES}
_FLAGS = re.I | re.S


def test_the_dev_set_has_every_class_of_the_holdout_set_and_nothing_of_its_requests_or_files() -> None:
    assert SETS["dev"].cases is dev.CASES
    assert len(DEV) == len(dev.CASES) >= 30
    assert {c.kind for c in dev.CASES} >= {c.kind for c in holdout.CASES}
    names = {c.name for c in CASES} | {c.name for c in holdout.CASES}
    assert not DEV.keys() & names
    turns = {t for c in (*CASES, *holdout.CASES) for t in c.turns}
    assert not {t for c in dev.CASES for t in c.turns} & turns
    assert not dev.FILES.keys() & (FILES.keys() | holdout.FILES.keys())
    for case in dev.CASES:
        assert (case.kind is Kind.NO_TOOL) == bool(case.effect), case.name
        assert not (case.kind in (Kind.NO_TOOL, Kind.MISSING, Kind.REFUSE, Kind.FAILED_STEP) and case.red_tools)
        assert (len(case.turns) == 2) == (case.kind is Kind.FOLLOW_UP), case.name
    assert {c.kind for c in dev.CASES if c.quick} == {c.kind for c in dev.CASES}


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert laid_out(tmp_path, "dev") == sorted(dev.FILES)
    for case in dev.CASES:
        named = named_paths(case)
        written = {p for p in named if p.startswith("reports/")}
        if case.kind is Kind.MISSING:
            assert named - written and not named & dev.FILES.keys(), case.name
        else:
            assert named - written <= dev.FILES.keys(), (case.name, named)


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    builds = list(csv.DictReader(io.StringIO(dev.FILES["ci/builds.csv"])))
    consumers = json.loads(dev.FILES["queue/consumers.json"])["consumers"]
    cache = tomllib.loads(dev.FILES["infra/cache.toml"])
    log = dev.FILES["logs/gateway.log"].splitlines()
    statuses = [line.split()[3] for line in log]
    failed = sum(b["result"] == "failed" for b in builds)
    average = sum(int(b["duration_s"]) for b in builds) / len(builds)
    by_pipeline: dict[str, int] = defaultdict(int)
    for b in builds:
        by_pipeline[b["pipeline"]] += int(b["duration_s"])
    stalled = [c["name"] for c in consumers if c["state"] == "stalled"]
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(dev.FILES["metrics/targets.json"])
    author = re.search(r"Written by (\w+)", dev.FILES["notes/handover.md"])
    owner = re.search(r"migration .* owned by (\w+)", dev.FILES["notes/handover.md"])
    assert author and owner
    return {
        "dev-sessions-ttl": f"Sessions live {cache['ttl']['sessions_s']} s.",
        "dev-migration-owner": f"{owner.group(1)} owns it.",
        "dev-queue-cluster": f"It describes {json.loads(dev.FILES['queue/consumers.json'])['cluster']}.",
        "dev-ttl-and-author": f"{cache['ttl']['sessions_s']} s; written by {author.group(1)}.",
        "dev-failed-builds": f"{failed} builds failed.",
        "dev-average-duration": f"The average is {average:.1f} s.",
        "dev-percent-passed": f"{100 * sum(b['result'] == 'passed' for b in builds) / len(builds):.0f}% passed.",
        "dev-slow-main-builds": ", ".join(b["build"] for b in builds
                                          if b["branch"] == "main" and int(b["duration_s"]) > 600),
        "dev-longest-pipeline": max(by_pipeline, key=lambda p: by_pipeline[p]),
        "dev-total-lag": f"The total lag is {sum(c['lag'] for c in consumers):,}.",
        "dev-stalled-consumers": " and ".join(stalled),
        "dev-gateway-5xx": f"{sum(s.startswith('5') for s in statuses)} responses were 5xx.",
        "dev-checkout-requests": f"{sum(' /api/checkout ' in line for line in log)} went there.",
        "dev-stalled-to-file": "\n".join(stalled),
        "dev-mail-average": f"The average build takes {average:.1f} s.",
        "dev-follow-up-laggard": max(consumers, key=lambda c: c["lag"])["name"],
        "dev-follow-up-mail-count": str(failed),
        "dev-broken-targets": f"metrics/targets.json is not valid JSON: {broken.value}",
    }


def test_every_number_a_dev_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["dev-average-duration"] == "The average is 491.1 s."  # as written in the checks
    assert answers["dev-total-lag"] == "The total lag is 11,405." and answers["dev-longest-pipeline"] == "api"
    for name, text in answers.items():
        for pattern in _patterns(DEV[name]):
            assert re.search(pattern, text, _FLAGS), (name, pattern, text)
    numbered = {c.name for c in dev.CASES if c.kind is Kind.COMPUTE or c.red_tools}
    assert numbered <= answers.keys(), numbered - answers.keys()
    assert Counter(b["result"] for b in csv.DictReader(io.StringIO(dev.FILES["ci/builds.csv"])))["timed_out"] == 1


def test_a_wrong_number_fails_the_checks() -> None:
    wrong = {"dev-average-duration": "The average is 545.7 s.", "dev-total-lag": "The total lag is 11,285.",
             "dev-percent-passed": "80% passed", "dev-failed-builds": "3 builds failed",
             "dev-gateway-5xx": "5 responses were 5xx", "dev-longest-pipeline": "web"}
    for name, text in wrong.items():
        assert not all(re.search(p, text, _FLAGS) for p in _patterns(DEV[name])), name


def _patterns(case: Case) -> list[str]:
    made = [*(c.contains for c in case.files if c.contains), *(m.contains for m in case.mail)]
    return made if case.red_tools else list(case.facts)
