"""A query's condition on a column the table lacks, whose value the read file's own name holds,
is left out (sandbox/query_checks.py ``without_file_named``): the file is that subset already."""

from __future__ import annotations

import pytest

from sandbox.query_checks import without_file_named
from sandbox.table_query import Table
from sandbox.table_rows import query_rows, table_rows

PAGES = ("page_id,service,severity,time_to_resolve\nP-1,checkout,high,00:47:12\nP-2,search,low,01:20:00\n"
         "P-3,checkout,high,02:05:40\n")


def pages(source: str = "oncall/pages-2026-11.csv") -> Table:
    columns, rows = table_rows(PAGES, ".csv") or ([], [])
    return Table("inputs['pages']['content']", ".csv", columns, rows, source)


@pytest.mark.parametrize(("sql", "mended"), [
    # monday pages-per-service: three times, told there is no month
    ("SELECT service, COUNT(*) AS total FROM data WHERE month = '2026-11' GROUP BY service",
     "SELECT service, COUNT(*) AS total FROM data GROUP BY service"),
    ("SELECT service, COUNT(*) FROM data WHERE month IN ('2026-11') GROUP BY service",
     "SELECT service, COUNT(*) FROM data GROUP BY service"),
    ("SELECT COUNT(*) FROM data WHERE severity = 'high' AND month LIKE '2026-11%'",
     "SELECT COUNT(*) FROM data WHERE severity = 'high'"),
])
def test_a_condition_on_no_column_that_the_files_name_says_is_left_out(sql: str, mended: str) -> None:
    table = pages()
    assert without_file_named(table, sql) == mended
    assert query_rows(table.columns, table.rows, mended) is not None  # it runs


@pytest.mark.parametrize("sql", [
    "SELECT service FROM data WHERE service = 'pages'",  # a column the table has: the model's own filter
    "SELECT * FROM data WHERE month IN ('2026-11', '2026-10')",  # several values: not the file's one
    "SELECT * FROM data WHERE month = '2026-12'",  # a value the file's name does not hold
])
def test_other_conditions_are_left_as_written(sql: str) -> None:
    assert without_file_named(pages(), sql) is None
    assert without_file_named(pages(source=""), "SELECT * FROM data WHERE month = '2026-11'") is None
