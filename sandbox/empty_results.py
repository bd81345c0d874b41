"""An empty result from code that looked for text its inputs do not hold: a doubt, not an answer.

A package that counts or filters lines by a text it guessed runs without an error and answers
from what matched nothing: "How many 5xx responses are there in logs/gateway.log?" was written
as ``sum(1 for l in lines if ' 5xx ' in l)`` over lines like ``… POST /api/checkout 502 1203ms``,
and dagbot answered "0 5xx responses". Nothing failed, so neither the mends nor reflexion saw it.

:func:`doubt_of_empty_result` says why such a result is doubtful, only where that is certain:
the result is empty (0, an empty list, object or text, null) and every text the code looks for
in its inputs (``'x' in line``, ``line.count('x')``, ``line.startswith('x')``,
``line.endswith('x')``) occurs nowhere in them (their texts and their objects' keys), as
written. The reflexion model is then shown that and a few lines of the input text, and may keep
the code (the empty result stands) or rewrite it (:mod:`sandbox.reflexion`).
"""

from __future__ import annotations

import ast
from typing import Any

from agent.plan.package_code import parse_python
from sandbox.key_mends import all_values

_METHODS = frozenset({"count", "startswith", "endswith", "find", "index"})
_LINES = 3
_LINE_CHARS = 160
_MAX_TEXT = 1_000_000


def is_empty(value: Any) -> bool:
    """0, an empty list, object or text, or null (False is an answer: "is it up?")."""
    return value is None or (not isinstance(value, bool) and value in (0, [], {}, ""))


def doubt_of_empty_result(code: str, inputs: dict[str, Any], output: Any) -> str | None:
    """Why ``output`` of ``code`` is doubtful (for the reflexion model), or None when it is not
    empty, the code looks for no text, or some text it looks for is in the inputs."""
    if not is_empty(output):
        return None
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    looked_for = _looked_for(tree)
    texts = [v for v in all_values(inputs) if isinstance(v, str) and v]
    texts += [k for v in all_values(inputs) if isinstance(v, dict) for k in v if isinstance(k, str)]
    if not looked_for or not texts or sum(len(t) for t in texts) > _MAX_TEXT:
        return None
    if any(any(wanted in text for text in texts) for wanted in looked_for):
        return None
    shown = ", ".join(repr(w) for w in sorted(looked_for))
    sample = _sample(max(texts, key=len))
    return (f"It ran, and its result is {output!r}: the text it looks for ({shown}) occurs nowhere "
            f"in the inputs, so nothing matched. The longest input text begins:\n{sample}\n"
            "Look for what the goal means as these lines write it (a status code is a number in its "
            "own field, a level may be written another way). If the empty result is right, reply "
            "with the same code.")


def _looked_for(tree: ast.AST) -> set[str]:
    """The texts the code looks for inside other texts: ``'x' in y`` and ``y.count('x')``-like
    calls (not ``==``: a comparison with a whole value is :mod:`sandbox.goal_values`'s)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In)
                and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
                and not isinstance(node.comparators[0], (ast.Tuple, ast.List, ast.Set, ast.Dict))):
            found.add(node.left.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _METHODS and len(node.args) == 1
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return {text for text in found if text.strip()}


def _sample(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][:_LINES]
    return "\n".join(line if len(line) <= _LINE_CHARS else line[:_LINE_CHARS] + "…" for line in lines)
