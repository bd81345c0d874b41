""""Has any …?" asks which, as well as whether.

"Has any certificate in certs/certbot-certificates.txt already expired?" was queried
``SELECT COUNT(*) FROM data WHERE expiry_date < CURRENT_DATE``, and the answer said "one": right,
and of no use to the person who must renew it (weekend expired-cert). A question whether any row
is so ("has any", "are there any", "did any") is answered with the rows that are: the count
stays (it says "no" when there are none, which a list of no rows would not), and the rows'
names come beside it, from the column that names each row.
"""

from __future__ import annotations

import re

from sandbox.table_query import Table

_ANY = re.compile(
    r"\b(?:has|have|had|is|are|was|were|did|does|do)\s+(?:there\s+)?any\b|\b(?:is|are|was|were)\s+there\s+"
    r"(?:an?|some)\b|\bany\s+of\s+(?:them|these|those|the)\b", re.IGNORECASE)
_HOW_MANY = re.compile(r"\b(?:how\s+many|number\s+of|count)\b", re.IGNORECASE)
_COUNTED = re.compile(
    r"(?is)^\s*select\s+count\s*\(\s*\*\s*\)(?:\s+as\s+(?P<alias>\w+))?\s+from\s+data\b(?P<rest>\s+where\b"
    r"(?!.*\bgroup\s+by\b).*)$")


def row_naming_columns(table: Table) -> list[str]:
    """The text columns whose every value is its row's own (a text on every row, none on two:
    a certificate's name, a ticket's key), in the table's order."""

    def own(column: str) -> bool:
        texts = [row.get(column) for row in table.rows]
        return table.types.get(column) == "TEXT" and all(isinstance(t, str) and t.strip() for t in texts) \
            and len(set(texts)) == len(texts)

    return [c for c in table.columns if own(c)] if len(table.rows) >= 2 else []


_NAME_WORDS = re.compile(
    r"(?i)(?:^|_)(?:name|id|key|host|hostname|title|domain|server|service|user|email)s?$")
_NOT_A_NAME = re.compile(r"\d{4}-\d\d-\d\d|\d\d:\d\d|^\s*[-+$€£]?[\d.,]+\s*\S{0,3}\s*$")
"""A date, a time or a number: what stamps or measures a row, not what names it."""
MOST_NAMED = 20
"""Rows named beside a count at most: past it, the count alone."""


def naming_column(table: Table) -> str | None:
    """The column that names each row for a person: of :func:`row_naming_columns`, those that hold
    no dates, times or numbers; the table's first column when it is one (``certificate_name``),
    else one named for a name (``host``, ``id``), else the first."""
    naming = [c for c in row_naming_columns(table)
              if not any(_NOT_A_NAME.search(str(row.get(c))) for row in table.rows)]
    if not naming:
        return None
    return naming[0] if naming[0] == table.columns[0] else next(
        (c for c in naming if _NAME_WORDS.search(c)), naming[0])


def named_beside_count(table: Table, request: str, sql: str) -> str | None:
    """``sql``, a count of the rows where a condition holds, with the names of those rows beside
    it (twenty at most), ``SELECT COUNT(*) AS "n", CASE WHEN COUNT(*) <= 20 THEN
    GROUP_CONCAT("certificate_name", ', ') END AS "certificate_name" FROM data WHERE …``, when the
    request asks whether any row is so and not how many. None otherwise, or when no column names
    each row."""
    found = _COUNTED.match(sql)
    if found is None or not _ANY.search(request) or _HOW_MANY.search(request):
        return None
    name = naming_column(table)
    if name is None:
        return None
    alias = found["alias"] or "count"
    label = name if name.lower() != alias.lower() else f"{name}s"
    return (f'SELECT COUNT(*) AS {_quoted(alias)}, CASE WHEN COUNT(*) <= {MOST_NAMED} THEN '
            f"GROUP_CONCAT({_quoted(name)}, ', ') END AS {_quoted(label)} FROM data{found['rest']}")


def _quoted(name: str) -> str:
    return '"{}"'.format(name.replace('"', '""'))
