"""A package that found nothing because it looked for a text no input holds.

A small model writes what it expects the data to say, not what it says: "how many 5xx responses
are in logs/gateway.log?" was counted as ``sum(1 for l in lines if ' 5xx ' in l)`` over a log
whose lines hold ``502``, ``503`` and ``500``. The code ran, found nothing, and the answer was
"0 5xx responses": no error for reflexion to see, a wrong number in the reply.

:func:`absent_texts` names the texts that code looks for (``'…' in x``, ``x == '…'``,
``x.startswith('…')``, ``x.count('…')``…) when none of the inputs holds them anywhere, in any
letter case. :func:`looked_for_nothing` is the failure the reflexion loop then reports, once,
when such a package's result is empty (0, an empty list or text, or an object of those): the
rewrite is shown that the text is nowhere in the inputs. A result of None (or of Nones) is sent
back once too, though the texts are there: the value was read where the data does not hold it.
A script that again finds nothing is accepted (the data may truly hold none), and so is a
result that is not empty.
"""

from __future__ import annotations

import ast
from typing import Any

from agent.plan.package_code import parse_python
from sandbox.key_mends import all_values

_TEXT_CALLS = frozenset({"startswith", "endswith", "count", "find", "index", "rfind", "split"})
_MIN_CHARS = 2
_INPUT_CHARS = 2_000_000
ERROR_TYPE = "NothingFound"
"""The error type of the failure :func:`looked_for_nothing` gives (no exception Python raises)."""


def absent_texts(code: str, inputs: dict[str, Any]) -> list[str]:
    """The texts ``code`` looks for that no input holds, in the order the code has them."""
    wanted = looked_for(code)
    if not wanted:
        return []
    held = _held_text(inputs)
    return [text for text in wanted if text.strip().lower() not in held]


def looked_for(code: str) -> list[str]:
    """The texts ``code`` looks for, once each, in the order it has them (none for code that
    does not parse: Python's own error is the failure)."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    return list(dict.fromkeys(_looked_for(tree)))


def looked_for_nothing(code: str, inputs: dict[str, Any], result: Any) -> str | None:
    """Why an empty ``result`` is suspect: the texts its code looked for that no input holds;
    None when the result is not empty or every text looked for is there."""
    if not is_empty(result):
        return None
    absent = absent_texts(code, inputs)
    if not absent:
        return _no_value(code, result)
    shown = ", ".join(repr(text) for text in absent[:3])
    return (f"the result is {result!r}: the code looks for {shown}, which none of the inputs holds "
            "(in any letter case); look for what the inputs above hold instead")


def _no_value(code: str, result: Any) -> str | None:
    """Why a result of None (or an object of Nones) is suspect though every text looked for is
    there: no request asks for nothing, and a read that found nothing (a ``.get()``'s default, a
    nested key read at the top: ``safe_load(…)['new-checkout']`` of a YAML file whose flags are
    under ``flags``) answered with nothing at all. Code that calls tools may be done once they
    ran: it is left alone."""
    if _calls_tools(code):
        return None
    values = list(result.values()) if isinstance(result, dict) and result else [result]
    if any(value is not None for value in values):
        return None
    return (f"the result is {result!r}: the code found no value where it looked (a key read at the "
            "wrong level, or a default); read the outline of the inputs above for the path to "
            "the value asked for")


def _calls_tools(code: str) -> bool:
    try:
        tree = parse_python(code)
    except SyntaxError:
        return True
    return any(isinstance(node, ast.Name) and node.id == "tools" for node in ast.walk(tree))


def is_empty(result: Any) -> bool:
    """0, None, an empty text or collection, or an object whose values are all of those."""
    if result is None:
        return True
    if isinstance(result, bool):  # (an answer, not a count)
        return False
    if isinstance(result, (int, float)):
        return result == 0
    if isinstance(result, (str, list, tuple)):
        return len(result) == 0
    if isinstance(result, dict):
        return all(is_empty(value) for value in result.values())
    return False


def _looked_for(tree: ast.AST) -> list[str]:
    texts: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
                if isinstance(op, (ast.In, ast.NotIn)):  # 'x' in line; r['s'] in ('a', 'b')
                    texts += _texts(left) if isinstance(left, ast.Constant) else _texts(right)
                elif isinstance(op, (ast.Eq, ast.NotEq)):
                    texts += _texts(left) + _texts(right)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _TEXT_CALLS and node.args):
            texts += _texts(node.args[0])
    texts.sort(key=lambda c: (c.lineno, c.col_offset))
    return [c.value for c in texts if isinstance(c.value, str) and len(c.value.strip()) >= _MIN_CHARS]


def _texts(node: ast.expr) -> list[ast.Constant]:
    elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [e for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def _held_text(inputs: dict[str, Any]) -> str:
    """Every text and key the inputs hold, lower-cased, one per line (numbers too, as written)."""
    parts: list[str] = []
    size = 0
    for item in all_values(inputs):
        if isinstance(item, dict):
            texts = [str(key) for key in item]
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
            texts = [str(item)]
        else:
            continue
        parts += texts
        size += sum(len(text) for text in texts)
        if size > _INPUT_CHARS:
            break
    return "\n".join(parts).lower()
