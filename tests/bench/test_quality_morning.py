"""bench.quality's morning set (``--set morning``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files (the CSV, the deployment list's JSON, the log's lines, the routing YAML, the
postmortem's checkboxes, the dotenv lines and the certificates' JSON, each read by its own
parser), and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import quality_morning as morning
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_wrong_answers_fail,
)

MORNING = {c.name: c for c in morning.CASES}
TODAY = "2026-11-24"
"""The day the set's files were written on (the log's, the scan's and the postmortem's)."""
_MEBIBYTES = {"Mi": 1, "Gi": 1024}
_LINE = re.compile(r"^(\S+) (\S+) (\w+)\s+GET (\S+) (\d{3}) (\d+)ms(?: (.*))?$")


def invoices() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(morning.FILES["finance/receivables.csv"])))


def unpaid() -> list[dict[str, str]]:
    return [i for i in invoices() if i["paid"] == "no"]


def deployments() -> list[dict[str, Any]]:
    return list(json.loads(morning.FILES["k8s/deployments-prod.json"])["items"])


def requests_of(deployment: dict[str, Any]) -> dict[str, str]:
    """The one container's resource requests."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container["resources"]["requests"])


def cores(cpu: str) -> float:
    return int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)


def mebibytes(memory: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", memory).groups()  # type: ignore[union-attr]
    return int(number) * _MEBIBYTES[unit]


def requests_log() -> list[dict[str, str]]:
    """The log's request lines (the start-up line is none), as their fields."""
    keys = ("date", "time", "level", "path", "status", "ms", "detail")
    found = [_LINE.match(line) for line in morning.FILES["logs/product-search.log"].splitlines()]
    return [dict(zip(keys, m.groups(""), strict=True)) for m in found if m]


def routes() -> dict[str, Any]:
    return dict(yaml.safe_load(morning.FILES["alerting/routes.yaml"]))


def follow_ups() -> list[tuple[bool, str, str]]:
    """(done, owner's handle, what) of each checkbox under the postmortem's follow-ups."""
    return [(mark == "x", handle, what) for mark, what, handle in re.findall(
        r"^- \[([ x])\] (.+?) — @(\w+)", morning.FILES["postmortems/2026-11-24-search-timeouts.md"], re.M)]


def responders() -> dict[str, str]:
    """Handle → address, from the postmortem's Responders line."""
    return dict(re.findall(r"@(\w+) \(([\w.]+@[\w.]+)\)", morning.FILES["postmortems/2026-11-24-search-timeouts.md"]))


def env() -> dict[str, str]:
    lines = [line for line in morning.FILES["config/product-search.env"].splitlines() if line and line[0] != "#"]
    return dict(line.split("=", 1) for line in lines)


def certificates() -> dict[str, dict[str, str]]:
    return dict(json.loads(morning.FILES["pki/certificates.json"])["certificates"])


def expires(cert: dict[str, str]) -> str:
    return cert["not_after"][:10]


def test_the_morning_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["morning"].cases is morning.CASES and SETS["morning"].files is morning.FILES
    assert len(MORNING) == len(morning.CASES) >= 30
    assert 10 <= sum(c.quick for c in morning.CASES) <= 14
    assert_its_own("morning")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "morning")
    # the missing postmortem and deployment list sit beside ones that are there; the setting
    # discovery must find is in one file
    assert "postmortems/2026-11-24-search-timeouts.md" in morning.FILES
    assert "k8s/deployments-prod.json" in morning.FILES
    assert [path for path, text in morning.FILES.items() if "CACHE" in text] == ["config/product-search.env"]


