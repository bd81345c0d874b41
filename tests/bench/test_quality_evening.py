"""bench.quality's evening set (``--set evening``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files (the invoices' JSON, the on-call YAML, the PostgreSQL log's lines, the snapshot
table's rows, the node exporter's metrics, the Postfix main.cf and the meeting notes' Markdown
tables, each read by its own parser), and a wrong value, or a filter that let too much through,
fails the check."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import quality_evening as evening
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_well_formed,
    assert_wrong_answers_fail,
)

EVENING = {c.name: c for c in evening.CASES}
TODAY = "2026-11-26"
"""The day the set's files were written on (the log's, the meeting's, and the overdue request's)."""
GIB = 2**30
_LOG_LINE = re.compile(r"^(\S+) (\S+) UTC \[(\d+)\] (\w+):\s+(.*)$")
_SNAPSHOT = re.compile(r"^([0-9a-f]{8})\s+(\S+ \S+)\s+(\S+)\s+(\w+)\s+(\S+)\s+([\d.]+) (GiB|TiB)\s+(\S+)$")
_DURATION = re.compile(r"(?:(\d+)h)?(\d+)m(\d+)s")
_METRIC = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")
_GIBIBYTES = {"GiB": 1, "TiB": 1024}


def invoices() -> list[dict[str, Any]]:
    return list(json.loads(evening.FILES["billing/invoices.json"])["invoices"])


def unpaid() -> list[dict[str, Any]]:
    return [i for i in invoices() if i["paid_on"] is None]


def oncall() -> dict[str, Any]:
    return dict(yaml.safe_load(evening.FILES["team/db-oncall.yaml"]))


def log_lines() -> list[dict[str, str]]:
    """The PostgreSQL log's lines, as their fields (every line is one)."""
    keys = ("date", "time", "pid", "level", "message")
    found = [_LOG_LINE.match(line) for line in evening.FILES["logs/postgresql-2026-11-26.log"].splitlines()]
    return [dict(zip(keys, m.groups(), strict=True)) for m in found if m]


def deadlocked() -> list[str]:
    """The statements of the processes a deadlock was detected in, in the log's order (the
    STATEMENT of a process that failed otherwise is none of them)."""
    waiting: set[str] = set()
    statements = []
    for line in log_lines():
        if line["level"] == "ERROR" and line["message"] == "deadlock detected":
            waiting.add(line["pid"])
        elif line["level"] == "STATEMENT" and line["pid"] in waiting:
            waiting.remove(line["pid"])
            statements.append(line["message"])
    return statements


def durations() -> list[tuple[float, str]]:
    """(milliseconds, statement) of each slow statement the log timed."""
    found = [re.fullmatch(r"duration: ([\d.]+) ms\s+statement: (.*)", line["message"]) for line in log_lines()]
    return [(float(m[1]), m[2]) for m in found if m]


def snapshots() -> list[dict[str, str]]:
    """The snapshot table's rows (not its header, rulers or count), as their fields."""
    keys = ("id", "time", "host", "tags", "paths", "size", "unit", "duration")
    found = [_SNAPSHOT.match(line) for line in evening.FILES["backups/snapshots.txt"].splitlines()]
    return [dict(zip(keys, m.groups(), strict=True)) for m in found if m]


def gibibytes(snapshot: dict[str, str]) -> float:
    return float(snapshot["size"]) * _GIBIBYTES[snapshot["unit"]]


def seconds(duration: str) -> int:
    hours, minutes, secs = _DURATION.fullmatch(duration).groups("0")  # type: ignore[union-attr]
    return int(hours) * 3600 + int(minutes) * 60 + int(secs)


