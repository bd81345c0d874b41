"""A path, pattern or address written with spaces around it is the one without them.

"which open action items in retros/2026-11-27-checkout-retro.md are due before 2026-12-03?" was
planned with two searches whose pattern was ``" retros/2026-11-27-checkout-retro.md"`` (monday
due-before-dec-3): no file's path starts with a space, so they searched nothing, and nothing
saw that they searched the file the plan also read. No file name, glob or address begins or
ends with a space: the one reading under which the call works is the value stripped.
"""

from __future__ import annotations

from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise, with_args

LOCATION_ARGS = frozenset({"path", "pattern", "url"})
"""The arguments that name where a tool looks (a file, a glob, an address)."""


def stripped_locations(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` with its path, pattern and url arguments stripped of the spaces around them."""
    def stripped(args: dict[str, Any]) -> dict[str, Any]:
        return {k: v.strip() if k in LOCATION_ARGS and isinstance(v, str) and v.strip() else v
                for k, v in args.items()}

    return node if node.tool is None else with_args(node, stripped)


PADDED_PATHS = Mend(
    name="padded-paths", fix=node_wise(stripped_locations),
    slip="a path, pattern or address was written with spaces around it; they were taken off")
