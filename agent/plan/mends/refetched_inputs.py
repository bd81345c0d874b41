"""A package fetching again what a node of its plan fetched reads that node's result instead.

A coder model writes what it would write anywhere: the plan fetched the status page with an
``http_get`` node, and the package went on ``url = inputs['status']['url']; response =
requests.get(url); data = response.json()``. A package has no network, so the plan was refused
twice over ``requests``. When each ``requests.get(…)`` of a package's code is assigned to a name
and fetches an address an ``http_get`` node of the plan fetches (read from that node's result, or
the same address written out), and the response is only read as ``.json()``, ``.text`` or
``.status_code``, the code reads that node's result (``inputs['status']['json']``…) and no longer
imports ``requests``. Anything less plain stays a problem to repair.
"""

from __future__ import annotations

import ast

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.package_code import parse_python, source_span, spliced

HTTP_GET = "http_get"
_READS = {"text": "text", "status_code": "status"}
"""A response's attributes, as the keys of http_get's result that hold them (``.json()``: ``json``)."""


def refetched_inputs(draft: Draft, context: MendContext) -> Draft:
    fetched = {node.id: str(node.args["url"]) for node in draft.nodes
               if node.tool == HTTP_GET and node.each is None and isinstance(node.args.get("url"), str)}
    if not fetched:
        return draft
    return draft.with_nodes(_unfetched(node, fetched) for node in draft.nodes)


def _unfetched(node: PlanNode, fetched: dict[str, str]) -> PlanNode:
    if node.package is None or "requests" not in node.package.code:
        return node
    code = _mended(node.package.code, fetched)
    if code is None:
        return node
    return node.model_copy(update={"package": node.package.model_copy(update={"code": code})})


def _mended(code: str, fetched: dict[str, str]) -> str | None:
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    assigned = {stmt.targets[0].id: stmt.value for stmt in ast.walk(tree) if isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)}
    edits: list[tuple[int, int, str]] = []
    responses: dict[str, str] = {}
    handled: set[int] = set()
    for call in ast.walk(tree):
        if not _is_requests_get(call):
            continue
        assert isinstance(call, ast.Call)
        statement = parents.get(id(call))
        dep = _fetched_by(call, fetched, assigned)
        if (dep is None or not isinstance(statement, ast.Assign) or len(statement.targets) != 1
                or not isinstance(statement.targets[0], ast.Name)):
            return None
        responses[statement.targets[0].id] = dep
        edits.append((*source_span(code, call), f"inputs[{dep!r}]"))
        handled.add(id(call.func.value))  # type: ignore[attr-defined]
    if not responses:
        return None
    for name in ast.walk(tree):
        if not isinstance(name, ast.Name):
            continue
        if name.id == "requests" and id(name) not in handled:
            return None  # requests used otherwise
        if name.id in responses and isinstance(name.ctx, ast.Load):
            read = _response_read(code, name, parents)
            if read is None:
                return None
            edits.append(read)
    for statement in tree.body:
        if isinstance(statement, ast.Import) and [a.name for a in statement.names] == ["requests"]:
            edits.append((*source_span(code, statement), "pass"))
        elif isinstance(statement, ast.Import) and any(a.name == "requests" for a in statement.names):
            return None
    return spliced(code, edits)


def _is_requests_get(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "requests")


def _fetched_by(call: ast.Call, fetched: dict[str, str], assigned: dict[str, ast.expr]) -> str | None:
    """The http_get node whose address ``call`` fetches: read from its result
    (``inputs['status']['url']``, directly or through a name), or written out the same."""
    if len(call.args) != 1 or call.keywords:
        return None
    address = call.args[0]
    if isinstance(address, ast.Name) and address.id in assigned:
        address = assigned[address.id]
    if isinstance(address, ast.Constant):
        same = [dep for dep, url in fetched.items() if url == address.value]
        return same[0] if len(same) == 1 else None
    reads = [item.slice.value for item in ast.walk(address) if isinstance(item, ast.Subscript)
             and isinstance(item.value, ast.Name) and item.value.id == "inputs"
             and isinstance(item.slice, ast.Constant)]
    return reads[0] if len(reads) == 1 and reads[0] in fetched else None


def _response_read(code: str, name: ast.Name, parents: dict[int, ast.AST]) -> tuple[int, int, str] | None:
    """The edit that reads a response's ``.json()``, ``.text`` or ``.status_code`` from the
    node's result (what follows the name becomes a subscript); None for any other use."""
    attribute = parents.get(id(name))
    if not isinstance(attribute, ast.Attribute):
        return None
    call = parents.get(id(attribute))
    _, after_name = source_span(code, name)
    if attribute.attr == "json" and isinstance(call, ast.Call) and call.func is attribute and not call.args:
        return after_name, source_span(code, call)[1], "['json']"
    if attribute.attr in _READS:
        return after_name, source_span(code, attribute)[1], f"[{_READS[attribute.attr]!r}]"
    return None


REFETCHED_INPUTS = Mend(
    name="refetched-inputs", fix=refetched_inputs,
    slip="a step fetched again, with requests, a page the plan had fetched; it reads that result")
