"""The value a query orders by, selected where the request asks how long or how much
(sandbox/extreme_direction.py ``with_ordered_value``)."""

from __future__ import annotations

from sandbox.extreme_direction import with_ordered_value
from sandbox.table_rows import query_rows

COLUMNS = ["id", "title", "created_to_resolved"]
ROWS = [{"id": 1, "title": "checkout slow", "created_to_resolved": "38m30s"},
        {"id": 2, "title": "api down", "created_to_resolved": "3m30s"}]
ASKED = "Which resolved incident took the longest to resolve, and how long did it take?"


def test_how_long_selects_the_column_the_query_orders_by() -> None:
    """weekend longest-incident: the incident right, the time left out."""
    sql = "SELECT title FROM data ORDER BY created_to_resolved DESC LIMIT 1"
    mended = with_ordered_value(COLUMNS, ASKED, sql)
    assert mended == "SELECT title, created_to_resolved FROM data ORDER BY created_to_resolved DESC LIMIT 1"
    assert query_rows(COLUMNS, ROWS, mended, with_units=True) == {
        "title": "checkout slow", "created_to_resolved": "38m30s (2310 s)"}


def test_no_how_long_the_value_selected_an_aggregate_or_no_limit_is_left_as_written() -> None:
    sql = "SELECT title FROM data ORDER BY created_to_resolved DESC LIMIT 1"
    assert with_ordered_value(COLUMNS, "Which incident took the longest to resolve?", sql) is None
    for written in ("SELECT title, created_to_resolved FROM data ORDER BY created_to_resolved DESC LIMIT 1",
                    "SELECT * FROM data ORDER BY created_to_resolved DESC LIMIT 1",
                    "SELECT title, MAX(created_to_resolved) FROM data",
                    "SELECT title FROM data ORDER BY created_to_resolved DESC",
                    "SELECT title FROM data ORDER BY title_length DESC LIMIT 1"):
        assert with_ordered_value(COLUMNS, ASKED, written) is None, written
