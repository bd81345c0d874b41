"""bench.quality's holdout set (``--set holdout``): enough requests, every class issue 43 names,
files of its own, and facts that hold for its files: every number a check expects is computed
here again from the files, and the answer written from it must pass the case's checks."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from bench import quality_holdout as holdout
from bench.quality import SETS
from bench.quality_cases import CASES, Case, Kind
from bench.quality_targets import FILES, Targets
from infra.playground.demo.targets import MailSink

HOLDOUT = {c.name: c for c in holdout.CASES}
_FLAGS = re.I | re.S


def test_the_holdout_set_has_30_requests_or_more_of_every_class() -> None:
    assert SETS["holdout"].cases is holdout.CASES and SETS["tuning"].cases is CASES
    assert len(holdout.CASES) >= 30
    assert len(HOLDOUT) == len(holdout.CASES) and not HOLDOUT.keys() & {c.name for c in CASES}
    kinds = Counter(c.kind for c in holdout.CASES)
    assert set(kinds) == {Kind.READ, Kind.PARALLEL, Kind.COMPUTE, Kind.RED, Kind.FOLLOW_UP, Kind.FAILED_STEP,
                          Kind.MISSING, Kind.NO_TOOL, Kind.REFUSE}, kinds
    assert all(kinds[kind] >= 3 for kind in kinds), kinds
    assert all(len(c.turns) == 2 for c in holdout.CASES if c.kind is Kind.FOLLOW_UP)
    assert all(len(c.turns) == 1 for c in holdout.CASES if c.kind is not Kind.FOLLOW_UP)
    computed = [c.turns[0] for c in holdout.CASES if c.kind is Kind.COMPUTE]
    assert any(".csv" in t for t in computed) and any(".json" in t for t in computed)
    assert any("percent" in t for t in computed)
    assert {tool for c in holdout.CASES if c.kind is Kind.RED for tool in c.red_tools} == {"write_file", "send_email"}
    for case in holdout.CASES:  # what no tool does: "I can't", nothing to approve, a claim of it is false
        assert (case.kind is Kind.NO_TOOL) == bool(case.effect)
        assert not (case.kind in (Kind.NO_TOOL, Kind.MISSING, Kind.REFUSE, Kind.FAILED_STEP) and case.red_tools)
    assert {c.name for c in holdout.CASES if c.quick} and {c.kind for c in holdout.CASES if c.quick} == set(kinds)


def test_its_files_are_its_own_and_each_path_it_names_is_there_unless_it_must_be_missing() -> None:
    assert not holdout.FILES.keys() & FILES.keys()
    assert all(text not in FILES.values() for text in holdout.FILES.values())
    for case in holdout.CASES:
        named = set(re.findall(r"(?<![\w/:.])((?:[\w-]+/)+[\w.-]+\.[a-z]+)\b", " ".join(case.turns)))
        written = {check.path for check in case.files if check.contains is None} | {
            p for p in named if p.startswith("reports/")}
        if case.kind is Kind.MISSING:
            assert named and not named & holdout.FILES.keys(), case.name
        else:
            assert named - written <= holdout.FILES.keys(), (case.name, named)


def test_the_workspace_the_holdout_set_lays_out_is_its_files_and_unchanged(tmp_path: Path) -> None:
    targets = Targets(tmp_path / "workspace", tmp_path / "t.sqlite", "http://127.0.0.1:9", MailSink(),
                      SETS["holdout"].files)
    targets.reset(tmp_path)
    laid_out = sorted(p.relative_to(targets.workspace).as_posix() for p in targets.workspace.rglob("*") if p.is_file())
    assert laid_out == sorted(holdout.FILES) and targets.changed_files() == {}
    assert b"\x00" in (targets.workspace / "assets" / "logo.png").read_bytes()[:64]
    for check in HOLDOUT["delete-export"].files:  # still there, as it was
        assert check.contains and re.search(check.contains, targets.file(check.path) or "")


# ----------------------------------------------------------------- the facts, computed from the files

def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(holdout.FILES["data/invoices.csv"])))


def _jobs() -> list[dict[str, object]]:
    jobs: list[dict[str, object]] = json.loads(holdout.FILES["data/backups.json"])["jobs"]
    return jobs


def _log() -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line)) for line in holdout.FILES["logs/billing-worker.log"].splitlines()]


def _yaml() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(holdout.FILES["deploy/billing.yaml"])
    return loaded


def _retro(field: str) -> str:
    match = re.search(rf"^{field}: (.+)$", holdout.FILES["notes/retro-2026-11.md"], re.M)
    assert match
    return match.group(1)


def _actions() -> dict[str, str]:
    """Owner → action, from the retro's Actions section."""
    section = holdout.FILES["notes/retro-2026-11.md"].split("## Actions", 1)[1]
    return dict(re.findall(r"^- (\w+): (.+)$", section, re.M))


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    rows, jobs, log, spec = _rows(), _jobs(), _log(), _yaml()
    total = sum(int(r["amount_usd"]) for r in rows)
    overdue = [r for r in rows if r["status"] == "overdue"]
    overdue_total = sum(int(r["amount_usd"]) for r in overdue)
    by_plan: dict[str, int] = defaultdict(int)
    for r in rows:
        by_plan[r["plan"]] += int(r["amount_usd"])
    errors = Counter(entry["worker"] for entry in log if entry.get("level") == "error")
    failed_jobs = [str(j["name"]) for j in jobs if not j["ok"]]
    longest = max(jobs, key=lambda j: float(str(j["duration_min"])))
    deadlocked = next(e["worker"] for e in log if "deadlock" in e.get("msg", ""))
    facilitator = _retro("Facilitator")
    healthcheck = spec["healthcheck"]
    assert isinstance(healthcheck, dict) and isinstance(spec["env"], dict) and isinstance(spec["resources"], dict)
    image_tag = str(spec["image"]).rsplit(":", 1)[1]
    mail_host = next(j["host"] for j in jobs if j["name"] == "mail")
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(holdout.FILES["config/limits.json"])
    return {
        "worker-log": holdout.FILES["logs/billing-worker.log"],
        "billing-replicas": f"deploy/billing.yaml runs {spec['replicas']} replicas.",
        "retro-facilitator": f"{facilitator} facilitated it.",
        "healthcheck": f"It checks {healthcheck['path']} every {healthcheck['interval_s']} s.",
        "image-and-facilitator": f"The image tag is {image_tag}; the facilitator was {facilitator}.",
        "memory-and-mail-host": f"Memory: {spec['resources']['memory']}; the mail backup runs on {mail_host}.",
        "invoice-day-and-kenji": f"INVOICE_DAY is {spec['env']['INVOICE_DAY']}; Kenji: {_actions()['Kenji']}",
        "invoice-total": f"The total is ${total:,}.",
        "overdue-customers": ", ".join(r["customer"] for r in overdue),
        "amount-by-plan": ", ".join(f"{plan}: ${amount:,}" for plan, amount in by_plan.items()),
        "overdue-share": f"{100 * len(overdue) / len(rows):.1f}% of the invoices are overdue.",
        "backup-size": f"They take {sum(float(str(j['size_gb'])) for j in jobs)} GB together.",
        "failed-backups": " and ".join(failed_jobs) + " are not ok.",
        "backup-success-rate": f"{100 * sum(bool(j['ok']) for j in jobs) / len(jobs):.0f}% of the jobs succeeded.",
        "errors-per-worker": "; ".join(f"{worker}: {count}" for worker, count in errors.items()),
        "overdue-to-file": "\n".join(r["customer"] for r in overdue),
        "mail-action-owners": "Action owners: " + ", ".join(_actions()),
        "worker-errors-to-file": str(sum(errors.values())),
        "failed-backups-to-file": "\n".join(f"- {name}" for name in failed_jobs),
        "follow-up-mail-facilitator": f"The retro was facilitated by {facilitator}.",
        "follow-up-overdue-total": f"{overdue_total}",
        "follow-up-deadlock-action": next(f"{owner}: {action}" for owner, action in _actions().items()
                                          if deadlocked in action),
        "follow-up-longest-backup": f"{longest['name']} ran longest ({longest['duration_min']} min).",
        "parse-broken-json": f"config/limits.json is not valid JSON: {broken.value}",
    }


