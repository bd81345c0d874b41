"""The rows of a table in a package's input, and one SQLite query over them (sandbox/table_rows.py)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.table_rows import (
    _repeats,
    column_number,
    column_types,
    column_units,
    nested_tables,
    number,
    query_rows,
    table_rows,
)

COSTS = "team,cost_usd\npayments,1240.50\nsearch,2210.00\npayments,480.00\n"


def test_a_csv_a_tsv_json_records_a_logfmt_log_and_a_list_of_objects_are_tables() -> None:
    assert table_rows(COSTS, ".csv") == (["team", "cost_usd"], [
        {"team": "payments", "cost_usd": "1240.50"}, {"team": "search", "cost_usd": "2210.00"},
        {"team": "payments", "cost_usd": "480.00"}])
    assert table_rows("a\tb\n1\t2\n", ".tsv") == (["a", "b"], [{"a": "1", "b": "2"}])
    records = [{"host": "db-1", "used": 4}, {"host": "db-2", "free": 3}]
    expected = (["host", "used", "free"], [{"host": "db-1", "used": 4, "free": None},
                                          {"host": "db-2", "used": None, "free": 3}])
    assert table_rows(json.dumps(records)) == expected
    assert table_rows(json.dumps({"generated": "today", "hosts": records})) == expected  # its one list
    assert table_rows(records) == expected  # another step's output
    log = "2026-11-20T02:00:03Z job=backup status=ok duration=312s\n\njob=rotate status=\"not ok\"\n"
    assert table_rows(log) == (["time", "job", "status", "duration"], [
        {"time": "2026-11-20T02:00:03Z", "job": "backup", "status": "ok", "duration": "312s"},
        {"time": None, "job": "rotate", "status": "not ok", "duration": None}])


def test_a_log_of_fields_separated_by_spaces_is_a_table_its_columns_named_by_what_they_hold() -> None:
    """dev gateway-5xx and fresh full-nodes: a program written over such a log's lines failed or
    counted nothing; a query over its columns does not."""
    gateway = ("2026-11-24T10:00:01Z GET /api/orders 200 34ms\n"
               "2026-11-24T10:00:02Z POST /api/checkout 502 1203ms\n")
    assert table_rows(gateway) == (["time", "method", "path", "status", "duration_ms"], [
        {"time": "2026-11-24T10:00:01Z", "method": "GET", "path": "/api/orders", "status": "200",
         "duration_ms": "34ms"},
        {"time": "2026-11-24T10:00:02Z", "method": "POST", "path": "/api/checkout", "status": "502",
         "duration_ms": "1203ms"}])
    nodes = ("2026-11-24 09:00:12 INFO node-1 disk=62%\n"
             "2026-11-24 09:15:27 ERROR node-3 kubelet restarted\n"
             "2026-11-24 09:20:11 WARN node-5 disk=95%\n")
    columns, rows = table_rows(nodes) or ([], [])
    assert columns == ["time", "level", "node", "disk", "message"]
    assert rows[1] == {"time": "2026-11-24 09:15:27", "level": "ERROR", "node": "node-3", "disk": None,
                       "message": "kubelet restarted"}
    assert query_rows(columns, rows, "SELECT node FROM data WHERE disk > 60") == ["node-1", "node-5"]
    assert query_rows(columns, rows, "SELECT COUNT(*) FROM data WHERE level = 'ERROR'") == 1
    mixed = "2026-11-24T10:00:01Z api started\n2026-11-24T10:00:02Z 17 worker-2\n"
    assert table_rows(mixed) == (["time", "field1", "field2"], [
        {"time": "2026-11-24T10:00:01Z", "field1": "api", "field2": "started"},
        {"time": "2026-11-24T10:00:02Z", "field1": "17", "field2": "worker-2"}])


def test_a_markdown_files_list_items_are_rows_with_their_section_and_name() -> None:
    notes = ("# Incident review\n\nIncident commander: Sofia Lindqvist\n\n## Timeline\n- 14:02 error rate rises\n"
             "## Follow-ups\n- Arjun Mehta: add a canary stage\n* [ ] **Grace Liu**: alert on error rate: 2%\n"
             "1. Upgrade the staging database. Owner: Omar Haddad\n")
    assert table_rows(notes, ".md") == (["section", "name", "text"], [
        {"section": "Timeline", "name": None, "text": "14:02 error rate rises"},
        {"section": "Follow-ups", "name": "Arjun Mehta", "text": "add a canary stage"},
        {"section": "Follow-ups", "name": "Grace Liu", "text": "alert on error rate: 2%"},
        {"section": "Follow-ups", "name": None, "text": "Upgrade the staging database. Owner: Omar Haddad"}])
    # the name's address between it and the colon (broad mail-owners' action items)
    addressed = "## Action items\n- Luis Ortega <luis@example.com>: tune the alert.\n- Mei Lin (mei@example.com): add counts.\n"
    assert table_rows(addressed, ".md") == (["section", "name", "text", "email"], [
        {"section": "Action items", "name": "Luis Ortega", "text": "tune the alert.", "email": "luis@example.com"},
        {"section": "Action items", "name": "Mei Lin", "text": "add counts.", "email": "mei@example.com"}])
    assert table_rows("# Notes\n- one thing\n- another\n", ".md") == (["section", "text"], [
        {"section": "Notes", "text": "one thing"}, {"section": "Notes", "text": "another"}])
    assert table_rows("# Notes\nOnly prose here.\n- one item\n", ".md") is None
    table = table_rows(notes, ".md")
    assert table is not None
    assert query_rows(*table, "SELECT name FROM data WHERE section = 'Follow-ups' AND name IS NOT NULL") == [
        "Arjun Mehta", "Grace Liu"]


def test_fields_written_inside_markdown_items_and_their_addresses_are_columns() -> None:
    """fresh follow-up-owner: "Write their email address" of the key rotation's owner was queried
    ``SELECT owner``, four times, over a table whose items said "Owner: …" only in their text."""
    notes = ("## Action items\n"
             "- Upgrade the staging database. Owner: Omar Haddad (omar@example.com)\n"
             "- Rotate the API keys of the partner sandbox. Owner: Lena Fischer (lena@example.com)\n"
             "- Add a runbook page (owner: bob, due: Friday).\n"
             "- Ask the vendor about rates; due date: next week\n")
    table = table_rows(notes, ".md")
    assert table is not None
    columns, rows = table
    assert columns == ["section", "text", "email", "owner"]  # "due" is in one item only
    assert [row["owner"] for row in rows] == ["Omar Haddad (omar@example.com)", "Lena Fischer (lena@example.com)",
                                              "bob", None]
    assert rows[1]["text"] == "Rotate the API keys of the partner sandbox. Owner: Lena Fischer (lena@example.com)"
    assert query_rows(*table, "SELECT email FROM data WHERE text LIKE 'Rotate the API keys%'") == "lena@example.com"
    assert query_rows(*table, "SELECT owner FROM data WHERE email IS NULL") == ["bob", None]


def test_a_checklists_items_say_whether_they_are_done() -> None:
    notes = "## Action items\n- [x] Renew the TLS certificate\n- [ ] Rotate the password\n- [X] Close INC-7\n"
    table = table_rows(notes, ".md")
    assert table is not None and table[0] == ["section", "text", "done", "open"]
    assert [(row["done"], row["open"]) for row in table[1]] == [(True, False), (False, True), (True, False)]
    assert query_rows(*table, "SELECT text FROM data WHERE done = 0") == "Rotate the password"
    assert query_rows(*table, "SELECT text FROM data WHERE open = 1") == "Rotate the password"


def test_a_postgresql_log_is_a_table_of_its_events_levels_process_ids_messages_and_durations() -> None:
    log = ("2026-11-26 02:14:07.120 UTC [31877] ERROR:  deadlock detected\n"
           "2026-11-26 02:14:07.120 UTC [31877] STATEMENT:  UPDATE orders SET status = 'shipped' WHERE id = 7\n"
           "2026-11-26 02:31:55.907 UTC [32011] LOG:  duration: 4821.337 ms  statement: SELECT 1\n"
           "2026-11-26 05:10:44.871 UTC [33490] LOG:  duration: 12408.921 ms  statement: VACUUM orders\n")
    table = table_rows(log, ".log")
    assert table is not None
    assert table[0] == ["time", "pid", "level", "duration_ms", "message", "statement", "table_name"]
    # the statement line tells more of the error before it, from its process: one row
    assert table[1][0] == {"time": "2026-11-26 02:14:07.120", "pid": "31877", "level": "ERROR", "duration_ms": None,
                           "message": "deadlock detected",
                           "statement": "UPDATE orders SET status = 'shipped' WHERE id = 7", "table_name": "orders"}
    assert len(table[1]) == 3
    assert query_rows(*table, "SELECT statement FROM data WHERE message LIKE '%deadlock%'") == (
        "UPDATE orders SET status = 'shipped' WHERE id = 7")
    assert query_rows(*table, "SELECT statement FROM data ORDER BY duration_ms DESC LIMIT 1") == "VACUUM orders"
    # the table each statement acts on ("SELECT 1" acts on none)
    assert query_rows(*table, "SELECT table_name, COUNT(*) AS n FROM data GROUP BY table_name") == [
        {"table_name": None, "n": 1}, {"table_name": "orders", "n": 2}]


def test_metrics_in_prometheus_text_format_are_a_table_of_samples_labels_and_numbers() -> None:
    scraped = ("# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n"
               "# TYPE node_memory_MemTotal_bytes gauge\n"
               "node_memory_MemTotal_bytes 6.8719476736e+10\n"
               'node_filesystem_avail_bytes{device="/dev/sda1",mountpoint="/"} 3.221225472e+10\n'
               'node_filesystem_avail_bytes{device="/dev/sdb",mountpoint="/data"} 2.68435456e+11\n'
               "node_load15 2.51\n")
    table = table_rows(scraped, ".prom")
    assert table is not None and table[0] == ["metric", "device", "mountpoint", "value"]
    assert [row["value"] for row in table[1]] == [68719476736, 32212254720, 268435456000, 2.51]
    assert query_rows(*table, "SELECT value / 1073741824 AS gib FROM data WHERE metric = "
                              "'node_filesystem_avail_bytes' AND mountpoint = '/data'") == 250
    # samples with no comment or label saying they are metrics, or a line that is none: no metrics
    assert table_rows("uptime 12\nusers 3\n", ".txt") is None
    assert table_rows("# TYPE uptime gauge\nuptime 12\nusers 3\n") == (
        ["metric", "value"], [{"metric": "uptime", "value": 12}, {"metric": "users", "value": 3}])
    assert table_rows("# TYPE x gauge\nx 1\nthis is prose\n", ".txt") is None


def test_a_table_ruled_off_under_its_header_with_lines_around_it_is_a_table() -> None:
    listed = ("repository 7c1e9a42 opened (version 2, compression level auto)\n"
              "ID        Time                 Host      Size       Duration\n"
              "-----------------------------------------------------------\n"
              "a41f09c2  2026-11-20 01:00:04  db-01     212.4 GiB  41m12s\n"
              "0d6e8b55  2026-11-22 04:00:00  files-01  1.82 TiB   3h18m09s\n"
              "9ac1d3f0  2026-11-25 01:00:04  db-01     216.9 GiB  45m20s\n"
              "-----------------------------------------------------------\n"
              "3 snapshots\n")
    table = table_rows(listed, ".txt")
    assert table is not None and table[0] == ["id", "time", "host", "size", "duration"]
    assert [row["id"] for row in table[1]] == ["a41f09c2", "0d6e8b55", "9ac1d3f0"]
    assert query_rows(*table, "SELECT SUM(size) AS total FROM data WHERE host = 'db-01'") == "429.3 GiB"
    assert query_rows(*table, "SELECT id FROM data ORDER BY duration DESC LIMIT 1") == "0d6e8b55"


def test_a_column_dating_an_event_some_rows_had_says_whether_each_had_it() -> None:
    invoices = json.dumps([{"number": "F-1", "amount": 70.5, "paid_on": None},
                           {"number": "F-2", "amount": 20.0, "paid_on": "2026-11-21"},
                           {"number": "F-3", "amount": 9.5, "paid_on": ""}])
    table = table_rows(invoices, ".json")
    assert table is not None and table[0] == ["number", "amount", "paid_on", "paid"]
    assert [row["paid"] for row in table[1]] == [False, True, False]
    assert query_rows(*table, "SELECT SUM(amount) AS total FROM data WHERE paid = 0") == 80
    # every row had it (or none did), a column that holds more than dates, or one with the stem's name: left as is
    for rows in ([{"closed_at": "2026-11-02"}, {"closed_at": "2026-11-03"}],
                 [{"closed_at": None}, {"closed_at": "soon"}],
                 [{"closed": "yes", "closed_at": None}, {"closed": "no", "closed_at": "2026-11-03"}]):
        found = table_rows(json.dumps(rows), ".json")
        assert found is not None and found[0] == list(rows[0])


def test_the_time_from_a_start_stamp_to_an_end_stamp_is_a_duration_column() -> None:
    """weekend mail-resolve-total: "add up how long the resolved incidents took to resolve" is the
    SUM of one column, not date arithmetic in SQL."""
    incidents = json.dumps([
        {"id": 1, "created_at": "2026-11-27T21:14:05Z", "resolved_at": "2026-11-27T21:52:35Z"},
        {"id": 2, "created_at": "2026-11-28T00:00:12Z", "resolved_at": None},
        {"id": 3, "created_at": "2026-11-28T02:41:30+00:00", "resolved_at": "2026-11-28T04:11:30+00:00"},
        {"id": 4, "created_at": "2026-11-28T05:00:00Z", "resolved_at": "2026-11-28T04:00:00Z"}])  # (a clock slip)
    table = table_rows(incidents, ".json")
    assert table is not None
    assert table[0] == ["id", "created_at", "resolved_at", "created_to_resolved", "resolved"]
    assert [row["created_to_resolved"] for row in table[1]] == ["38m30s", None, "1h30m00s", None]
    assert query_rows(*table, "SELECT SUM(created_to_resolved) FROM data WHERE resolved = 1") == "2h08m30s (7710 s)"
    assert query_rows(*table, "SELECT id, created_to_resolved FROM data ORDER BY created_to_resolved DESC LIMIT 1",
                      with_units=True) == {"id": 3, "created_to_resolved": "1h30m00s (5400 s)"}
    # a CSV's start and end times, written with a space
    runs = "job,started_at,finished_at\nbackup,2026-11-28 01:00:00,2026-11-28 01:00:45\n" \
           "sync,2026-11-28 02:00:00,2026-11-28 02:03:00\n"
    found = table_rows(runs, ".csv")
    assert found is not None and [r["started_to_finished"] for r in found[1]] == ["0m45s", "3m00s"]
    # a GitHub Actions run export: a stamp named with its subject's word, a run's last update its end
    # (monday longest-run was queried for the latest update)
    actions = json.dumps({"workflow_runs": [
        {"id": 7, "run_started_at": "2026-11-28T02:00:11Z", "updated_at": "2026-11-28T02:47:03Z"},
        {"id": 8, "run_started_at": "2026-11-28T16:44:31Z", "updated_at": "2026-11-28T16:51:02Z"}]})
    found = table_rows(actions, ".json")
    assert found is not None and [r["started_to_updated"] for r in found[1]] == ["46m52s", "6m31s"]


def test_no_duration_without_one_start_stamp_or_with_dates_alone() -> None:
    two_starts = [{"created_at": "2026-11-27T21:14:05Z", "opened_at": "2026-11-27T21:15:00Z",
                   "closed_at": "2026-11-27T22:00:00Z"}, {"created_at": "2026-11-27T21:14:05Z",
                                                         "opened_at": "2026-11-27T21:15:00Z", "closed_at": None}]
    days = [{"created_on": "2026-11-01", "closed_on": "2026-11-03"}, {"created_on": "2026-11-02", "closed_on": None}]
    taken = [{"created_at": "2026-11-27T21:14:05Z", "resolved_at": "2026-11-27T21:52:35Z", "created_to_resolved": 5},
             {"created_at": "2026-11-27T21:14:05Z", "resolved_at": "2026-11-27T21:54:35Z", "created_to_resolved": 7}]
    for rows in (two_starts, days, taken):
        found = table_rows(json.dumps(rows), ".json")
        assert found is not None and not any(c.endswith(("_to_closed", "_to_resolved")) and c not in rows[0]
                                             for c in found[0]), found[0]
    assert [r["created_to_resolved"] for r in table_rows(json.dumps(taken), ".json")[1]] == [5, 7]  # type: ignore[index]
    # no value computed (a time with its zone less one without): no column that sums to nothing
    zoned = [{"created_at": "2026-11-27T21:14:05Z", "resolved_at": "2026-11-27T21:52:35"},
             {"created_at": "2026-11-27T21:14:05Z", "resolved_at": None}]
    found = table_rows(json.dumps(zoned), ".json")
    assert found is not None and "created_to_resolved" not in found[0]


def test_a_duration_keeps_its_fraction_of_a_second() -> None:
    steps = json.dumps([{"id": 1, "started_at": "2026-11-28T01:00:00.400Z", "finished_at": "2026-11-28T01:00:00.900Z"},
                        {"id": 2, "started_at": "2026-11-28T01:00:00.400Z", "finished_at": "2026-11-28T01:00:01Z"}])
    table = table_rows(steps, ".json")
    assert table is not None and [r["started_to_finished"] for r in table[1]] == ["0m00.5s", "0m00.6s"]
    assert query_rows(*table, "SELECT SUM(started_to_finished) AS total FROM data") == "1s (1.1 s)"


HAPROXY = """\
# the edge (edited by hand)
global
    maxconn 20000

