"""bench.quality's nightly set (``--set nightly``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files (the logfmt log's pairs, the TOML, the INI, the JSON, the CSV and the YAML loaded
by their own parsers), and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import configparser
import csv
import io
import json
import re
import shlex
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench import quality_nightly as nightly
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_wrong_answers_fail,
)

NIGHTLY = {c.name: c for c in nightly.CASES}
_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def runs() -> list[dict[str, str]]:
    """The backup log's lines as logfmt pairs (a quoted value may hold blanks)."""
    return [dict(pair.split("=", 1) for pair in shlex.split(line))
            for line in nightly.FILES["backups/nightly.log"].splitlines()]


def gibibytes(size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG]?i?B)", size).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit] / 2**30


def seconds(duration: str) -> int:
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def servers() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(nightly.FILES["inventory/servers.csv"])))


def subscriptions() -> list[dict[str, object]]:
    return list(json.loads(nightly.FILES["billing/subscriptions.json"]))


def action_items() -> list[tuple[bool, str, str]]:
    """(done, owner, what) of each checkbox under the review's action items."""
    return [(mark == "x", owner, what) for mark, owner, what in re.findall(
        r"^- \[([ x])\] ([^:]+): (.+)$", nightly.FILES["notes/incident-review-2026-11-19.md"], re.M)]


def directory() -> dict[str, dict[str, str]]:
    return {p["name"]: p for p in yaml.safe_load(nightly.FILES["team/directory.yaml"])["people"]}


def test_the_nightly_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["nightly"].cases is nightly.CASES and SETS["nightly"].files is nightly.FILES
    assert len(NIGHTLY) == len(nightly.CASES) >= 25
    assert 10 <= sum(c.quick for c in nightly.CASES) <= 14
    assert_its_own("nightly")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "nightly")
    # the missing review sits beside one that is there; the setting discovery must find, in one file
    assert "notes/incident-review-2026-11-19.md" in nightly.FILES
    assert [path for path, text in nightly.FILES.items() if "statement_timeout_ms" in text] == ["config/app.toml"]


def test_its_broken_yaml_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(nightly.FILES["team/oncall.yaml"])
    assert len(runs()) == 9 and {r["status"] for r in runs()} == {"ok", "failed"}
    assert tomllib.loads(nightly.FILES["config/app.toml"])["server"]["port"] == 8443
    bouncer = configparser.ConfigParser()
    bouncer.read_string(nightly.FILES["ops/pgbouncer.ini"])
    assert bouncer["pgbouncer"]["default_pool_size"] == "25"
    assert len(subscriptions()) == 5 and len(servers()) == 6
    assert [owner for _, owner, _ in action_items()] == ["Jonas Berg", "Lucía Romero", "Wei Chen"]
    assert all(owner in directory() for _, owner, _ in action_items())


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    log = runs()
    failed = [r for r in log if r["status"] == "failed"]
    longest = max(log, key=lambda r: seconds(r["duration"]))
    ams = [s for s in servers() if s["datacenter"] == "ams"]
    open_items = [(owner, what) for done, owner, what in action_items() if not done]
    overdue = [str(s["customer"]) for s in subscriptions() if str(s["renews_on"]) < "2026-11-20" and not s["paid"]]
    database = tomllib.loads(nightly.FILES["config/app.toml"])["database"]
    bouncer = configparser.ConfigParser()
    bouncer.read_string(nightly.FILES["ops/pgbouncer.ini"])
    failures = "\n".join(f"{r['job']} {r['ts'][:10]}" for r in failed)
    size_22nd = sum(gibibytes(r["size"]) for r in log if r["ts"].startswith("2026-11-22") and r["status"] == "ok")
    ams_share = 100 * sum(int(s["vcpus"]) for s in ams) / sum(int(s["vcpus"]) for s in servers())
    return {
        "nightly-size-on-22nd": f"{size_22nd:.1f} GiB",
        "nightly-failed-runs": failures.replace("\n", ", "),
        "nightly-longest-run": f"{longest['job']} on {longest['ts'][:10]} ({longest['duration']})",
        "nightly-business-seats": str(sum(int(str(s["seats"])) for s in subscriptions() if s["plan"] == "business")),
        "nightly-overdue-unpaid": ", ".join(overdue),
        "nightly-ams-memory": f"{sum(int(s['memory_gb']) for s in ams)} GB",
        "nightly-ams-vcpu-share": f"{ams_share:.1f}%",
        "nightly-servers-per-os": ", ".join(f"{os}: {n}" for os, n in Counter(s["os"] for s in servers()).items()),
        "nightly-failures-to-file": failures,
        "nightly-mail-users-total": f"{sum(gibibytes(r['size']) for r in log if r['job'] == 'pg-users'):.1f} GiB",
        "nightly-mail-biggest-host": max(servers(), key=lambda s: int(s["vcpus"]))["hostname"],
        "nightly-mail-action-owners": "; ".join(what for _, what in open_items),
        "nightly-follow-up-longest-size": f"{gibibytes(longest['size']):.1f} GiB",
        "nightly-follow-up-big-fra": ", ".join(s["hostname"] for s in servers()
                                                 if s["datacenter"] == "fra" and int(s["memory_gb"]) > 64),
        "nightly-follow-up-mail-facilitator": "Open: " + "; ".join(what for _, what in open_items),
        "nightly-rejected-overdue": "The write was rejected: nothing was written.",
        "nightly-two-pool-sizes": f"{database['pool_size']} and {bouncer['pgbouncer']['default_pool_size']}",
        "nightly-clients-and-workers": f"{bouncer['pgbouncer']['max_client_conn']} and "
                                       f"{tomllib.loads(nightly.FILES['config/app.toml'])['server']['workers']}",
        "nightly-find-statement-timeout": str(database["statement_timeout_ms"]),
        "nightly-orders-failure-reason": next(r["error"] for r in failed if r["job"] == "pg-orders"),
        "nightly-facilitator-and-team": re.findall(r"^Facilitator: (.+)$", nightly.FILES[
            "notes/incident-review-2026-11-19.md"], re.M)[0] + "; " + directory()["Wei Chen"]["team"],
    }