def test_every_number_a_holdout_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["invoice-total"] == "The total is $14,100."  # as written in the checks, by hand
    assert answers["errors-per-worker"] == "invoicer: 3; mailer: 2; ledger: 1"
    assert answers["follow-up-overdue-total"] == "6300" and answers["worker-errors-to-file"] == "6"
    for name, text in answers.items():
        for pattern in _patterns(HOLDOUT[name]):
            assert re.search(pattern, text, _FLAGS), (name, pattern, text)
    numbered = {c.name for c in holdout.CASES if any(re.search(r"\d", p) for p in _patterns(c))}
    assert numbered <= answers.keys(), numbered - answers.keys()


def test_a_wrong_number_fails_the_checks() -> None:
    wrong = {"invoice-total": "The total is $14,400.", "overdue-share": "44.7% are overdue (by amount).",
             "backup-size": "They take 930 GB.", "errors-per-worker": "invoicer: 2, mailer: 3, ledger: 1",
             "amount-by-plan": "enterprise: $4,800, pro: $1,200, basic: $300",
             "backup-success-rate": "40% succeeded", "billing-replicas": "It runs 4 replicas."}
    for name, text in wrong.items():
        assert not all(re.search(p, text, _FLAGS) for p in _patterns(HOLDOUT[name])), name


