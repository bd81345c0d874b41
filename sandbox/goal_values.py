"""A value package code compares a key with that the inputs hold nowhere, when the package's goal
names the one value the inputs hold there.

A planner copies its example's names: "what percentage of the builds passed?" was written as
``r['outcome'] == 'success'`` (the example's column and value) for a CSV whose column ``result``
holds ``passed``, ``failed`` and ``timed_out``. The key, when no input has it, is found before the
code runs (:mod:`sandbox.unknown_keys`), but the reflexion model, told so, wrote the same
comparison three times; and a value the inputs hold nowhere, compared with a key they do have
(``r['result'] == 'success'``), fails nothing at all: the package answers "0%".

:func:`mended_goal_values` runs before each attempt, with the inputs in hand, and changes only
what is certain: an equality ``<key read> == 'text'`` whose text no input holds as a value, when
the goal (the package's own words, "percentage of builds that passed") names exactly one value
the inputs do hold under that key (or, for a key no input has, exactly one value under one key,
which the reads of the key then read instead). A comparison with ``!=``, a text the inputs hold,
or a goal naming none or several such values is left as written.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from agent.plan.package_code import key_read, parse_python, source_span, spliced
from sandbox.key_mends import keyed_texts

NAME = "goal-values"
"""The mend's name, as the attempt it wrote records it."""
_VALUES = 20_000
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CASE_CALLS = frozenset({"lower", "upper", "strip", "casefold"})


def mended_goal_values(code: str, goal: str, inputs: dict[str, Any]) -> str | None:
    """``code`` with each comparison of a key's read with a text no input holds made with the one
    value of that key the goal names; None when there is none to change."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    held = _values_by_key(inputs)
    if not held:
        return None
    everywhere = {value for values in held.values() for value in values}
    words = set(_WORD.findall(goal.lower()))
    edits: dict[tuple[int, int], str] = {}
    renamed: dict[str, str] = {}
    for node in ast.walk(tree):
        compared = _compared_text(node)
        if compared is None:
            continue
        key, constant, case_call = compared
        text = str(constant.value)
        if text in everywhere or text.strip() in everywhere:
            continue
        named = _named_values(held, key, words)
        if len(named) != 1:
            continue
        [(holder, value)] = named
        if holder != key and renamed.get(key, holder) != holder:
            return None
        value = getattr(value, case_call)() if case_call else value
        if text == value:
            continue
        edits[source_span(code, constant)] = repr(value)
        if holder != key:
            renamed[key] = holder
    if renamed:
        for node in ast.walk(tree):
            read = key_read(node)
            if read is not None and isinstance(read[1], ast.Constant) and read[1].value in renamed:
                edits[source_span(code, read[1])] = repr(renamed[read[1].value])
    if not edits:
        return None
    mended = spliced(code, [(start, end, text) for (start, end), text in edits.items()])
    return mended if mended != code else None


def _compared_text(node: ast.AST) -> tuple[str, ast.Constant, str | None] | None:
    """``(key, the text's constant, case call)`` of ``x['key'] == 'text'`` (either way round, the
    read possibly lowercased, uppercased or stripped); None for any other node."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
        return None
    for read_side, text_side in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
        if not (isinstance(text_side, ast.Constant) and isinstance(text_side.value, str)):
            continue
        case_call = None
        if (isinstance(read_side, ast.Call) and isinstance(read_side.func, ast.Attribute)
                and read_side.func.attr in _CASE_CALLS and not read_side.args):
            case_call = read_side.func.attr if read_side.func.attr in ("lower", "upper", "casefold") else None
            read_side = read_side.func.value
        read = key_read(read_side)
        if read is not None and isinstance(read[1], ast.Constant) and isinstance(read[1].value, str):
            return read[1].value, text_side, "lower" if case_call == "casefold" else case_call
    return None


def _named_values(held: dict[str, set[str]], key: str, words: set[str]) -> set[tuple[str, str]]:
    """The ``(key, value)`` pairs the goal's words name: under ``key`` when an input has it, else
    under any key."""
    keys = [key] if key in held else list(held)
    return {(k, value) for k in keys for value in held[k] if value.strip().lower() in words}


def _values_by_key(inputs: dict[str, Any]) -> dict[str, set[str]]:
    """Every text value the inputs hold, by the key it is held under: objects' fields at any
    depth, and the columns of CSV texts."""
    held: dict[str, set[str]] = {}
    count = 0
    for key, value in keyed_texts(inputs):
        if isinstance(key, str) and isinstance(value, str):
            held.setdefault(key.strip(), set()).add(value.strip())
            count += 1
            if count > _VALUES:
                return {}
    return held