def metrics() -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of each sample in the Prometheus text (not its HELP and TYPE comments)."""
    found = [_METRIC.match(line) for line in evening.FILES["metrics/db-01.prom"].splitlines()
             if not line.startswith("#")]
    return [(m[1], dict(re.findall(r'(\w+)="([^"]*)"', m[2] or "")), float(m[3])) for m in found if m]


def metric(name: str, **labels: str) -> float:
    (value,) = [v for n, ls, v in metrics() if n == name and labels.items() <= ls.items()]
    return value


def main_cf() -> dict[str, str]:
    lines = [line for line in evening.FILES["mail/main.cf"].splitlines() if line and line[0] != "#"]
    return {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in lines)}


def tables() -> dict[str, list[dict[str, str]]]:
    """The meeting notes' Markdown tables under their ``##`` headings, as rows of header → cell."""
    found: dict[str, list[list[str]]] = defaultdict(list)
    heading = ""
    for line in evening.FILES["meetings/2026-11-26-ops-sync.md"].splitlines():
        if line.startswith("## "):
            heading = line[3:]
        elif line.startswith("|") and not re.fullmatch(r"[|\-\s:]+", line):
            found[heading].append([cell.strip() for cell in line.strip("|").split("|")])
    return {h: [dict(zip(header, row, strict=True)) for row in rows] for h, (header, *rows) in found.items()}


def action_items() -> list[dict[str, str]]:
    return tables()["Action items"]


def attendees() -> dict[str, str]:
    """First name (as the action items name their owners) → address, from the attendees table."""
    return {row["Name"].split()[0]: row["Email"] for row in tables()["Attendees"]}


def test_the_evening_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["evening"].cases is evening.CASES and SETS["evening"].files is evening.FILES
    assert len(EVENING) == len(evening.CASES) >= 30
    assert 10 <= sum(c.quick for c in evening.CASES) <= 14
    others = [case_set for name, case_set in SETS.items() if name != "evening"]
    assert not EVENING.keys() & {c.name for case_set in others for c in case_set.cases}
    assert not {t for c in evening.CASES for t in c.turns} & {t for s in others for c in s.cases for t in c.turns}
    assert_well_formed(evening.CASES)
    assert_its_own("evening")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "evening")
    # the missing log and meeting notes sit beside ones that are there; the setting discovery
    # must find is in one file
    assert "logs/postgresql-2026-11-26.log" in evening.FILES
    assert "meetings/2026-11-26-ops-sync.md" in evening.FILES
    assert [path for path, text in evening.FILES.items() if "message_size_limit" in text] == ["mail/main.cf"]


