"""A step whose goal asks for whole rows selects them whole.

dagbot's package that picks the items to mail about asks for "each as its whole row with every
column or field it has" (agent/engine/recipient_mails.py): who each item belongs to must come
with it. Over meeting notes whose attendees and action items are two Markdown tables (one
`data` table: an item's row has its ``owner``, an attendee's its ``name`` and ``email``), the
query selected ``name AS owner, email, action``: an item's own columns were empty, and no mail
could be addressed (evening mail-action-owners). Such a goal's plain query (no aggregate, no
``GROUP BY``) selects ``*``: the rows it keeps, whole. A join is left out too: the rewrites
of the same query joined the items to the attendees (``JOIN data AS T2 ON T1.owner = T2.name``,
"Kenji" to "Kenji Watanabe") and found nothing, four times; whose address an item's owner has is
dagbot's to find (agent/engine/address_book.py). The query keeps its conditions on the items.
"""

from __future__ import annotations

import re

WHOLE_ROWS = re.compile(r"\beach as its whole row\b", re.I)
"""The words of a goal that asks for whole rows."""
_PLAIN = re.compile(r"(?is)^\s*select\s+(?:distinct\s+)?(?P<columns>.+?)\s+from\s+data\b(?P<rest>.*)$")
_AGGREGATE = re.compile(r"(?i)\b(?:count|sum|avg|min|max|total|group_concat)\s*\(|\bgroup\s+by\b")


_JOINED = re.compile(
    r"(?is)^\s*select\s+.+?\s+from\s+data(?:\s+(?:as\s+)?(?P<alias>\w+))?\s+(?:(?:inner|left|cross)\s+)?"
    r"join\s+\w+(?:\s+(?:as\s+)?(?P<other>\w+))?(?:\s+on\s+(?P<on>.+?))?"
    r"(?:\s+where\s+(?P<where>.+?))?\s*$")
_CONDITION_AND = re.compile(r"(?i)\s+and\s+")


def whole_rows(goal: str, sql: str) -> str | None:
    """``sql`` selecting ``*`` where ``goal`` asks for whole rows and the query selects some of
    their columns with nothing computed, or joins them to other rows; None otherwise."""
    if not WHOLE_ROWS.search(goal) or _AGGREGATE.search(sql):
        return None
    if (joined := _JOINED.match(sql)) is not None:
        return _unjoined(joined)
    found = _PLAIN.match(sql)
    if found is None or found["columns"].strip() == "*":
        return None
    return f"SELECT * FROM data{found['rest']}"


def _unjoined(joined: re.Match[str]) -> str | None:
    """The rows of ``data`` a join read, whole, under the join's conditions on them alone (each
    of a WHERE of ANDs that names no other alias); None when the join is not of that shape (an
    OR, parentheses, ``data`` unaliased beside another table's columns)."""
    alias, other, where = joined["alias"], joined["other"], joined["where"] or ""
    if not alias or not other or alias.lower() in ("where", "join") or re.search(r"(?i)\bor\b|[()]", where):
        return None
    kept = []
    for condition in (c for c in _CONDITION_AND.split(where) if c.strip()):
        if re.search(rf"(?i)(?<![\w.]){re.escape(other)}\.", condition):
            continue  # (a condition on the rows joined: the join is gone)
        kept.append(re.sub(rf"(?i)(?<![\w.]){re.escape(alias)}\.", "", condition.strip()))
    return "SELECT * FROM data" + (f" WHERE {' AND '.join(kept)}" if kept else "")
