"""A date the request bounds, compared in the query as the request bounds it
(sandbox/date_conditions.py)."""

from __future__ import annotations

import pytest

from sandbox.date_conditions import bounded_dates, dates_as_bounded

OVERDUE = "Write the invoice numbers of everything unpaid and already past due on 2026-11-24 into reports/x.txt"


def test_the_words_before_a_date_say_which_side_of_it_is_asked() -> None:
    assert bounded_dates(OVERDUE) == {"2026-11-24": "<"}
    assert bounded_dates("renewed before 2026-11-20 and paid since 2026-11-22") == {
        "2026-11-20": "<", "2026-11-22": ">="}
    assert bounded_dates("the backups on 2026-11-22, and the logs from 2026-11-23") == {}
    assert bounded_dates("after 2026-11-22 but before 2026-11-22") == {}  # (two ways: neither)


@pytest.mark.parametrize(("request_text", "sql", "mended"), [
    # morning overdue-to-file: "past due on" the day, written as an equality (no invoice matched)
    (OVERDUE, "SELECT invoice FROM data WHERE due = '2026-11-24' AND paid = 0",
     "SELECT invoice FROM data WHERE due < '2026-11-24' AND paid = 0"),
    ("which customers renewed before 2026-11-20?", "SELECT c FROM data WHERE renewed <= '2026-11-20'",
     "SELECT c FROM data WHERE renewed < '2026-11-20'"),
    ("runs since 2026-11-22", "SELECT c FROM data WHERE ts LIKE '2026-11-22%'",
     "SELECT c FROM data WHERE ts >= '2026-11-22'"),
    # a timestamp later that day is not "after" it, and is "until" it
    ("runs after 2026-11-22", "SELECT c FROM data WHERE ts = '2026-11-22'", "SELECT c FROM data WHERE ts >= '2026-11-23'"),
    ("runs until 2026-11-30", "SELECT c FROM data WHERE ts = '2026-11-30'", "SELECT c FROM data WHERE ts < '2026-12-01'"),
])
def test_a_date_the_request_bounds_is_compared_as_it_bounds_it(request_text: str, sql: str, mended: str) -> None:
    assert dates_as_bounded(request_text, sql) == mended


@pytest.mark.parametrize(("request_text", "sql"), [
    ("how many backups ran on 2026-11-22?", "SELECT COUNT(*) FROM data WHERE ts LIKE '2026-11-22%'"),
    ("runs before 2026-11-22", "SELECT c FROM data WHERE ts < '2026-11-22'"),  # (as asked)
    ("runs before 2026-11-22", "SELECT c FROM data WHERE ts = '2026-11-22 10:00'"),  # (a time the query chose)
    ("runs before 2026-11-22", "SELECT c FROM data WHERE ts != '2026-11-22'"),
    ("runs before 2026-11-22", "SELECT c FROM data WHERE ts < '2026-11-21'"),  # (another date: not the request's)
])
def test_a_query_is_left_as_it_is_where_the_request_bounds_nothing_it_compares(request_text: str, sql: str) -> None:
    assert dates_as_bounded(request_text, sql) is None