defaults
    timeout server 45s

frontend fe_https
    bind :443 ssl crt /etc/haproxy/certs/
    default_backend be_web

backend be_web
    balance roundrobin
    server web-1 10.0.2.11:8080 check weight 100
    server web-2 10.0.2.12:8080 check weight 100  # the new one
    server web-3 10.0.2.13:8080 check weight 50

listen stats 127.0.0.1:8404
    server local 127.0.0.1:8405 backup
"""


def test_haproxys_servers_are_a_table_with_their_settings() -> None:
    """weekend web-3-share: the weights of be_web's servers were in no table."""
    table = table_rows(HAPROXY, ".cfg")
    assert table is not None
    columns, rows = table
    assert columns == ["backend", "server", "address", "check", "weight", "backup"]
    assert rows[2] == {"backend": "be_web", "server": "web-3", "address": "10.0.2.13:8080", "check": True,
                       "weight": "50", "backup": False}
    assert rows[3]["backend"] == "stats" and rows[3]["backup"] is True and rows[3]["weight"] is None
    share = ("SELECT 100.0 * SUM(CASE WHEN server = 'web-3' THEN weight END) / SUM(weight) AS pct FROM data "
             "WHERE backend = 'be_web'")
    assert query_rows(*table, share) == 20
    # a line outside the sections HAProxy opens, or one server alone: no table of servers
    assert table_rows("notes\n" + HAPROXY, ".cfg") is None
    one = table_rows("backend be\n    server a 10.0.0.1:80 check\n", ".cfg")
    assert one is None or "server" not in one[0]


