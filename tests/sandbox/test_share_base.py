"""A share of rows by a column's values is over the rows that have a value there (morning
5xx-share: a log's start-up line counted as a request)."""

from __future__ import annotations

import sqlite3
from typing import Any

from bench.quality_morning import FILES
from sandbox.share_base import share_of_valued_rows
from sandbox.table_query import Table
from sandbox.table_rows import number, table_rows

FIVE_XX = ("SELECT 100.0 * SUM(CASE WHEN status BETWEEN 500 AND 599 THEN 1 ELSE 0 END) / COUNT(*) AS total "
           "FROM data")


def log_table() -> Table:
    found = table_rows(FILES["logs/product-search.log"], ".log")
    assert found is not None
    columns, rows = found
    return Table("log", ".log", columns, rows)


def ran(table: Table, sql: str) -> Any:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE data ({', '.join(repr(c) for c in table.columns)})")
    for row in table.rows:
        values = [number(row.get(c)) if number(row.get(c)) is not None else row.get(c) for c in table.columns]
        db.execute(f"INSERT INTO data VALUES ({', '.join('?' for _ in table.columns)})", values)
    return db.execute(sql).fetchone()[0]


def test_a_share_by_status_counts_only_the_rows_that_have_a_status() -> None:
    table = log_table()
    assert table.rows[0]["status"] is None  # the start-up line: a row, and no request
    assert round(ran(table, FIVE_XX), 1) == 28.6  # 4 of 14 lines: the start-up line counted
    mended = share_of_valued_rows(table, FIVE_XX)
    assert mended == FIVE_XX.replace("COUNT(*)", 'COUNT("status")')
    assert round(ran(table, str(mended)), 1) == 30.8  # 4 of the 13 requests
    cast = FIVE_XX.replace("/ COUNT(*)", "/ CAST(COUNT(*) AS REAL)")
    assert share_of_valued_rows(table, cast) == cast.replace("COUNT(*)", 'COUNT("status")')


def test_a_share_over_a_column_every_row_has_or_rows_narrowed_by_it_is_left_as_it_is() -> None:
    table = log_table()
    errors = "SELECT 100.0 * SUM(CASE WHEN level = 'ERROR' THEN 1 ELSE 0 END) / COUNT(*) FROM data"
    assert share_of_valued_rows(table, errors) is None  # every line has a level
    for condition in ("status IS NULL", "status IS NOT NULL", "COALESCE(status, 0) >= 500"):
        tested = FIVE_XX.replace("status BETWEEN 500 AND 599", condition)
        assert share_of_valued_rows(table, tested) is None, condition  # the missing values are asked about
    narrowed = FIVE_XX + " WHERE status IS NOT NULL"
    assert share_of_valued_rows(table, narrowed) is None
    two = ("SELECT 100.0 * SUM(CASE WHEN status >= 500 AND level = 'ERROR' THEN 1 ELSE 0 END) / COUNT(*) "
           "FROM data")
    assert share_of_valued_rows(table, two) is None  # two columns read: which rows count is unclear
    assert share_of_valued_rows(table, "SELECT COUNT(*) FROM data WHERE status >= 500") is None
    # a column most rows leave empty (the rest of a line): its empty rows are rows all the same
    mentions = "SELECT 100.0 * SUM(CASE WHEN message LIKE '%status%' THEN 1 ELSE 0 END) / COUNT(*) FROM data"
    assert share_of_valued_rows(table, mentions) is None
    # a column named inside a string literal is no column read
    quoted = "SELECT 100.0 * SUM(CASE WHEN status LIKE '5%method' THEN 1 ELSE 0 END) / COUNT(*) FROM data"
    assert share_of_valued_rows(table, quoted) == quoted.replace("COUNT(*)", 'COUNT("status")')
