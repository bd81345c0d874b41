"""A share of rows by a column's values is a share of the rows that have a value there: a mend
in place, from the table and the query alone.

A log of requests can hold lines of another shape (a server's start-up line,
``INFO product-search 3.8.2 listening on :8088``): dagbot's table keeps them as rows, with no
``status``, no ``path``. "What % of the requests came back with a 5xx?" was written
``SUM(CASE WHEN status BETWEEN 500 AND 599 THEN 1 ELSE 0 END) / COUNT(*)``: the start-up line
counted as a request, 28.6% for 30.8% (morning 5xx-share). Where the share's condition reads one
column, a few rows (one in four at most: lines of another shape) have no value in it and the
query does not narrow its rows by that column, the count below the share counts that column's
values (``COUNT(status)``), as SQL's own ``COUNT(column)`` does: a row with no status is no
request. A share over a column every row has a value in (a level, a team), or one whose
condition asks about the missing values themselves (``IS NULL``, ``COALESCE``), is left as it is.
"""

from __future__ import annotations

import re

from sandbox.query_checks import SHARE_OF, WHERE_CLAUSE, queried_table
from sandbox.table_query import Table

_NULL_TESTED = re.compile(r"(?i)\bIS\s+(?:NOT\s+)?NULL\b|\b(?:COALESCE|IFNULL|NULLIF)\s*\(")
_COUNT_ALL = re.compile(r"(?i)COUNT\s*\(\s*\*\s*\)")


def share_of_valued_rows(table: Table, sql: str) -> str | None:
    """``sql`` with its share's ``COUNT(*)`` counting the one column its condition reads, when
    some rows have no value in that column and the query's WHERE does not read it; None when
    it has no such share."""
    found = SHARE_OF.search(sql)
    if found is None or found["amount"] != "1":
        return None  # (a share of an amount: mended_share's)
    if _NULL_TESTED.search(found["condition"]):
        return None  # (a condition on the missing values themselves counts them: every row is asked)
    table = queried_table(table, sql)
    read = [column for column in table.columns if _reads(found["condition"], column)]
    if len(read) != 1:
        return None
    [column] = read
    valued = [row.get(column) not in (None, "") for row in table.rows]
    if all(valued) or 4 * valued.count(False) > len(valued):
        return None  # (a column most rows leave empty, a message: an empty one is no row of another kind)
    where = WHERE_CLAUSE.search(sql[found.end():]) or WHERE_CLAUSE.search(sql)
    if where is not None and _reads(where["clause"], column):
        return None  # (its rows are narrowed by that column already: a row with none is not kept)
    quoted = '"' + column.replace('"', '""') + '"'
    over = _COUNT_ALL.sub(f"COUNT({quoted})", found["over"], count=1)
    return sql[:found.start("over")] + over + sql[found.end("over"):]


def _reads(text: str, column: str) -> bool:
    """Whether ``text`` (a condition) names ``column``, bare or quoted, outside its string literals."""
    code = re.sub(r"'(?:[^']|'')*'", "''", text)
    return re.search(rf"""(?<![\w."`]){re.escape(column)}(?![\w"`])|["`]{re.escape(column)}["`]""", code,
                     re.IGNORECASE) is not None
