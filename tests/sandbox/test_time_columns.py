"""A request that asks when asks for the table's time column (morning slowest-request: the
query gave the path and the duration, and "when" had only the log's date)."""

from __future__ import annotations

import pytest

from agent.ports.sandbox import PackageJob
from bench.quality_morning import FILES
from sandbox.query_checks import query_faults
from sandbox.table_query import Table
from sandbox.table_rows import table_rows
from sandbox.time_columns import asked_time_columns, ordered_by_time

SLOWEST = "which request in logs/product-search.log was the slowest, and when did it happen?"


def table_of(path: str) -> Table:
    found = table_rows(FILES[path], "." + path.rpartition(".")[2])
    assert found is not None
    return Table(path, "." + path.rpartition(".")[2], *found)


def test_asking_when_asks_for_the_one_time_column_or_the_one_the_request_names() -> None:
    log = table_of("logs/product-search.log")
    assert asked_time_columns(log, SLOWEST) == ["time"]
    assert asked_time_columns(log, "At what time did the first 504 come back?") == ["time"]
    assert asked_time_columns(log, "which request was the slowest?") == []  # not asked when
    assert asked_time_columns(log, "count the errors when the status is 504") == []  # "when" as a condition
    invoices = table_of("finance/receivables.csv")
    dated = [c for c in invoices.columns if c in ("issued", "due")]
    assert len(dated) == 2  # two date columns: the one the request names
    assert asked_time_columns(invoices, "how much was it, and when is it due?") == ["due"]
    assert asked_time_columns(invoices, "when was INV-3107 sent?") == []  # neither named: none is guessed
    builds = Table("ci/builds.csv", ".csv", ["build", "started", "finished", "duration", "at"], [
        {"build": "b-1", "started": "2026-11-24 08:00", "finished": "2026-11-24 08:12", "duration": "00:12:03",
         "at": "08:00"}])
    assert asked_time_columns(builds, "When did build b-1 start?") == ["started"]  # a duration is no time
    assert asked_time_columns(builds, "when did it finish?") == ["finished"]
    assert asked_time_columns(builds, "When did b-1 break?") == []  # three times: none named


def test_a_query_for_the_slowest_request_that_leaves_its_time_out_is_told_to_select_it() -> None:
    job = PackageJob(thread_id="T", run_id="R", node_id="computed", goal="g", code="",
                     inputs={"log": {"path": "logs/product-search.log", "content": FILES["logs/product-search.log"]}},
                     request=SLOWEST, final=True)
    table = table_of("logs/product-search.log")
    told = "The request asks for time, which the query never uses: select it (SELECT time FROM data WHERE …)."
    assert told in query_faults(table, job, "SELECT path, MAX(duration_ms) AS ms FROM data")
    assert told not in query_faults(table, job, "SELECT path, time, MAX(duration_ms) AS ms FROM data")


SNAPSHOTS = [{"id": "a41f", "time": "2026-11-20 01:00:04", "duration": 2472},
             {"id": "0d6e", "time": "2026-11-22 04:00:00", "duration": 11889},
             {"id": "9ac1", "time": "2026-11-25 01:00:04", "duration": 2720}]


@pytest.mark.parametrize(("request_text", "sql", "ordered"), [
    # evening queue-and-newest-snapshot: the newest answered as the longest
    ("what's the ID of the newest snapshot?", "SELECT id FROM data ORDER BY duration DESC LIMIT 1",
     'SELECT id FROM data ORDER BY "time" DESC LIMIT 1'),
    ("the earliest snapshot", "SELECT id FROM data ORDER BY time DESC LIMIT 1",
     'SELECT id FROM data ORDER BY "time" ASC LIMIT 1'),
    ("the last backup's size", "SELECT id FROM data ORDER BY duration LIMIT 1",
     'SELECT id FROM data ORDER BY "time" DESC LIMIT 1'),
    ("the latest snapshot", "SELECT id FROM data ORDER BY time DESC LIMIT 1", None),  # as asked
    ("the longest of the newest snapshots", "SELECT id FROM data ORDER BY duration DESC LIMIT 1", None),
    ("show the last line", "SELECT id FROM data ORDER BY duration DESC LIMIT 1", None),  # no row's time
    ("the newest snapshot", "SELECT id FROM data WHERE duration > 100", None),  # no order to mend
])
def test_the_newest_or_the_oldest_is_ordered_by_the_tables_time(request_text: str, sql: str,
                                                               ordered: str | None) -> None:
    table = Table("inputs['s']['content']", ".txt", ["id", "time", "duration"], SNAPSHOTS)
    assert ordered_by_time(table, request_text, sql) == ordered
