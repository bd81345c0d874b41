"""The rows of a read table that the request names, and the one value it asks of them.

Asked "Who is the secondary in week 2026-W50 in ops/rotation.yaml?", a small joiner shown the
YAML answered keiko, that week's primary, read off the line after the week's (wide
w50-and-bounce): a value the file holds, so no check of values against results can see it. A
request that names a row by one of its values (``2026-W50``, ``web-2``, ``N-201``) and a column
of it (``secondary``) asks for one cell, and dagbot can read it off the parsed file itself: the
joiner is shown that row and that cell beside the results (:func:`named_rows_section`), and an
answer that states another cell of the row and not the one asked is a misread
(:func:`misread_cells`).

Tables are what a ``read_file`` read whole: a YAML or JSON document's lists of objects (at any
depth), JSON Lines, CSV and TSV. A value names a row only when it is written out in the request
as a word of its own and names few of the table's rows (at most :data:`_MOST_ROWS`, and fewer
than half): "failed" in "which backups failed?" is a filter's, not a row's name.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from agent.tools.files import delimiter_of

Results = Mapping[str, Mapping[str, Any]]
_NUMBERS = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w-]|\.\d)")
_MOST_ROWS = 3
_MIN_ROWS = 3
"""A table of fewer rows is read at a glance: nothing to point at."""
_STEMMED = 6
"""A one-word column of this many letters or more is named by a word of its stem too (its letters
but its last two): ``assignee`` by "assigned", ``services`` by "service"."""
_MOST_CHARS = 200_000
"""A longer read is not parsed again for the joiner's prompt."""


@dataclass(frozen=True)
class NamedRow:
    """A row of a table a step read, named in the request by one of its values."""

    path: str
    table: str
    """Where the rows are in the file (``weeks``; "" for the file's top or a CSV)."""
    row: Mapping[str, Any]
    named_by: str
    """The column whose value the request names."""
    table_rows: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)
    """Every row of its table, the row itself among them (:func:`misread_cells` reads the asked
    column's values in the others)."""

    def line(self) -> str:
        where = f"{self.path} ({self.table})" if self.table else self.path
        cells = ", ".join(f"{key}: {cell_text(value)}" for key, value in self.row.items())
        return f"- {where}: {cells}"


@dataclass(frozen=True)
class AskedCell:
    """The one cell a request asks of the one row it names: ``row[column]``."""

    named: NamedRow
    column: str

    @property
    def value(self) -> str:
        return cell_text(self.named.row[self.column])

    def line(self) -> str:
        key = self.named.named_by
        return (f"- In {self.named.path}, the {self.column} of the row whose {key} is "
                f"{cell_text(self.named.row[key])} is {self.value}.")


def named_rows(request: str, plan: Mapping[str, Any], results: Results) -> list[NamedRow]:
    """The rows of the tables the plan's steps read whole that ``request`` names by a value: of
    a table's rows it names, those it names the most values of ("the orders backup b-104": b-104,
    not every backup of orders)."""
    words = request.lower()
    found: list[NamedRow] = []
    for path, content in reads(plan, results):
        for table, rows in _tables(path, content):
            if len(rows) < _MIN_ROWS:
                continue
            named = [(row, keys) for row in rows if (keys := _naming_keys(row, words))]
            most = max((len(keys) for _, keys in named), default=0)
            named = [(row, keys) for row, keys in named if len(keys) == most]
            if named and len(named) <= _MOST_ROWS and len(named) * 2 < len(rows):
                found += [NamedRow(path, table, row, keys[0], tuple(rows)) for row, keys in named]
    return found


