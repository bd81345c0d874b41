"""The reflexion model's view of a package's inputs: each value's path as code reads it, its
type and an example, so that a rewrite reads what is there.

A small model shown a JSON preview cut at a few hundred characters read a key the data never
had (``data['response_times']`` of a status page whose services each have ``p99_ms``). An
outline names every path down to the leaves, a list's items once for all of them
(``inputs['status']['json']['services'][i]['p99_ms']: int, e.g. 120``), within a budget.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import yaml

from agent.tools.files import delimiter_of
from sandbox.key_mends import YAML_KEY, csv_header

_EXAMPLE_CHARS = 60
_LIST_CHARS = 120
_TEXT_HEAD = 160
_KEYS_SHOWN = 12
_DEPTH = 5
_ITEMS_LOOKED_AT = 50
_TOP_KEY = re.compile(r"^[A-Za-z_][\w.-]*\s*:", re.MULTILINE)
_PARSED_CHARS = 200_000
"""A JSON or YAML text up to this long is outlined parsed too: its paths, as ``json.loads(…)``
(``yaml.safe_load(…)``) reads them."""


def outline(inputs: dict[str, Any], total: int = 3000) -> str:
    """Each input as lines ``inputs['x']['k']: type, e.g. value``, at most ``total`` characters."""
    if not inputs:
        return "(no inputs)"
    lines: list[str] = []
    for key, value in inputs.items():
        _lines(f"inputs[{key!r}]", value, 0, lines)
    text = "\n".join(lines)
    # the model's request must be valid UTF-8: a file name that was not shows a '?'
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= total else text[:total] + "\n[… truncated]"


def _lines(path: str, value: Any, depth: int, out: list[str]) -> None:
    if isinstance(value, dict) and value and depth < _DEPTH:
        keys = list(value)
        for key in keys[:_KEYS_SHOWN]:
            _lines(f"{path}[{key!r}]", value[key], depth + 1, out)
        if len(keys) > _KEYS_SHOWN:
            out.append(f"{path}: … and {len(keys) - _KEYS_SHOWN} more keys")
        return
    if isinstance(value, list) and value and depth < _DEPTH:
        items = value[:_ITEMS_LOOKED_AT]
        if all(isinstance(item, dict) for item in items):
            out.append(f"{path}: list of {len(value)} objects, each:")
            merged: dict[str, Any] = {}
            for item in items:
                for key, field in item.items():
                    merged.setdefault(key, field)
            for key in list(merged)[:_KEYS_SHOWN]:
                present = sum(key in item for item in items)
                note = f" (in {present} of {len(items)})" if present < len(items) else ""
                before = len(out)
                _lines(f"{path}[i][{key!r}]", merged[key], depth + 1, out)
                if note and len(out) > before:
                    out[before] += note
            return
        out.append(f"{path}: list of {len(value)} ({_kinds(items)}): {_example(value, _LIST_CHARS)}")
        return
    out.append(f"{path}: {_leaf(value)}")
    if isinstance(value, str) and depth < _DEPTH:
        _text_lines(path, value, depth, out)


def _text_lines(path: str, text: str, depth: int, out: list[str]) -> None:
    """What a text holds, as code reads it: a JSON or YAML text's paths once parsed, a CSV's
    columns (a 1.5B model read a JSON object as a list of rows, guessed a CSV's column names, and
    read a YAML file's nested key at its top level: ``safe_load(…)['new-checkout']``)."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and len(stripped) <= _PARSED_CHARS:
        parsed: Any = None
        with contextlib.suppress(ValueError):
            parsed = json.loads(stripped)
        if isinstance(parsed, dict | list) and parsed:
            out.append(f"{path} is JSON text; parsed, json.loads({path}) holds:")
            _lines(f"json.loads({path})", parsed, depth + 1, out)
            return
    if (mapping := yaml_mapping(stripped)) is not None:
        out.append(f"{path} is YAML text; parsed, yaml.safe_load({path}) holds:")
        _lines(f"yaml.safe_load({path})", mapping, depth + 1, out)
        return
    columns = csv_header(stripped)
    if columns:
        rows = stripped.count("\n")
        first = stripped.split("\n", 2)[1].strip()
        delimiter = delimiter_of(stripped, ".csv")
        split = "" if delimiter == "," else (f", its fields split by {delimiter!r} "
                                              f"(csv.DictReader(io.StringIO(text), delimiter={delimiter!r}))")
        out.append(f"{path} is CSV text with a header row{split}: {rows} data row{'s' if rows != 1 else ''}, "
                   f"columns {columns} (csv.DictReader's keys); first data row {first[:_LIST_CHARS]!r}")


def yaml_mapping(text: str) -> dict[str, Any] | None:
    """``text`` parsed as YAML when it is a YAML document of keys over several lines (its first
    line a ``key:``, each top-level key once: a log of ``ERROR: …`` lines is no mapping), not
    JSON and not plain text or a CSV (which YAML reads as one string); else None."""
    if len(text) > _PARSED_CHARS or "\n" not in text or not YAML_KEY.match(text.split("\n", 1)[0]):
        return None
    parsed: Any = None
    with contextlib.suppress(yaml.YAMLError, ValueError, RecursionError):
        parsed = yaml.safe_load(text)
    top_keys = _TOP_KEY.findall(text)
    return parsed if isinstance(parsed, dict) and parsed and len(top_keys) == len(parsed) else None


def _leaf(value: Any) -> str:
    if isinstance(value, str) and ("\n" in value or len(value) > _EXAMPLE_CHARS):
        more = "…" if len(value) > _TEXT_HEAD else ""
        return (f"str, {len(value)} chars, {value.count(chr(10)) + 1} lines, starting "
                f"{value[:_TEXT_HEAD]!r}{more}")
    if isinstance(value, dict | list) and not value:
        return f"empty {type(value).__name__}"
    return f"{type(value).__name__}, e.g. {_example(value)}"


def _example(value: Any, chars: int = _EXAMPLE_CHARS) -> str:
    """``value`` as Python writes it (``'api'``, ``True``, ``None``), cut short."""
    text = repr(value)
    return text if len(text) <= chars else text[:chars] + "…"


def _kinds(items: list[Any]) -> str:
    return ", ".join(sorted({type(item).__name__ for item in items}))
