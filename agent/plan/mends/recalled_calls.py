"""A follow-up's plan reading a green node of an earlier run that it does not have gets it back."""

from __future__ import annotations

from pydantic import ValidationError

from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.references import referenced_ids
from agent.tools.registry import Risk


def recalled_calls(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with the green tool nodes of earlier runs that its nodes (or its reply template)
    read and no node of the plan is, placed first: a follow-up's plan that reads
    ``inputs['log']`` from the run before gets ``log`` back (the call is made again, or its
    result reused while fresh). Red calls are never made again so."""
    registry, earlier_calls = context.registry, context.earlier_calls
    have = {node.id for node in draft.nodes}
    wanted = sorted((referenced_ids(draft.answer or "")
                     | {d for node in draft.nodes for d in dependencies(node)}) - have)
    recalled: list[PlanNode] = []
    while wanted:
        node_id = wanted.pop(0)
        call = earlier_calls.get(node_id) or {}
        tool = call.get("tool")
        if (node_id in have or not isinstance(tool, str) or tool not in registry
                or registry.risk_of(tool) is not Risk.GREEN):
            continue
        try:
            node = PlanNode.model_validate({**call, "id": node_id})
        except ValidationError:
            continue
        recalled.append(node)
        have.add(node_id)
        wanted.extend(sorted(dependencies(node) - have))
    return draft.with_nodes([*recalled, *draft.nodes]) if recalled else draft


RECALLED_CALLS = Mend(
    name="recalled-calls", fix=recalled_calls, partial_safe=False,  # the thread's earlier runs
    slip="a step read a result of an earlier request in this thread; that read was made again")