def test_its_broken_json_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(evening.FILES["backups/retention.json"])
    assert len(invoices()) == 6 and json.loads(evening.FILES["billing/invoices.json"])["currency"] == "EUR"
    assert oncall()["week"] == "2026-W48" and len(oncall()["escalation"]) == 2
    assert len(log_lines()) == len(evening.FILES["logs/postgresql-2026-11-26.log"].splitlines()) == 18
    assert len(snapshots()) == 7 == int(evening.FILES["backups/snapshots.txt"].split()[-2])
    assert len(metrics()) == 11 and metric("node_load1") == 3.42
    assert main_cf()["inet_interfaces"] == "loopback-only" and len(main_cf()) == 7
    assert tables().keys() == {"Attendees", "Action items"}
    assert len(attendees()) == 4 and [row["#"] for row in action_items()] == ["1", "2", "3", "4", "5"]
    assert all(row["Owner"] in attendees() for row in action_items())
    assert {row["Status"] for row in action_items()} == {"open", "done"}


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    overdue = [i["number"] for i in unpaid() if i["due"] < TODAY]
    per_table = Counter(re.match(r"UPDATE (\w+)", s)[1] for s in deadlocked())  # type: ignore[index]
    slowest_ms, slowest = max(durations())
    db = [s for s in snapshots() if s["host"] == "db-01"]
    latest_db = max(db, key=lambda s: s["time"])
    newest = max(snapshots(), key=lambda s: s["time"])
    longest = max(snapshots(), key=lambda s: seconds(s["duration"]))
    longest_nightly = max((s for s in snapshots() if s["tags"] == "nightly"), key=lambda s: seconds(s["duration"]))
    total, available = metric("node_memory_MemTotal_bytes"), metric("node_memory_MemAvailable_bytes")
    pgdata_free = metric("node_filesystem_avail_bytes", mountpoint="/var/lib/postgresql")
    invoiced: dict[str, float] = defaultdict(float)
    for i in invoices():
        invoiced[i["customer"]] += i["amount"]
    open_items = [row for row in action_items() if row["Status"] == "open"]
    vela = sum(i["amount"] for i in unpaid() if i["customer"] == "Vela Logistics")
    biggest = max(unpaid(), key=lambda i: i["amount"])
    paid_0415 = next(i["paid_on"] for i in invoices() if i["number"] == "F-2026-0415")
    kenji = next(role for role in ("primary", "secondary") if oncall()[role].startswith("kenji."))
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(evening.FILES["backups/retention.json"])
    return {
        "evening-relayhost": main_cf()["relayhost"],
        "evening-primary-dba": oncall()["primary"],
        "evening-show-snapshots": f"{len(snapshots())} snapshots, the newest {newest['id']}",
        "evening-load15": f"{metric('node_load15'):g}",
        "evening-memory-and-relay": f"{total / GIB:g} GiB; {main_cf()['relayhost']}",
        "evening-paid-day-and-kenji": f"{paid_0415}; {kenji}",
        "evening-queue-and-newest-snapshot": f"{main_cf()['maximal_queue_lifetime']}; {newest['id']}",
        "evening-unpaid-total": f"€{sum(i['amount'] for i in unpaid()):,.2f}",
        "evening-overdue": "\n".join(overdue),
        "evening-deadlocks-per-table": ", ".join(f"{table}: {n}" for table, n in per_table.items()),
        "evening-slowest-statement": f"{slowest} took {slowest_ms} ms",
        "evening-db-snapshots-total": f"{sum(map(gibibytes, db)):.1f} GiB ({sum(map(gibibytes, db)) / 1024:.3f} TiB)",
        "evening-latest-db-backup-size": f"{gibibytes(latest_db)} GiB",
        "evening-memory-used-share": f"{100 * (total - available) / total:.2f}%",
        "evening-pgdata-free": f"{pgdata_free / GIB:g} GiB",
        "evening-invoiced-per-customer": ", ".join(f"{c}: €{amount:,.2f}" for c, amount in invoiced.items()),
        "evening-open-actions": f"{len(open_items)} are still open",
        "evening-mail-action-owners": "; ".join(row["Action"] for row in open_items),
        "evening-deadlocks-to-file": "\n".join(deadlocked()),
        "evening-mail-vela-owed": f"Vela Logistics owes €{vela:,.2f}",
        "evening-longest-backup-to-file": f"{longest['id']} {longest['duration']}",
        "evening-follow-up-last-deadlock": f"{len(deadlocked())} deadlocks; the last: {deadlocked()[-1]}",
        "evening-follow-up-longest-nightly": f"{longest_nightly['id']} ({longest_nightly['duration']})",
        "evening-follow-up-mail-secondary": f"{len(deadlocked())} deadlocks",
        "evening-follow-up-biggest-open": f"{biggest['customer']}, due {biggest['due']}",
        "evening-find-size-limit": f"mail/main.cf: message_size_limit = {main_cf()['message_size_limit']}",
        "evening-broken-retention": str(broken.value),
        "evening-rejected-snapshots-csv": "The write was rejected: nothing was written.",
    }


