"""A count, a total or an average the request asks for per something is one per group: a query
that gives one value for the whole table is told to group.

"Count the ERROR lines per upstream node in logs/product-search.log" was queried
``SELECT COUNT(*) AS total FROM data WHERE level = 'ERROR'``: one number, 4, and the answer said
"4 ERROR lines per upstream node" (morning errors-per-node). The request's "per X", "for each
X", "each X" ask for a value of each X; an aggregate with no ``GROUP BY`` gives one. A rate
("per second", "per cent") is no group.
"""

from __future__ import annotations

import re

from sandbox.table_query import Table

_STOP = (r"(?:in|from|of|and|or|with|for|over|across|into|to|on|at|the|a|an|as|by|is|are|has|have|had|"
         r"does|do|did)")
_RATE = r"(?:cent|centage|second|sec|minute|min|hour|request|call|[kmgt]i?b|byte|unit)s?\b"
_VERBS = r"(?:get|gets|got|had|has|have|is|are|was|were|be|being|run|runs|ran|take|takes|took|use|uses|used)"
_PER = re.compile(
    rf"(?:(?<!\bas\s)\b(?:per|for\s+each|for\s+every|by\s+each)\s+(?!{_RATE})"
    rf"|(?<!for\s)\beach\s+(?!(?:of|one|other|time)\b))"
    rf"(?!(?:{_STOP}|{_VERBS})\b)(?P<words>[a-z][\w-]*(?:\s+(?!(?:{_STOP}|{_VERBS})\b)[a-z][\w-]*)?)",
    re.IGNORECASE)
_AGGREGATE = re.compile(r"(?i)\b(?:COUNT|SUM|AVG|TOTAL|MIN|MAX)\s*\(")
_GROUPED = re.compile(r"(?i)\bGROUP\s+BY\b|\bOVER\s*\(")
_MACHINES = frozenset({"node", "host", "server", "upstream", "backend", "instance", "machine", "replica"})
"""What a ``host`` column names, in a request's words ("per upstream node")."""
_PER_DISTINCT = re.compile(r"(?i)/\s*(?:CAST\s*\(\s*)?COUNT\s*\(\s*DISTINCT\b")


def ungrouped_per(table: Table, request: str, sql: str) -> str | None:
    """What ``request`` asks a value per (``upstream node``), when ``sql`` aggregates with no
    ``GROUP BY``; None otherwise, or when the request names a value of that column (one group
    asked for: "the ERROR lines of each node named os-data-2" is one count)."""
    found = _PER.search(request)
    if found is None or not _AGGREGATE.search(sql) or _GROUPED.search(sql) or _PER_DISTINCT.search(sql):
        return None  # (COUNT(DISTINCT path) below a count: an average per path, one value)
    words = found["words"].lower().split()
    if words[0].rstrip("s") in {c.lower().rstrip("s") for c in table.columns}:
        words = words[:1]  # ("each path get": the column's name is the group)
    asked = " ".join(words)
    return None if asked.rstrip("s") in _values(table) else asked


def _values(table: Table) -> set[str]:
    return {str(row[c]).lower() for row in table.rows for c in table.columns if row.get(c) not in (None, "")}


def per_group_fault(table: Table, words: str) -> str:
    """What the query writer is told: group by the column that names each of ``words``."""
    last = words.split()[-1]
    named = [c for c in table.columns if c.lower().rstrip("s") in {last.rstrip("s"), words.replace(" ", "_")}]
    if not named and last.rstrip("s") in _MACHINES and "host" in table.columns:
        named = ["host"]  # (the host:port a log line names: sandbox.table_rows)
    column = named[0] if named else "<the column that names it>"
    return (f"The request asks for it per {words}, and the query gives one value for the whole table: select "
            f"the column that names each {last} beside the aggregate and group by it (SELECT {column}, "
            f"COUNT(*) FROM data WHERE … GROUP BY {column}); the columns are {', '.join(table.columns)}.")