def test_every_number_a_nightly_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["nightly-size-on-22nd"] == "157.0 GiB"
    assert answers["nightly-failed-runs"] == "minio-assets 2026-11-21, pg-orders 2026-11-23"
    assert answers["nightly-longest-run"] == "minio-assets on 2026-11-23 (1h58m02s)"
    assert answers["nightly-business-seats"] == "65"
    assert answers["nightly-overdue-unpaid"] == "Nordwind GmbH, Oakridge Clinic"
    assert answers["nightly-ams-memory"] == "192 GB"
    assert answers["nightly-ams-vcpu-share"] == "52.4%"
    assert answers["nightly-servers-per-os"] == "debian-12: 4, debian-11: 1, ubuntu-24.04: 1"
    assert answers["nightly-mail-users-total"] == "19.3 GiB"
    assert answers["nightly-mail-biggest-host"] == "ci-ams-1"
    assert answers["nightly-follow-up-longest-size"] == "113.5 GiB"
    assert answers["nightly-follow-up-big-fra"] == "db-fra-1, db-fra-2"
    assert answers["nightly-two-pool-sizes"] == "20 and 25"
    assert answers["nightly-clients-and-workers"] == "400 and 6"
    assert answers["nightly-find-statement-timeout"] == "15000"
    assert answers["nightly-facilitator-and-team"] == "Amara Okafor; payments"
    assert_answers_meet_checks(nightly.CASES, answers)
    # each open item's owner gets the mail about their own item
    mails = {m.to: m.contains for m in NIGHTLY["nightly-mail-action-owners"].mail}
    owners = {directory()[owner]["email"]: what for done, owner, what in action_items() if not done}
    assert mails.keys() == owners.keys()
    assert all(re.search(mails[to], what, re.I) for to, what in owners.items())


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"nightly-size-on-22nd": "170.6 GiB", "nightly-failed-runs": "minio-assets",
             "nightly-longest-run": "minio-assets on 2026-11-22", "nightly-business-seats": "88",
             "nightly-overdue-unpaid": "Nordwind GmbH, Oakridge Clinic, Bluefin Labs",
             "nightly-ams-memory": "288 GB", "nightly-ams-vcpu-share": "47.6%",
             "nightly-servers-per-os": "debian-12: 5, debian-11: 1, ubuntu-24.04: 1",
             "nightly-failures-to-file": "minio-assets\npg-orders\npg-users",
             "nightly-mail-users-total": "6.5 GiB", "nightly-mail-biggest-host": "db-fra-1",
             "nightly-follow-up-longest-size": "112.0 GiB", "nightly-follow-up-big-fra": "db-fra-1, db-fra-2, ci-ams-1",
             "nightly-follow-up-mail-facilitator": "saturation alert; load test; roll back the workers change",
             "nightly-two-pool-sizes": "20 and 5", "nightly-find-statement-timeout": "1500",
             "nightly-orders-failure-reason": "connection reset by peer",
             "nightly-facilitator-and-team": "Jonas Berg; sre"}
    assert_wrong_answers_fail(nightly.CASES, wrong)
