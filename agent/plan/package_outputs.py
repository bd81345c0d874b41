"""A package's output read as if it were an object holding ``result``.

A package's output is the value its code sets ``result`` to (a list, a number, a dict), not an
object with a ``result`` key; but a small model that splits a computation over two packages
reads the first one's value as ``inputs['filter']['result']``. The read fails (``list indices
must be integers``), and the reflexion model "guarded" it into ``result = 0``, an answer nothing
computed (dev-checkout-requests: "0 requests went to /api/checkout"). The fix is plain, made
before the plan is checked: ``inputs['filter']``, the value itself. Only a read of a package of
the plan is mended, and only when that package's code never writes the key ``'result'`` (or
``'output'``) itself (``result = {'result': …}`` would make the read right).
"""

from __future__ import annotations

import ast

from agent.plan.format import PlanNode
from agent.plan.input_fields import input_id
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.package_code import key_read, parse_python, source_span, spliced

_WRAPPER_KEYS = ("result", "output")


def unwrapped_package_outputs(nodes: list[PlanNode]) -> list[PlanNode]:
    """``nodes``, each package's reads of another package's ``['result']`` made reads of the
    value itself."""
    packages = {node.id for node in nodes if node.package is not None and not _writes_wrapper(node)}
    mended = []
    for node in nodes:
        if node.package is not None and packages - {node.id}:
            code = _unwrapped(node.package.code, packages - {node.id})
            if code is not None:
                node = node.model_copy(update={"package": node.package.model_copy(update={"code": code})})
        mended.append(node)
    return mended


def _writes_wrapper(node: PlanNode) -> bool:
    assert node.package is not None
    return any(f"'{key}'" in node.package.code or f'"{key}"' in node.package.code for key in _WRAPPER_KEYS)


def _unwrapped(code: str, packages: set[str]) -> str | None:
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
        if isinstance(key, ast.Constant) and key.value in _WRAPPER_KEYS and input_id(base) in packages:
            assert isinstance(expr, ast.expr)
            start, end = source_span(code, expr)
            inner_start, inner_end = source_span(code, base)
            edits.append((start, end, code.encode()[inner_start:inner_end].decode()))
    return spliced(code, edits) if edits else None


def _mend(draft: Draft, context: MendContext) -> Draft:
    return draft.with_nodes(unwrapped_package_outputs(list(draft.nodes)))


PACKAGE_OUTPUTS = Mend(
    name="package-outputs", fix=_mend,
    slip="a step's code read another step's value under 'result'; it reads the value itself")