def asked_cell(request: str, rows: list[NamedRow]) -> AskedCell | None:
    """The one cell ``request`` asks of the one row it names: a column named as a word of the
    request (``secondary``, ``free_disk_gb`` as "free disk"); None when not exactly one."""
    if len(rows) != 1:
        return None
    row = rows[0]
    exact = [key for key in row.row if key != row.named_by and names_column(key, request, stems=False)]
    columns = exact if len(exact) == 1 else [
        key for key in row.row if key != row.named_by and names_column(key, request)]
    if len(columns) > 1 and len({key.rpartition(".")[0] for key in columns}) == 1 and "." in columns[0]:
        # (one object's fields, named by the object: "who is it assigned to" asks assignee.name)
        columns = [key for key in columns if key.rpartition(".")[2] in _NAMING_FIELDS] or columns
    return AskedCell(row, columns[0]) if len(columns) == 1 else None


def named_rows_section(request: str, plan: Mapping[str, Any], results: Results, answered: str = "") -> str:
    """The joiner's prompt section for the rows ``request`` names ("" when it names none); for a
    follow-up that names none ("How big was it?"), the rows the thread's answer before named
    (``answered``: "The longest backup was b-104, 425 s")."""
    rows = named_rows(request, plan, results) or named_rows(answered, plan, results)
    if not rows:
        return ""
    asked = asked_cell(request, rows)
    cell = f"\nThe value asked:\n{asked.line()}" if asked else ""
    return ("## Rows of the results the request names (each as the file has it)\n"
            + "\n".join(row.line() for row in rows) + cell)


@dataclass(frozen=True)
class Misread:
    """An answer that gave other cells of the row the request names for the cell it asks."""

    asked: AskedCell
    given: tuple[str, ...]
    """The other cells' values the answer stated in its place."""


def misread_cells(answer: str, request: str, plan: Mapping[str, Any], results: Results) -> Misread | None:
    """The cell the request asks, when ``answer`` leaves it out and states in its place another
    cell of the same row, or the asked column's value in another row (weekend
    serial-and-assignee: incident 4813's assignee given as another incident's), of the same kind
    (a number for a number), that the request does not name: the row read wrong. A number is
    stated however it is written (``12.90`` for ``12.9``)."""
    asked = asked_cell(request, named_rows(request, plan, results))
    if asked is None or _states(answer, asked.value):
        return None
    numeric = _number(asked.value) is not None
    same_row = [cell_text(value) for key, value in asked.named.row.items()
                if key not in (asked.column, asked.named.named_by)]
    same_column = [cell_text(row.get(asked.column)) for row in asked.named.table_rows
                   if row is not asked.named.row and row.get(asked.column) is not None]
    given = tuple(dict.fromkeys(
        text for text in [*same_row, *same_column]
        if len(text.strip()) >= 2 and (_number(text) is not None) == numeric
        and _states(answer, text) and not _states(request, text)))
    return Misread(asked, given) if given else None


def corrected(answer: str, misread: Misread) -> str:
    """``answer`` with the cell it misread (:func:`misread_cells`) set right: in each line that
    names the row (by its value) or the column asked, the values it gave instead become the asked
    one; when no such line holds one, dagbot says the cell below the answer."""
    asked = misread.asked
    row, key = asked.named.row, asked.named.named_by
    marks = [cell_text(row[key]), asked.column.replace("_", " ")]
    lines, fixed = answer.split("\n"), False
    for number, line in enumerate(lines):
        if not any(mark.lower() in line.lower() for mark in marks):
            continue
        for given in misread.given:
            if _states(line, given):
                line = re.sub(_word(given.lower()).pattern, lambda _: asked.value, line, flags=re.I)
                fixed = True
        lines[number] = line
    if fixed:
        return "\n".join(lines)
    return (f"{answer}\n\n_Checked against the file: in {asked.named.path}, the {asked.column} of the row "
            f"whose {key} is {cell_text(row[key])} is {asked.value}, not {', '.join(misread.given)}._")


