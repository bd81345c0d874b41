"""A CSV read in package code by its commas when the inputs' CSV is split by something else.

A hosting bill exported where the decimal mark is a comma is split by semicolons
(``period;project;amount_eur`` … ``24,90``). Package code reads every CSV as the planner's
examples do, ``csv.DictReader(io.StringIO(text))``, whose rows then have one key holding the whole
line: ``row['owner']`` failed, and told why, the model guarded the read and answered nothing
(bench.quality weekend mail-cost-owners: no mail). :func:`with_delimiters` runs before each
attempt and gives each such call the delimiter the inputs' CSVs are split by, when they are all
split by the same one other than a comma (:func:`agent.tools.files.delimiter_of`); a call that
names its delimiter is left as written.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from agent.plan.package_code import parse_python, source_span, spliced
from agent.tools.files import delimiter_of

NAME = "csv-delimiter"
"""The mend's name, as the attempt it wrote records it."""
_READERS = frozenset({"DictReader", "reader"})


def inputs_delimiter(inputs: Mapping[str, Any]) -> str | None:
    """The one delimiter other than a comma that every CSV file the inputs read is split by;
    None when there is no such file, or they are split by commas or by different ones."""
    found = {delimiter_of(content, ".csv") for content in _csv_texts(inputs)}
    return found.pop() if len(found) == 1 and "," not in found else None


def with_delimiters(code: str, inputs: Mapping[str, Any]) -> str | None:
    """``code`` with ``delimiter=…`` given to each ``csv.DictReader(…)`` or ``csv.reader(…)``
    call that names none, when the inputs' CSVs are split by another character than a comma;
    None when there is nothing to change (or the code does not parse)."""
    delimiter = inputs_delimiter(inputs)
    if delimiter is None:
        return None
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    raw = code.encode()
    edits = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _a_csv_reader(call) and len(call.args) == 1 and not any(
                k.arg in ("delimiter", "dialect", None) for k in call.keywords):
            _, end = source_span(code, call.args[0])
            if ".replace(" in raw[source_span(code, call.args[0])[0]:end].decode():
                continue  # (the code splits the text its own way: left as it reads it)
            edits.append((end, end, f", delimiter={delimiter!r}"))
    return spliced(code, edits) if edits else None


def _a_csv_reader(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr in _READERS
            and isinstance(func.value, ast.Name) and func.value.id == "csv") or (
        isinstance(func, ast.Name) and func.id == "DictReader")


def _csv_texts(inputs: Mapping[str, Any]) -> Iterator[str]:
    for value in inputs.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping) and str(item.get("path") or "").lower().endswith(".csv") \
                    and isinstance(item.get("content"), str):
                yield item["content"]
