"""Optional arguments given as ``""``, ``null`` or ``[]`` are left out."""

from __future__ import annotations

from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise, with_args


def without_blank_options(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` without the optional arguments it gives as ``""`` or ``null``, or as ``[]``
    where the argument's default is none: models fill arguments they do not mean to set so
    (``"cc": ""``, ``"cc": []``), and a tool would take the empty value as meant (a mail copied
    to an address "", or refused: "'cc' has invalid email address(es): []")."""
    registry = context.registry
    if node.tool is None or node.tool not in registry.names():
        return node
    schema = registry.get(node.tool).json_schema()
    required = set(schema.get("required") or ())
    properties = schema.get("properties") or {}

    def blank(name: str, value: Any) -> bool:
        if value == []:
            return (properties.get(name) or {}).get("default") is None
        return value in ("", None)

    def kept(args: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in args.items() if k in required or not blank(k, v)}

    return with_args(node, kept)


BLANK_OPTIONS = Mend(
    name="blank-options", fix=node_wise(without_blank_options),
    slip="optional arguments given as empty values were left out")
