"""A ``${…}`` in a tool's arguments that computes from a node's output, made a package.

Models write the computation they mean where a reference goes: ``"body":
"${oncall.content.splitlines()[0]}"``. The format fills only ``${id}`` and ``${id.field}``, so
sent as written that text would be mailed, with no edge to wait on. The expression says exactly
what to compute, in Python, from one node's output: :func:`computed_as_packages` makes it a
package node of its own (``result = inputs['oncall']['content'].splitlines()[0]``, a field read
as the key it is) and puts a reference to that node where the expression was. The package runs
in the sandbox like any other, after the node it reads; an expression that is no Python, or
names anything but that node and Python's built-ins, is left for the repair round as before.
"""

from __future__ import annotations

import ast
import builtins

from agent.plan.format import PackageSpec, PlanNode, free_id
from agent.plan.input_fields import declared_outputs
from agent.plan.mends.contract import Mend
from agent.plan.references import REFERENCE, malformed_references, mapped_strings, path_parts, strings
from agent.tools.registry import ToolRegistry

_BUILTINS = frozenset(dir(builtins))


def computed_as_packages(nodes: list[PlanNode], registry: ToolRegistry | None = None) -> list[PlanNode]:
    """The nodes, each tool node's computing ``${…}`` made a package node placed before it.
    ``registry``: where it declares what a node's tool returns, a ``.length`` after one of
    those fields is its length (JavaScript's, which a coder model writes: ``${count.matches.length}``)."""
    ids = {node.id for node in nodes}
    lengths = _length_references(nodes, registry)
    mended: list[PlanNode] = []
    for node in nodes:
        if node.tool is None:
            mended.append(node)
            continue
        made: dict[str, PlanNode] = {}

        def replaced(text: str, node: PlanNode = node, made: dict[str, PlanNode] = made) -> str:
            found = {**malformed_references(text, ids),
                     **{m.group(0): m.group(1) for m in REFERENCE.finditer(text) if m.group(0) in lengths}}
            for written, named in found.items():
                code = lengths.get(written) or _as_code(written, named)
                if code is None:
                    continue
                package = made.get(written)
                if package is None:
                    package_id = free_id(f"{node.id}_{named}", ids)
                    ids.add(package_id)
                    package = PlanNode(id=package_id, package=PackageSpec(
                        goal=f"compute {written[2:-1]}", code=code))
                    made[written] = package
                text = text.replace(written, "${" + package.id + "}")
            return text

        args = mapped_strings(node.args, replaced)
        each = mapped_strings(node.each, replaced)
        if made:
            mended.extend(made.values())
            node = node.model_copy(update={"args": args, "each": each})
        mended.append(node)
    return mended


def _length_references(nodes: list[PlanNode], registry: ToolRegistry | None) -> dict[str, str]:
    """``${x.field….length}`` references, where ``field`` is one x's tool declares (not a parsed
    body's, which may have a ``length`` of its own), with the code computing that length."""
    if registry is None:
        return {}
    outputs = declared_outputs(nodes, registry)
    found = {}
    for node in nodes:
        for text in strings([node.args, node.each or []]):
            for match in REFERENCE.finditer(text):
                parts = path_parts(match.group(2))
                declared = outputs.get(match.group(1), frozenset())
                if len(parts) >= 2 and parts[-1] == "length" and parts[0] in declared and parts[0] != "json":
                    keys = "".join(f"[{int(p)}]" if p.isdigit() else f"[{p!r}]" for p in parts[:-1])
                    found[match.group(0)] = f"result = len(inputs[{match.group(1)!r}]{keys})"
    return found


def _as_code(written: str, named: str) -> str | None:
    """``result = …`` computing ``written`` (``${x.content.splitlines()[0]}``) from
    ``inputs['x']``: a field read as a key, a method called as it is; None when it is not one
    Python expression over that node alone."""
    if not (written.startswith("${") and written.endswith("}")):
        return None
    try:
        tree = ast.parse(written[2:-1].strip(), mode="eval")
    except SyntaxError:
        return None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if named not in names or names - {named} - _BUILTINS:
        return None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    body = _FieldsAsKeys(named, called).visit(tree.body)
    return f"result = {ast.unparse(body)}"


class _FieldsAsKeys(ast.NodeTransformer):
    """``x.content.splitlines()`` → ``inputs['x']['content'].splitlines()``."""

    def __init__(self, named: str, called: set[int]) -> None:
        self.named, self.called = named, called

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id != self.named:
            return node
        inputs = ast.Name("inputs", ast.Load())
        return ast.Subscript(value=inputs, slice=ast.Constant(self.named), ctx=ast.Load())

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = self.visit(node.value)
        if id(node) in self.called:  # a method: called as it is
            return ast.Attribute(value=value, attr=node.attr, ctx=node.ctx)
        return ast.Subscript(value=value, slice=ast.Constant(node.attr), ctx=node.ctx)


COMPUTED_REFERENCES = Mend(
    name="computed-references",
    fix=lambda draft, context: draft.with_nodes(computed_as_packages(list(draft.nodes), context.registry)),
    slip="an argument computed from a result inside ${…}; a step computes it in the sandbox")
