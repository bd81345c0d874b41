"""A change asked for, written with a read-only tool that refuses it, goes to the tool that makes it.

"Add a row to the deploys table: thumbnailer 2.8.4, …" was drafted as ``sql_query`` with an
``INSERT``: the read-only tool refuses a statement that changes data, and the repair round,
told so, answered "I can't do that: none of my tools reboots servers" (an example's words).
The call was right but for its tool. Where a node's arguments do not fit its green tool, and
fit exactly one red tool whose declared effects the request asks for (``sql_execute`` records
rows), the node calls that tool: its risk is the registry's, so the change still waits for its
approval, and the approver sees the call as it will run.
"""

from __future__ import annotations

from pydantic import ValidationError

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise
from agent.tools.effects import asked_effects
from agent.tools.registry import Risk, ToolRegistry


def change_tool(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` calling the one red tool its arguments fit, when they do not fit its green tool
    and the request asks for what that red tool does; as it was otherwise."""
    registry = context.registry
    if context.request is None or node.tool is None or node.each is not None or node.tool not in registry \
            or registry.risk_of(node.tool) is not Risk.GREEN or _fits(registry, node.tool, node.args):
        return node
    asked = asked_effects(context.request)
    fitting = [name for name in registry.names(Risk.RED)
               if (registry.effects_of(name) or frozenset()) & asked and _fits(registry, name, node.args)]
    return node.model_copy(update={"tool": fitting[0]}) if len(fitting) == 1 else node


def _fits(registry: ToolRegistry, tool: str, args: dict[str, object]) -> bool:
    model = registry.get(tool).args_model()
    if model is None:
        return False  # (arguments no schema holds: nothing says they fit)
    try:
        model.model_validate(args)
    except ValidationError:
        return False
    return True


CHANGE_TOOLS = Mend(
    name="change-tools", fix=node_wise(change_tool), partial_safe=False,  # the request
    slip="a change the request asks for was written with a tool that only reads; it was given to "
         "the tool that makes it, which asks for approval")
