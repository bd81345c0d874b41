""""When did it happen?" asks for the table's time: the column a query must select for it.

"Which request in logs/product-search.log was the slowest, and when did it happen?" was queried
``SELECT path, MAX(duration_ms) AS ms FROM data``: the answer gave the path and the duration,
and for "when" only the log's date, which the file's name and every line share (morning
slowest-request). A request that asks when (``when did``, ``what time``, ``on what date``…)
asks for the value of the table's time column: the one column whose values are all times or
dates, or among several, the one the request names. The query is told to select it
(:func:`sandbox.query_checks.unselected_columns`).
"""

from __future__ import annotations

import re

from sandbox.table_query import Table

_ASKS_WHEN = re.compile(
    r"\bwhen\s+(?:did|does|do|was|were|is|are|will|has|had)\b|\b(?:at\s+)?what\s+(?:time|date|day|hour)\b"
    r"|\bon\s+which\s+(?:date|day)\b|\bwhat\s+(?:timestamp|moment)\b", re.IGNORECASE)
_TIME_VALUE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
                         r"|\d\d:\d\d(?::\d\d(?:\.\d+)?)?")


def asked_time_columns(table: Table, request: str) -> list[str]:
    """The time column ``request`` asks for when it asks when: the one whose every value is a
    time or a date, or, among several, those the request names; [] when it does not ask when."""
    if not _ASKS_WHEN.search(request):
        return []
    times = [column for column in table.columns if _all_times(table, column)]
    if len(times) <= 1:
        return times
    asked = request.lower().replace("_", " ")
    return [column for column in times
            if re.search(rf"(?<![\w/.-]){re.escape(column.lower().replace('_', ' '))}\b", asked)]


def _all_times(table: Table, column: str) -> bool:
    values = [str(row[column]).strip() for row in table.rows if row.get(column) not in (None, "")]
    return bool(values) and all(_TIME_VALUE.fullmatch(value) for value in values)