def test_every_number_an_evening_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["evening-relayhost"] == "[smtp-relay.corp.example.org]:587"
    assert answers["evening-primary-dba"] == "kenji.watanabe@example.org"
    assert answers["evening-show-snapshots"] == "7 snapshots, the newest 9ac1d3f0"
    assert answers["evening-load15"] == "2.51"
    assert answers["evening-memory-and-relay"] == "64 GiB; [smtp-relay.corp.example.org]:587"
    assert answers["evening-paid-day-and-kenji"] == "2026-11-21; primary"
    assert answers["evening-queue-and-newest-snapshot"] == "2d; 9ac1d3f0"
    assert answers["evening-unpaid-total"] == "€28,495.75"
    assert answers["evening-overdue"] == "F-2026-0416"
    assert answers["evening-deadlocks-per-table"] == "orders: 2, invoices: 1"
    assert answers["evening-slowest-statement"] == "VACUUM (ANALYZE) orders took 12408.921 ms"
    assert answers["evening-db-snapshots-total"] == "1286.2 GiB (1.256 TiB)"
    assert answers["evening-latest-db-backup-size"] == "216.9 GiB"
    assert answers["evening-memory-used-share"] == "81.25%"
    assert answers["evening-pgdata-free"] == "250 GiB"
    assert answers["evening-invoiced-per-customer"] == ("Nordlicht GmbH: €9,730.50, Cafe Aurora: €860.40, "
                                                        "Vela Logistics: €16,970.00, Brightwater Labs: €4,105.75")
    assert answers["evening-open-actions"] == "4 are still open"
    assert answers["evening-deadlocks-to-file"] == ("UPDATE orders SET status = 'shipped' WHERE id = 771203\n"
                                                    "UPDATE invoices SET paid_on = now() WHERE id = 5521\n"
                                                    "UPDATE orders SET status = 'cancelled' WHERE id = 771944")
    assert answers["evening-mail-vela-owed"] == "Vela Logistics owes €16,970.00"
    assert answers["evening-longest-backup-to-file"] == "0d6e8b55 3h18m09s"
    assert answers["evening-follow-up-last-deadlock"] == ("3 deadlocks; the last: "
                                                          "UPDATE orders SET status = 'cancelled' WHERE id = 771944")
    assert answers["evening-follow-up-longest-nightly"] == "c90a3f17 (1h02m47s)"
    assert answers["evening-follow-up-mail-secondary"] == "3 deadlocks"
    assert answers["evening-follow-up-biggest-open"] == "Vela Logistics, due 2026-12-03"
    assert answers["evening-find-size-limit"] == "mail/main.cf: message_size_limit = 20480000"
    assert_answers_meet_checks(evening.CASES, answers)
    # the secondary mailed about the deadlocks is priya, and the longest backup's duration in
    # seconds and minutes is the one the check accepts besides 3h18m09s
    assert oncall()["secondary"] == "priya.raman@example.org" == EVENING["evening-follow-up-mail-secondary"].mail[0].to
    assert seconds("3h18m09s") == 11889 and seconds("3h18m09s") // 60 == 198
    # the metrics in round binary units: 64 GiB of RAM with 12 GiB available, 250 of 1500 GiB
    # free on the database's volume
    assert (metric("node_memory_MemTotal_bytes"), metric("node_memory_MemAvailable_bytes")) == (64 * GIB, 12 * GIB)
    assert metric("node_filesystem_size_bytes", mountpoint="/var/lib/postgresql") == 1500 * GIB
    # the days the facts count from: the log's and the meeting's, and the request's for the overdue ones
    assert {line["date"] for line in log_lines()} == {TODAY}
    assert evening.FILES["meetings/2026-11-26-ops-sync.md"].startswith(f"# Ops sync, {TODAY}")
    assert TODAY in EVENING["evening-overdue"].turns[0]
    # the notes agree with the log (three deadlocks, two on orders and one on invoices); the
    # metrics' deadlock counters (cumulative, per database) are not the log's count
    assert "Three deadlocks on db-01 overnight: two on order status updates, one on invoices." in (
        evening.FILES["meetings/2026-11-26-ops-sync.md"])
    assert sum(v for n, _, v in metrics() if n == "pg_stat_database_deadlocks") == 4 != len(deadlocked())


