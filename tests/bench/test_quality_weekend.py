"""bench.quality's weekend set (``--set weekend``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number and name a check expects is computed here
again from the files (the load balancer's syslog lines, the HAProxy config's sections, meminfo's
fields, the certbot listing's certificates, the hosting bill's semicolon CSV with decimal commas,
the BIND zone's records, the JUnit XML report and the incident export's JSON, each read by its
own parser), and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench import quality_weekend as weekend
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_well_formed,
    assert_wrong_answers_fail,
)

WEEKEND = {c.name: c for c in weekend.CASES}
LISTED = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
"""When the certbot listing was taken (its ``VALID: n days`` count from then)."""
KIB_PER_GIB = 2**20
_SYSLOG = re.compile(r"^(\w{3} [ \d]\d) (\d\d:\d\d:\d\d) (\S+) ([\w.-]+?)(?:\[(\d+)\])?: (.*)$")
_HEALTH = re.compile(r"Server (\w+)/([\w-]+) is (UP|DOWN), .* (\d+) active and (\d+) backup servers")
_FAILED_PASSWORD = re.compile(r"Failed password for (?:invalid user )?(\S+) from (\S+) port \d+")
_MEMINFO = re.compile(r"(\w+):\s+(\d+)(?: kB)?")
_CERT_FIELD = re.compile(r"^\s+([\w ]+): (.*)$")
_EXPIRY = re.compile(r"(\S+ \S+) \((?:VALID: (\d+) days?|INVALID: (EXPIRED))\)")
_ZONE_COMMENT = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$).*')
"""A zone file's comment: a semicolon outside quotes (the DMARC record's are inside) to the line's end."""


# the load balancer's syslog


def syslog() -> list[dict[str, str]]:
    """The syslog's lines, as their fields (every line is one)."""
    keys = ("date", "time", "host", "program", "pid", "message")
    found = [_SYSLOG.match(line) for line in weekend.FILES["logs/lb-02.syslog"].splitlines()]
    return [dict(zip(keys, m.groups(""), strict=True)) for m in found if m]


def health_changes() -> list[dict[str, str]]:
    """HAProxy's health-check state changes, in the log's order."""
    changes = []
    for line in syslog():
        m = _HEALTH.match(line["message"]) if line["program"] == "haproxy" else None
        if m:
            changes.append({"time": line["time"], "backend": m[1], "server": m[2], "state": m[3],
                            "active": m[4], "backup": m[5]})
    return changes


def still_down() -> dict[str, str]:
    """Server → the time it went down, for each server whose last change is DOWN."""
    last = {c["server"]: c for c in health_changes()}
    return {server: c["time"] for server, c in last.items() if c["state"] == "DOWN"}


def failed_passwords() -> Counter[str]:
    """Failed SSH password attempts per source address."""
    found = [_FAILED_PASSWORD.search(line["message"]) for line in syslog() if line["program"] == "sshd"]
    return Counter(m[2] for m in found if m)


def oom_killed() -> list[str]:
    found = [re.search(r"Killed process \d+ \(([^)]+)\)", line["message"]) for line in syslog()
             if line["program"] == "kernel"]
    return [m[1] for m in found if m]


# the HAProxy config


def haproxy() -> dict[str, list[list[str]]]:
    """The config's sections (``global``, ``backend be_web``, …) → their directives' words."""
    sections: dict[str, list[list[str]]] = {}
    current = ""
    for line in weekend.FILES["edge/haproxy.cfg"].splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            sections[current].append(line.split())
        else:
            current = " ".join(line.split())
            sections[current] = []
    return sections


def directive(section: str, *words: str) -> list[str]:
    """The rest of the one directive of ``section`` that starts with ``words``."""
    (rest,) = [d[len(words):] for d in haproxy()[section] if tuple(d[:len(words)]) == words]
    return rest


def servers(backend: str) -> dict[str, dict[str, Any]]:
    """A backend's servers: name → address and parameters (a flag's value is True)."""
    found = {}
    for words in haproxy()[f"backend {backend}"]:
        if words[0] != "server":
            continue
        _, name, address, *params = words
        options: dict[str, Any] = {"address": address}
        i = 0
        while i < len(params):
            if params[i] in ("weight", "maxconn"):
                options[params[i]] = int(params[i + 1])
                i += 2
            else:
                options[params[i]] = True
                i += 1
        found[name] = options
    return found


