"""A key package code read that its inputs lack, when they hold exactly one key like it.

Package code is written before its inputs exist, so a planner guesses their keys: ``s['p99']``
where the status page says ``p99_ms``. The attempt fails with ``KeyError: 'p99'``; with the
inputs in hand the fix is plain when exactly one of their keys is that name with a qualifier
added (``p99_ms``, ``latency_p99``) or the same name spelt another way (``P99``, ``p-99``).
:func:`mended_missing_key` makes that fix without a model call; anything less certain goes to
the reflexion model as before. Keys are looked for in the inputs' objects at any depth, in the
JSON texts they hold, and in the header of a CSV text and the keys of a YAML text.

The other slip of that kind is a CSV's header row read as data: ``int(row[1])`` fails with
``invalid literal for int() with base 10: 'orders'`` where ``orders`` is a column of an
input's header. :func:`mended_header_row` skips the first row of the code's one
``csv.reader(…)`` or ``….splitlines()``.

They are the runtime mends ``missing-key`` and ``header-row`` of
:data:`sandbox.runtime_mends.RUNTIME_MENDS`.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from agent.plan.package_code import key_read, parse_python, source_span, spliced
from agent.tools.files import delimiter_of

_SEPARATORS = re.compile(r"[^a-z0-9]+")
YAML_KEY = re.compile(r"^\s*-?\s*([A-Za-z_][\w.-]*)\s*:", re.MULTILINE)
_CSV_FIELD = re.compile(r"[A-Za-z_][\w .-]*")
_MAX_KEYS = 5000
_NOT_A_NUMBER = re.compile(
    r"^(?:invalid literal for int\(\) with base \d+|could not convert string to float): (.+)$")


def missing_key(error_type: str | None, error: str | None) -> str | None:
    """The key of a ``KeyError`` whose message is a string's repr (``'p99'``), else None."""
    if error_type != "KeyError" or not error:
        return None
    try:
        key = ast.literal_eval(error.strip())
    except (ValueError, SyntaxError):
        return None
    return key if isinstance(key, str) and key else None


def mended_missing_key(code: str, missing: str, inputs: Any) -> str | None:
    """``code`` with its reads of key ``missing`` (``x['k']``, ``x.get('k')``) made reads of
    the one key of ``inputs`` like it; None when there is not exactly one, when ``inputs`` have
    ``missing`` itself somewhere, or when the code does not spell the key out."""
    keys = _keys(inputs)
    found = _like(missing, keys)
    if missing in keys or len(found) != 1:  # (there: the path to it is wrong, not its name)
        return None
    [key] = found
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    spots = _key_reads(tree, missing)
    if not spots or any(spot.lineno != spot.end_lineno for spot in spots):
        return None
    return spliced(code, [(*source_span(code, spot), repr(key)) for spot in spots])


def _like(missing: str, keys: set[str]) -> set[str]:
    """Keys that are ``missing`` spelt another way, or with words added before or after it."""
    want = _words(missing)
    if not want:
        return set()
    found = set()
    for key in keys:
        words = _words(key)
        if "".join(words) == "".join(want) or (
                len(words) > len(want) and (words[:len(want)] == want or words[-len(want):] == want)):
            found.add(key)
    return found


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)  # p99Ms → p99_Ms
    return [w for w in _SEPARATORS.split(spaced.lower()) if w]


def all_values(value: Any) -> Iterator[Any]:
    """``value`` and every value in it, at any depth (the first 200 items of a list), a JSON
    text's parsed value too."""
    todo = [value]
    while todo:
        item = todo.pop()
        yield item
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item[:200])
        elif isinstance(item, str) and item.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                todo.append(json.loads(item))


_CSV_ROWS = 5_000


def keyed_texts(inputs: Any) -> Iterator[tuple[Any, Any]]:
    """Every ``(key, value)`` the inputs hold: objects' fields at any depth as they are, and the
    cells of CSV texts (the first 5,000 rows) with their column, both stripped."""
    for item in all_values(inputs):
        if isinstance(item, dict):
            yield from item.items()
        elif isinstance(item, str) and csv_header(item.strip()):
            with contextlib.suppress(csv.Error):  # (a quote never closed: csv's field limit)
                for row in islice(csv.DictReader(io.StringIO(item.strip())), _CSV_ROWS):
                    for key, value in row.items():
                        if isinstance(key, str) and isinstance(value, str):
                            yield key.strip(), value.strip()


def _keys(value: Any) -> set[str]:
    """The keys of the objects in ``value``, and those its texts show (a CSV header, YAML keys)."""
    keys: set[str] = set()
    for item in all_values(value):
        if len(keys) >= _MAX_KEYS:
            break
        if isinstance(item, dict):
            keys.update(k for k in item if isinstance(k, str))
        elif isinstance(item, str):
            keys.update(csv_header(item.strip()))
            keys.update(YAML_KEY.findall(item[:100_000]))
    return keys


def _key_reads(tree: ast.AST, key: str) -> list[ast.Constant]:
    """The constants ``'key'`` of ``x['key']`` and ``x.get('key')`` in ``tree``."""
    reads = (key_read(node) for node in ast.walk(tree))
    return [read[1] for read in reads
            if read is not None and isinstance(read[1], ast.Constant) and read[1].value == key]


def mended_header_row(code: str, error_type: str | None, error: str | None, inputs: Any) -> str | None:
    """``code`` with the header row skipped, when the attempt failed turning a column name of
    an input's CSV header into a number and the code reads rows in one place only
    (``csv.reader(…)`` or ``….splitlines()``); else None."""
    found = _NOT_A_NUMBER.match((error or "").strip()) if error_type == "ValueError" else None
    if found is None:
        return None
    try:
        name = ast.literal_eval(found.group(1))
        tree = parse_python(code)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(name, str) or name.strip() not in _csv_headers(inputs):
        return None
    readers = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _reads_rows(node)]
    if len(readers) != 1 or readers[0].lineno != readers[0].end_lineno:
        return None
    call = readers[0]
    start, end = source_span(code, call)
    text = code.encode()[start:end].decode()
    reader = isinstance(call.func, ast.Attribute) and call.func.attr == "reader"
    return spliced(code, [(start, end, f"list({text})[1:]" if reader else f"{text}[1:]")])


def _reads_rows(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "reader":
        return isinstance(func.value, ast.Name) and func.value.id == "csv"
    return isinstance(func, ast.Attribute) and func.attr == "splitlines"


def _csv_headers(value: Any) -> set[str]:
    return {name for item in all_values(value) if isinstance(item, str) for name in csv_header(item.strip())}


def csv_header(text: str) -> list[str]:
    """The column names on the first line of ``text``, when it looks like a CSV's header."""
    first, _, rest = text.partition("\n")
    names = [name.strip() for name in first.split(delimiter_of(text, ".csv"))]
    return names if rest and len(names) > 1 and all(_CSV_FIELD.fullmatch(n) for n in names) else []