def test_each_owner_is_mailed_about_their_own_item_and_no_one_else_is() -> None:
    # the open action items' owners, each mailed their own item (and a mail of another's fails)
    mails = {m.to: m.contains for m in EVENING["evening-mail-action-owners"].mail}
    owned: dict[str, list[str]] = defaultdict(list)
    for row in action_items():
        if row["Status"] == "open":
            owned[attendees()[row["Owner"]]].append(row["Action"])
    assert len(owned) == 4 and mails.keys() == owned.keys()
    for to, items in owned.items():
        assert all(re.search(mails[to], what, re.I) for what in items), to
        others = [row["Action"] for row in action_items() if row["Action"] not in items]
        assert not any(re.search(mails[to], what, re.I) for what in others), to
    # Ines's done item is none of hers to be mailed: only the open one is
    assert [row["#"] for row in action_items() if row["Owner"] == "Ines"] == ["2", "5"]
    assert owned["ines.carvalho@example.org"] == ["Drop the invoice_lines_old query from the nightly report"]


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"evening-relayhost": "db-01.corp.example.org", "evening-primary-dba": "priya.raman@example.org",
             "evening-load15": "3.42", "evening-memory-and-relay": "12 GiB; [smtp-relay.corp.example.org]:587",
             "evening-paid-day-and-kenji": "2026-11-12; primary",
             "evening-queue-and-newest-snapshot": "2d; 77b0c4de",
             "evening-unpaid-total": "€29,356.15", "evening-overdue": "F-2026-0416\nF-2026-0412",
             "evening-deadlocks-per-table": "orders: 3, billing: 1",
             "evening-slowest-statement": "SELECT customer_id, sum(total) FROM orders GROUP BY customer_id, 4821.337 ms",
             "evening-db-snapshots-total": "3,149.88 GiB (3.076 TiB)",
             "evening-latest-db-backup-size": "215.2 GiB", "evening-memory-used-share": "18.75%",
             "evening-pgdata-free": "30 GiB",
             "evening-invoiced-per-customer": "Nordlicht GmbH: €7,420.00, Vela Logistics: €16,970.00, "
                                              "Brightwater Labs: €4,105.75",
             "evening-open-actions": "5 action items",
             "evening-mail-action-owners": "lock_timeout; files-01 to Saturday; /var/lib/postgresql over 80%",
             "evening-deadlocks-to-file": "UPDATE orders SET status = 'shipped' WHERE id = 771203\n"
                                          "UPDATE invoices SET paid_on = now() WHERE id = 5521",
             "evening-mail-vela-owed": "Vela Logistics owes €15,980.00",
             "evening-longest-backup-to-file": "c90a3f17 1h02m47s",
             "evening-follow-up-last-deadlock": "UPDATE invoices SET paid_on = now() WHERE id = 5521",
             "evening-follow-up-longest-nightly": "0d6e8b55 (3h18m09s)",
             "evening-follow-up-mail-secondary": "4 deadlocks",
             "evening-follow-up-biggest-open": "Nordlicht GmbH, due 2026-11-27",
             "evening-find-size-limit": "mail/main.cf: mailbox_size_limit = 0"}
    assert_wrong_answers_fail(evening.CASES, wrong)
    # the deadlock file with a slow (not deadlocked) statement beside the three fails too
    (deadlocks,) = EVENING["evening-deadlocks-to-file"].files
    three = computed_answers()["evening-deadlocks-to-file"]
    assert deadlocks.contains and re.search(deadlocks.contains, three, re.I | re.S)
    assert not re.search(deadlocks.contains, f"{three}\n{durations()[1][1]}", re.I | re.S)
    # the overdue ones answered by customer and number: the one past due passes, one due tomorrow beside it fails
    (overdue,) = EVENING["evening-overdue"].facts
    assert re.search(overdue, "F-2026-0416 (Brightwater Labs, due 2026-11-24)", re.I | re.S)
    assert not re.search(overdue, "F-2026-0416 (Brightwater Labs), F-2026-0412 (Nordlicht GmbH)", re.I | re.S)


def test_the_deadlock_file_with_a_statement_that_failed_otherwise_fails() -> None:
    (deadlocks,) = EVENING["evening-deadlocks-to-file"].files
    statements = [line["message"] for line in log_lines() if line["level"] == "STATEMENT"]
    assert len(statements) == 4 and statements[2] not in deadlocked()
    assert deadlocks.contains and not re.search(deadlocks.contains, "\n".join(statements), re.I | re.S)
    slow = [statement for _, statement in durations()]
    assert not re.search(deadlocks.contains, "\n".join([*deadlocked(), slow[2]]), re.I | re.S)


def test_the_used_space_answered_as_free_fails() -> None:
    size = metric("node_filesystem_size_bytes", mountpoint="/var/lib/postgresql")
    used = (size - metric("node_filesystem_avail_bytes", mountpoint="/var/lib/postgresql")) / GIB
    assert_wrong_answers_fail(evening.CASES, {"evening-pgdata-free": f"{used:,g} GiB free"})