@pytest.mark.parametrize("value", [
    "# Notes\n- Dana owns the migration\n",  # prose
    "GET /api 200 34ms\nPOST /api 502 1203ms\n",  # a log without key=value fields or times
    "2026-11-24T10:00:01Z GET /api 200 34ms\n  at Client.call\n",  # a line that opens with no time
    "2026-11-24 GET /api 200\n2026-11-25 GET /x 404\n",  # a date, no time: a list of days, maybe
    json.dumps({"a": [{"x": 1}], "b": [{"y": 2}]}),  # two lists: which one is meant is not certain
    '{"targets": [{"job": "api"},]',  # not JSON
    "[1, 2, 3]", "", [], [{"nested": [1, 2]}], 42,
])
def test_what_is_no_table_gives_none(value: object) -> None:
    assert table_rows(value) is None


def test_a_number_may_carry_a_unit_a_currency_sign_or_thousands_separators() -> None:
    assert [number(v) for v in ["312s", "$1,240.50", "85%", " 7 ", "-3.5", "1.2GB", True]] == \
        [312, 1240.5, 85, 7, -3.5, 1.2, 1]
    assert [number(v) for v in ["b-501", "2026-09", "v1.2", "", "1,2", "abc", None]] == [None] * 7
    assert column_types(["a", "b", "c"], [{"a": "1", "b": "1.5", "c": "x"}, {"a": "2s", "b": "", "c": "3"}]) == \
        {"a": "INTEGER", "b": "REAL", "c": "TEXT"}


def test_a_query_result_is_shaped_for_an_answer() -> None:
    columns, rows = table_rows(COSTS, ".csv") or ([], [])
    assert query_rows(columns, rows, "SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments'") == 1720.5
    assert query_rows(columns, rows, "SELECT team, SUM(cost_usd) FROM data GROUP BY team ORDER BY team") == \
        {"payments": 1720.5, "search": 2210}
    assert query_rows(columns, rows, "SELECT team FROM data ORDER BY cost_usd") == ["payments", "payments", "search"]
    assert query_rows(columns, rows, "SELECT team, cost_usd FROM data ORDER BY cost_usd DESC LIMIT 1;") == \
        {"team": "search", "cost_usd": 2210}
    assert query_rows(columns, rows, "SELECT team, cost_usd FROM data ORDER BY cost_usd") == [
        {"team": "payments", "cost_usd": 480}, {"team": "payments", "cost_usd": 1240.5},
        {"team": "search", "cost_usd": 2210}]
    assert query_rows(columns, rows, "SELECT SUM(cost_usd) FROM data WHERE team = 'growth'") is None
    disks = [{"host": "db-1", "used": 420, "size": 500}, {"host": "web-1", "used": 35, "size": 80}]
    assert query_rows(["host", "used", "size"], disks, "SELECT host FROM data WHERE used / size > 0.8") == "db-1"
    assert query_rows(["host", "used", "size"], disks, "SELECT MAX(used), SUM(size) FROM data") == \
        {"MAX(used)": 420, "SUM(size)": 580}  # whole numbers stay whole
    assert query_rows(columns, rows, "SELECT team FROM data WHERE team = 'growth'") is None


@pytest.mark.parametrize("sql", [
    "DELETE FROM data", "SELECT 1; DROP TABLE data", "ATTACH DATABASE '/tmp/x' AS x", "PRAGMA table_info(data)",
])
def test_anything_but_one_select_is_refused(sql: str) -> None:
    with pytest.raises(ValueError, match="one SELECT"):
        query_rows(["a"], [{"a": "1"}], sql)


@given(st.lists(st.tuples(st.sampled_from(["eu", "us", "ap"]), st.integers(-10**6, 10**6)),
                min_size=1, max_size=40))
def test_a_filtered_sum_and_a_group_count_agree_with_python(rows: list[tuple[str, int]]) -> None:
    text = "region,amount\n" + "".join(f"{region},{amount}\n" for region, amount in rows)
    columns, table = table_rows(text, ".csv") or ([], [])
    eu = [amount for region, amount in rows if region == "eu"]
    total = query_rows(columns, table, "SELECT SUM(amount) FROM data WHERE region = 'eu'")
    assert total == (sum(eu) if eu else None)
    counted = query_rows(columns, table, "SELECT region, COUNT(*) AS n FROM data GROUP BY region")
    counts = {r: sum(1 for region, _ in rows if region == r) for r, _ in rows}
    if len(counts) > 1:  # one value per group
        assert counted == counts
    else:  # one row: its columns by name
        [(region, n)] = counts.items()
        assert counted == {"region": region, "n": n}
    average = query_rows(columns, table, "SELECT AVG(amount) FROM data")
    assert math.isclose(average, sum(a for _, a in rows) / len(rows), rel_tol=1e-6, abs_tol=1e-6)


def test_a_log_whose_lines_open_with_a_bracketed_time_is_a_table() -> None:
    """broad slowest-job: ``[2026-11-27 01:00:03] job=… runtime_ms=1820`` was read as JSON (it opens
    with a bracket), found no table, and the package's own parsing failed three times."""
    cron = ("[2026-11-27 01:00:03] job=rotate-logs exit=0 runtime_ms=1820\n"
            "[2026-11-27 02:00:00] job=prune-images exit=0 runtime_ms=128400\n")
    assert table_rows(cron, ".log") == table_rows(cron) == (["time", "job", "exit", "runtime_ms"], [
        {"time": "2026-11-27 01:00:03", "job": "rotate-logs", "exit": "0", "runtime_ms": "1820"},
        {"time": "2026-11-27 02:00:00", "job": "prune-images", "exit": "0", "runtime_ms": "128400"}])
    spaced = "[2026-11-27 01:00:03] INFO api started\n[2026-11-27 01:00:04] ERROR db down\n"
    assert table_rows(spaced, ".log") == (["time", "level", "field2", "field3"], [
        {"time": "2026-11-27 01:00:03", "level": "INFO", "field2": "api", "field3": "started"},
        {"time": "2026-11-27 01:00:04", "level": "ERROR", "field2": "db", "field3": "down"}])
    assert table_rows('[{"a": 1}, {"a": 2}]') == (["a"], [{"a": 1}, {"a": 2}])  # JSON as before
    assert table_rows("[1, 2") is None


