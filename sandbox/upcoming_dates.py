"""The soonest of what is still to come: not one that has passed.

"Put the name and expiry date of the still-valid certificate that expires soonest in
certs/certbot-certificates.txt into reports/next-expiry.txt" was queried
``… WHERE expiry_date = (SELECT MIN(expiry_date) FROM data)``: the earliest date of all, a
certificate that had expired two days before (weekend next-expiry-to-file). A request for what
is still valid, not expired, upcoming or due next, and a query that takes the earliest of a date
column (its ``MIN`` or its ``ORDER BY … LIMIT``) without comparing that column with anything,
reads only the rows whose date is still to come: ``expiry_date > datetime('now')`` in every
``FROM data``, its subqueries' too. In place: "still valid" is certain from the words.
"""

from __future__ import annotations

import re

from sandbox.flag_columns import kept_everywhere
from sandbox.table_query import Table

_UPCOMING = re.compile(
    r"\bstill[- ](?:valid|active|current|open|good)\b|\bnot\s+(?:yet\s+)?(?:expired|past)\b|\bunexpired\b"
    r"|\bupcoming\b|\bnext\s+to\s+(?:expire|run|fire|renew)\b|\b(?:expir|renew)\w*\s+(?:next|soonest|first)\b"
    r"|\bsoonest\b|\bdue\s+next\b|\bnext\s+(?:expiry|expiration|deadline|renewal)\b", re.IGNORECASE)
_DATE_FIRST = re.compile(r"\s*\d{4}-\d\d-\d\d")


def upcoming_only(table: Table, request: str, sql: str) -> str | None:
    """``sql`` reading only the rows whose date is still to come, when the request asks for what
    is still valid or next and the query takes the earliest of one date column (every value of
    it opens with a date) that it compares with nothing; None otherwise, or when the query has an
    ``OR`` (a condition added with AND would bind to one side of it) or reads the clock itself."""
    if not _UPCOMING.search(request) or re.search(r"(?i)\bOR\b|\bnow\b|\bcurrent_(?:date|timestamp)\b", sql):
        return None
    dated = [c for c in table.columns if _dates(table, c)]
    earliest = [c for c in dated if re.search(
        rf'(?i)\bMIN\s*\(\s*["`]?{re.escape(c)}["`]?\s*\)|\bORDER\s+BY\s+["`]?{re.escape(c)}["`]?(?:\s+ASC)?\s+LIMIT\b',
        sql)]
    if len(earliest) != 1:
        return None
    column = earliest[0]
    if re.search(rf'(?i)["`]?\b{re.escape(column)}\b["`]?\s*(?:[<>]=?|BETWEEN\b)', sql):
        return None
    return kept_everywhere(sql, '"{}" > datetime(\'now\')'.format(column.replace('"', '""')))


def _dates(table: Table, column: str) -> bool:
    values = [row.get(column) for row in table.rows if row.get(column) not in (None, "")]
    return bool(values) and all(isinstance(v, str) and _DATE_FIRST.match(v) for v in values)
