"""Two slips of node ids with one fix: a node waiting for itself, an id given twice."""

from __future__ import annotations

from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext

MAX_BASE = 28
"""Of an id numbered again: room for ``_NNN`` within an id's 32 characters."""


def without_self_dependency(draft: Draft, context: MendContext) -> Draft:
    """A node listing itself in ``depends_on``: the edge is dropped."""
    return draft.with_nodes(
        node.model_copy(update={"depends_on": [d for d in node.depends_on if d != node.id]})
        if node.id in node.depends_on else node for node in draft.nodes)


def numbered_duplicate_ids(draft: Draft, context: MendContext) -> Draft:
    """An id given twice that nothing refers to: the later ones are numbered (``lookup_2``; a
    long id is cut first, so the numbered one is still an id). An id given twice that something
    refers to stays a problem to repair."""
    mended: list[PlanNode] = list(draft.nodes)
    needed = {dep for node in mended for dep in dependencies(node)}
    taken = {node.id for node in mended}
    seen: set[str] = set()
    for index, node in enumerate(mended):
        if node.id in seen and node.id not in needed:
            base, number = node.id[:MAX_BASE], 2
            while f"{base}_{number}" in taken:
                number += 1
            taken.add(f"{base}_{number}")
            mended[index] = node.model_copy(update={"id": f"{base}_{number}"})
        seen.add(mended[index].id)
    return draft.with_nodes(mended)


SELF_DEPENDENCY = Mend(
    name="self-dependency", fix=without_self_dependency,
    slip="a step listed itself among the steps it waits for")
DUPLICATE_IDS = Mend(
    name="duplicate-ids", fix=numbered_duplicate_ids,
    slip="two steps had the same name; the later one was numbered")
