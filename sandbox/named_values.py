"""A table whose every row is one named value (a metric and its value, a setting and its number).

Node exporter's metrics are such a table: ``metric``, a few labels, ``value``. "What percentage of
db-01's memory is in use?" is a ratio of two of its rows (MemAvailable over MemTotal), and the
query prompt's rule for a share, a share of rows (``SUM(CASE WHEN …) / COUNT(*)``), was copied
for it: the answer gave the share of rows that were memory metrics (evening memory-used-share).
Over such a table the query is shown how one value is read (a subquery on its name), and a
share as one value over another.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.table_query import Table

_NAME_COLUMNS = ("metric", "name", "key")
_VALUE_COLUMN = "value"
_FEWEST_NAMES = 3


def named_values(table: Table) -> tuple[str, str] | None:
    """The column that names each row's value and the column that holds it, when ``table`` is one
    of named values, as metrics and ``/proc/meminfo`` are read (sandbox/table_rows.py): a text
    column ``metric``, ``name`` or ``key``, three names at least, a number column ``value``, and
    no two rows alike in their names and labels (a list of people with an ``amount`` each, or two
    of alice's payments, is a table of rows); None otherwise."""
    types = table.types
    names = [c for c in table.columns if types.get(c) == "TEXT" and c.lower() in _NAME_COLUMNS]
    if not names or types.get(_VALUE_COLUMN) not in ("INTEGER", "REAL"):
        return None
    labels = [c for c in table.columns if c != _VALUE_COLUMN]
    keys = [tuple(str(row.get(c)) for c in labels) for row in table.rows]
    held = {str(row.get(names[0])) for row in table.rows if row.get(names[0]) not in (None, "")}
    return (names[0], _VALUE_COLUMN) if len(held) >= _FEWEST_NAMES and len(set(keys)) == len(keys) else None


def named_value_rule(table: Table, share: bool) -> str:
    """The query prompt's rule for a table of named values ("" for any other): how one value is
    read, and with ``share`` (a share is asked), a share as one value over another."""
    found = named_values(table)
    if found is None:
        return ""
    name, value = found
    one = f"(SELECT {value} FROM data WHERE {name} = '<its {name}>')"
    labels = [c for c in table.columns if c not in (name, value) and table.types.get(c) == "TEXT"]
    where = f" (and its {labels[0]}, where rows share a {name})" if labels else ""
    rule = f"- Each row is one named value: one of them is {one}{where}.\n"
    if share:
        rule += (f"- A share or a percentage of one value in another: 100.0 * {one} / {one}, "
                 "each with its own name; not a count of rows.\n")
    return rule


_DERIVED = re.compile(r"\b(?:used|in use|free|left|remaining|rest)\b", re.IGNORECASE)
"""A share of what is used or left: a difference of values first, not one value over another."""
_SHARE_WORDS = re.compile(r"\b(?:percent(?:age)?|share|fraction|proportion|ratio)\b|%", re.IGNORECASE)


def named_share(table: Table, request: str, sql: str) -> str | None:
    """The query for a share of one named value in another, when ``sql`` divides nothing: the
    request asks a percentage or a share, names exactly two of the table's names as words, and
    one of them right after "of" (the whole: "what percentage of MemTotal is MemAvailable"),
    ``ROUND(100.0 * (SELECT value … 'MemAvailable') / (SELECT value … 'MemTotal'), 2)``. Told it never used
    MemTotal, the model wrote the query for MemAvailable alone again (weekend
    mem-available-share). None otherwise."""
    found = named_values(table)
    if found is None or "/" in sql or not _SHARE_WORDS.search(request) or _DERIVED.search(request):
        return None
    name = found[0]
    held = {str(row.get(name)) for row in table.rows if row.get(name) not in (None, "")}
    said = [n for n in held if re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w-])", request)]
    if len(said) != 2:
        return None
    wholes = [n for n in said if re.search(rf"\bof\s+(?:the\s+|its\s+)?{re.escape(n)}(?![\w-])", request)]
    if len(wholes) != 1:
        return None
    whole = wholes[0]
    part = next(n for n in said if n != whole)
    return f"SELECT ROUND(100.0 * {_one(found, part)} / {_one(found, whole)}, 2) AS percent"


def _one(found: tuple[str, str], named: str) -> str:
    """The subquery that reads the value named ``named`` (``found``: the name and value columns)."""
    name, value = found
    return f"(SELECT {value} FROM data WHERE {name} = '{named.replace(chr(39), chr(39) * 2)}')"


_USED = re.compile(r"\b(?:us(?:ed|es|ing)|in\s+use|consum(?:ed|es|ing)|taken|occupied)\b", re.IGNORECASE)
_NOT_USED = re.compile(r"\b(?:free|available|avail|left|remaining|unused|spare)\b", re.IGNORECASE)
_SUBTRACTS = re.compile(r"(?<![-\w])-(?![-\d])", re.IGNORECASE)
_NAMED_BY = {"ory", "s"}
"""What a word adds to the prefix of the names it means: "memory" for ``Mem…``, "swaps"."""
_SHORTEST_PREFIX = 3


def named_difference(table: Table, request: str, sql: str) -> str | None:
    """The query for how much of a named whole is used, when ``sql`` subtracts nothing: the
    request asks what is used (in use, using, consumed) of a thing one of its words names, and
    the table holds only named values (no label beside them: which host's would be a guess), that
    thing's total and what is free of it among them, named by one prefix (``SwapTotal`` and
    ``SwapFree`` for "swap"; ``MemTotal`` and ``MemAvailable`` for "memory", available before
    free: what the kernel can give without swapping). The used is the total less the free,
    ``(SELECT value … 'SwapTotal') - (SELECT value … 'SwapFree')``: the query read one value alone
    (weekend swap-used-mib). None when the request also asks what is free, available or left, or
    a share; when the query divides, or reads a value other than that total (``Cached``); or when
    two things fit."""
    found = named_values(table)
    if found is None or set(table.columns) != set(found) or _SUBTRACTS.search(sql) or "/" in sql \
            or not _USED.search(request) or _NOT_USED.search(request) or _SHARE_WORDS.search(request):
        return None
    name = found[0]
    held = {str(row.get(name)) for row in table.rows if row.get(name) not in (None, "")}
    prose = " ".join(word for word in request.split()
                     if "/" not in word and not re.search(r"\.[A-Za-z]", word))
    words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", prose)}  # (lb-02/meminfo.txt names no thing)
    pairs = set()
    for total in held:
        prefix = total.removesuffix("Total").lower() if total.endswith("Total") else ""
        if len(prefix) < _SHORTEST_PREFIX or not any(
                w == prefix or (w.startswith(prefix) and w[len(prefix):] in _NAMED_BY) for w in words):
            continue
        stem = total.removesuffix("Total")
        free = next((f"{stem}{rest}" for rest in ("Available", "Free") if f"{stem}{rest}" in held), None)
        if free:
            pairs.add((total, free))
    if len(pairs) != 1:
        return None
    total, free = pairs.pop()
    read = {text.replace("''", "'") for text in re.findall(r"'((?:[^']|'')*)'", sql)} & held
    if read - {total}:
        return None
    return f"SELECT {_one(found, total)} - {_one(found, free)} AS used"
