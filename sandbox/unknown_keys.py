"""Keys package code reads that none of its inputs has, found before the code runs.

A package is written before its inputs exist, so its keys are guesses. A guess read with
``x['k']`` fails with a ``KeyError`` and is mended (:mod:`sandbox.key_mends`) or rewritten by
reflexion; a guess read with ``x.get('k')`` does not fail at all: the code answers from the
default. A 1.5B model copied an example's column names (``row.get('outcome') == 'success'``) into
a package over a CSV whose columns were others, and answered "0% passed".

:func:`unknown_key_reads` finds such reads with the inputs in hand, and only where it is certain:
a key is unknown when no object in the inputs has it, no CSV header or YAML text names it, no
text of the inputs contains it at all (in any case), and the code does not make it itself (a dict it builds, a
regex group it names, any other use of the same string). Code that calls tools is not checked
(their results' keys are not known before it runs), nor inputs too large to look through whole.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from agent.plan.package_code import key_read, parse_python
from agent.ports.sandbox import SandboxResult
from sandbox.key_mends import YAML_KEY, csv_header

_REGEX_GROUP = re.compile(r"\(\?P<([A-Za-z_]\w*)>")
_MAX_VALUES = 20_000
_MAX_TEXT = 1_000_000


class _TooLarge(Exception):
    """The inputs hold more than can be looked through: nothing is called unknown."""


def unknown_key_reads(code: str, inputs: dict[str, Any]) -> list[tuple[str, int]]:
    """The keys ``code`` reads by name (``x['k']``, ``x.get('k')``) that its ``inputs`` do not
    have, with the line of the first read of each, in the order they are read; empty when the
    code does not parse, calls tools, or the inputs are too large to be sure."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    if any(isinstance(node, ast.Name) and node.id == "tools" for node in ast.walk(tree)):
        return []
    reads = _named_reads(tree)
    if not reads:
        return []
    made = _made_by_code(tree, {id(constant) for constant, _ in reads})
    try:
        keys, texts = _looked_through(inputs)
    except _TooLarge:
        return []
    lowered = [text.lower() for text in texts]  # (a value counted lowercased: c.get('error'))
    unknown: dict[str, int] = {}
    for constant, line in reads:
        key = str(constant.value)
        if key in keys or key in made or key in unknown or any(key.lower() in text for text in lowered):
            continue
        unknown[key] = line
    return list(unknown.items())


def not_run_for(code: str, unknown: list[tuple[str, int]]) -> SandboxResult:
    """The failed attempt that code reading ``unknown`` keys stands for, not run: a ``KeyError``
    for its first unknown key, as Python would raise it (so the missing-key mend applies), and
    the line that reads it."""
    key, line = unknown[0]
    lines = code.splitlines()
    shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    others = ", ".join(repr(k) for k, _ in unknown[1:])
    also = f" (nor {others})" if others else ""
    return SandboxResult(
        ok=False, error_type="KeyError", error=repr(key),
        traceback=(f'  File "<package>", line {line}, in <module>\n    {shown}\n'
                   f"Not run: none of the inputs has the key {key!r}{also}, so this read can only "
                   "fail or give its default. Read the keys the inputs show, spelt as they are."),
    )


def _named_reads(tree: ast.AST) -> list[tuple[ast.Constant, int]]:
    """The string constants read as keys, with their lines (not ``os.environ``'s)."""
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            continue
        read = key_read(node)
        if read is None or _is_environ(read[0]):
            continue
        key = read[1]
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value:
            reads.append((key, key.lineno))
    return sorted(reads, key=lambda read: (read[1], read[0].col_offset))


def _is_environ(value: ast.expr) -> bool:
    return isinstance(value, ast.Attribute) and value.attr == "environ"


def _made_by_code(tree: ast.AST, read_ids: set[int]) -> set[str]:
    """Keys the code may make itself: every string it uses other than as a key it reads, the
    groups its regexes name, the names of keyword arguments and parameters."""
    made: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            made.update(_REGEX_GROUP.findall(node.value))
            if id(node) not in read_ids:
                made.add(node.value)
        elif isinstance(node, ast.keyword | ast.arg) and node.arg:
            made.add(node.arg)
    return made


def _looked_through(inputs: Any) -> tuple[set[str], list[str]]:
    """Every key of the inputs' objects (a JSON text's too), the columns of their CSV texts, the
    keys of their YAML texts; and all their texts but JSON ones (whose keys and texts are in
    those)."""
    keys: set[str] = set()
    texts: list[str] = []
    for item, parsed in _values(inputs):
        if isinstance(item, dict):
            keys.update(str(k) for k in item)
        elif isinstance(item, str) and not parsed:  # a JSON text: its keys and texts are looked at
            texts.append(item)
            keys.update(csv_header(item.strip()))
            keys.update(YAML_KEY.findall(item))
    return keys, texts


def _values(value: Any) -> Iterator[tuple[Any, bool]]:
    """``value`` and every value in it, at any depth, a JSON text's parsed value too, each with
    whether it is a JSON text that was parsed; raises :class:`_TooLarge` past
    :data:`_MAX_VALUES` values or a text past :data:`_MAX_TEXT`."""
    todo = [value]
    seen = 0
    while todo:
        item = todo.pop()
        seen += 1
        if seen > _MAX_VALUES or (isinstance(item, str) and len(item) > _MAX_TEXT):
            raise _TooLarge
        parsed: Any = None
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str) and item.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                parsed = json.loads(item)
        if isinstance(parsed, dict | list):
            todo.append(parsed)
        yield item, isinstance(parsed, dict | list)
