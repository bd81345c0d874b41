"""The audit trail: what was asked, planned, decided and run, by whom and when (append-only).

Entries go through the :class:`agent.ports.stores.AuditLog` port; ``infra`` writes them to the
``audit_events`` table (decisions, expiries and withdrawals in the same transaction as the
change itself). Arguments are always masked first: a secret argument (see
:meth:`agent.tools.registry.ToolSpec.secret_args`) never reaches the trail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agent.tools.registry import ToolRegistry


class AuditKind(StrEnum):
    REQUEST = "request"
    """A request started a run (actor: who asked)."""
    PLAN = "plan"
    """A plan was validated and is about to run (its nodes, arguments masked)."""
    PLAN_REFUSED = "plan_refused"
    """The last plan of a request was invalid, e.g. it named a tool the requester may not use."""
    APPROVAL_REQUESTED = "approval_requested"
    """A red node asked for approval (tool, arguments masked)."""
    EDIT = "edit"
    """An approver edited a pending approval's arguments (original and edited, masked)."""
    DECISION = "decision"
    """An approval was approved, rejected, expired or withdrawn (who, reason)."""
    RED_START = "red_start"
    """An approved red call is about to run (written before the call)."""
    RED_OUTCOME = "red_outcome"
    """How the red call ended: finished, failed, or unknown (cut off mid-call)."""
    FEEDBACK = "feedback"
    """Someone rated an answer (up or down; a second click by the same person replaces it)."""
    STANDING_GRANT = "standing_grant"
    """Someone approved a red tool for the rest of a thread ("Approve for this thread")."""
    STANDING_APPROVAL = "standing_approval"
    """A standing grant approved a red call (the grant and the call it covered)."""
    STANDING_REVOKED = "standing_revoked"
    """A standing grant was revoked before it expired (who, and why)."""


SYSTEM = "dagbot"
"""The actor of what dagbot does by itself (plans, red calls once approved, expiries)."""


@dataclass(frozen=True)
class AuditEntry:
    thread_id: str
    kind: AuditKind
    actor: str | None
    detail: dict[str, Any]
    run_id: str = ""
    at: float = field(default_factory=time.time)


def masked_plan(plan: dict[str, Any], registry: ToolRegistry) -> dict[str, Any]:
    """The plan as it may be recorded: every tool node's secret arguments masked, in its
    ``args`` and in each item of a fan-out (``each``)."""
    return dict(plan, nodes=[_masked_node(node, registry) for node in plan.get("nodes", [])])


def _masked_node(node: dict[str, Any], registry: ToolRegistry) -> dict[str, Any]:
    tool = node.get("tool")
    if not tool:
        return node
    masked = dict(node, args=registry.masked(tool, node.get("args") or {}))
    if isinstance(node.get("each"), list):
        masked["each"] = [registry.masked(tool, item) if isinstance(item, dict) else item
                          for item in node["each"]]
    return masked
