"""bench.quality's data set (``--set data``): files and requests of its own (none of the other
sets'), and checks that hold for its files: every number a check expects is computed here again
from the files, and an answer with a wrong value, or a filter that let too much through, fails."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from bench import quality_data as data
from bench import quality_dev as dev
from bench import quality_holdout as holdout
from bench.quality import SETS
from bench.quality_cases import CASES, Case, Kind
from bench.quality_targets import FILES
from tests.bench.quality_sets import laid_out, named_paths

DATA = {c.name: c for c in data.CASES}
_FLAGS = re.I | re.S


def test_the_data_set_shares_no_request_or_file_with_the_other_sets() -> None:
    assert SETS["data"].cases is data.CASES and SETS["data"].files is data.FILES
    assert len(DATA) == len(data.CASES) >= 15
    others = (*CASES, *holdout.CASES, *dev.CASES)
    assert not DATA.keys() & {c.name for c in others}
    assert not {t for c in data.CASES for t in c.turns} & {t for c in others for t in c.turns}
    assert not data.FILES.keys() & (FILES.keys() | holdout.FILES.keys() | dev.FILES.keys())
    assert {c.kind for c in data.CASES} == {Kind.COMPUTE, Kind.RED, Kind.FOLLOW_UP}
    for case in data.CASES:
        assert (len(case.turns) == 2) == (case.kind is Kind.FOLLOW_UP), case.name


def test_each_path_it_names_is_in_its_workspace(tmp_path: Path) -> None:
    assert laid_out(tmp_path, "data") == sorted(data.FILES)
    for case in data.CASES:
        named = named_paths(case)
        assert {p for p in named if not p.startswith("reports/")} <= data.FILES.keys(), (case.name, named)


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    costs = list(csv.DictReader(io.StringIO(data.FILES["finance/costs.csv"])))
    certs = json.loads(data.FILES["tls/certs.json"])["certificates"]
    runs = [dict(field.split("=") for field in line.split()[1:]) for line in data.FILES["logs/cron.log"].splitlines()]
    pages = list(csv.DictReader(io.StringIO(data.FILES["oncall/pages.csv"])))
    disks = json.loads(data.FILES["infra/disks.json"])
    by_team: dict[str, float] = defaultdict(float)
    for row in costs:
        by_team[row["team"]] += float(row["cost_usd"])
    backups = [int(r["duration"].removesuffix("s")) for r in runs if r["job"] == "db-backup"]
    sev1 = [int(p["acknowledged_min"]) for p in pages if p["severity"] == "sev1"]
    per_service = Counter(p["service"] for p in pages)
    failed = Counter(r["job"] for r in runs if r["status"] == "failed")
    december = [c["domain"] for c in certs if c["expires"].startswith("2026-12")]
    letsencrypt = sum(c["issuer"] == "Let's Encrypt" for c in certs)
    return {
        "data-payments-cost": f"The payments team spent ${by_team['payments']:,.2f}.",
        "data-sev1-ack": f"sev1 pages were acknowledged after {sum(sev1) / len(sev1):.1f} minutes on average.",
        "data-letsencrypt-count": f"{letsencrypt} of them.",
        "data-backup-duration": f"{sum(backups)} seconds.",
        "data-longest-backup": f"{max(backups)} s.",
        "data-top-spender": max(by_team, key=lambda t: by_team[t]),
        "data-cost-per-team": "\n".join(f"- {team}: ${total:,.2f}" for team, total in by_team.items()),
        "data-pages-per-service": "\n".join(f"- {name}: {n}" for name, n in per_service.items()),
        "data-flakiest-job": failed.most_common(1)[0][0],
        "data-cron-failure-rate": f"{100 * sum(failed.values()) / len(runs):.0f}% of the runs failed.",
        "data-full-disks": ", ".join(d["host"] for d in disks if d["used_gb"] / d["size_gb"] > 0.8),
        "data-manual-certs": ", ".join(c["domain"] for c in certs if not c["auto_renew"]),
        "data-free-space": f"{sum(d['size_gb'] - d['used_gb'] for d in disks)} GB free.",
        "data-renew-to-file": "\n".join(december),
        "data-follow-up-busiest": per_service.most_common(1)[0][0],
        "data-follow-up-team-share": f"${by_team['search']:,.2f} of ${sum(by_team.values()):,.2f}.",
    }


def test_every_value_a_data_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers.keys() == DATA.keys()
    assert answers["data-top-spender"] == "search" and answers["data-flakiest-job"] == "cert-check"
    for name, text in answers.items():
        for pattern in _patterns(DATA[name]):
            assert re.search(pattern, text, _FLAGS), (name, pattern, text)


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {
        "data-payments-cost": "3 rows",  # rows counted, not the column summed
        "data-sev1-ack": "6.67 minutes",
        "data-cron-failure-rate": "20% failed",
        "data-backup-duration": "4 runs",
        "data-cost-per-team": "- payments: 3\n- search: 3\n- identity: 2\n- growth: 1",
        "data-pages-per-service": "- checkout: 2\n- search: 4\n- ledger: 2",
        "data-full-disks": "db-1, db-2, cache-1, web-1, web-2",
        "data-manual-certs": "shop.example.com, status.example.com, vpn.example.com, api.example.com",
        "data-renew-to-file": "api.example.com\nshop.example.com\nstatus.example.com\nvpn.example.com",
        "data-top-spender": "payments",
    }
    for name, text in wrong.items():
        assert not all(re.search(p, text, _FLAGS) for p in _patterns(DATA[name])), name


def _patterns(case: Case) -> list[str]:
    made = [*(c.contains for c in case.files if c.contains), *(m.contains for m in case.mail)]
    return made if case.red_tools else list(case.facts)