def test_a_web_servers_access_log_is_a_table_of_its_requests() -> None:
    """wide 5xx: "how many requests … got a 5xx status?" over nginx's combined log was counted as
    the lines holding the text ``5xx`` (0): no table was found in it."""
    combined = ('10.1.2.3 - - [27/Nov/2026:10:00:01 +0000] "GET /api/orders HTTP/1.1" 200 512 "-" "curl/8.5"\n'
                '10.1.2.7 - - [27/Nov/2026:10:00:12 +0000] "GET /api/cart HTTP/1.1" 503 166 "-" "Mozilla/5.0"\n'
                '10.1.2.4 - ann [27/Nov/2026:10:00:13 +0000] "HEAD /healthz HTTP/1.1" 304 - "-" "probe"\n')
    columns, rows = table_rows(combined, ".log") or ([], [])
    # (referer is "-" on every line, and ident too: left out; user is on one)
    assert columns == ["client_ip", "user", "time", "method", "path", "protocol", "status", "bytes", "user_agent"]
    assert rows[1]["client_ip"] == "10.1.2.7" and rows[1]["status"] == "503" and rows[2]["bytes"] == "0"
    assert query_rows(columns, rows, "SELECT COUNT(*) FROM data WHERE status BETWEEN 500 AND 599") == 1
    assert query_rows(columns, rows, "SELECT SUM(bytes) FROM data WHERE method = 'GET'") == 678
    common = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n'
    assert (table_rows(common) or ([], []))[1] == [{
        "client_ip": "127.0.0.1", "user": "frank", "time": "10/Oct/2000:13:55:36 -0700", "method": "GET",
        "path": "/apache_pb.gif", "protocol": "HTTP/1.0", "status": "200", "bytes": "2326"}]
    # a line of another form among them: no table of requests
    assert table_rows(common + "the proxy restarted\n") is None


def test_nginxs_error_log_is_a_table_of_its_lines_and_their_context() -> None:
    """monday top-error-client: "which client IP turns up in the most lines of
    logs/nginx-error.log?" had no table to group by (a package's ``client_ip`` was no key)."""
    log = ('2026/11/30 06:40:19 [error] 2211#2211: *93502 upstream timed out (110: Connection timed out) while '
           'reading response header from upstream, client: 203.0.113.9, server: shop.example.org, request: '
           '"GET /api/search?q=a,b HTTP/2.0", upstream: "http://10.20.1.15:8080/api/search", host: "shop"\n'
           '2026/11/30 07:40:02 [alert] 2208#2208: worker process 2214 exited on signal 9\n'
           '2026/11/30 07:41:10 [error] 2212#2212: *95920 upstream timed out (110: Connection timed out), '
           'client: 203.0.113.9, server: shop.example.org\n')
    columns, rows = table_rows(log, ".log") or ([], [])
    assert columns == ["time", "level", "pid", "connection", "message", "client", "server", "request",
                       "upstream", "host"]
    assert rows[0]["client"] == "203.0.113.9" and rows[0]["request"] == "GET /api/search?q=a,b HTTP/2.0"
    assert rows[0]["message"].endswith("while reading response header from upstream")
    assert rows[1] == {"time": "2026/11/30 07:40:02", "level": "alert", "pid": "2208", "connection": None,
                       "message": "worker process 2214 exited on signal 9", "client": None, "server": None,
                       "request": None, "upstream": None, "host": None}
    assert query_rows(columns, rows, "SELECT client, COUNT(*) FROM data WHERE client IS NOT NULL "
                                     "GROUP BY client") == {"client": "203.0.113.9", "COUNT(*)": 2}
    # a line of another form among them: no table of its lines
    assert table_rows(log + "nginx: the configuration file syntax is ok\n", ".log") is None


def test_a_duration_written_as_a_clock_is_a_duration_and_a_time_of_day_keeps_its_clock() -> None:
    """monday mail-checkout-resolve: ``time_to_resolve`` of ``00:47:12`` was text; SQLite summed the
    hours alone (3), and ``float('00:47:12')`` failed."""
    pages = ("page,started,time_to_resolve,mttr\nP-1,18:21:05,00:47:12,01:00:00\nP-2,19:02:00,02:05:40,\n"
             "P-3,20:00:00,125:03:10,00:00:30\n")
    columns, rows = table_rows(pages, ".csv") or ([], [])
    assert [(r["started"], r["time_to_resolve"], r["mttr"]) for r in rows] == [
        ("18:21:05", "47m12s", "1h00m00s"), ("19:02:00", "2h05m40s", ""), ("20:00:00", "125h03m10s", "0m30s")]
    assert column_types(columns, rows)["time_to_resolve"] == "INTEGER"
    assert query_rows(columns, rows, "SELECT SUM(time_to_resolve) FROM data WHERE page != 'P-3'") \
        == "2h52m52s (10372 s)"
    # a clock among other values, or in a column not named for a duration, is left as written
    assert (table_rows("task,duration\na,00:01:00\nb,soon\n", ".csv") or ([], []))[1][0]["duration"] == "00:01:00"
    assert (table_rows("task,at\na,00:01:00\n", ".csv") or ([], []))[1][0]["at"] == "00:01:00"


TERRAFORM_PLAN = """Terraform will perform the following actions:

  # aws_db_instance.orders will be updated in-place
  ~ resource "aws_db_instance" "orders" {
      ~ allocated_storage = 400 -> 500
        # (51 unchanged attributes hidden)
    }

  # module.cache.aws_elasticache_cluster.sessions must be replaced
-/+ resource "aws_elasticache_cluster" "sessions" {
      ~ node_type = "cache.t4g.small" -> "cache.r7g.large" # forces replacement
    }

  # aws_s3_bucket.exports will be created
  + resource "aws_s3_bucket" "exports" {
      + bucket = "shop-order-exports-prod"
    }

  # aws_security_group_rule.office_ssh will be destroyed
  - resource "aws_security_group_rule" "office_ssh" {
      - from_port = 22 -> null
    }

Plan: 2 to add, 1 to change, 2 to destroy.
"""


def test_a_terraform_plan_is_a_table_of_the_resources_it_acts_on() -> None:
    """monday destroyed-resources: "Which resources will terraform/plan.txt destroy? Count the
    replacements too." listed the created and replaced ones: no table to filter."""
    columns, rows = table_rows(TERRAFORM_PLAN, ".txt") or ([], [])
    assert columns == ["resource", "type", "name", "action", "destroyed", "changes"]
    assert [(r["resource"], r["type"], r["action"], r["destroyed"]) for r in rows] == [
        ("aws_db_instance.orders", "aws_db_instance", "update", False),
        ("module.cache.aws_elasticache_cluster.sessions", "aws_elasticache_cluster", "replace", True),
        ("aws_s3_bucket.exports", "aws_s3_bucket", "create", False),
        ("aws_security_group_rule.office_ssh", "aws_security_group_rule", "destroy", True)]
    assert rows[1]["changes"] == 'node_type: "cache.t4g.small" -> "cache.r7g.large"'
    assert rows[0]["changes"] == "allocated_storage: 400 -> 500"
    assert query_rows(columns, rows, "SELECT name FROM data WHERE destroyed") == ["sessions", "office_ssh"]
    assert query_rows(columns, rows, "SELECT COUNT(*) FROM data WHERE action = 'replace'") == 1
    # no resource Terraform acts on: no table of them
    assert table_rows("Terraform has compared your real infrastructure with your configuration\n"
                      "No changes. Your infrastructure matches the configuration.\n", ".txt") is None


def test_json_lines_are_records() -> None:
    lines = '{"actor": "priya", "ok": true}\n\n{"actor": "tomas", "ok": false}\n'
    assert table_rows(lines, ".jsonl") == (["actor", "ok"], [{"actor": "priya", "ok": True},
                                                            {"actor": "tomas", "ok": False}])
    assert table_rows('{"actor": "priya"}\nnot json\n', ".jsonl") is None


def test_a_date_an_items_words_name_is_a_column_and_a_handle_a_name() -> None:
    """monday days-to-last-due: the due dates were only words of ``text``, and "how many days to
    the latest due date of its open action items?" was queried as a count of the items."""
    retro = ("## Action items\n- [ ] @lev (lev@example.org): add a canary stage, due 2026-12-04\n"
             "- [x] @ama (ama@example.org): raise the memory limit, done 2026-11-27\n"
             "- [ ] @hana (hana@example.org): un-pause the alert, due 2026-11-30\n"
             "- [x] @kim (kim@example.org): rotate the key, done 2026-11-26\n")
    columns, rows = table_rows(retro, ".md") or ([], [])
    assert columns == ["section", "name", "text", "done", "open", "email", "due", "done_on"]
    assert [(r["name"], r["due"], r["done_on"]) for r in rows] == [
        ("lev", "2026-12-04", None), ("ama", None, "2026-11-27"), ("hana", "2026-11-30", None),
        ("kim", None, "2026-11-26")]
    assert query_rows(columns, rows, "SELECT julianday(MAX(due)) - julianday('2026-11-27') FROM data "
                                     "WHERE open") == 7
    # a date no word names, or one item's alone, is no column
    columns, _ = table_rows("- a: shipped 2026-11-02\n- b: due 2026-11-03\n- c: later\n", ".md") or ([], [])
    assert "due" not in columns