def test_its_broken_json_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(morning.FILES["alerting/silences.json"])
    assert len(invoices()) == 8 and {i["paid"] for i in invoices()} == {"yes", "no"}
    assert len(deployments()) == 5 and all(requests_of(d).keys() == {"cpu", "memory"} for d in deployments())
    assert len(requests_log()) == 13 == len(morning.FILES["logs/product-search.log"].splitlines()) - 1
    assert routes()["route"]["receiver"] == "ops-catchall"
    assert env()["HTTP_PORT"] == "8088"
    assert len(certificates()) == 6
    assert [handle for _, handle, _ in follow_ups()] == ["rafael", "rafael", "oksana", "bettina", "bettina"]
    assert all(handle in responders() for _, handle, _ in follow_ups())


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    log = requests_log()
    overdue = [i["invoice"] for i in unpaid() if i["due"] < TODAY]
    biggest = max(unpaid(), key=lambda i: float(i["amount_usd"]))
    memory = sum(d["spec"]["replicas"] * mebibytes(requests_of(d)["memory"]) for d in deployments())
    cpu: dict[str, float] = defaultdict(float)
    for d in deployments():
        cpu[d["metadata"]["namespace"]] += d["spec"]["replicas"] * cores(requests_of(d)["cpu"])
    errors = Counter(line["detail"].split()[-1].split(":")[0] for line in log if line["level"] == "ERROR")
    searches = [int(line["ms"]) for line in log if line["path"] == "/v1/search" and line["status"] == "200"]
    slowest = max(log, key=lambda line: int(line["ms"]))
    soonest = min(certificates().items(), key=lambda item: expires(item[1]))
    expiring = [name for name, cert in certificates().items() if expires(cert) < "2027-01-01"]
    open_items = [what for done, _, what in follow_ups() if not done]
    redwood = sum(float(i["amount_usd"]) for i in unpaid() if i["customer"] == "Redwood Analytics")
    by_name = {d["metadata"]["name"]: d for d in deployments()}
    search_chat = next(r for r in routes()["route"]["routes"] if r["matchers"] == ['team="search"'])
    channels = {r["name"]: r.get("slack_configs", [{}])[0].get("channel") for r in routes()["receivers"]}
    payments = next(r for r in routes()["route"]["routes"] if r["matchers"] == ['team="payments"'])
    author = re.findall(r"Author: @(\w+)", morning.FILES["postmortems/2026-11-24-search-timeouts.md"])[0]
    return {
        "morning-outstanding-total": f"${sum(float(i['amount_usd']) for i in unpaid()):,.2f}",
        "morning-unpaid-over-2k": ", ".join(f"{i['invoice']} ({i['customer']})" for i in unpaid()
                                            if float(i["amount_usd"]) > 2000),
        "morning-memory-requested": f"{memory:,} MiB ({memory / 1024} GiB)",
        "morning-errors-per-node": ", ".join(f"{node}: {n}" for node, n in errors.items()),
        "morning-5xx-share": f"{100 * sum(line['status'] >= '500' for line in log) / len(log):.1f}%",
        "morning-search-avg-latency": f"{sum(searches) / len(searches):.1f} ms",
        "morning-slowest-request": f"{slowest['path']} ({slowest['status']}) took {slowest['ms']} ms at "
                                   f"{slowest['time']}",
        "morning-next-cert-expiry": f"{soonest[0]} on {expires(soonest[1])}",
        "morning-certs-per-issuer": ", ".join(f"{issuer}: {n}" for issuer, n in
                                              Counter(c["issuer"] for c in certificates().values()).items()),
        "morning-overdue-to-file": "\n".join(overdue),
        "morning-mail-redwood-owed": f"Redwood Analytics owes ${redwood:,.2f}",
        "morning-mail-followup-owners": "; ".join(open_items),
        "morning-cpu-per-namespace": "\n".join(f"{ns}: {n:g} cores" for ns, n in cpu.items()),
        "morning-follow-up-biggest-unpaid": f"${float(biggest['amount_usd']):,.2f}, due {biggest['due']}",
        "morning-follow-up-not-ready": ", ".join(d["metadata"]["name"] for d in deployments()
                                                 if d["status"]["readyReplicas"] < d["spec"]["replicas"]),
        "morning-follow-up-mail-cert-owners": "; ".join(expiring),
        "morning-rejected-unpaid": "The write was rejected: nothing was written.",
        "morning-indexer-image": by_name["catalog-indexer"]["spec"]["template"]["spec"]["containers"][0][
            "image"].rsplit(":", 1)[1],
        "morning-payments-repeat": payments["repeat_interval"],
        "morning-timeout-and-replicas": f"{env()['OPENSEARCH_TIMEOUT_MS']} ms and "
                                        f"{by_name['product-search']['spec']['replicas']} replicas",
        "morning-author-and-cert-owner": f"{author}; {certificates()['grafana.example.net']['owner']}",
        "morning-channel-and-invoice": f"{channels[search_chat['receiver']]}; "
                                       + next(i["customer"] for i in invoices() if i["invoice"] == "INV-3107"),
        "morning-find-cache-ttl": f"config/product-search.env: {env()['RESULT_CACHE_TTL']}",
    }


