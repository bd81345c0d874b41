"""A follow-up's plan reading a green node of an earlier run that it does not have gets it back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.references import referenced_ids
from agent.tools.registry import Risk, ToolRegistry


def recalled_calls(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with the green nodes of earlier runs that its nodes (or its reply template)
    read and no node of the plan is, placed first: a follow-up's plan that reads
    ``inputs['log']`` from the run before gets ``log`` back (the call is made again, or its
    result reused while fresh), and one that writes ``${top.name}`` gets the package ``top``
    back, with the reads it takes its inputs from (run again in the sandbox: a package reaches
    green tools only). Red calls are never made again so."""
    registry, earlier_calls = context.registry, context.earlier_calls
    have = {node.id for node in draft.nodes}
    wanted = sorted((referenced_ids(draft.answer or "")
                     | {d for node in draft.nodes for d in dependencies(node)}) - have)
    recalled: list[PlanNode] = []
    while wanted:
        node_id = wanted.pop(0)
        call = earlier_calls.get(node_id) or {}
        if node_id in have or not _green(call, registry):
            continue
        try:
            node = PlanNode.model_validate({**call, "id": node_id})
        except ValidationError:
            continue
        recalled.append(node)
        have.add(node_id)
        wanted.extend(sorted(dependencies(node) - have))
    return draft.with_nodes([*recalled, *draft.nodes]) if recalled else draft


def _green(call: Mapping[str, Any], registry: ToolRegistry) -> bool:
    """A package (whose code reaches green tools only), or a call of a registered green tool."""
    tool = call.get("tool")
    if tool is None:
        return isinstance(call.get("package"), Mapping)
    return isinstance(tool, str) and tool in registry and registry.risk_of(tool) is Risk.GREEN


RECALLED_CALLS = Mend(
    name="recalled-calls", fix=recalled_calls, partial_safe=False,  # the thread's earlier runs
    slip="a step read a result of an earlier request in this thread; that read was made again")
