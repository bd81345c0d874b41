"""The shape of a data file the request names, for the planner: a CSV's columns and first row,
a JSON document's keys and lists.

A plan is written before anything is read, so a small model wrote the code of its packages from
the planner's examples instead of from the file: ``r['outcome'] == 'success'`` for a CSV whose
columns are ``result`` and ``passed`` (the percentage example's names), ``for c in data`` over a
JSON object whose list is under ``"consumers"``, and the package failed every attempt. A name on
read_file's description ("ci/builds.csv (columns …)") did not stop it. So the planner's prompt
shows, beside the request, the shape of each CSV or JSON file the request names, read when the
plan is written: the columns and the first row; the keys, with a list's first item's keys (no
counts: a plan could answer "how many?" from them without reading). Nothing else of the file is
shown (the plan still reads it with a node), and what is shown is marked as data from outside
(:mod:`agent.model.untrusted`).
"""

from __future__ import annotations

import csv
import io
import json
from itertools import islice
from typing import Any

from agent.tools.files import DELIMITERS, delimiter_of

DATA_FILES = frozenset({"csv", "tsv", "json", "jsonl", "ndjson"})
"""The files whose shape is shown: by their name's extension."""
SHAPE_CHARS = 600
"""At most this much of one file's shape is shown."""
_CELL_CHARS = 40
_COLUMNS = 30
_KEYS = 20
_DEPTH = 3


def shape_of(path: str, content: str) -> str | None:
    """:func:`_shape_of`, None for a file its parser gives up on (a quote never closed before
    csv's field limit, JSON nested deeper than Python recurses)."""
    try:
        return _shape_of(path, content)
    except (csv.Error, RecursionError):
        return None


def _shape_of(path: str, content: str) -> str | None:
    """What ``content`` (the text of the file at ``path``) looks like, in one line; None for a
    file that is neither CSV, TSV nor JSON, or that does not parse as one. A log or a text is
    not described: with a log's first line shown, bench.quality show-log ("Show me
    logs/app.log", which had passed) failed, and the dev set's log counts failed as before."""
    kind = path.rpartition(".")[2].lower()
    if f".{kind}" in DELIMITERS:
        return _clipped(_table(content, delimiter_of(content, f".{kind}")))
    if kind == "json":
        try:
            data = json.loads(content)
        except ValueError:
            return None
        return _clipped("JSON: " + _outline(data, _DEPTH))
    if kind in ("jsonl", "ndjson"):
        first = next((line for line in content.splitlines() if line.strip()), "")
        try:
            return _clipped("JSON lines, each like: " + _outline(json.loads(first), _DEPTH))
        except ValueError:
            return None
    return None


def _table(content: str, delimiter: str) -> str | None:
    rows = [row for row in islice(csv.reader(io.StringIO(content), delimiter=delimiter), 50)
            if any(cell.strip() for cell in row)]
    if not rows:
        return None
    header = [_cell(c) for c in rows[0][:_COLUMNS]]
    kind = {",": "CSV", "\t": "TSV"}.get(delimiter, f"CSV split by {delimiter!r}")
    text = f"{kind}; columns: {', '.join(header)}"
    if len(rows) > 1:
        text += f"; first row: {', '.join(_cell(c) for c in rows[1][:_COLUMNS])}"
    return text


def _outline(value: Any, depth: int) -> str:
    """``{"cluster": text, "consumers": list of {"name": text, "lag": number, …}}``: no counts (a
    plan could answer "how many?" from them without reading) and no values."""
    if isinstance(value, dict):
        if depth <= 0:
            return "{…}"
        keys = list(value)[:_KEYS]
        inner = ", ".join(f"{json.dumps(_cell(str(k)))}: {_outline(value[k], depth - 1)}" for k in keys)
        return "{" + inner + (", …" if len(value) > len(keys) else "") + "}"
    if isinstance(value, list):
        if not value:
            return "empty list"
        return f"list of {_outline(value[0], depth - 1)}" if depth > 0 else "list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else "text"


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CELL_CHARS else text[:_CELL_CHARS] + "…"


def _clipped(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= SHAPE_CHARS else text[:SHAPE_CHARS] + " …"
