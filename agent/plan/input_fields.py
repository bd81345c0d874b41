"""Package code's reads of a tool's output, held to the keys the tool returns.

A planner writes package code before any input exists, from the tools' "Returns" sentences,
and small models mix the tools up: ``inputs['status']['content']`` of an ``http_get`` (whose
body is ``text``; ``content`` is ``read_file``'s), or ``inputs['status']['services']`` of a
JSON body (its fields are under ``json``), or ``inputs['status']['text']['services']`` (a
field of the body's text, which has none). Each has one possible fix, made here before the
plan is checked: the body under the name this tool gives it, a JSON field read from ``json``.
A read with no such fix is a fault of the code where it stands (reflexion mends it when it
fails, with the input in view), told to the repair round when there is one. Only direct
reads are looked at (``inputs['x']['k']``, ``inputs.get('x')['k']``, ``inputs['x'].get('k')``)
of nodes that call one tool (a fan-out's output is a list) whose keys are declared
(:attr:`agent.tools.registry.ToolSpec.returns`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from agent.errors import PlanProblem
from agent.plan.format import PlanNode
from agent.plan.package_code import parse_python
from agent.tools.registry import ToolRegistry

BODY_KEYS = ("text", "content", "body")
"""The names tools give a body of text: one read under another's name means that one."""


@dataclass(frozen=True)
class _Read:
    node_id: str
    key: str
    source: ast.expr  # inputs['x'], the value read from
    key_node: ast.expr  # the constant 'k'


def mended_input_fields(nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanNode]:
    """The nodes, each package's code with its reads of tool outputs mended where one fix fits."""
    outputs = _declared_outputs(nodes, registry)
    mended = []
    for node in nodes:
        if node.package is not None and outputs:
            code = _mended_code(node.package.code, outputs)
            if code != node.package.code:
                node = node.model_copy(update={"package": node.package.model_copy(update={"code": code})})
        mended.append(node)
    return mended


def unknown_input_fields(node: PlanNode, nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanProblem]:
    """Reads by ``node``'s code of keys its inputs' tools never return (after mending)."""
    outputs = _declared_outputs(nodes, registry)
    if node.package is None or not outputs:
        return []
    problems = []
    for read in _reads(node.package.code):
        keys = outputs.get(read.node_id)
        if keys is not None and read.key not in keys:
            problems.append(PlanProblem(node.id, "package.code", (
                f"reads inputs['{read.node_id}']['{read.key}'], but node '{read.node_id}' returns "
                f"{{{', '.join(sorted(keys))}}}: read one of those"), code_fault=True, local=True))
    return problems


def _declared_outputs(nodes: list[PlanNode], registry: ToolRegistry) -> dict[str, frozenset[str]]:
    outputs = {}
    for node in nodes:
        if node.tool is not None and node.each is None:
            keys = registry.returns_of(node.tool)
            if keys is not None:
                outputs[node.id] = keys
    return outputs


def _mended_code(code: str, outputs: dict[str, frozenset[str]]) -> str:
    raw = code.encode()
    starts = _line_starts(raw)
    # a body whose fields are read is the parsed one, whatever the body was called
    parsed = {_span(body, starts) for body in _keys_of_text(code, outputs)}
    edits = [(start, end, "'json'") for start, end in parsed]  # (start, end, text), UTF-8 byte offsets
    for read in _reads(code):
        keys = outputs.get(read.node_id)
        if keys is None or read.key in keys:
            continue
        body = [k for k in BODY_KEYS if k in keys]
        if read.key in BODY_KEYS and len(body) == 1:
            if _span(read.key_node, starts) not in parsed:
                edits.append((*_span(read.key_node, starts), repr(body[0])))
        elif "json" in keys and read.key not in BODY_KEYS:
            end = _span(read.source, starts)[1]
            edits.append((end, end, "['json']"))
    for start, end, text in sorted(edits, reverse=True):
        raw = raw[:start] + text.encode() + raw[end:]
    return raw.decode()


def _keys_of_text(code: str, outputs: dict[str, frozenset[str]]) -> list[ast.expr]:
    """The body keys of reads like ``inputs['x']['text']['services']``: a field read from a
    body of text (a str has no fields), where x's tool also returns that body parsed, ``json``."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str) and isinstance(node.value, ast.Subscript)):
            continue
        body = node.value.slice
        node_id = _input_id(node.value.value)
        if (node_id is not None and "json" in outputs.get(node_id, ())
                and isinstance(body, ast.Constant) and body.value in BODY_KEYS):
            found.append(body)
    return found


def _reads(code: str) -> list[_Read]:
    try:
        tree = parse_python(code)
    except SyntaxError:
        return []
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            source, key = node.value, node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args):
            source, key = node.func.value, node.args[0]
        else:
            continue
        node_id = _input_id(source)
        if node_id is not None and isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append(_Read(node_id, key.value, source, key))
    return reads


def _input_id(expr: ast.expr) -> str | None:
    """``x`` when ``expr`` is ``inputs['x']`` or ``inputs.get('x')``."""
    if isinstance(expr, ast.Subscript):
        base, key = expr.value, expr.slice
    elif (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get"
          and expr.args):
        base, key = expr.func.value, expr.args[0]
    else:
        return None
    if isinstance(base, ast.Name) and base.id == "inputs" and isinstance(key, ast.Constant) \
            and isinstance(key.value, str):
        return key.value
    return None


def _line_starts(raw: bytes) -> list[int]:
    starts, offset = [0], 0
    for line in raw.splitlines(keepends=True):
        offset += len(line)
        starts.append(offset)
    return starts


def _span(expr: ast.expr, starts: list[int]) -> tuple[int, int]:
    assert expr.end_lineno is not None and expr.end_col_offset is not None
    return starts[expr.lineno - 1] + expr.col_offset, starts[expr.end_lineno - 1] + expr.end_col_offset
