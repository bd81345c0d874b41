"""bench.quality's wide set (``--set wide``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files, and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import configparser
import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench import quality_wide as wide
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_wrong_answers_fail,
)

WIDE = {c.name: c for c in wide.CASES}
_ACCESS = re.compile(r'^(?P<ip>\S+) \S+ \S+ \[[^]]+\] "(?P<method>\w+) (?P<path>\S+) [^"]*" (?P<status>\d+) '
                     r'(?P<bytes>\d+)')


def test_the_wide_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["wide"].cases is wide.CASES and SETS["wide"].files is wide.FILES
    assert len(WIDE) == len(wide.CASES) >= 30
    assert len(SETS) - 1 >= 8  # tuning, holdout, dev, data, fresh, unseen, aimed, broad
    assert_its_own("wide")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "wide")


def test_its_broken_yaml_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(wide.FILES["config/ingress.yaml"])
    ini = configparser.ConfigParser()
    ini.read_string(wide.FILES["config/mailer.ini"])
    assert ini["relay"]["port"] == "2525" and ini["limits"]["rate_per_minute"] == "120"
    rotation = yaml.safe_load(wide.FILES["ops/rotation.yaml"])
    assert [w["primary"] for w in rotation["weeks"]] == ["farah", "jonas", "keiko"]
    assert all(_ACCESS.match(line) for line in wide.FILES["logs/edge-access.log"].splitlines())


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    requests = [m.groupdict() for line in wide.FILES["logs/edge-access.log"].splitlines()
                if (m := _ACCESS.match(line))]
    latency = list(csv.DictReader(io.StringIO(wide.FILES["data/latency.tsv"]), delimiter="\t"))
    audit = [json.loads(line) for line in wide.FILES["data/audit.jsonl"].splitlines()]
    vendors = list(csv.DictReader(io.StringIO(wide.FILES["data/vendors.csv"])))
    rotation = yaml.safe_load(wide.FILES["ops/rotation.yaml"])["weeks"]
    owners = re.findall(r"^\| (\w+) \| [^|]+ \| \d{4}-\d\d-\d\d \|$", wide.FILES["notes/postmortem-db-failover.md"],
                        re.M)

    def spend(**where: str) -> int:
        return sum(int(v["annual_usd"]) for v in vendors if all(v[k] == x for k, x in where.items()))

    server_errors = [r for r in requests if r["status"].startswith("5")]
    w48 = next(w for w in rotation if w["week"] == "2026-W48")
    unauthorised = next(r for r in requests if r["status"] == "401")
    return {
        "wide-5xx": str(len(server_errors)),
        "wide-top-client": Counter(r["ip"] for r in requests).most_common(1)[0][0],
        "wide-orders-bytes": str(sum(int(r["bytes"]) for r in requests
                                     if r["method"] == "GET" and r["path"] == "/api/orders")),
        "wide-eu-requests": f"{sum(int(r['requests']) for r in latency if r['region'] == 'eu-west'):,}",
        "wide-slow-endpoints": ", ".join(dict.fromkeys(r["endpoint"] for r in latency if int(r["p95_ms"]) > 300)),
        "wide-average-p50": f"{sum(int(r['p50_ms']) for r in latency) / len(latency):.1f} ms",
        "wide-failed-actions": str(sum(not e["ok"] for e in audit)),
        "wide-events-per-actor": ", ".join(f"{a}: {n}" for a, n in Counter(e["actor"] for e in audit).items()),
        "wide-vendor-total": f"{spend():,} USD",
        "wide-renew-before-2027": ", ".join(v["vendor"] for v in vendors if v["renewal"] < "2027"),
        "wide-infra-share": f"{100 * spend(owner='infra') / spend():.1f}%",
        "wide-5xx-to-file": str(len(server_errors)),
        "wide-mail-follow-up-owners": ", ".join(owners),
        "wide-mail-vendor-total": f"{spend():,}",
        "wide-record-ingest": " ".join(
            re.findall(r"(\w+) ([\d.]+),.*status (\w+)", WIDE["wide-record-ingest"].turns[0])[0]),
        "wide-follow-up-w48": w48["primary"],
        "wide-follow-up-priciest": max(vendors, key=lambda v: int(v["annual_usd"]))["vendor"],
        "wide-follow-up-login-ip": unauthorised["ip"],
        "wide-rejected-5xx-ips": "The write was rejected: nothing was written.",
    }


def test_every_number_a_wide_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["wide-orders-bytes"] == "1176"
    assert answers["wide-eu-requests"] == "24,500"
    assert answers["wide-vendor-total"] == "64,950 USD"
    assert answers["wide-infra-share"] == "61.2%"
    assert answers["wide-renew-before-2027"] == "PagerPal, LogLake"
    assert answers["wide-mail-follow-up-owners"] == "Ivan, Daniela, Ravi"
    assert_answers_meet_checks(wide.CASES, answers)
    assert (answers["wide-record-ingest"],) == WIDE["wide-record-ingest"].rows


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"wide-5xx": "3", "wide-top-client": "10.1.2.4", "wide-orders-bytes": "678",
             "wide-eu-requests": "49,100", "wide-slow-endpoints": "/api/cart, /api/orders",
             "wide-average-p50": "41 ms", "wide-failed-actions": "5", "wide-events-per-actor": "lena: 2, priya: 2",
             "wide-vendor-total": "40,700", "wide-renew-before-2027": "PagerPal, LogLake, Acme Monitoring",
             "wide-infra-share": "50%", "wide-mail-follow-up-owners": "Ivan, Daniela",
             "wide-follow-up-priciest": "Acme Monitoring", "wide-follow-up-login-ip": "10.1.2.3"}
    assert_wrong_answers_fail(wide.CASES, wrong)
