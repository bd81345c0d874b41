"""A query that names its one table by an alias (``FROM data AS T1 … T1.status``), read as one
that names it by its own name.

dagbot's checks of a query (:mod:`sandbox.query_checks`) and its in-place mends find columns by
their names as the table has them; ``T1.section = 'meetings/…md'``, a condition on the file's own
path that no row holds, went unseen four times behind its alias, and the query found nothing
(evening mail-action-owners). A query of ``data`` alone under one alias means the same without
it; a self-join (two aliases) or a query of another table is left as it is.
"""

from __future__ import annotations

import re

_READS = re.compile(r"\b(?:FROM|JOIN)\s+(?P<table>[\w\"`.]+)(?:\s+(?:AS\s+)?(?P<alias>[A-Za-z_]\w*))?",
                    re.IGNORECASE)
_NOT_ALIASES = frozenset({
    "where", "group", "order", "limit", "join", "left", "right", "inner", "outer", "cross", "full", "having",
    "union", "on", "window", "natural", "using", "except", "intersect", "as"})


def without_alias(sql: str) -> str | None:
    """``sql`` with the one alias its every read of ``data`` has dropped (``FROM data AS t`` →
    ``FROM data``, ``t.status`` → ``status``); None when it has none, reads another table, or
    reads ``data`` under two names."""
    reads = list(_READS.finditer(sql))
    if not reads or any(m["table"].strip('"`').lower() != "data" for m in reads):
        return None
    aliases = {m["alias"] for m in reads if m["alias"] and m["alias"].lower() not in _NOT_ALIASES}
    if len(aliases) != 1 or len(reads) > 1:
        return None
    (alias,) = aliases
    if alias.lower() == "data":
        return None
    read = reads[0]
    dropped = sql[:read.start()] + re.sub(rf"\s+(?:AS\s+)?{re.escape(alias)}\b", "", read[0], count=1,
                                          flags=re.IGNORECASE) + sql[read.end():]
    return re.sub(rf"(?<![\w.]){re.escape(alias)}\.(?=[\w\"`])", "", dropped)