def reads(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    for node in plan.get("nodes") or []:
        result = results.get(str(node.get("id"))) or {}
        output = result.get("output")
        if result.get("status") != "done" or not isinstance(output, Mapping):
            continue
        path, content = output.get("path"), output.get("content")
        if isinstance(path, str) and isinstance(content, str) and len(content) <= _MOST_CHARS:
            yield path, content


def read_tables(path: str, content: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tables a read file holds, each with where it is in the file (:func:`named_rows`'s)."""
    return _tables(path, content)


def _tables(path: str, content: str) -> list[tuple[str, list[dict[str, Any]]]]:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    try:
        if suffix in ("csv", "tsv"):
            reader = csv.DictReader(io.StringIO(content), delimiter=delimiter_of(content, f".{suffix}"))
            return [("", [dict(row) for row in reader if None not in row])]
        if suffix in ("jsonl", "ndjson"):
            lines = [json.loads(line) for line in content.splitlines() if line.strip()]
            return [("", lines)] if all(isinstance(line, dict) for line in lines) else []
        if suffix in ("yaml", "yml", "json"):
            return list(_lists(yaml.safe_load(content), ""))
    except (ValueError, yaml.YAMLError, csv.Error, RecursionError):
        return []
    return []


def _lists(value: Any, where: str,
           seen: set[int] | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every list of objects ``value`` holds, with where it is (``weeks``, ``spec.hosts``); each
    list or mapping once (a YAML file's aliases share one: a file of aliases of aliases would
    otherwise be walked exponentially many times)."""
    seen = set() if seen is None else seen
    if isinstance(value, list | dict):
        if id(value) in seen:
            return
        seen.add(id(value))
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            yield where, [_flat(item) for item in value]
        for item in value:
            yield from _lists(item, where, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _lists(item, f"{where}.{key}" if where else str(key), seen)


def _flat(item: Mapping[str, Any], prefix: str = "", depth: int = 2) -> dict[str, Any]:
    """An object's fields, an object's within it by dotted names (``assignee.name``) down to
    ``depth``; lists left out."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and depth:
            flat.update(_flat(value, f"{prefix}{key}.", depth - 1))
        elif not isinstance(value, dict | list):
            flat[f"{prefix}{key}"] = value
    return flat


_NAMING_FIELDS = frozenset({"name", "display_name", "full_name", "summary", "title"})
"""An object's field that says which it is: what a question about the object asks for."""


def _naming_keys(row: Mapping[str, Any], words: str) -> list[str]:
    """The columns of ``row`` whose values ``words`` (the request, lowered) writes out as words."""
    named = []
    for key, value in row.items():
        text = cell_text(value).lower()
        if isinstance(value, bool) or len(text) < (4 if text.isalpha() else 3):
            continue  # (a short word, "web", names a kind of row, not one)
        if _word(text).search(words):
            named.append(key)
    return named


def names_column(key: str, request: str, stems: bool = True) -> bool:
    """Whether ``request`` names column ``key``, as written or spoken (``free_disk_gb``: "free disk
    gb", or "free disk" without its unit)."""
    words = key.replace("_", " ").replace("-", " ").split()
    said = [" ".join(words)] + ([" ".join(words[:-1])] if len(words) > 1 and len(words[-1]) <= 3 else [])
    if any(re.search(rf"(?<![\w-]){re.escape(name)}s?(?![\w-])", request, re.I) for name in said if name):
        return True
    parent = key.rpartition(".")[0]
    if parent and "." not in parent and names_column(parent, request, stems):
        return True  # (an object's field, by the object: assignee.name by "assignee")
    return stems and len(words) == 1 and len(words[0]) >= _STEMMED and re.search(
        rf"(?<![\w-]){re.escape(words[0][:max(_STEMMED, len(words[0]) - 2)])}\w*", request, re.I) is not None


def _states(text: str, value: str) -> bool:
    """Whether ``text`` states ``value``: as a word, or, for a number, as any number equal to it."""
    if not value:
        return False
    if _word(value.lower()).search(text.lower()):
        return True
    wanted = _number(value)
    return wanted is not None and any(_number(m.group()) == wanted for m in _NUMBERS.finditer(text))


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(text)}(?![\w-]|\.\w)")


def cell_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else json.dumps(value, default=str)
