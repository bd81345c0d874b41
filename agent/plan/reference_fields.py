"""``${x.field}`` references held to the keys x's tool returns, as package code's reads are
(:mod:`agent.plan.input_fields`).

A reference to a field the tool never returns fails when it is filled: an argument's node
fails, an answer's sentence goes to the joiner, which a small model completes from nowhere. The
slips with one fix are mended here, before the plan is checked: a body under another tool's
name (``${status.content}`` of an ``http_get``, whose body is ``text``), a field of a JSON body
read from the response (``${status.services}``, or ``${status.text.services}``: the body's text
has no fields) is read from ``json``, and the first of one call's results
(``${oncall.0.content}`` of a ``read_file`` of one path, which returns one object, not a list)
is that call's result. In an argument, a field no fix fits goes to the repair
round, naming the keys there are and the tools that return that field (``${checkout.content}``
of a ``search_files``, when ``read_file`` was meant).
"""

from __future__ import annotations

import re
from typing import Any

from agent.errors import PlanProblem
from agent.plan.format import PlanNode
from agent.plan.input_fields import BODY_KEYS, declared_outputs
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.references import REFERENCE, mapped_strings, path_parts, strings
from agent.tools.registry import ToolRegistry


def mended_reference_fields(nodes: list[PlanNode], answer: str | None, registry: ToolRegistry
                            ) -> tuple[list[PlanNode], str | None]:
    """``nodes`` and ``answer`` with each reference to a field mended where one fix fits."""
    outputs = declared_outputs(nodes, registry)
    if not outputs:
        return nodes, answer

    def mend(match: re.Match[str]) -> str:
        keys, parts = outputs.get(match.group(1)), path_parts(match.group(2))
        fixed = None if keys is None else _fixed(parts, keys)
        return match.group(0) if fixed is None else "${" + ".".join([match.group(1), *fixed]) + "}"

    def mended(value: Any) -> Any:
        return mapped_strings(value, lambda text: REFERENCE.sub(mend, text))

    nodes = [node.model_copy(update={"args": mended(node.args), "each": mended(node.each)})
             if node.tool is not None else node for node in nodes]
    return nodes, None if answer is None else REFERENCE.sub(mend, answer)


def unknown_reference_fields(nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanProblem]:
    """References in tool nodes' arguments (after mending) to fields their node's tool never
    returns: the node would fail. (The ``answer``'s go to the joiner when they cannot be filled,
    which plans again if it would complete the sentence from nowhere: no repair round, which a
    small model answered with the same plan in each of three cases.)"""
    outputs = declared_outputs(nodes, registry)
    tools = {node.id: node.tool for node in nodes}
    problems = []
    for node in nodes:
        if node.tool is None:
            continue
        seen: set[str] = set()
        for text in strings([node.args, node.each]):
            for match in REFERENCE.finditer(text):
                keys, parts = outputs.get(match.group(1)), path_parts(match.group(2))
                if keys is None or not parts or parts[0] in keys or match.group(0) in seen:
                    continue
                seen.add(match.group(0))
                others = sorted(spec.name for spec in registry
                                if parts[0] in (registry.returns_of(spec.name) or ()))
                hint = f" ('{parts[0]}' is what {' and '.join(others)} returns)" if others else ""
                problems.append(PlanProblem(node.id, "args", (
                    f"{match.group(0)}: node '{match.group(1)}' ({tools[match.group(1)]}) returns "
                    f"{{{', '.join(sorted(keys))}}}, no '{parts[0]}'{hint}: refer to one of those, or "
                    "use the tool that gives what is needed"), unfed_reference=match.group(0)))
    return problems


def _fixed(parts: list[str], keys: frozenset[str]) -> list[str] | None:
    """The reference's path mended where one fix fits, or None."""
    if parts[:1] == ["0"] and len(parts) > 1:  # the first of one call's results: that result
        rest = _fixed(parts[1:], keys)
        if rest is not None or parts[1] in keys:
            return rest or parts[1:]
    if parts[:1] and parts[0] in BODY_KEYS and len(parts) > 1 and "json" in keys:
        return ["json", *parts[1:]]  # a field of the body's text (a str has none): of the parsed body
    if not parts or parts[0] in keys or parts[0].isdigit():
        return None
    body = [key for key in BODY_KEYS if key in keys]
    if parts[0] in BODY_KEYS and len(body) == 1:
        return [body[0], *parts[1:]]
    if "json" in keys and parts[0] not in BODY_KEYS:
        return ["json", *parts]
    return None


def _mended_reference_fields(draft: Draft, context: MendContext) -> Draft:
    nodes, answer = mended_reference_fields(list(draft.nodes), draft.answer, context.registry)
    return draft.with_nodes(nodes).with_answer(answer)


REFERENCE_FIELDS = Mend(
    name="reference-fields", fix=_mended_reference_fields,
    slip="a ${…} reference named a field its step does not return; it names the one it does")
