"""The values a request lists for a row, in its columns' order, are the row's values.

"Insert into the deploys table: ingest 3.2.0, deployed 2026-11-27, status failed" was written
``INSERT INTO deploys (service, version, deployed_on, status) VALUES ('3.2.0', '2026-11-27',
'failed')``: the service left out, three values for four columns (bench.quality wide
record-ingest); "Record in the deploys table that search 1.8.1 was deployed on 2026-11-23 with
status ok" as ``VALUES ('database', '1.8.1', …)``: a service nobody named in the place of the one
the request gives (tuning record-deploy, told and written again). Where an ``INSERT`` names its
columns, every value it does write is the request's, in the request's order, and the one value
it lacks (or the one nobody named) has exactly one word of the request in its place (between the
values around it, less the statement's own words: the verb, the table, its columns, "the",
"with"…), that word is the value. Anything less certain is left to the checks that tell the
repair round (agent/plan/sql_values.py); the approver sees the statement as it will run.
"""

from __future__ import annotations

import re

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise
from agent.tools.registry import Risk

_INSERT = re.compile(r"^(?P<head>\s*INSERT\s+INTO\s+(?P<table>[\w.\"`]+)\s*"
                     r"\((?P<columns>[^()]*)\)\s*VALUES\s*\()"
                     r"(?P<values>(?:\s*'(?:[^']|'')*'\s*,?)+)(?P<tail>\)\s*;?\s*)$", re.I | re.S)
_VALUE = re.compile(r"'((?:[^']|'')*)'")
_WORD = re.compile(r"[\w.@:/+-]*\w")
_FILLER = frozenset({
    "a", "an", "the", "to", "in", "into", "of", "on", "at", "for", "with", "and", "that", "this", "was",
    "were", "is", "are", "be", "been", "as", "it", "its", "by", "from", "then", "so", "which", "where",
    "when", "please", "row", "rows", "table", "entry", "new", "value", "values", "database", "sql", "record",
    "insert", "add", "log", "write", "save", "store", "put"})
"""Words of a request around a row's values that are no value: the statement's own words."""


def listed_value(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` with the one value its ``INSERT`` lacks, or names in the place of the request's,
    taken from the request; as it was otherwise."""
    request = context.request
    registry = context.registry
    if request is None or node.tool is None or node.tool not in registry or node.each is not None \
            or registry.risk_of(node.tool) is not Risk.RED:
        return node
    for arg, sql in node.args.items():
        if isinstance(sql, str) and (mended := _mended(sql, request)) is not None:
            return node.model_copy(update={"args": {**node.args, arg: mended}})
    return node


def _mended(sql: str, request: str) -> str | None:
    found = _INSERT.match(sql)
    if found is None:
        return None
    columns = [c.strip().strip('"`').lower() for c in found["columns"].split(",") if c.strip()]
    values = [v.replace("''", "'") for v in _VALUE.findall(found["values"])]
    places = [_place(request, value) for value in values]
    named = [place for place in places if place is not None]
    if named != sorted(named):
        return None  # (not in the request's order: no place says which value is which)
    if len(values) == len(columns) - 1 and len(named) == len(values):  # one value left out
        table = found["table"]
        found_words = [(at, word) for at in range(len(values) + 1)
                       if (word := _only_word(request, places, at, columns, table)) is not None]
        if len(found_words) != 1:
            return None
        at, word = found_words[0]
        return _written(found, [*values[:at], word, *values[at:]])
    unnamed = [i for i, place in enumerate(places) if place is None]
    if len(values) == len(columns) and len(unnamed) == 1:  # one value nobody named
        at = unnamed[0]
        word = _only_word(request, [*places[:at], *places[at + 1:]], at, columns, found["table"])
        return None if word is None else _written(found, [*values[:at], word, *values[at + 1:]])
    return None


def _place(request: str, value: str) -> int | None:
    match = re.search(rf"(?<![\w.-]){re.escape(value)}(?![\w-]|\.\w)", request, re.I)
    return match.start() if match else None


def _only_word(request: str, places: list[int | None], missing: int, columns: list[str],
               table: str) -> str | None:
    """The one word of the request between the value before ``missing`` and the one after it
    (its start, its end), that is no filler, no column's or the table's name; None if not one."""
    start = 0 if missing == 0 else _end(request, places[missing - 1])
    end = len(request) if missing >= len(places) else places[missing]
    if start is None or end is None:
        return None
    names = {*columns, table.strip('"`').lower().rsplit(".", 1)[-1]}
    words = [(m.start(), m.group(0)) for m in _WORD.finditer(request[start:end])]
    kept = [(at, word) for at, word in words if word.lower() not in _FILLER and word.lower() not in names
            and word.lower().rstrip("s") not in names and not any(c.startswith(word.lower()) for c in names)]
    return kept[0][1] if len(kept) == 1 else None


def _end(request: str, place: int | None) -> int | None:
    if place is None:
        return None
    match = _WORD.match(request, place)
    return match.end() if match else None


def _written(found: re.Match[str], values: list[str]) -> str:
    listed = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"{found['head']}{listed}{found['tail']}"


LISTED_VALUES = Mend(
    name="listed-values", fix=node_wise(listed_value), partial_safe=False,  # the request
    slip="a row's value the request lists was left out of the statement, or another put in its place; "
         "it was taken from the request (the approver sees the statement)")
