"""A fan-out of one item that the plan reads as one call's output is that one call.

Written as the planner writes a node, a call and a fan-out differ by one bracket:
``{"incidents": {"url": "…"}}`` is a call, ``{"incidents": ["…"]}`` a fan-out of one, whose
output is a list of one. A plan that then reads ``${incidents.text}`` or
``inputs['incidents']['json']`` meant the call (bench.quality incidents-to-file: the write got
"the output of 'incidents' has no 'text'"). Where nothing reads the node as a list (an index,
``${x.0}`` or ``inputs['x'][0]``, or the whole list in code), the fan-out is made its call:
the only reading under which the plan works.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from agent.plan.format import PlanNode
from agent.plan.input_fields import input_id
from agent.plan.mends.contract import Mend
from agent.plan.package_code import key_read, package_input_ids, parse_python
from agent.plan.references import iter_references


def single_calls(nodes: list[PlanNode], answer: str | None) -> list[PlanNode]:
    """``nodes`` with each one-item fan-out that nothing reads as a list made its one call."""
    read_as_lists = _read_as_lists(nodes, answer)
    return [node.model_copy(update={"args": {**node.args, **node.each[0]}, "each": None})
            if (node.tool is not None and node.each is not None and len(node.each) == 1
                and isinstance(node.each[0], Mapping)
                and node.id not in read_as_lists) else node
            for node in nodes]


def _read_as_lists(nodes: Iterable[PlanNode], answer: str | None) -> set[str]:
    """The nodes something reads by an index, or (in package code) otherwise than by a key."""
    nodes = list(nodes)
    written = [answer or "", *(node.args for node in nodes), *(node.each or [] for node in nodes)]
    found = {node_id for node_id, path in iter_references(written) if path.split(".")[0].isdigit()}
    for node in nodes:
        if node.package is not None:
            found |= _code_reads_as_lists(node.package.code)
    return found


def _code_reads_as_lists(code: str) -> set[str]:
    """The inputs ``code`` uses otherwise than by a key (``inputs['x'][0]``, ``for r in
    inputs['x']``, ``len(inputs['x'])``); all it reads when it does not parse."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return set(package_input_ids(code))
    keyed: set[int] = set()
    for expr in ast.walk(tree):
        read = key_read(expr)
        if read is not None and isinstance(read[1], ast.Constant) and isinstance(read[1].value, str):
            keyed.add(id(read[0]))
    return {node_id for expr in ast.walk(tree) if isinstance(expr, ast.expr)
            and (node_id := input_id(expr)) is not None and id(expr) not in keyed}


SINGLE_CALLS = Mend(
    name="single-calls",
    fix=lambda draft, context: draft.with_nodes(single_calls(list(draft.nodes), draft.answer)),
    slip="a step written as a list of one call was read as one call; it is that call")
