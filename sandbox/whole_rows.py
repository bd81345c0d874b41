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
dagbot's to find (agent/execution/address_book.py). The query keeps its conditions on the items.
"""

from __future__ import annotations

import re

WHOLE_ROWS = re.compile(r"\beach as its whole row\b", re.I)
"""The words of a goal that asks for whole rows."""
_PLAIN = re.compile(r"(?is)^\s*select\s+(?:distinct\s+)?(?P<columns>.+?)\s+from\s+data\b(?P<rest>.*)$")
_AGGREGATE = re.compile(r"(?i)\b(?:count|sum|avg|min|max|total|group_concat)\s*\(|\bgroup\s+by\b")


_JOINED = re.compile(
    r"(?is)^\s*select\s+.+?\s+from\s+data(?:\s+(?:as\s+)?(?P<alias>\w+))?\s+(?:(?:inner|left|cross)\s+)?"
    r"join\s+\w+(?:\s+(?:as\s+)?(?P<other>\w+))?(?:\s+on\s+(?P<on>.+?))?(?:\s+where\s+(?P<where>.+?))?"
    r"(?P<tail>\s+(?:order\s+by|limit)\s+.+?)?\s*$")
_CONDITION_AND = re.compile(r"(?i)\s+and\s+")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_SQL_WORDS = frozenset({"where", "join", "on", "inner", "left", "cross"})
_HELD = re.compile("\x00(\\d+)\x00")


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
    of a WHERE of ANDs that names no other alias), in its order and limit; None when the join is
    not of that shape (an OR, parentheses, a condition on ``data`` inside the ON, an order by
    the rows joined, ``data`` unaliased beside another table's columns). Literals are left as
    they are (``'open and blocked'``, ``LIKE 'T2.%'``)."""
    alias, other = joined["alias"], joined["other"]
    if not alias or not other or {alias.lower(), other.lower()} & _SQL_WORDS:
        return None
    literals: list[str] = []

    def held(match: re.Match[str]) -> str:
        literals.append(match.group())
        return f"\x00{len(literals) - 1}\x00"
    on, where, tail = (_LITERAL.sub(held, joined[part] or "") for part in ("on", "where", "tail"))
    theirs = re.compile(rf"(?i)(?<![\w.]){re.escape(other)}\.")
    ours = re.compile(rf"(?i)(?<![\w.]){re.escape(alias)}\.")
    if re.search(r"(?i)\bor\b|[()]", where + on) or theirs.search(tail) \
            or any(not theirs.search(c) for c in _CONDITION_AND.split(on) if c.strip()):
        return None  # (an OR, or a filter of data's rows in the ON, or an order by the rows joined)
    kept = [ours.sub("", condition.strip()) for condition in _CONDITION_AND.split(where)
            if condition.strip() and not theirs.search(condition)]
    query = "SELECT * FROM data" + (f" WHERE {' AND '.join(kept)}" if kept else "") + ours.sub("", tail)
    return _HELD.sub(lambda m: literals[int(m.group(1))], query)