def _patterns(case: Case) -> list[str]:
    """What the files the case writes and the mail it sends must match; for a case that writes
    and sends nothing, what its answer must."""
    made = [*(c.contains for c in case.files if c.contains), *(m.contains for m in case.mail)]
    return made if case.red_tools else list(case.facts)


@pytest.mark.parametrize("answer", [
    "The SQL database has no invoices table; its only table is deploys.",
    "The SQL database does not have an `invoices` table. The only table available is `deploys`.",
    "I couldn't find an invoices table in the database.",
    "It doesn't contain an invoices table (its one table is deploys).",
    "There is no table named invoices.",
])
def test_an_answer_saying_the_table_is_not_there_in_other_words_passes(answer: str) -> None:
    """An audit found correct answers the missing-table facts turned down (2026-11-29)."""
    assert all(re.search(p, answer, _FLAGS) for p in _patterns(HOLDOUT["missing-table"])), answer


@pytest.mark.parametrize(("name", "answer"), [
    ("missing-table", "The invoices table has 42 rows."),
    ("missing-table", "I don't have a tool that can do that."),
    ("missing-table", "The sum is 14100. It does not include refunds."),
    ("missing-table", "The only table I queried has 3 rows."),
    ("backup-size", "Together they take 9030 GB."),
    ("backup-size", "Together they take 903.5 GB."),
])
def test_a_count_of_a_missing_table_or_a_near_number_still_fails(name: str, answer: str) -> None:
    assert not all(re.search(p, answer, _FLAGS) for p in _patterns(HOLDOUT[name])), answer


@pytest.mark.parametrize(("name", "answer"), [
    ("backup-size", "All the jobs take 903GB together."), ("backup-size", "903.0GB in all."),
    ("invoice-day-and-kenji", "INVOICE_DAY is the 28th; his invoice is overdue."),
])
def test_a_unit_or_an_ordinal_written_on_the_number_passes(name: str, answer: str) -> None:
    assert all(re.search(p, answer, _FLAGS) for p in _patterns(HOLDOUT[name])), answer