def test_every_number_a_morning_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["morning-outstanding-total"] == "$29,366.25"
    assert answers["morning-unpaid-over-2k"] == ("INV-3103 (Redwood Analytics), INV-3105 (Kestrel Air), "
                                                 "INV-3106 (Harbor Freight Co)")
    assert answers["morning-memory-requested"] == "19,968 MiB (19.5 GiB)"
    assert answers["morning-errors-per-node"] == "os-data-2: 3, os-data-3: 1"
    assert answers["morning-5xx-share"] == "30.8%"
    assert answers["morning-search-avg-latency"] == "557.3 ms"
    assert answers["morning-slowest-request"] == "/v1/search (504) took 3011 ms at 08:03:30"
    assert answers["morning-next-cert-expiry"] == "os-internal.example.net on 2026-11-30"
    assert answers["morning-certs-per-issuer"] == "GTS CA 1P5: 3, Vault PKI (internal): 1, Buypass: 2"
    assert answers["morning-overdue-to-file"] == "INV-3102\nINV-3103\nINV-3107"
    assert answers["morning-mail-redwood-owed"] == "Redwood Analytics owes $10,480.00"
    assert answers["morning-cpu-per-namespace"] == "search: 7.75 cores\npayments: 4.75 cores"
    assert answers["morning-follow-up-biggest-unpaid"] == "$15,300.00, due 2026-12-02"
    assert answers["morning-follow-up-not-ready"] == "catalog-indexer, payout-worker"
    assert answers["morning-follow-up-mail-cert-owners"] == ("search.example.net; os-internal.example.net; "
                                                             "checkout.example.net")
    assert answers["morning-indexer-image"] == "1.14.0"
    assert answers["morning-payments-repeat"] == "12h"
    assert answers["morning-timeout-and-replicas"] == "3000 ms and 6 replicas"
    assert answers["morning-author-and-cert-owner"] == "oksana; bettina.lund@example.com"
    assert answers["morning-channel-and-invoice"] == "#search-alerts; Redwood Analytics"
    assert answers["morning-find-cache-ttl"] == "config/product-search.env: 300s"
    assert_answers_meet_checks(morning.CASES, answers)
    # the days the facts count from: the log's day, and the scan's
    assert {line["date"] for line in requests_log()} == {TODAY}
    assert json.loads(morning.FILES["pki/certificates.json"])["scanned_at"].startswith(TODAY)
    assert (date.fromisoformat(expires(certificates()["os-internal.example.net"])) - date.fromisoformat(TODAY)).days == 6


def test_each_owner_is_mailed_about_their_own_items_and_no_one_else_is() -> None:
    # the open follow-ups' owners, each mailed their own item (and a mail of another's fails)
    mails = {m.to: m.contains for m in MORNING["morning-mail-followup-owners"].mail}
    owned: dict[str, list[str]] = defaultdict(list)
    for done, handle, what in follow_ups():
        if not done:
            owned[responders()[handle]].append(what)
    assert mails.keys() == owned.keys()
    for to, items in owned.items():
        assert all(re.search(mails[to], what, re.I) for what in items), to
        others = [what for other, whats in owned.items() if other != to for what in whats]
        assert not any(re.search(mails[to], what, re.I) for what in others), to
    # the owners of the certificates that run out this year, each mailed about their own
    mails = {m.to: m.contains for m in MORNING["morning-follow-up-mail-cert-owners"].mail}
    expiring = {cert["owner"]: name for name, cert in certificates().items() if expires(cert) < "2027-01-01"}
    assert len(expiring) == 3 and mails.keys() == expiring.keys()
    for to, name in expiring.items():
        assert re.search(mails[to], name, re.I)
        assert not any(re.search(mails[to], other, re.I) for other in certificates() if other != name), to


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"morning-outstanding-total": "$37,976.50", "morning-unpaid-over-2k": "INV-3103, INV-3105, INV-3106, INV-3101",
             "morning-memory-requested": "7,936 MiB (7.75 GiB)", "morning-errors-per-node": "os-data-2: 4, os-data-3: 1",
             "morning-5xx-share": "28.6%", "morning-search-avg-latency": "1237.8 ms",
             "morning-slowest-request": "/v1/search took 3007 ms at 08:01:09",
             "morning-next-cert-expiry": "search.example.net on 2026-12-06",
             "morning-certs-per-issuer": "GTS CA 1P5: 2, Buypass: 2, Vault PKI: 1",
             "morning-overdue-to-file": "INV-3102\nINV-3103\nINV-3107\nINV-3105",
             "morning-mail-redwood-owed": "$9,600.00",
             "morning-mail-followup-owners": "Put os-data-3 back into the cluster; circuit breaker; alert on heap",
             "morning-cpu-per-namespace": "search: 4.75 cores\npayments: 7.75 cores",
             "morning-follow-up-biggest-unpaid": "$9,600.00, due 2026-11-11",
             "morning-follow-up-not-ready": "catalog-indexer, payout-worker, query-suggest",
             "morning-follow-up-mail-cert-owners": "search.example.net; os-internal.example.net",
             "morning-indexer-image": "3.8.2", "morning-payments-repeat": "4h",
             "morning-timeout-and-replicas": "3000 ms and 2 replicas",
             "morning-author-and-cert-owner": "rafael; camille.moreau@example.com",
             "morning-channel-and-invoice": "#ops-firehose; Lumen Dental",
             "morning-find-cache-ttl": "config/product-search.env: 3000"}
    assert_wrong_answers_fail(morning.CASES, wrong)
    # the unpaid-over-2k filter answered by customer: the right three pass, a paid customer beside them fails
    (over_2k,) = MORNING["morning-unpaid-over-2k"].facts
    assert re.search(over_2k, "Redwood Analytics, Kestrel Air, Harbor Freight Co", re.I | re.S)
    assert not re.search(over_2k, "Redwood, Kestrel, Harbor Freight, Saffron Foods", re.I | re.S)
