"""bench.quality's broad set (``--set broad``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files, and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench import quality_broad as broad
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_wrong_answers_fail,
)

BROAD = {c.name: c for c in broad.CASES}


def test_the_broad_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["broad"].cases is broad.CASES and SETS["broad"].files is broad.FILES
    assert len(BROAD) == len(broad.CASES) >= 30
    assert len(SETS) - 1 >= 7  # tuning, holdout, dev, data, fresh, unseen, aimed
    assert_its_own("broad")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "broad")


def test_its_broken_json_does_not_parse_and_its_toml_and_yaml_do() -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(broad.FILES["config/ns-quotas.json"])
    assert tomllib.loads(broad.FILES["config/cache.toml"])["eviction"]["policy"] == "allkeys-lru"
    assert yaml.safe_load(broad.FILES["deploy/thumbnailer.yaml"])["spec"]["replicas"] == 5


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    certs = list(csv.DictReader(io.StringIO(broad.FILES["ops/certs.csv"])))
    tickets = json.loads(broad.FILES["data/tickets.json"])["tickets"]
    spend = list(csv.DictReader(io.StringIO(broad.FILES["finance/cloud-spend.csv"])))
    runs = [dict(field.split("=", 1) for field in line.split("] ", 1)[1].split())
            for line in broad.FILES["logs/nightly-cron.log"].splitlines()]
    owners = re.findall(r"^- ([\w ]+) <[\w.@]+>:", broad.FILES["notes/oncall-review-2026-11-24.md"], re.M)

    def spent(**where: str) -> float:
        return sum(float(r["cost_usd"]) for r in spend if all(r[k] == v for k, v in where.items()))

    expiring = ", ".join(c["domain"] for c in certs if int(c["days_left"]) < 30)
    escalated = ", ".join(t["key"] for t in tickets if t["escalated"])
    teams = Counter(t["team"] for t in tickets)
    oldest = max(tickets, key=lambda t: t["hours_open"])
    issuers = Counter(c["issuer"] for c in certs)
    exit_one = next(r for r in runs if r["exit"] == "1")
    return {
        "broad-spend-total": f"{spent():,.2f} USD",
        "broad-spend-per-provider": f"aws: {spent(provider='aws'):,.2f}; gcp: {spent(provider='gcp'):,.2f}",
        "broad-october-spend": f"{spent(month='2026-10'):,.2f} USD",
        "broad-storage-share": f"{100 * spent(service='storage') / spent():.2f}%",
        "broad-expiring-certs": expiring,
        "broad-manual-renewals": str(sum(c["auto_renew"] == "no" for c in certs)),
        "broad-escalated": escalated,
        "broad-p1-hours": f"{sum(t['hours_open'] for t in tickets if t['priority'] == 'P1')} hours",
        "broad-tickets-per-team": ", ".join(f"{team}: {n}" for team, n in teams.items()),
        "broad-cron-failures": str(sum(r["exit"] != "0" for r in runs)),
        "broad-slowest-job": max(runs, key=lambda r: int(r["runtime_ms"]))["job"],
        "broad-expiring-to-file": expiring.replace(", ", "\n"),
        "broad-mail-owners": ", ".join(owners),
        "broad-mail-spend": f"{spent():,.2f}",
        "broad-follow-up-oldest-ticket": oldest["key"],
        "broad-rejected-escalated": "The write was rejected: nothing was written.",
        "broad-follow-up-issuer": issuers.most_common(1)[0][0],
        "broad-follow-up-exit-host": f"{exit_one['job']} ran on {exit_one['host']}",
        "broad-record-thumbnailer": " ".join(
            re.findall(r"(\w+) ([\d.]+),.*status (\w+)", BROAD["broad-record-thumbnailer"].turns[0])[0]),
    }


def test_every_number_a_broad_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["broad-spend-total"] == "13,049.25 USD"
    assert answers["broad-storage-share"] == "14.81%"
    assert answers["broad-p1-hours"] == "19.75 hours"
    assert answers["broad-expiring-certs"] == "api.example.com, status.example.com, vpn.example.com"
    assert answers["broad-follow-up-exit-host"] == "renew-certs ran on edge-1"
    assert_answers_meet_checks(broad.CASES, answers)
    assert (answers["broad-record-thumbnailer"],) == BROAD["broad-record-thumbnailer"].rows


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"broad-spend-total": "13,094.25 USD", "broad-spend-per-provider": "aws: 10,394.00; gcp: 2,515.25",
             "broad-october-spend": "6,415.45", "broad-storage-share": "14.1%",
             "broad-expiring-certs": "api.example.com, status.example.com, vpn.example.com, mail.example.com",
             "broad-manual-renewals": "4", "broad-escalated": "SUP-12, SUP-13, SUP-16",
             "broad-p1-hours": "7 hours", "broad-tickets-per-team": "identity: 2, payments: 2, search: 1",
             "broad-cron-failures": "1", "broad-slowest-job": "backup-etcd",
             "broad-mail-owners": "Hannah, Luis, Mei, Sam", "broad-follow-up-exit-host": "ops-2"}
    assert_wrong_answers_fail(broad.CASES, wrong)