def backend_for(prefix: str) -> str:
    """The backend the frontend sends paths beginning with ``prefix`` to."""
    frontend = haproxy()["frontend fe_https"]
    (acl,) = [d[1] for d in frontend if d[0] == "acl" and d[2:] == ["path_beg", prefix]]
    (backend,) = [d[1] for d in frontend if d[0] == "use_backend" and d[2:] == ["if", acl]]
    return backend


# meminfo


def meminfo() -> dict[str, int]:
    """Field → value (kB, or a count for the HugePages_ ones)."""
    found = [_MEMINFO.fullmatch(line) for line in weekend.FILES["lb-02/meminfo.txt"].splitlines()]
    return {m[1]: int(m[2]) for m in found if m}


# the certbot listing


def certificates() -> list[dict[str, str]]:
    """Each certificate's fields (``Certificate Name``, ``Domains``, ``Expiry Date``, …)."""
    certs: list[dict[str, str]] = []
    for line in weekend.FILES["certs/certbot-certificates.txt"].splitlines():
        m = _CERT_FIELD.match(line)
        if m:
            if m[1] == "Certificate Name":
                certs.append({})
            certs[-1][m[1]] = m[2]
    return certs


def expiry(cert: dict[str, str]) -> datetime:
    return datetime.fromisoformat(_EXPIRY.fullmatch(cert["Expiry Date"])[1])  # type: ignore[index]


def valid(cert: dict[str, str]) -> bool:
    return _EXPIRY.fullmatch(cert["Expiry Date"])[3] is None  # type: ignore[index]


def domains(cert: dict[str, str]) -> list[str]:
    return cert["Domains"].split()


# the hosting bill


def hosting() -> list[dict[str, Any]]:
    """The bill's rows, the amount a Decimal (the file writes 1.089,00)."""
    rows = list(csv.DictReader(io.StringIO(weekend.FILES["billing/hosting-2026-11.csv"]), delimiter=";"))
    return [{**row, "amount": Decimal(row["amount_eur"].replace(".", "").replace(",", "."))} for row in rows]


