"""bench.quality's aimed set (``--set aimed``): requests aimed at the classes the holdout still
fails, files and requests of its own (none of the other sets'), and facts that hold for its
files: every number a check expects is computed here again from the files, and a wrong value, or
a filter that let too much through, fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import yaml

from bench import quality_aimed as aimed
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

AIMED = {c.name: c for c in aimed.CASES}


def test_the_aimed_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["aimed"].cases is aimed.CASES and SETS["aimed"].files is aimed.FILES
    assert len(AIMED) == len(aimed.CASES) >= 16
    others = (*CASES, *holdout.CASES, *dev.CASES, *data.CASES, *fresh.CASES, *unseen.CASES)
    assert not AIMED.keys() & {c.name for c in others}
    assert not {t for c in aimed.CASES for t in c.turns} & {t for c in others for t in c.turns}
    other_files = (FILES.keys() | holdout.FILES.keys() | dev.FILES.keys() | data.FILES.keys()
                   | fresh.FILES.keys() | unseen.FILES.keys())
    assert not aimed.FILES.keys() & other_files
    assert_well_formed(aimed.CASES)


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "aimed")


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    backups = json.loads(aimed.FILES["backups/catalog.json"])["backups"]
    servers = json.loads(aimed.FILES["inventory/servers.json"])["servers"]
    api = yaml.safe_load(aimed.FILES["deploy/api.yaml"])
    invoices = list(csv.DictReader(io.StringIO(aimed.FILES["billing/invoices-nov.csv"])))
    snapshots = [dict(field.split("=", 1) for field in line.split()[2:])
                 for line in aimed.FILES["logs/snapshots.log"].splitlines()]
    standup = aimed.FILES["notes/standup-2026-11-26.md"]
    open_items = re.findall(r"^- \[ \] (.+?)\. Owner: [\w ]+ \(([\w.@]+)\)$", standup, re.M)
    facilitator = re.search(r"Facilitator: (\w+)", standup)
    owner = re.search(r"Grafana admin password\. Owner: (\w+)", standup)
    assert facilitator and owner

    def invoiced(**where: str) -> str:
        return f"{sum(float(i['amount_eur']) for i in invoices if all(i[k] == v for k, v in where.items())):,.2f}"

    failed = ", ".join(b["id"] for b in backups if not b["ok"])
    longest = max(snapshots, key=lambda s: int(s["seconds"]))
    return {
        "aimed-memory-and-mail-host": min(servers, key=lambda s: s["free_disk_gb"])["hostname"],
        "aimed-health-and-db-ram": f"{api['healthcheck']['path']}; "
                                   f"{next(s['ram_gb'] for s in servers if s['hostname'] == 'db-1')} GB",
        "aimed-image-and-facilitator": f"{api['image']}; {facilitator.group(1)}",
        "aimed-mail-open-owners": ", ".join(address for _, address in open_items),
        "aimed-open-items": "; ".join(item for item, _ in open_items),
        "aimed-password-owner": owner.group(1),
        "aimed-day-and-acme": f"{invoiced(date='2026-11-05')} EUR; {invoiced(customer='Acme GmbH')} EUR",
        "aimed-borealis-total": f"{invoiced(customer='Borealis AB')} EUR",
        "aimed-backup-size": f"{round(sum(b['size_gb'] for b in backups), 2)} GB",
        "aimed-ok-backup-size": f"{round(sum(b['size_gb'] for b in backups if b['ok']), 2)} GB",
        "aimed-failed-backups": failed,
        "aimed-failed-backups-to-file": failed.replace(", ", "\n"),
        "aimed-follow-up-longest-snapshot": f"{longest['volume']}: {longest['size_mb']} MB",
        "aimed-follow-up-failed-volume": next(s["volume"] for s in snapshots if s["result"] == "failed"),
        "aimed-snapshot-total": f"{sum(int(s['size_mb']) for s in snapshots if s['result'] == 'ok'):,} MB",
    }


def test_every_number_an_aimed_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["aimed-mail-open-owners"] == "ines@example.com, wei@example.com"
    assert answers["aimed-day-and-acme"] == "2,455.75 EUR; 1,950.49 EUR"
    assert answers["aimed-backup-size"] == "41.4 GB" and answers["aimed-failed-backups"] == "b-102, b-105"
    assert_answers_meet_checks(aimed.CASES, answers)


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"aimed-mail-open-owners": "ines@example.com, wei@example.com, tomas@example.com",
             "aimed-open-items": "Rotate the Grafana admin password; Move the nightly report; Renew the staging TLS",
             "aimed-day-and-acme": "2,455.75 EUR; 1,350.49 EUR", "aimed-borealis-total": "726.5 EUR",
             "aimed-backup-size": "41.45 GB", "aimed-ok-backup-size": "4 backups",
             "aimed-failed-backups": "b-102, b-105, b-106", "aimed-snapshot-total": "31,830 MB",
             "aimed-follow-up-longest-snapshot": "vol-db: 1290 s"}
    assert_wrong_answers_fail(aimed.CASES, wrong)
