"""The most or the least a request asks for, kept the way it asks.

"What was the slowest statement in logs/postgresql-2026-11-26.log, and how long did it take?"
was queried ``SELECT MIN(duration_ms) … ORDER BY … ASC``, twice: the fastest statement, answered
as the slowest (evening slowest-statement). A request that asks for one extreme ("slowest",
"longest", "biggest", "most"; "fastest", "shortest", "smallest", "least") and a query that takes
the other by its one ``MIN``/``MAX`` or its one ``ORDER BY … LIMIT`` is turned round in place: the
direction is certain from the words, so no model is asked.
"""

from __future__ import annotations

import re

from sandbox.table_rows import SELECT_LIST, select_items

_HIGH = ("slowest", "longest", "largest", "biggest", "highest", "heaviest", "costliest", "maximum", "most")
_LOW = ("fastest", "shortest", "smallest", "lowest", "lightest", "cheapest", "minimum", "least", "fewest")
_WORDS = re.compile(r"\b(?:" + "|".join((*_HIGH, *_LOW)) + r")\b", re.I)
_AGGREGATE = re.compile(r"\b(MIN|MAX)\s*\(", re.I)
ORDER_BEFORE_LIMIT = re.compile(r"\bORDER\s+BY\s+(?P<column>[\"`]?[A-Za-z_]\w*[\"`]?)"
                                r"(?:\s+(?P<way>ASC|DESC))?"
                                r"(?=\s+LIMIT\b)", re.I)
"""A query's one ordering before its ``LIMIT``: its column and its way (ASC when none is written)."""


def asked_extreme(request: str) -> str | None:
    """``"MAX"`` or ``"MIN"``: the one extreme the request's words ask for; None for none, or
    both ("the biggest and the smallest")."""
    said = re.sub(r"\bat\s+(?:most|least)\b", " ", request, flags=re.I)  # (a bound, not an extreme)
    found = {("MAX" if word.lower() in _HIGH else "MIN") for word in _WORDS.findall(said)}
    return found.pop() if len(found) == 1 else None


def extreme_as_asked(request: str, sql: str) -> str | None:
    """``sql`` with its one ``MIN``/``MAX``, or its one ``ORDER BY … LIMIT``, the way the request
    asks (:func:`asked_extreme`); None when it is so already, or has neither or more than one."""
    wanted = asked_extreme(request)
    if wanted is None:
        return None
    aggregates, orders = list(_AGGREGATE.finditer(sql)), list(ORDER_BEFORE_LIMIT.finditer(sql))
    if len(aggregates) == 1 and not orders:
        found = aggregates[0]
        if found.group(1).upper() == wanted:
            return None
        return f"{sql[:found.start(1)]}{wanted}{sql[found.end(1):]}"
    if len(orders) == 1 and not aggregates:
        found = orders[0]
        way = "DESC" if wanted == "MAX" else "ASC"
        if (found["way"] or "ASC").upper() == way:
            return None
        return f"{sql[:found.start()]}ORDER BY {found['column']} {way}{sql[found.end():]}"
    return None


_HOW_MUCH = re.compile(
    r"\bhow\s+(?:long|much|big|large|many|old|fast|slow|far|often|heavy|expensive|high|low)\b", re.I)


def with_ordered_value(table_columns: list[str], request: str, sql: str) -> str | None:
    """``sql`` selecting, beside what it selects, the column its one ``ORDER BY … LIMIT`` orders
    by, where the request asks how long (how much, how big…) and the query selects neither it nor
    any aggregate: "which resolved incident took the longest to resolve, and how long did it
    take?" was queried ``SELECT title … ORDER BY created_to_resolved DESC LIMIT 1``, the incident
    right and the time left out (weekend longest-incident). None otherwise, or when the
    ordering is no column of the table."""
    orders = list(ORDER_BEFORE_LIMIT.finditer(sql))
    found = SELECT_LIST.match(sql)
    if len(orders) != 1 or found is None or not _HOW_MUCH.search(request) or _AGGREGATE.search(sql) \
            or re.search(r"(?i)\b(?:sum|count|avg|total|group_concat)\s*\(|\bgroup\s+by\b", sql):
        return None
    column = orders[0]["column"].strip('"`')
    items = [item.strip().strip('"`').lower() for item in select_items(found["columns"])]
    if column not in table_columns or "*" in items or any(
            item == column.lower() or item.split()[0].strip('"`') == column.lower() for item in items):
        return None
    quoted = column if re.fullmatch(r"[A-Za-z_]\w*", column) else '"{}"'.format(column.replace('"', '""'))
    return f"{sql[:found.end('columns')]}, {quoted}{sql[found.end('columns'):]}"