def test_a_markdown_files_tables_are_rows_with_their_section_and_header() -> None:
    """wide mail-follow-up-owners: the postmortem's follow-ups were a table, and only list items
    were rows."""
    notes = ("# Postmortem\n\nSeverity: SEV2.\n\n## Timeline\n| time (UTC) | event |\n|---|---|\n"
             "| 14:02 | lag alert fires |\n| 14:26 | writes restored |\n\n## Follow-ups\n"
             "| owner | task | due |\n| :--- | --- | ---: |\n| Ivan | alert on lag | 2026-12-03 |\n"
             "| Ravi | grow the volume |\n\n- Kim: review the runbook\n")
    columns, rows = table_rows(notes, ".md") or ([], [])
    assert columns == ["section", "name", "text", "time_utc", "event", "owner", "task", "due"]
    assert rows[2] == {"section": "Follow-ups", "name": None, "text": None, "time_utc": None, "event": None,
                       "owner": "Ivan", "task": "alert on lag", "due": "2026-12-03"}
    assert rows[3]["due"] is None  # (a row short of cells)
    assert rows[4]["name"] == "Kim" and rows[4]["section"] == "Follow-ups"
    assert query_rows(columns, rows, "SELECT owner FROM data WHERE section = 'Follow-ups' AND owner IS NOT NULL"
                      ) == ["Ivan", "Ravi"]
    assert query_rows(columns, rows, "SELECT event FROM data WHERE time_utc = '14:26'") == "writes restored"


PODS = """\
NAME                        READY   STATUS             RESTARTS      AGE   IP            NODE     NOMINATED NODE   READINESS GATES
api-7d9f8b6c4-2xkqp         1/1     Running            0             5d    10.42.0.12    node-a   <none>           <none>
api-7d9f8b6c4-9hjwz         1/1     Running            2 (3h ago)    5d    10.42.1.7     node-b   <none>           <none>
worker-5c6d7e8f9-abcde      0/1     CrashLoopBackOff   14 (2m ago)   1d    10.42.2.3     node-c   <none>           <none>
"""
DF = """\
Filesystem       Size  Used Avail Use% Mounted on
/dev/nvme0n1p1    50G   31G   19G  62% /
tmpfs            7.8G  1.2M  7.8G   1% /run
/dev/nvme1n1     500G  462G   38G  93% /var
"""
DOCKER_PS = """\
CONTAINER ID   IMAGE                   COMMAND           CREATED       STATUS                   PORTS                    NAMES
3f4e5d6c7b8a   registry/api:1.4.2      "/app/server"     2 days ago    Up 2 days (healthy)      0.0.0.0:8080->8080/tcp   api
1b2c3d4e5f6a   registry/worker:2.0.1   "/app/worker"     5 hours ago   Exited (1) 4 hours ago                            worker
"""


def test_a_commands_output_in_aligned_columns_is_a_table() -> None:
    """console total-restarts and full-disks-to-file: ``kubectl get pods -o wide`` and ``df -h``
    saved to files were no table, and the planner's Python summed ``line.split()[1]`` (0) and
    took the header's ``Size`` for a number."""
    columns, rows = table_rows(PODS, ".txt") or ([], [])
    assert columns == ["name", "ready", "status", "restarts", "age", "ip", "node", "nominated_node",
                       "readiness_gates"]
    assert [row["restarts"] for row in rows] == ["0", "2 (3h ago)", "14 (2m ago)"]  # a wide value stays whole
    assert query_rows(columns, rows, "SELECT SUM(restarts) FROM data") == 16
    assert query_rows(columns, rows, "SELECT name FROM data WHERE status != 'Running'") == "worker-5c6d7e8f9-abcde"
    columns, rows = table_rows(DF) or ([], [])
    # "Used Avail": two columns; "Use%" says what its number is
    assert columns == ["filesystem", "size", "used", "avail", "use_percent", "mounted_on"]
    assert query_rows(columns, rows, "SELECT mounted_on FROM data WHERE use_percent > 80") == "/var"
    columns, rows = table_rows(DOCKER_PS, ".txt") or ([], [])
    assert columns == ["container_id", "image", "command", "created", "status", "ports", "names"]
    assert rows[0]["status"] == "Up 2 days (healthy)" and rows[1]["ports"] is None and rows[1]["names"] == "worker"


EVENTS = """\
LAST SEEN           TYPE      REASON       OBJECT                        MESSAGE
48m (x3 over 50m)   Warning   Unhealthy    pod/catalog-7f8d9c6b4-h5j2w   Readiness probe failed: HTTP probe failed
44m                 Warning   OOMKilling   node/pool-b-2                 Memory cgroup out of memory (x2 over nothing)
3m (x12 over 50m)   Warning   BackOff      pod/checkout-5c6d7f8b9-qr7tz  Back-off restarting failed container
2m                  Normal    Rescaled     hpa/catalog                   New size: 5
"""


def test_kubectls_repeated_events_are_counted_in_a_count_column() -> None:
    """monday warnings-per-reason: ``3m (x12 over 50m)`` is one row seen 12 times; counted as
    rows, BackOff was 1."""
    columns, rows = table_rows(EVENTS, ".txt") or ([], [])
    assert columns == ["last_seen", "count", "type", "reason", "object", "message"]
    assert [(row["last_seen"], row["count"]) for row in rows] == [("48m", 3), ("44m", 1), ("3m", 12), ("2m", 1)]
    assert rows[1]["message"] == "Memory cgroup out of memory (x2 over nothing)"  # (only the column that writes them)
    assert query_rows(columns, rows, "SELECT SUM(count) FROM data WHERE type = 'Warning'") == 16
    # a table with a count of its own keeps it, and its repeats as written
    own = [{"age": "3m (x2 over 5m)", "count": "7"}]
    assert _repeats(["age", "count"], own) == (["age", "count"], [{"age": "3m (x2 over 5m)", "count": "7"}])
    assert "count" not in (table_rows(PODS, ".txt") or ([], []))[0]


NIGHTLY_REPORT = """\
backup-runner 2.8.1 on storage-02: report for the night of 2026-11-29
generated 2026-11-30 06:00:02 UTC

JOB              RESULT    SIZE      NOTE
pg-orders        OK        48.6 GB
redis-sessions   OK        820 MB
search-indices   FAILED    -         repository_verification_exception: path is not accessible
gitlab           OK        27.9 GB

4 jobs: 3 OK, 1 FAILED
"""


def test_the_aligned_table_among_a_reports_paragraphs_is_the_table_and_a_dash_is_no_value() -> None:
    """monday backup-total-and-largest: a backup runner's report (a title over its table, a
    summary under it) was no table, and the planner's Python took the header's SIZE for a number;
    a failed job's ``-`` made the sizes text, so "95 MB" sorted over "48.6 GB"."""
    columns, rows = table_rows(NIGHTLY_REPORT, ".txt") or ([], [])
    assert columns == ["job", "result", "size", "note"] and [row["job"] for row in rows] == [
        "pg-orders", "redis-sessions", "search-indices", "gitlab"]
    assert rows[2]["size"] is None and rows[2]["note"].startswith("repository_verification_exception")
    assert query_rows(columns, rows, "SELECT job FROM data ORDER BY size DESC LIMIT 1") == "pg-orders"
    assert query_rows(columns, rows, "SELECT SUM(size) FROM data") == "77.300781 GB"  # (820 MB: 0.80 GB)
    # two tables as long, or none: which one a question means is not certain
    twice = NIGHTLY_REPORT + "\n" + NIGHTLY_REPORT.split("\n\n")[1]
    assert table_rows(twice, ".txt") is None
    assert table_rows("a title\n\njust words here\nand more words\n", ".txt") is None


CONSUMER_GROUPS = """
GROUP           TOPIC     PARTITION  LAG   CONSUMER-ID          HOST
orders-sink     orders.v2 0          0     sink-0-6f1e2d3c      /10.12.6.14
orders-sink     orders.v2 1          12    sink-1-c0d9e8f7      /10.12.6.15

GROUP                TOPIC           PARTITION  LAG     CONSUMER-ID     HOST
billing-ledger       billing.events  0          5400    writer-0-8e7d   /10.12.5.22
billing-ledger       billing.events  3          6020    -               -
"""


def test_aligned_tables_one_after_another_with_the_same_columns_are_one_table() -> None:
    """tuesday ledger-total-lag: ``kafka-consumer-groups.sh --describe --all-groups`` prints a
    table per group, each aligned to its own widths; read as one, its columns ran together."""
    columns, rows = table_rows(CONSUMER_GROUPS, ".txt") or ([], [])
    assert columns == ["group", "topic", "partition", "lag", "consumer_id", "host"]
    assert [(row["group"], row["partition"], row["host"]) for row in rows] == [
        ("orders-sink", "0", "/10.12.6.14"), ("orders-sink", "1", "/10.12.6.15"),
        ("billing-ledger", "0", "/10.12.5.22"), ("billing-ledger", "3", None)]
    assert query_rows(columns, rows, "SELECT SUM(lag) FROM data WHERE \"group\" = 'billing-ledger'") == 11420
    # tables of other columns, or a paragraph that is no table, are not one table
    other = CONSUMER_GROUPS.replace("PARTITION  LAG     CONSUMER-ID", "PARTITION  LAGS    CONSUMER-ID")
    assert (table_rows(other, ".txt") or ([], []))[0] != columns
    assert table_rows(CONSUMER_GROUPS + "\nTotal lag: 11432 messages\n", ".txt") != (columns, rows)


