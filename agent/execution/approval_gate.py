"""Approvals of red nodes: whether a ready red node may run, waits, or is settled already.

A red node's approval is a durable record keyed by the plan, the node and a digest of the
resolved arguments (:func:`args_digest`): the scheduler (:mod:`agent.execution.scheduler`) asks the
gate about a ready red node at each scheduling step, and the gate answers from the stores.
No approval yet, or one for other arguments: it requests one (audited, announced as
:class:`~agent.events.AwaitingApproval`) and the node waits as data. Approved: the node runs
its call, unless the execution journal shows the call was made already, in which case its
recorded outcome is the node's result. A standing grant ("Approve for this thread") that
covers the call decides its approval at once (:mod:`agent.execution.standing`): nobody is
asked. A call found begun but never finished (the process stopped mid-call) is never run
again silently: its outcome is marked unknown and a new approval is requested with a note
saying so (which no standing grant approves).

The gate only reads and writes the approval and execution stores; the scheduler owns the
node states and applies the verdicts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.events import AwaitingApproval
from agent.execution.context import EngineContext
from agent.execution.red_calls import audit_outcome
from agent.execution.standing import approve_by_standing_grant
from agent.plan.format import Plan, PlanNode
from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.stores import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    ExecutionStatus,
    NodeResult,
    NodeStatus,
)
from agent.run_identity import RunIdentity

UNKNOWN_OUTCOME_NOTE = (
    "The previously approved call was interrupted before it reported back, so its outcome is "
    "unknown. Check whether it took effect before approving it again."
)


def args_digest(tool: str, args: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, "args": args}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def refusal(approval: Approval) -> str:
    """Why a red node whose approval was not given is rejected (its result's error)."""
    if approval.status is ApprovalStatus.REJECTED:
        who = f" by {approval.decided_by}" if approval.decided_by else ""
        return f"rejected{who}" + (f": {approval.reason}" if approval.reason else "")
    if approval.status is ApprovalStatus.EXPIRED:
        return "the approval request expired before anyone decided"
    return "the approval request was withdrawn" + (f": {approval.reason}" if approval.reason else "")


@dataclass(frozen=True)
class Waiting:
    """The node waits for a decision on this (pending) approval."""

    approval: Approval


@dataclass(frozen=True)
class Cleared:
    """Approved, and its call not begun: run it under this approval."""

    approval: Approval


Verdict = NodeResult | Waiting | Cleared
"""What a ready red node does now; a :class:`~agent.ports.stores.NodeResult` is its final result."""


@dataclass(frozen=True)
class ApprovalGate:
    """The approvals of one plan's red nodes."""

    ctx: EngineContext
    plan: Plan
    ident: RunIdentity

    async def verdict(self, node: PlanNode, args: dict[str, Any]) -> Verdict:
        """What a ready red node, with these resolved and validated arguments, does now:
        wait (for an approval requested now if it had none for these arguments), run its call,
        or take its final result (rejected, expired or withdrawn; or its call was made already)."""
        assert node.tool is not None
        digest = args_digest(node.tool, args)
        approval = await self.ctx.approvals.latest_for_node(
            self.ident.thread_id, self.ident.plan_id, node.id
        )
        if approval is None or approval.args_digest != digest:
            return await self._request(node, args, digest)
        if approval.is_pending and approval.expires_at <= self.ctx.clock():
            # Overdue but not swept yet: expire it now rather than park on it again.
            expired = await self.ctx.approvals.expire_overdue(self.ctx.clock(), self.ident.thread_id)
            approval = next((a for a in expired if a.id == approval.id), None) or \
                await self.ctx.approvals.get(approval.id) or approval
        if approval.status is ApprovalStatus.PENDING:
            # asked for after a standing grant, by a process that stopped before deciding it
            approval = await approve_by_standing_grant(self.ctx, approval) or approval
            if approval.is_pending:
                return Waiting(approval)
        if approval.status is not ApprovalStatus.APPROVED:
            return NodeResult(node.id, NodeStatus.REJECTED, error=refusal(approval))
        execution = await self.ctx.executions.get(approval.id)
        if execution is None:
            return Cleared(approval)
        if execution.status is ExecutionStatus.FINISHED:
            return NodeResult(node.id, NodeStatus.DONE, output=execution.output)
        if execution.status is ExecutionStatus.FAILED:
            return NodeResult(node.id, NodeStatus.FAILED, error=execution.error)
        # 'started' with no end: the process stopped mid-call. Never re-run silently.
        await self.ctx.executions.mark_unknown(approval.id)
        if execution.status is ExecutionStatus.STARTED:  # (found so for the first time)
            await audit_outcome(self.ctx, approval, "unknown",
                                "the process stopped during the call; it may or may not have taken effect")
        return await self._request(node, args, digest, note=UNKNOWN_OUTCOME_NOTE)

    async def decided(self, awaiting: Mapping[str, str]) -> list[str]:
        """The nodes among ``awaiting`` (node id → approval id) whose approval is no longer
        pending (decided, expired, withdrawn or gone): each is to be gated again."""
        if not awaiting:
            return []
        await self.ctx.approvals.expire_overdue(self.ctx.clock(), self.ident.thread_id)
        decided: list[str] = []
        for node_id, approval_id in list(awaiting.items()):
            approval = await self.ctx.approvals.get(approval_id)
            if approval is None or not approval.is_pending:
                decided.append(node_id)
        return decided

    async def _request(
        self, node: PlanNode, args: dict[str, Any], digest: str, note: str | None = None
    ) -> Waiting | Cleared:
        """Ask for an approval of the call; a standing grant that covers it approves it at once."""
        assert node.tool is not None
        ident = self.ident
        approval = await self.ctx.approvals.request(ApprovalRequest(
            thread_id=ident.thread_id, plan_id=ident.plan_id, node_id=node.id,
            tool=node.tool, args=args, args_digest=digest,
            why=node.why or self.plan.thought or "part of the plan",
            requested_by=ident.requested_by,
            ttl_seconds=self.ctx.settings.approval_ttl_seconds, note=note, run_id=ident.run_id,
        ))
        await self.ctx.audit.record(AuditEntry(
            thread_id=ident.thread_id, run_id=ident.run_id, kind=AuditKind.APPROVAL_REQUESTED,
            actor=SYSTEM, detail={"approval_id": approval.id, "node_id": node.id, "tool": node.tool,
                                  "args": self.ctx.registry.masked(node.tool, args),
                                  "requested_by": approval.requested_by, "note": note}))
        if (standing := await approve_by_standing_grant(self.ctx, approval)) is not None:
            return Cleared(standing)
        await self.ctx.events.publish(AwaitingApproval(
            thread_id=ident.thread_id, run_id=ident.run_id,
            approval_id=approval.id, node_id=node.id, tool=node.tool, args=args,
            why=approval.why, requested_by=approval.requested_by, expires_at=approval.expires_at,
            note=note,
        ))
        return Waiting(approval)
