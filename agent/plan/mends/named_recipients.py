"""A recipient written as who they are waits for what the plan reads.

A mail ``to: "retro facilitator"`` (monday mail-checkout-resolve: the address "is in
retros/2026-11-27-checkout-retro.md", which the plan read) names its recipient by a role; when
the step runs, the name is the one address the results of the steps it depends on give it
(:mod:`agent.execution.named_recipients`). A small model wires the mail to the step that computed
its text and not to the read that says who the recipient is: such a step is made to wait for
every read of the plan (the green tool steps that do not wait for it), so their results are
there to look in. Its approver still sees the address before anything is sent.
"""

from __future__ import annotations

from typing import Any

from agent.plan.edges import upstream
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.tools.registry import Risk


def names_someone(value: Any) -> bool:
    """Whether ``value`` is a recipient written as words with no address in them."""
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and item.strip() and "@" not in item and "${" not in item
               for item in items)


def waiting_for_reads(draft: Draft, context: MendContext) -> Draft:
    registry = context.registry
    reads = [node.id for node in draft.nodes
             if node.tool is not None and node.tool in registry and registry.risk_of(node.tool) is Risk.GREEN]
    nodes = []
    for node in draft.nodes:
        if node.tool is not None and node.tool in registry and any(
                names_someone(node.args.get(arg)) for arg in registry.address_args(node.tool)):
            waited = upstream(draft.nodes, node.id)
            missing = [read for read in reads if read not in waited and read != node.id
                       and node.id not in upstream(draft.nodes, read)]
            if missing:
                node = node.model_copy(update={"depends_on": [*node.depends_on, *missing]})
        nodes.append(node)
    return draft.with_nodes(nodes)


NAMED_RECIPIENTS = Mend(
    # (safe on a streamed plan's part: it changes only red steps, and those never start early)
    name="named-recipients", fix=waiting_for_reads,
    slip="a mail's recipient was written as a name or a role: the mail waits for the plan's reads, "
         "whose results say which address that is")