DEPLOYMENTS = json.dumps({"cluster": "prod", "deployments": [
    {"name": "api", "replicas": 4, "labels": {"tier": "web"}, "containers": [
        {"name": "api", "cpu_m": 500, "memory": "640Mi"}, {"name": "envoy", "cpu_m": 100, "memory": "128Mi"}]},
    {"name": "worker", "replicas": 6, "labels": {"tier": "batch"}, "containers": [
        {"name": "worker", "cpu_m": 1000, "memory": "1Gi"}]},
]})
RULES = """\
groups:
  - name: api
    rules:
      - alert: HighErrors
        for: 10m
        labels: {severity: page}
      - alert: SlowRequests
        for: 1h
        labels: {severity: ticket}
  - name: hosts
    rules:
      - alert: DiskFull
        for: 2m
        labels: {severity: page}
"""


def test_the_lists_a_tables_rows_hold_are_tables_of_their_own() -> None:
    """console cpu-total and mail-paging-alerts: a deployment's containers, a rule group's rules
    were dropped from the rows, and "the total CPU request across every replica" summed the
    replicas. Each inner list is a table of its own, its row's fields beside (``deployment_``);
    a nested object's fields are columns (``labels_tier``); YAML is read as JSON is."""
    columns, rows = table_rows(DEPLOYMENTS, ".json") or ([], [])
    assert columns == ["name", "replicas", "labels_tier"] and rows[1]["labels_tier"] == "batch"
    nested = nested_tables(DEPLOYMENTS, ".json")
    assert list(nested) == ["containers"]
    assert nested["containers"][0] == ["deployment_name", "deployment_replicas", "deployment_labels_tier",
                                       "name", "cpu_m", "memory"]
    sql = "SELECT SUM(deployment_replicas * cpu_m) FROM containers"
    assert query_rows(columns, rows, sql, nested) == 4 * 600 + 6 * 1000
    sql = "SELECT SUM(deployment_replicas * memory) FROM containers"  # Mi and Gi: in Mi
    assert query_rows(columns, rows, sql, nested) == 4 * 768 + 6 * 1024
    assert query_rows(columns, rows, "SELECT COUNT(*) FROM data") == 2
    # records that hold one field besides their list (a rule group's name): the list's rows are the
    # table, that field beside each (console mail-paging-alerts queried the groups with the rules' columns)
    columns, rows = table_rows(RULES, ".yaml") or ([], [])
    assert columns == ["group_name", "alert", "for", "labels_severity"] and len(rows) == 3
    assert nested_tables(RULES, ".yaml") == {}
    assert query_rows(columns, rows, "SELECT alert FROM data ORDER BY \"for\" LIMIT 1") == "DiskFull"
    assert query_rows(columns, rows, "SELECT alert FROM data WHERE labels_severity = 'page'") == [
        "HighErrors", "DiskFull"]
    assert nested_tables("groups: [unclosed", ".yml") == {} and table_rows("a: 1\n", ".yml") is None
    itself = "items:\n  - &a\n    name: x\n    self: *a\n  - name: y\n"  # an anchor holding itself
    assert (table_rows(itself, ".yml") or ([], []))[0][:2] == ["name", "self_name"]


def test_a_column_written_in_several_units_of_one_kind_is_read_in_one() -> None:
    """console mounts-over-80: df -h's sizes read with the unit gone made 1.0T less than 105M
    and 1.2M more than 1G; sizes are converted to the column's most common unit (1024 apart),
    durations too, and a column with units of two kinds, or one unit, is left as written."""
    text = "filesystem,size,used\n/dev/a,50G,31G\ntmpfs,105M,1.2M\n/dev/b,1.0T,0\n/dev/c,500G,462G\n"
    columns, rows = table_rows(text, ".csv") or ([], [])
    assert column_units(columns, rows) == {"size": "G", "used": "G"}
    assert query_rows(columns, rows, "SELECT filesystem FROM data ORDER BY size DESC LIMIT 1") == "/dev/b"
    assert query_rows(columns, rows, "SELECT size FROM data WHERE filesystem = '/dev/b'") == "1024 G"
    assert query_rows(columns, rows, "SELECT used FROM data WHERE filesystem = 'tmpfs'") == f"{round(1.2 / 1024, 6)} G"
    log = "job,took\nbackup,850ms\nsync,2s\nprune,3s\n"
    columns, rows = table_rows(log, ".csv") or ([], [])
    assert column_units(columns, rows) == {"took": "s"}
    assert query_rows(columns, rows, "SELECT job FROM data ORDER BY took LIMIT 1") == "backup"
    assert query_rows(columns, rows, "SELECT SUM(took) FROM data") == "5.85 s"
    mixed = "item,amount\na,5G\nb,3s\nc,20%\n"
    columns, rows = table_rows(mixed, ".csv") or ([], [])
    assert column_units(columns, rows) == {}
    assert column_number("105M", "G") == 105 / 1024 and column_number("2s") == 2


def test_a_duration_written_in_several_units_at_once_is_its_seconds() -> None:
    """nightly longest-run: a backup log's ``41m07s``, ``9m51s`` and ``1h53m40s`` were text, so
    the longest by ORDER BY was ``9m58s``; Go's, systemd's and kubectl's compound durations are
    their seconds (a column of them is "in s"), one unit alone stays a number with its unit."""
    assert [number(v) for v in ("1h53m40s", "41m07s", "0m48s", "3d4h", "2m 14s", "1h2m3.5s")] == [
        6820, 2467, 48, 273600, 134, 3723.5]
    assert number("5m") == 5 and number("850ms") == 850 and number("2026-11-21") is None
    log = ("ts=2026-11-22T01:00:04Z job=pg-users duration=10m02s\n"
           "ts=2026-11-22T01:30:01Z job=minio-assets duration=1h53m40s\n"
           "ts=2026-11-23T01:00:03Z job=pg-orders duration=48s\n")
    columns, rows = table_rows(log, ".log") or ([], [])
    assert column_units(columns, rows) == {"duration": "s"}
    assert query_rows(columns, rows, "SELECT job FROM data ORDER BY duration DESC LIMIT 1") == "minio-assets"
    assert query_rows(columns, rows, "SELECT SUM(duration) FROM data") == f"2h04m30s ({602 + 6820 + 48} s)"


def test_one_value_of_a_column_written_with_a_unit_is_shown_with_it() -> None:
    """nightly mail-users-total: the pg-users backups' 19.3 (GiB) was mailed as "19.3 bytes", the
    answer's own guess at a unit; one value selected of a unit's column carries the data's unit.
    A count, a ratio, a group-by and a column with no unit stay numbers."""
    log = "job,size,took,runs\npg,6.4GiB,9m51s,3\npg,6.5GiB,10m02s,4\nminio,112.0GiB,1h53m40s,1\n"
    columns, rows = table_rows(log, ".csv") or ([], [])
    assert query_rows(columns, rows, "SELECT SUM(size) AS total FROM data WHERE job = 'pg'") == "12.9 GiB"
    assert query_rows(columns, rows, 'SELECT MAX("took") FROM data') == "1h53m40s (6820 s)"  # (as written)
    assert query_rows(columns, rows, "SELECT AVG(took) FROM data WHERE job = 'pg'") == "9m56s (596.5 s)"
    assert query_rows(columns, rows, "SELECT size FROM data WHERE job = 'minio'") == "112 GiB"
    assert query_rows(columns, rows, "SELECT COUNT(*) FROM data") == 3
    assert query_rows(columns, rows, "SELECT SUM(runs) FROM data") == 8  # no unit written
    assert query_rows(columns, rows, "SELECT SUM(size) / COUNT(*) FROM data") == 41.633333
    assert query_rows(columns, rows, "SELECT job, SUM(size) FROM data GROUP BY job") == {"minio": 112, "pg": 12.9}