def total_by(key: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in hosting():
        totals[row[key]] += row["amount"]
    return dict(totals)


# the zone


@dataclass(frozen=True)
class Record:
    name: str
    ttl: int
    type: str
    data: tuple[str, ...]


def zone() -> list[Record]:
    """The zone's records: names made absolute, a blank name the previous one's, TTLs $TTL's
    unless given, a parenthesised SOA joined into one."""
    logical, pending = [], ""
    for raw in weekend.FILES["dns/shop.example.net.zone"].splitlines():
        line = _ZONE_COMMENT.sub("", raw).rstrip()
        pending += " " + line.strip() if pending else line
        if pending.count("(") > pending.count(")"):
            continue
        if pending.strip():
            logical.append(pending.replace("(", " ").replace(")", " "))
        pending = ""
    origin, default_ttl, name, records = "", 0, "", []
    for line in logical:
        if line.startswith("$ORIGIN"):
            origin = line.split()[1]
        elif line.startswith("$TTL"):
            default_ttl = int(line.split()[1])
        else:
            words = shlex.split(line)
            if not line[0].isspace():
                owner = words.pop(0)
                name = origin if owner == "@" else owner if owner.endswith(".") else f"{owner}.{origin}"
            ttl = int(words.pop(0)) if words[0].isdigit() else default_ttl
            if words[0] == "IN":
                words.pop(0)
            records.append(Record(name, ttl, words[0], tuple(words[1:])))
    return records


def soa() -> dict[str, int]:
    (record,) = [r for r in zone() if r.type == "SOA"]
    return dict(zip(("serial", "refresh", "retry", "expire", "minimum"), map(int, record.data[2:]), strict=True))


def dmarc() -> dict[str, str]:
    (record,) = [r for r in zone() if r.type == "TXT" and r.name.startswith("_dmarc.")]
    tags = [tag.strip().partition("=") for tag in record.data[0].split(";")]
    return {key: value for key, _, value in tags}


# the smoke tests' JUnit XML


def smoke_tests() -> list[dict[str, Any]]:
    """Each test: its suite, name, seconds and outcome (failure, error, skipped or passed)."""
    root = ET.fromstring(weekend.FILES["ci/smoke-2026-11-28.xml"].encode())
    found = []
    for suite in root.iter("testsuite"):
        for test in suite.iter("testcase"):
            outcome = next((child.tag for child in test if child.tag in ("failure", "error", "skipped")), "passed")
            found.append({"suite": suite.get("name"), "name": test.get("name"),
                          "seconds": Decimal(test.get("time", "")), "outcome": outcome})
    return found


def not_passed() -> list[dict[str, Any]]:
    return [t for t in smoke_tests() if t["outcome"] in ("failure", "error")]


# the incident export


def incidents() -> list[dict[str, Any]]:
    return list(json.loads(weekend.FILES["oncall/pagerduty-incidents.json"])["incidents"])


def time_to_resolve(incident: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(incident["resolved_at"]) - datetime.fromisoformat(incident["created_at"])


def resolved() -> list[dict[str, Any]]:
    return [i for i in incidents() if i["status"] == "resolved"]


def test_the_weekend_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["weekend"].cases is weekend.CASES and SETS["weekend"].files is weekend.FILES
    assert len(WEEKEND) == len(weekend.CASES) == 35
    assert 12 <= sum(c.quick for c in weekend.CASES) <= 14
    others = [case_set for name, case_set in SETS.items() if name != "weekend"]
    assert not WEEKEND.keys() & {c.name for case_set in others for c in case_set.cases}
    assert not {t for c in weekend.CASES for t in c.turns} & {t for s in others for c in s.cases for t in c.turns}
    assert_well_formed(weekend.CASES)
    assert_its_own("weekend")
    # the same mix of classes as the evening set's
    assert Counter(c.kind for c in weekend.CASES) == Counter(c.kind for c in SETS["evening"].cases)


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "weekend")
    # the missing syslog and smoke report sit beside ones that are there; the DMARC policy
    # discovery must find is in one file
    assert "logs/lb-02.syslog" in weekend.FILES and "ci/smoke-2026-11-28.xml" in weekend.FILES
    assert [path for path, text in weekend.FILES.items() if "DMARC" in text] == ["dns/shop.example.net.zone"]


def test_its_broken_toml_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(weekend.FILES["deploy/storefront.toml"])
    # only its unquoted value breaks it: quoted, the file parses and holds the limit asked for
    fixed = tomllib.loads(weekend.FILES["deploy/storefront.toml"].replace("type = requests", 'type = "requests"'))
    assert fixed["http_service"]["concurrency"]["hard_limit"] == 250
    assert len(syslog()) == len(weekend.FILES["logs/lb-02.syslog"].splitlines()) == 19
    assert {line["host"] for line in syslog()} == {"lb-02"} and {line["date"] for line in syslog()} == {"Nov 28"}
    assert set(haproxy()) == {"global", "defaults", "frontend fe_https", "backend be_web", "backend be_api",
                              "backend be_static"}
    assert len(meminfo()) == len(weekend.FILES["lb-02/meminfo.txt"].splitlines()) == 18
    assert len(certificates()) == 4 and all(len(c) == 7 for c in certificates())
    assert len(hosting()) == 10 and {row["period"] for row in hosting()} == {"2026-11"}
    assert all(re.fullmatch(r"\d{1,3}(?:\.\d{3})*,\d\d", row["amount_eur"]) for row in hosting())
    assert Counter(r.type for r in zone()) == {"SOA": 1, "NS": 2, "MX": 2, "A": 6, "AAAA": 1, "CNAME": 3, "TXT": 1}
    assert soa()["serial"] == 2026112801 and {r.ttl for r in zone()} == {3600, 300}
    assert len(smoke_tests()) == 11
    assert len(incidents()) == 7 and [i["incident_number"] for i in incidents()] == list(range(4807, 4814))


def test_the_files_agree_with_each_other() -> None:
    # the JUnit report's counts and times are its test cases'
    root = ET.fromstring(weekend.FILES["ci/smoke-2026-11-28.xml"].encode())
    outcomes = Counter(t["outcome"] for t in smoke_tests())
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        str(len(smoke_tests())), str(outcomes["failure"]), str(outcomes["error"]), str(outcomes["skipped"]))
    for suite in root.iter("testsuite"):
        own = [t for t in smoke_tests() if t["suite"] == suite.get("name")]
        assert suite.get("tests") == str(len(own))
        assert Decimal(suite.get("time", "")) == sum(t["seconds"] for t in own)
    assert Decimal(root.get("time", "")) == sum(t["seconds"] for t in smoke_tests())
    # certbot's days left count from when it was listed; the expired one is the syslog's failed renewal
    for cert in certificates():
        m = _EXPIRY.fullmatch(cert["Expiry Date"])
        assert m
        assert (expiry(cert) < LISTED) == (m[3] == "EXPIRED")
        if m[2]:
            assert int(m[2]) == (expiry(cert) - LISTED).days
    assert [c["Certificate Name"] for c in certificates() if not valid(c)] == ["status.shop.example.net"]
    assert any("Failed to renew certificate status.shop.example.net" in line["message"] for line in syslog())
    # the health checks' counts of servers left are the config's (active, backup) servers
    for change in health_changes():
        pool = servers(change["backend"])
        backups = sum(1 for s in pool.values() if s.get("backup"))
        active = len(pool) - backups - (1 if change["state"] == "DOWN" else 0)
        assert (change["active"], change["backup"]) == (str(active), str(backups)), change
    # each resolved incident was resolved after the syslog says its server came back
    ups = {c["server"]: c["time"] for c in health_changes() if c["state"] == "UP"}
    by_number = {i["incident_number"]: i for i in incidents()}
    assert by_number[4809]["resolved_at"][11:19] > ups["api-3"]
    assert by_number[4811]["resolved_at"][11:19] > ups["static-1"]
    # the zone's lb-02 is the bill's, and its addresses are the public ones in front of the config's
    assert [r.data for r in zone() if r.name == "lb-02.shop.example.net."] == [("198.51.100.11",),
                                                                              ("2001:db8:40::11",)]
    assert "lb-02" in {row["resource"] for row in hosting()}
    # meminfo's numbers add up as a kernel's do: less available than free plus cache and buffers
    mem = meminfo()
    assert mem["MemFree"] < mem["MemAvailable"] < mem["MemFree"] + mem["Cached"] + mem["Buffers"]
    assert mem["SwapFree"] < mem["SwapTotal"]


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    mem = meminfo()
    web = servers("be_web")
    web_weight = sum(s["weight"] for s in web.values())
    valid_certs = [c for c in certificates() if valid(c)]
    soonest = min(valid_certs, key=expiry)
    cdn = next(c for c in certificates() if "cdn.shop.example.net" in domains(c))
    slowest = max(smoke_tests(), key=lambda t: t["seconds"])
    slowest_failed = max(not_passed(), key=lambda t: t["seconds"])
    longest = max(resolved(), key=time_to_resolve)
    minutes, secs = divmod(int(time_to_resolve(longest).total_seconds()), 60)
    resolve_total = sum((time_to_resolve(i) for i in resolved()), timedelta())
    i4813 = next(i for i in incidents() if i["incident_number"] == 4813)
    (mx,) = [r.data[1] for r in zone() if r.type == "MX" and int(r.data[0]) == min(
        int(m.data[0]) for m in zone() if m.type == "MX")]
    db_cost = next(row["amount"] for row in hosting() if row["resource"] == "db-primary")
    per_service = Counter(i["service"] for i in incidents())
    ((server, since),) = still_down().items()
    with pytest.raises(tomllib.TOMLDecodeError) as broken:
        tomllib.loads(weekend.FILES["deploy/storefront.toml"])
    return {
        "weekend-api-backend": f"{backend_for('/api/')} ({directive('backend ' + backend_for('/api/'), 'balance')[0]})",
        "weekend-oom-victim": ", ".join(oom_killed()),
        "weekend-expired-cert": ", ".join(c["Certificate Name"] for c in certificates() if not valid(c)),
        "weekend-show-smoke": f"{len(smoke_tests())} tests in {', '.join(sorted({t['suite'] for t in smoke_tests()}))}",
        "weekend-ram-and-timeout": f"{mem['MemTotal'] / KIB_PER_GIB:.2f} GiB; "
                                   f"{directive('defaults', 'timeout', 'server')[0]}",
        "weekend-serial-and-assignee": f"{soa()['serial']}; {i4813['assignee']['name']}",
        "weekend-mx-and-db-cost": f"{mx}; {db_cost:,.2f} EUR",
        "weekend-failed-ssh-per-source": ", ".join(f"{ip}: {n}" for ip, n in failed_passwords().items()),
        "weekend-web-3-share": f"{100 * web['web-3']['weight'] / web_weight:g}%",
        "weekend-mem-available-share": f"{100 * mem['MemAvailable'] / mem['MemTotal']:.2f}%",
        "weekend-swap-used-mib": f"{(mem['SwapTotal'] - mem['SwapFree']) / 1024:g} MiB",
        "weekend-hosting-total": f"€{sum(row['amount'] for row in hosting()):,.2f}",
        "weekend-cost-per-project": ", ".join(f"{p}: €{amount:,.2f}" for p, amount in total_by("project").items()),
        "weekend-multi-domain-certs": ", ".join(c["Certificate Name"] for c in certificates() if len(domains(c)) > 1),
        "weekend-slowest-test": f"{slowest['name']} ({slowest['seconds']} s)",
        "weekend-incidents-per-service": ", ".join(f"{s}: {n}" for s, n in per_service.items()),
        "weekend-longest-incident": f"#{longest['incident_number']} {longest['title']}: {minutes}m{secs:02d}s",
        "weekend-mail-cost-owners": "; ".join(f"{o}: €{amount:,.2f}" for o, amount in total_by("owner").items()),
        "weekend-failing-tests-to-file": "\n".join(t["name"] for t in not_passed()),
        "weekend-mail-resolve-total": f"{resolve_total.total_seconds() / 60:g} minutes",
        "weekend-next-expiry-to-file": f"{soonest['Certificate Name']} {expiry(soonest).date()}",
        "weekend-follow-up-still-down": f"{server} since {since}",
        "weekend-follow-up-mail-assignee": servers("be_api")["api-3"]["address"],
        "weekend-follow-up-cdn-cert": f"{cdn['Certificate Name']}, {expiry(cdn).date()}",
        "weekend-follow-up-failed-tests": slowest_failed["name"],
        "weekend-find-dmarc": f"dns/shop.example.net.zone: p={dmarc()['p']}",
        "weekend-broken-storefront-toml": str(broken.value),
        "weekend-rejected-zone-json": "The write was rejected: nothing was written.",
    }


