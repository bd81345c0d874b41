"""A value the request asks for per something is one per group (morning errors-per-node: one
count for the whole log, answered "4 ERROR lines per upstream node")."""

from __future__ import annotations

import pytest

from agent.ports.sandbox import PackageJob
from bench.quality_morning import FILES
from sandbox.per_groups import ungrouped_per
from sandbox.query_checks import query_faults
from sandbox.table_query import Table
from sandbox.table_rows import table_rows

ONE_COUNT = "SELECT COUNT(*) AS total FROM data WHERE level = 'ERROR'"


def log_table() -> Table:
    found = table_rows(FILES["logs/product-search.log"], ".log")
    assert found is not None
    return Table("logs/product-search.log", ".log", *found)


@pytest.mark.parametrize(("request_text", "asked"), [
    ("count the ERROR lines per upstream node in logs/product-search.log", "upstream node"),
    ("What's the average latency for each path?", "path"),
    ("how many requests did each path get", "path"),
    ("sum the durations per level, from the log", "level"),
    ("How many requests per second did we serve?", None),      # a rate, not a group
    ("What percent of the requests failed?", None),
    ("email each of the owners", None),
    ("How many ERROR lines are there?", None),
    ("count the requests per path for /v1/search", "path"),    # (a value of path, not of "path")
    ("how many lines per level ERROR", "level"),
    ("As per the runbook, how many ERROR lines are there?", None),
    ("how many ERROR lines does each have?", None),
    ("count the 504s; each is a failure", None),
    ("what does storage cost per GB?", None),
])
def test_per_each_and_for_each_ask_for_a_group(request_text: str, asked: str | None) -> None:
    assert ungrouped_per(log_table(), request_text, ONE_COUNT) == asked


def test_a_grouped_query_or_one_with_no_aggregate_or_a_named_group_is_not_told() -> None:
    table = log_table()
    asked = "count the ERROR lines per upstream node"
    assert ungrouped_per(table, asked, ONE_COUNT + " GROUP BY message") is None
    assert ungrouped_per(table, asked, "SELECT message FROM data WHERE level = 'ERROR'") is None
    assert ungrouped_per(table, "count the lines for each GET", ONE_COUNT) is None  # a value: one group
    average = "SELECT COUNT(*) * 1.0 / COUNT(DISTINCT path) FROM data"  # an average per path: one value
    assert ungrouped_per(table, "the average number of requests per path", average) is None


def test_the_query_writer_is_told_to_group_by_the_column_that_names_each() -> None:
    request = "count the ERROR lines per upstream node in logs/product-search.log"
    job = PackageJob(thread_id="T", run_id="R", node_id="computed", goal="g", code="",
                     inputs={"log": {"path": "logs/product-search.log", "content": FILES["logs/product-search.log"]}},
                     request=request, final=True)
    [told] = [f for f in query_faults(log_table(), job, ONE_COUNT) if "per upstream node" in f]
    assert told.startswith("The request asks for it per upstream node, and the query gives one value for the "
                           "whole table: select the column that names each node beside the aggregate")
    assert "GROUP BY host); the columns are time, level, method, path, status, duration_ms, q, host, message" in told
    path_job = PackageJob(thread_id="T", run_id="R", node_id="computed", goal="g", code="",
                          inputs=job.inputs, request="average duration per path", final=True)
    [by_path] = [f for f in query_faults(log_table(), path_job, "SELECT AVG(duration_ms) FROM data")
                 if "per path" in f]
    assert "(SELECT path, COUNT(*) FROM data WHERE … GROUP BY path)" in by_path
    assert not [f for f in query_faults(log_table(), job, ONE_COUNT + " GROUP BY message") if "per upstream" in f]