def test_the_numbers_of_an_answers_columns_carry_their_units() -> None:
    """nightly follow-up-longest-size: the longest job's row, ``{"job": …, "longest": 7082}``, left
    the answer to guess the unit. A value for the answer (``with_units``: no package goes on from
    it) carries each unit column's unit; a count, a ratio and a column with no unit stay numbers."""
    log = "job,size,took,runs\npg,6.4GiB,9m51s,3\npg,6.5GiB,10m02s,4\nminio,112.0GiB,1h53m40s,1\n"
    columns, rows = table_rows(log, ".csv") or ([], [])
    longest = "SELECT job, MAX(took) AS longest, runs FROM data GROUP BY job ORDER BY 2 DESC LIMIT 1"
    assert query_rows(columns, rows, longest, with_units=True) == {"job": "minio", "longest": "1h53m40s (6820 s)",
                                                                  "runs": 1}
    assert query_rows(columns, rows, longest) == {"job": "minio", "longest": 6820, "runs": 1}  # (another's input)
    assert query_rows(columns, rows, "SELECT job, SUM(size) FROM data GROUP BY job", with_units=True) == {
        "minio": "112 GiB", "pg": "12.9 GiB"}
    assert query_rows(columns, rows, "SELECT * FROM data WHERE job = 'minio'", with_units=True) == {
        "job": "minio", "size": "112 GiB", "took": "1h53m40s (6820 s)", "runs": 1}
    assert query_rows(columns, rows, "SELECT job, COUNT(*), SUM(size) / COUNT(*) FROM data GROUP BY job "
                                     "HAVING COUNT(*) > 1", with_units=True) == {
        "job": "pg", "COUNT(*)": 2, "SUM(size) / COUNT(*)": 6.45}


@pytest.mark.parametrize("text", [
    "Some notes here\nand more  text here\nthird line\n",  # prose: a header of words, but no columns
    "NAME   STATUS\napi    Running\n",  # one row: nothing to compute over
    "10  20\n30  40\n50  60\n",  # numbers in columns, no header
    "a\tb\n1\t2\n3\t4\n",  # tabs: a TSV's, by its name
])
def test_text_that_is_no_aligned_table_gives_none(text: str) -> None:
    assert table_rows(text, ".txt") is None


def test_prose_whose_first_line_has_a_wide_gap_is_no_table() -> None:
    text = "Standup  notes\nDana moved the migration to Friday because the\nreplica was still catching up.\n"
    assert table_rows(text, ".txt") is None


GIT_LOG = """\
commit 9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6
Author: Ines Duarte <ines@example.com>
Date:   Tue Nov 24 10:12:03 2026 +0000

    Fix the deadlock in the settlement worker

    It held the ledger lock across the queue read.

 worker/settle.py | 12 +++++++-----
 1 file changed, 7 insertions(+), 5 deletions(-)

commit 1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
Merge: 9f1c2d3 0b1c2d3
Author: Kofi Mensah <kofi@example.com>
Date:   Mon Nov 23 17:40:00 2026 +0000

    Merge branch 'release-4.12'
"""


def test_git_logs_output_is_a_table_of_its_commits() -> None:
    """console commits-per-author: ``git log`` saved to a file was no table."""
    columns, rows = table_rows(GIT_LOG, ".txt") or ([], [])
    assert columns == ["commit", "author", "email", "date", "message", "files_changed", "insertions", "deletions"]
    assert rows[0]["author"] == "Ines Duarte" and rows[0]["insertions"] == "7" and rows[1]["files_changed"] is None
    assert rows[0]["message"] == "Fix the deadlock in the settlement worker It held the ledger lock across the queue read."
    assert query_rows(columns, rows, "SELECT author, COUNT(*) FROM data GROUP BY author ORDER BY author") == \
        {"Ines Duarte": 1, "Kofi Mensah": 1}


SEARCH_LOG = """\
2026-11-24 07:58:02 INFO  product-search 3.8.2 listening on :8088
2026-11-24 08:00:14 INFO  GET /v1/search 200 142ms
2026-11-24 08:01:02 WARN  GET /v1/search 200 1184ms slow query q="winter boots"
2026-11-24 08:01:09 ERROR GET /v1/search 504 3007ms upstream timeout os-data-2:9200
2026-11-24 08:02:11 ERROR GET /v1/search 502 12ms connection refused os-data-3:9200
"""


def test_a_log_line_of_another_shape_leaves_the_usual_lines_their_columns() -> None:
    """morning errors-per-node: a server's start-up line before its requests made every column
    text (``field2``…), and the query grouped the errors by the path."""
    columns, rows = table_rows(SEARCH_LOG) or ([], [])
    assert columns == ["time", "level", "method", "path", "status", "duration_ms", "q", "host", "message"]
    assert rows[0] == {"time": "2026-11-24 07:58:02", "level": "INFO", "method": None, "path": None,
                       "status": None, "duration_ms": None, "q": None, "host": None,
                       "message": "product-search 3.8.2 listening on :8088"}  # (":8088" names no host)
    assert rows[2]["q"] == "winter boots" and rows[2]["message"] == "slow query"  # (a quoted field is one)
    assert query_rows(columns, rows, "SELECT message, COUNT(*) FROM data WHERE level = 'ERROR' GROUP BY message") \
        == {"connection refused os-data-3:9200": 1, "upstream timeout os-data-2:9200": 1}
    # the host:port a message names is a column of its own: errors per upstream node are a group-by
    assert query_rows(columns, rows, "SELECT host, COUNT(*) FROM data WHERE level = 'ERROR' GROUP BY host") \
        == {"os-data-2:9200": 1, "os-data-3:9200": 1}
    one = "\n".join(SEARCH_LOG.splitlines()[:4])  # one line names a host: no column for it
    assert "host" not in (table_rows(one) or ([], []))[0]
    # as many lines of another shape as of the usual one: no usual shape, every line as it is
    halves = "\n".join([*SEARCH_LOG.splitlines()[:2], "2026-11-24 08:00:20 INFO  GET /v1/suggest 200 9ms",
                        "2026-11-24 08:00:21 INFO  worker 3 started"])
    assert (table_rows(halves) or ([], []))[0][:3] == ["time", "level", "field2"]


def test_records_keyed_by_their_names_are_rows_named_by_the_maps_key() -> None:
    """morning next-cert-expiry: certificates keyed by host, read as one object, had no table."""
    certs = json.dumps({"scanned_at": "2026-11-24T06:00:00Z", "certificates": {
        "search.example.net": {"issuer": "GTS", "not_after": "2026-12-06", "owner": "oksana"},
        "os-internal.example.net": {"issuer": "Vault", "not_after": "2026-11-30", "owner": "rafael"},
        "grafana.example.net": {"issuer": "GTS", "not_after": "2027-02-15", "owner": "bettina", "key": "RSA"}}})
    columns, rows = table_rows(certs, ".json") or ([], [])
    assert columns[:4] == ["certificate", "issuer", "not_after", "owner"] and len(rows) == 3
    assert query_rows(columns, rows, "SELECT certificate FROM data ORDER BY not_after LIMIT 1") == \
        "os-internal.example.net"
    top = json.dumps({"api": {"port": 80, "replicas": 2}, "web": {"port": 443, "replicas": 3}})
    assert (table_rows(top, ".json") or ([], []))[0] == ["name", "port", "replicas"]
    # a config's sections, each with fields of its own, are no records
    config = json.dumps({"server": {"host": "0.0.0.0", "port": 8443}, "database": {"url": "pg://", "pool": 20}})
    assert table_rows(config, ".json") is None


