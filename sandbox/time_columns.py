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

from sandbox.extreme_direction import ORDER_BEFORE_LIMIT
from sandbox.table_query import Table

_ASKS_WHEN = re.compile(
    r"\bwhen\s+(?:did|does|do|was|were|is|are|will|has|had)\b|\b(?:at\s+)?what\s+(?:time|date|day|hour)\b"
    r"|\bon\s+which\s+(?:date|day)\b|\bwhat\s+(?:timestamp|moment)\b", re.IGNORECASE)
_DATED = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?")
_CLOCK = re.compile(r"\d\d:\d\d(?::\d\d(?:\.\d+)?)?")
"""A time of day alone, ``08:03:30``: a time only in a column named for one (a duration is
written so too, ``00:12:03``)."""
_TIME_NAME = re.compile(r"(?i)^(?:time|ts|timestamp|at|when|date|datetime|clock|hour)$|_(?:at|time|ts)$"
                        r"|^time_")


def asked_time_columns(table: Table, request: str) -> list[str]:
    """The time column ``request`` asks for when it asks when: the one whose every value is a
    time or a date, or, among several, those the request names; [] when it does not ask when."""
    if not _ASKS_WHEN.search(request):
        return []
    times = [column for column in table.columns if _all_times(table, column)]
    if len(times) <= 1:
        return times
    asked = request.lower().replace("_", " ")
    return [column for column in times if re.search(
        rf"(?<![\w/.-]){re.escape(_stem(column.lower().replace('_', ' ')))}\w*", asked)]


def _stem(name: str) -> str:
    """A column's name less an ending a request words otherwise ("started" for "start")."""
    return re.sub(r"(?:ed|ing|s)$", "", name) if len(name) > 5 else name


def _all_times(table: Table, column: str) -> bool:
    values = [str(row[column]).strip() for row in table.rows if row.get(column) not in (None, "")]
    return bool(values) and (all(_DATED.fullmatch(value) for value in values) or (
        bool(_TIME_NAME.search(column)) and all(_CLOCK.fullmatch(value) for value in values)))


_RECENCY = re.compile(r"\b(?:(?P<new>newest|latest|most\s+recent|last)|(?P<old>oldest|earliest|first))\b",
                      re.I)
_OTHER_EXTREME = re.compile(
    r"\b(?:highest|lowest|largest|smallest|biggest|longest|shortest|slowest|fastest|most|least|maximum|"
    r"minimum|top)\b", re.I)


def ordered_by_time(table: Table, request: str, sql: str) -> str | None:
    """``sql`` ordered by the table's one time column where the request asks for the newest or
    the oldest ("the ID of the newest snapshot", "the latest backup", "the earliest run") and the
    query orders by another column before its ``LIMIT``: newest is by time, descending (evening
    queue-and-newest-snapshot ordered the snapshots by duration and answered the longest). None
    when the request also asks another extreme ("the longest of the newest"), "last" or "first"
    name no row's time ("the last line"), the table has no one time column, or the query orders
    by it already, the way asked ("the oldest" ordered by time descending is turned round)."""
    found = _RECENCY.search(request)
    if found is None or _OTHER_EXTREME.search(request.replace(found.group(), " ")):
        return None
    if found.group().lower() in ("last", "first") and not re.search(
            rf"\b{found.group()}\s+(?:\w+\s+)?(?:run|backup|snapshot|deploy|deployment|job|build|release|"
            r"login|one|event|entry|incident|alert)s?\b", request, re.I):
        return None
    times = [column for column in table.columns if _all_times(table, column)]
    ordered = list(ORDER_BEFORE_LIMIT.finditer(sql))
    if len(times) != 1 or len(ordered) != 1:
        return None
    way, match = ("DESC" if found["new"] else "ASC"), ordered[0]
    if match["column"].strip('"`') == times[0] and (match["way"] or "ASC").upper() == way:
        return None
    return f'{sql[:match.start()]}ORDER BY "{times[0]}" {way}{sql[match.end():]}'
