"""A step whose goal asks for whole rows selects them whole.

dagbot's package that picks the items to mail about asks for "each as its whole row with every
column or field it has" (agent/engine/recipient_mails.py): who each item belongs to must come
with it. Over meeting notes whose attendees and action items are two Markdown tables (one
`data` table: an item's row has its ``owner``, an attendee's its ``name`` and ``email``), the
query selected ``name AS owner, email, action``: an item's own columns were empty, and no mail
could be addressed (evening mail-action-owners). Such a goal's plain query (no aggregate, no
``GROUP BY``) selects ``*``: the rows it keeps, whole.
"""

from __future__ import annotations

import re

WHOLE_ROWS = re.compile(r"\beach as its whole row\b", re.I)
"""The words of a goal that asks for whole rows."""
_PLAIN = re.compile(r"(?is)^\s*select\s+(?:distinct\s+)?(?P<columns>.+?)\s+from\s+data\b(?P<rest>.*)$")
_AGGREGATE = re.compile(r"(?i)\b(?:count|sum|avg|min|max|total|group_concat)\s*\(|\bgroup\s+by\b")


def whole_rows(goal: str, sql: str) -> str | None:
    """``sql`` selecting ``*`` where ``goal`` asks for whole rows and the query selects some of
    their columns with nothing computed; None otherwise."""
    if not WHOLE_ROWS.search(goal) or _AGGREGATE.search(sql):
        return None
    found = _PLAIN.match(sql)
    if found is None or found["columns"].strip() == "*":
        return None
    return f"SELECT * FROM data{found['rest']}"