K8S_LIST = json.dumps({"apiVersion": "v1", "kind": "List", "items": [
    {"metadata": {"name": "search", "namespace": "shop"}, "spec": {"replicas": 6, "template": {"spec": {
        "containers": [{"name": "search", "resources": {"requests": {"cpu": "500m", "memory": "768Mi"}}}]}}}},
    {"metadata": {"name": "indexer", "namespace": "shop"}, "spec": {"replicas": 2, "template": {"spec": {
        "containers": [{"name": "indexer", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}},
                       {"name": "sidecar", "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]}}}},
    {"metadata": {"name": "payout", "namespace": "pay"}, "spec": {"replicas": 3, "template": {"spec": {
        "containers": [{"name": "payout", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}}}]})


def test_a_list_of_objects_deep_in_each_row_is_a_table_with_its_rows_fields_beside() -> None:
    """morning memory-requested: a Kubernetes List's containers are at spec.template.spec.containers,
    and read with only the deployments' rows nothing held a container's memory request."""
    columns, rows = table_rows(K8S_LIST, ".json") or ([], [])
    assert columns == ["metadata_name", "metadata_namespace", "spec_replicas"]
    tables = nested_tables(K8S_LIST, ".json")
    assert list(tables) == ["containers"]
    inner_columns, inner_rows = tables["containers"]
    assert inner_columns == ["item_metadata_name", "item_metadata_namespace", "item_spec_replicas", "name",
                             "resources_requests_cpu", "resources_requests_memory"]
    assert [(r["item_metadata_name"], r["name"]) for r in inner_rows] == [
        ("search", "search"), ("indexer", "indexer"), ("indexer", "sidecar"), ("payout", "payout")]
    memory = "SELECT SUM(item_spec_replicas * resources_requests_memory) FROM containers"
    assert query_rows(columns, rows, memory, tables) == 16896  # MiB: 6×768 + 2×(4096+512) + 3×1024


def test_a_cpu_column_written_as_kubernetes_writes_it_is_in_millicores() -> None:
    """morning cpu-per-namespace: 2 (CPUs) beside 500m (thousandths) was read as 2 < 500."""
    columns, rows = table_rows(K8S_LIST, ".json") or ([], [])
    tables = nested_tables(K8S_LIST, ".json")
    inner_columns, inner_rows = tables["containers"]
    assert column_units(inner_columns, inner_rows)["resources_requests_cpu"] == "millicores"
    assert [column_number(v, "millicores") for v in ("500m", "2", "0.5")] == [500, 2000, 500]
    per_namespace = ("SELECT item_metadata_namespace, SUM(item_spec_replicas * resources_requests_cpu) AS cpu "
                     "FROM containers GROUP BY item_metadata_namespace ORDER BY 1")
    assert query_rows(columns, rows, per_namespace, tables) == {"pay": 3000, "shop": 7500}
    # "m" is minutes anywhere else: a column not named for a CPU keeps its unit's own meaning
    durations = [{"took": "5m"}, {"took": "2"}]
    assert column_units(["took"], durations) == {}


def test_a_syslogs_lines_are_rows_with_the_address_their_message_holds() -> None:
    """A syslog (auth.log, /var/log/syslog) was no table: "how many failed logins came from each
    address?" was counted by the joiner's model in its head (weekend failed-ssh-per-source)."""
    log = ("Nov 27 23:58:01 web-7 CRON[4411]: (root) CMD (run-parts /etc/cron.hourly)\n"
           "Nov 28 01:12:44 web-7 sshd[5120]: Failed password for invalid user admin from 192.0.2.10 port 5 ssh2\n"
           "Nov 28 01:12:49 web-7 sshd[5120]: Failed password for root from 192.0.2.10 port 51130 ssh2\n"
           "Nov 28 02:40:03 web-7 kernel: Out of memory: Killed process 3312 (java)\n"
           "Nov  8 03:05:10 web-7 sshd[6001]: Failed password for deploy from 198.51.100.7 port 40022 ssh2\n")
    table = table_rows(log, ".syslog")
    assert table is not None
    columns, rows = table
    assert columns == ["time", "host", "program", "pid", "message", "address"]
    assert rows[3] == {"time": "Nov 28 02:40:03", "host": "web-7", "program": "kernel", "pid": None,
                       "message": "Out of memory: Killed process 3312 (java)", "address": None}
    assert rows[4]["time"] == "Nov 8 03:05:10"
    per_address = ("SELECT address, COUNT(*) AS n FROM data WHERE program = 'sshd' "
                   "AND message LIKE 'Failed password%' GROUP BY address")
    assert query_rows(columns, rows, per_address) == {"192.0.2.10": 2, "198.51.100.7": 1}
    iso = ("2026-11-28T01:12:44+00:00 web-7 sshd[5120]: Accepted publickey for deploy from 10.0.0.5\n"
           "2026-11-28T01:13:02+00:00 web-7 systemd[1]: Started Session 12 of user deploy.\n")
    assert (table_rows(iso, ".log") or ([], []))[1][1]["program"] == "systemd"
    # a line of another shape: no syslog
    assert table_rows(log + "a line of prose\n", ".syslog") is None


def test_a_file_of_named_numbers_is_a_table_of_names_and_values() -> None:
    """/proc/meminfo and sysctl's output: a row per name, its value a number with its unit."""
    meminfo = "MemTotal:       16314520 kB\nMemFree:         1203344 kB\nMemAvailable:    4078630 kB\n" \
              "HugePages_Total:       0\n"
    columns, rows = table_rows(meminfo, ".txt") or ([], [])
    assert columns == ["name", "value"] and rows[0] == {"name": "MemTotal", "value": "16314520 kB"}
    available = ("SELECT 100.0 * (SELECT value FROM data WHERE name = 'MemAvailable') / "
                 "(SELECT value FROM data WHERE name = 'MemTotal') AS pct")
    assert query_rows(columns, rows, available) == 25.0
    assert query_rows(columns, rows, "SELECT value FROM data WHERE name = 'MemTotal'") == "16314520 kB"
    sysctl = "# kernel\nvm.swappiness = 10\nnet.core.somaxconn = 4096\nfs.file-max = 9223372036854775807\n"
    assert (table_rows(sysctl, ".conf") or ([], []))[1][1] == {"name": "net.core.somaxconn", "value": "4096"}
    # settings that are not all numbers are no such table
    assert table_rows("relayhost = [smtp.example.org]:587\nmyhostname = db-01\nmessage_size_limit = 20480000\n",
                      ".cf") is None


def test_other_logs_stay_their_own_and_journal_markers_are_no_rows() -> None:
    """A level where a syslog's host goes, or key=value fields, is a log of another shape; a
    journal's ``-- Boot … --`` line and a syslog's repeat are no events."""
    leveled = "2024-05-01T10:00:00Z INFO api: request served\n2024-05-01T10:00:02Z ERROR api: upstream down\n"
    assert "host" not in (table_rows(leveled, ".log") or ([], []))[0]
    fields = ("2024-05-01T10:00:00Z web-1 app: level=info status=200 duration=12ms\n"
              "2024-05-01T10:00:01Z web-1 app: level=error status=502 duration=30ms\n")
    assert "status" in (table_rows(fields, ".log") or ([], []))[0]
    journal = ("-- Journal begins at Mon 2026-11-23 00:00:01 UTC. --\n"
               "Nov 28 01:00:00 lb-02 systemd[1]: Starting backup.service...\n"
               "Nov 28 01:00:01 lb-02 last message repeated 3 times\n"
               "Nov 28 01:00:02 lb-02 haproxy[812]: Server be_api/api-3 is DOWN, reason: Layer4 timeout\n"
               "Nov 28 01:00:03 lb-02 systemd[1]:\n")
    columns, rows = table_rows(journal, ".log") or ([], [])
    assert columns[:3] == ["time", "host", "program"] and [r["program"] for r in rows] == ["systemd", "haproxy", "systemd"]
    assert table_rows("Nov 28 01:00:00 h sshd[1]: from 999.1.1.1\nNov 28 01:00:01 h nginx: nginx/1.2.3.4 up\n",
                      ".log") == (["time", "host", "program", "pid", "message"],
                                  [{"time": "Nov 28 01:00:00", "host": "h", "program": "sshd", "pid": "1",
                                    "message": "from 999.1.1.1"},
                                   {"time": "Nov 28 01:00:01", "host": "h", "program": "nginx", "pid": None,
                                    "message": "nginx/1.2.3.4 up"}])


def test_a_bare_count_beside_values_with_a_unit_keeps_none() -> None:
    meminfo = "MemTotal:  16314520 kB\nMemFree:  1203344 kB\nHugePages_Total:  1024\nHugePages_Free:  0\n"
    columns, rows = table_rows(meminfo, ".txt") or ([], [])
    assert query_rows(columns, rows, "SELECT value FROM data WHERE name = 'HugePages_Total'") == 1024
    assert query_rows(columns, rows, "SELECT value FROM data WHERE name = 'MemFree'") == 1203344  # (two units: none)


def test_a_logs_stack_trace_lines_continue_its_message_and_its_message_words_are_no_columns() -> None:
    """tuning errors-by-service: a stack trace's indented ``at PaymentClient.call`` made the log no
    table, and once it was one, the messages' words were columns ``field3``… of their own."""
    log = ("2026-11-22T09:38:02Z INFO api GET /v2/cart 200 41ms\n"
           "2026-11-22T09:40:11Z ERROR checkout timeout calling payments after 2000ms\n"
           "2026-11-22T09:40:15Z ERROR payments upstream provider returned 503\n"
           "2026-11-22T09:42:30Z ERROR checkout order 88412 failed: payment timeout\n"
           "    at PaymentClient.call\n"
           "2026-11-22T09:43:01Z ERROR search slow query: 1.9s for 'winter boots'\n"
           "2026-11-22T09:44:47Z ERROR payments webhook signature mismatch\n")
    columns, rows = table_rows(log, ".log") or ([], [])
    assert columns == ["time", "level", "field2", "message"]
    assert rows[3] == {"time": "2026-11-22T09:42:30Z", "level": "ERROR", "field2": "checkout",
                       "message": "order 88412 failed: payment timeout at PaymentClient.call"}
    assert query_rows(columns, rows, "SELECT field2, COUNT(*) AS n FROM data WHERE level = 'ERROR' "
                                     "GROUP BY field2 ORDER BY field2") == {"checkout": 2, "payments": 2,
                                                                             "search": 1}
    assert table_rows("    indented first\n2026-11-22T09:38:02Z INFO api up\n", ".log") is None  # no time first