def test_every_number_a_weekend_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["weekend-api-backend"] == "be_api (leastconn)"
    assert answers["weekend-oom-victim"] == "node_exporter"
    assert answers["weekend-expired-cert"] == "status.shop.example.net"
    assert answers["weekend-show-smoke"] == "11 tests in account, checkout, search"
    assert answers["weekend-ram-and-timeout"] == "7.77 GiB; 45s"
    assert answers["weekend-serial-and-assignee"] == "2026112801; Ren Takahashi"
    assert answers["weekend-mx-and-db-cost"] == "mx1.mail.example.net.; 1,089.00 EUR"
    assert answers["weekend-failed-ssh-per-source"] == "203.0.113.45: 3, 198.51.100.77: 1"
    assert answers["weekend-web-3-share"] == "20%"
    assert answers["weekend-mem-available-share"] == "22.50%"
    assert answers["weekend-swap-used-mib"] == "768 MiB"
    assert answers["weekend-hosting-total"] == "€2,456.56"
    assert answers["weekend-cost-per-project"] == "storefront: €1,709.41, search: €731.36, internal: €15.79"
    assert answers["weekend-multi-domain-certs"] == "assets.shop.example.net, shop.example.net"
    assert answers["weekend-slowest-test"] == "pay_with_card (12.655 s)"
    assert answers["weekend-incidents-per-service"] == "storefront-api: 2, edge: 4, monitoring: 1"
    assert answers["weekend-longest-incident"] == "#4807 Checkout p99 latency above 2s: 38m30s"
    assert answers["weekend-mail-cost-owners"] == ("maja.lindgren@example.net: €580.35; oskar.brandt@example.net: "
                                                   "€1,129.06; ren.takahashi@example.net: €731.36; "
                                                   "ops@example.net: €15.79")
    assert answers["weekend-failing-tests-to-file"] == "apply_voucher\nautocomplete_prefix\nfacet_filters"
    assert answers["weekend-mail-resolve-total"] == "76 minutes"
    assert answers["weekend-next-expiry-to-file"] == "api.shop.example.net 2026-12-04"
    assert answers["weekend-follow-up-still-down"] == "api-3 since 06:20:33"
    assert answers["weekend-follow-up-mail-assignee"] == "10.0.3.23:9000"
    assert answers["weekend-follow-up-cdn-cert"] == "assets.shop.example.net, 2026-12-19"
    assert answers["weekend-follow-up-failed-tests"] == "apply_voucher"
    assert answers["weekend-find-dmarc"] == "dns/shop.example.net.zone: p=quarantine"
    assert_answers_meet_checks(weekend.CASES, answers)
    # the same figures as people write them: the bill's own decimal commas, the zone's MX
    # without its root dot, the durations spelt out, the swap in GiB, the RAM in kB
    european = {"weekend-hosting-total": "2.456,56 €", "weekend-mx-and-db-cost": "mx1.mail.example.net, 1.089,00 €",
                "weekend-cost-per-project": "storefront 1.709,41 €, search 731,36 €, internal 15,79 €",
                "weekend-mail-resolve-total": "1 hour 16 minutes", "weekend-longest-incident":
                "incident 4807 (Checkout p99 latency above 2s) took 38 minutes and 30 seconds",
                "weekend-swap-used-mib": "0.75 GiB", "weekend-ram-and-timeout": "8,148,324 kB; 45 seconds"}
    assert_answers_meet_checks(weekend.CASES, {**answers, **european})
    # the numbers the facts spell out other ways
    assert resolve_total_seconds() == 4560 and max(map(time_to_resolve, resolved())).total_seconds() == 2310
    assert meminfo()["MemTotal"] / KIB_PER_GIB < 7.775 and (meminfo()["SwapTotal"] - meminfo()["SwapFree"]) == 768 * 1024
    assert soa()["expire"] == 14 * 86400 and dmarc()["rua"] == "mailto:dmarc-reports@example.net"
    # the one incident still triggered is maja's (the follow-up mails her), and api-3 the server it is about
    (triggered,) = [i for i in incidents() if i["status"] == "triggered"]
    assert triggered["assignee"]["email"] == WEEKEND["weekend-follow-up-mail-assignee"].mail[0].to
    assert "api-3" in triggered["title"] and "api-3" in still_down()
    assert WEEKEND["weekend-follow-up-mail-assignee"].mail[0].to == "maja.lindgren@example.net"


