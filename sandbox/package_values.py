"""A package's value read as if it were an object holding ``result``.

A package's output is the value its code set ``result`` to (a list, a number, a text), not an
object with a ``result`` key; but a small model that splits a computation over two packages
reads the first one's value as ``inputs['filter']['result']``. The read fails (``list indices
must be integers or slices, not str``), and the reflexion model "guarded" it into ``result =
0``, an answer nothing computed (dev-checkout-requests: "0 requests went to /api/checkout").
With the inputs in hand the fix is plain: when the input the code reads ``['result']`` (or
``['output']``) of is not an object at all, it means that input itself. An object, even one
without the key, is left to reflexion: a data file's rows may have a ``result`` column. It is
the runtime mend ``package-value`` of :data:`sandbox.runtime_mends.RUNTIME_MENDS`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from agent.plan.input_fields import input_id
from agent.plan.package_code import key_read, parse_python, source_span, spliced

_WRAPPER_KEYS = ("result", "output")
_ERRORS = ("KeyError", "TypeError", "AttributeError")


def mended_package_value(code: str, error_type: str | None, inputs: Mapping[str, Any]) -> str | None:
    """``code`` with each ``inputs['x']['result']`` (or ``.get('result')``, ``['output']``) of an
    input that is not an object read as ``inputs['x']``; None when there is none."""
    if error_type not in _ERRORS:
        return None
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    edits = []
    for expr in ast.walk(tree):
        read = key_read(expr) if isinstance(expr, (ast.Subscript, ast.Call)) else None
        if read is None:
            continue
        base, key = read
        source = input_id(base)
        if (isinstance(key, ast.Constant) and key.value in _WRAPPER_KEYS and source is not None
                and source in inputs and not isinstance(inputs[source], Mapping)):
            assert isinstance(expr, ast.expr)
            start, end = source_span(code, expr)
            inner_start, inner_end = source_span(code, base)
            edits.append((start, end, code.encode()[inner_start:inner_end].decode()))
    return spliced(code, edits) if edits else None
