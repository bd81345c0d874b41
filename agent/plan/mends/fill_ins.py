"""Required arguments a plan leaves out, given the values their tool declares for them.

A small model writes the arguments a request speaks of: "Email the average to ci@example.com"
became a ``send_email`` with a ``to`` and a ``body`` and no ``subject``, and the plan was refused
for it, even after the repair round (bench.quality's dev set: the plan that was to be refused
for reading /etc/shadow ended on "subject: Field required" instead). A tool may declare a value
for such an argument (:attr:`agent.tools.registry.ToolSpec.fill_ins`); it is given here, before
the plan is checked, and the approver sees it with the rest. An argument the model did give,
even empty, is left as it is.
"""

from __future__ import annotations

from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise


def with_fill_ins(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` with every argument its tool has a fill-in for and the node leaves out given it
    (in each item of a fan-out too)."""
    if node.tool is None or node.tool not in context.registry.names():
        return node
    fill_ins = context.registry.fill_ins_of(node.tool)
    if not fill_ins:
        return node

    def filled(args: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in fill_ins.items() if k not in args}, **args}

    each = None if node.each is None else [filled(item) if isinstance(item, dict) else item
                                           for item in node.each]
    mended = node.model_copy(update={"args": filled(node.args), "each": each})
    return node if mended == node else mended


MISSING_FILL_INS = Mend(
    name="missing-fill-ins", fix=node_wise(with_fill_ins),
    slip="a required argument the plan left out was given the value its tool declares for it")