def resolve_total_seconds() -> float:
    return sum((time_to_resolve(i) for i in resolved()), timedelta()).total_seconds()


def test_each_owner_is_mailed_their_own_total_and_no_one_elses() -> None:
    mails = {m.to: m.contains for m in WEEKEND["weekend-mail-cost-owners"].mail}
    owned = total_by("owner")
    assert mails.keys() == owned.keys() and len(owned) == 4
    per_project = total_by("project")
    for to, total in owned.items():
        assert re.search(mails[to], f"€{total:,.2f}", re.I), to
        assert re.search(mails[to], f"{total:.2f}".replace(".", ","), re.I), to
        others = [t for o, t in owned.items() if o != to] + [t for t in per_project.values() if t != total]
        assert not any(re.search(mails[to], f"€{t:,.2f}", re.I) for t in others), to
    # maja's and oskar's resources are both the storefront project's: mailed by project, neither passes
    assert per_project["storefront"] == owned["maja.lindgren@example.net"] + owned["oskar.brandt@example.net"]


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    mem = meminfo()
    misread = sum(row["amount"] for row in hosting()) - Decimal("1089.00") + Decimal("1.089")
    wrong = {"weekend-api-backend": "be_web (roundrobin)", "weekend-oom-victim": "haproxy",
             "weekend-expired-cert": "api.shop.example.net", "weekend-show-smoke": "no such report",
             "weekend-ram-and-timeout": "7.77 GiB; 30s",
             "weekend-serial-and-assignee": "2026112801; Maja Lindgren",
             "weekend-mx-and-db-cost": "mx2.mail.example.net; 1,089.00 EUR",
             "weekend-failed-ssh-per-source": "203.0.113.45: 2, 198.51.100.77: 1",
             "weekend-web-3-share": "33.3%",
             "weekend-mem-available-share": f"{100 * (1 - mem['MemAvailable'] / mem['MemTotal']):.2f}%",
             "weekend-swap-used-mib": f"{mem['SwapFree'] / 1024:g} MiB",
             "weekend-hosting-total": f"€{misread:,.2f}",
             "weekend-cost-per-project": "storefront: €621.50, search: €731.36, internal: €15.79",
             "weekend-multi-domain-certs": "shop.example.net, assets.shop.example.net, api.shop.example.net",
             "weekend-slowest-test": "checkout (21.400 s)",
             "weekend-incidents-per-service": "edge: 3, storefront-api: 2, monitoring: 1",
             "weekend-longest-incident": "#4811 be_static has no active servers: 28m30s",
             "weekend-mail-cost-owners": "maja.lindgren@example.net: €1,709.41; ren.takahashi@example.net: €731.36",
             "weekend-failing-tests-to-file": "apply_voucher\nautocomplete_prefix\nfacet_filters\npassword_reset_mail",
             "weekend-mail-resolve-total": "38.5 minutes",
             "weekend-next-expiry-to-file": "status.shop.example.net 2026-11-27",
             "weekend-follow-up-still-down": "be_static/static-1 since 05:30:02",
             "weekend-follow-up-mail-assignee": "10.0.3.22:9000",
             "weekend-follow-up-cdn-cert": "shop.example.net, 2027-01-26",
             "weekend-follow-up-failed-tests": "pay_with_card",
             "weekend-find-dmarc": "dns/shop.example.net.zone: p=none"}
    assert_wrong_answers_fail(weekend.CASES, wrong)
    # the misread amount is what reading 1.089,00 as one euro and nine cents gives
    assert f"{misread:,.2f}" == "1,368.65"
    # the next expiry with every valid certificate beside it, or the swap free or the RAM in
    # decimal gigabytes answered, fails too
    (next_expiry,) = WEEKEND["weekend-next-expiry-to-file"].files
    everything = "\n".join(f"{c['Certificate Name']} {expiry(c).date()}" for c in certificates() if valid(c))
    assert next_expiry.contains and not re.search(next_expiry.contains, everything, re.I | re.S)
    assert_wrong_answers_fail(weekend.CASES, {
        "weekend-ram-and-timeout": f"{mem['MemTotal'] * 1024 / 1e9:.2f} GB; 45s",
        "weekend-swap-used-mib": f"{(mem['SwapTotal'] - mem['SwapFree']) * 1024 / 1e6:.1f} MB",
        "weekend-web-3-share": "40%"})


def test_the_failing_tests_file_with_a_passing_or_skipped_test_fails() -> None:
    (failures,) = WEEKEND["weekend-failing-tests-to-file"].files
    assert failures.contains
    names = [t["name"] for t in not_passed()]
    assert re.search(failures.contains, "\n".join(names), re.I | re.S)
    for other in (t for t in smoke_tests() if t["outcome"] not in ("failure", "error")):
        assert not re.search(failures.contains, "\n".join([*names, other["name"]]), re.I | re.S), other
    for left_out in names:
        assert not re.search(failures.contains, "\n".join(n for n in names if n != left_out), re.I | re.S)
