"""A plan's edges: which nodes a node waits for, and which calls a tool node makes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.plan.format import PlanNode
from agent.plan.package_code import package_input_ids
from agent.plan.references import referenced_ids


def dependencies(node: PlanNode) -> set[str]:
    """A node's edges: its ``depends_on``, every ``${id}`` it refers to, and for a package
    every ``inputs["id"]`` its code reads."""
    edges = set(node.depends_on) | referenced_ids(node.args) | referenced_ids(node.each or [])
    return edges | package_input_ids(node.package.code) if node.package else edges


def call_args(node: PlanNode) -> list[dict[str, Any]]:
    """The arguments of each call a tool node makes: ``args``, or ``args`` updated by each
    item of a fan-out (references still unresolved)."""
    if node.each is None:
        return [node.args]
    return [{**node.args, **item} for item in node.each]


def find_cycle(edges: Mapping[str, set[str]]) -> list[str] | None:
    """Return one cycle as a path (first node repeated at the end), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    stack: list[str] = []

    def visit(node_id: str) -> list[str] | None:
        colour[node_id] = grey
        stack.append(node_id)
        for dep in sorted(edges.get(node_id, ())):
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*stack[stack.index(dep):], dep]
            if colour[dep] == white and (found := visit(dep)):
                return found
        stack.pop()
        colour[node_id] = black
        return None

    for node_id in sorted(edges):
        if colour[node_id] == white and (found := visit(node_id)):
            return found
    return None


def upstream(nodes: Iterable[PlanNode], node_id: str) -> set[str]:
    """The nodes ``node_id`` depends on, directly or through others."""
    edges = {node.id: dependencies(node) for node in nodes}
    found: set[str] = set()
    waiting = list(edges.get(node_id, ()))
    while waiting:
        if (current := waiting.pop()) not in found:
            found.add(current)
            waiting.extend(edges.get(current, ()))
    return found
