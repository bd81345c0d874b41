"""A red call approved by a standing grant ("Approve for this thread") instead of a click.

The approval gate (:mod:`agent.execution.approval_gate`) records an approval request for every
red call, as ever; then, if a live grant covers it (same thread, tool and requester, given
before the call was asked for), :func:`approve_by_standing_grant` decides it through the
approval store, the durable, once-only path a click takes, naming the grant as the reason. The
call then runs under that approval through the execution journal like any other, so a restart
loses nothing and the call runs at most once. The trail says which grant approved which call
(``standing_approval``), and the run's events say so (:class:`~agent.events.DecisionRecorded`
with ``standing_grant``), so nobody is asked and the front end shows who gave the grant.

A call asked for again because an earlier attempt's outcome is unknown (``note``) is never
approved by a grant: a person must look first.
"""

from __future__ import annotations

from agent.events import DecisionRecorded
from agent.execution.context import EngineContext
from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.standing import StandingGrant, covering_reason
from agent.ports.stores import Approval, DecisionOutcome


async def covering_grant(ctx: EngineContext, approval: Approval) -> StandingGrant | None:
    """The live grant that approves this pending call, if one does."""
    if not approval.is_pending or approval.requested_by is None or approval.note is not None:
        return None
    grant = await ctx.standing.covering(approval.thread_id, approval.tool, approval.requested_by,
                                        ctx.clock())
    # only calls asked for after the grant: those already waiting were shown to people to decide
    if grant is None or not grant.covers(approval) or grant.granted_at > approval.requested_at:
        return None
    return grant


async def approve_by_standing_grant(ctx: EngineContext, approval: Approval) -> Approval | None:
    """Decide a pending approval by the standing grant that covers it; the approved approval, or
    None when no grant covers it (or it was decided meanwhile: the gate reads it again)."""
    grant = await covering_grant(ctx, approval)
    if grant is None:
        return None
    result = await ctx.approvals.decide(approval.id, approved=True, by=grant.granted_by,
                                        reason=covering_reason(grant.id), now=ctx.clock(),
                                        edits=approval.edits)
    decided = result.approval
    if result.outcome is not DecisionOutcome.RECORDED or decided is None:
        return None
    await ctx.audit.record(AuditEntry(
        thread_id=decided.thread_id, run_id=decided.run_id, kind=AuditKind.STANDING_APPROVAL, actor=SYSTEM,
        detail={"grant_id": grant.id, "granted_by": grant.granted_by, "granted_at": grant.granted_at,
                "expires_at": grant.expires_at, "approval_id": decided.id, "node_id": decided.node_id,
                "tool": decided.tool, "args": ctx.registry.masked(decided.tool, decided.approved_args),
                "requested_by": decided.requested_by}))
    await ctx.events.publish(DecisionRecorded(
        thread_id=decided.thread_id, run_id=decided.run_id, approval_id=decided.id, node_id=decided.node_id,
        status=decided.status.value, decided_by=decided.decided_by, reason=decided.reason,
        standing_grant=grant.id))
    return decided
