"""Standing approvals in the engine: a red call a live grant covers is approved by it through the
approval store and runs once through the journal; anything else asks as before."""

from __future__ import annotations

import time
from typing import Any, cast

from agent.events import AwaitingApproval, DecisionRecorded
from agent.execution.context import EngineContext
from agent.execution.standing import covering_grant
from agent.ports.standing import StandingGrant, covering_reason
from agent.ports.stores import Approval, ApprovalStatus, ExecutionStatus
from tests.agent.harness import MEMORY, finish, harness

DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}


def grant(granted_at: float, *, tool: str = "deploy", thread_id: str = "t1") -> StandingGrant:
    return StandingGrant(id="g" + "0" * 31, thread_id=thread_id, tool=tool, requester="U1", granted_by="U2",
                         granted_at=granted_at, expires_at=granted_at + 3600, approval_id="a0")


async def test_a_covered_call_is_approved_by_the_grant_and_runs_once() -> None:
    async with harness(MEMORY, [DEPLOY, finish("deployed"), DEPLOY, finish("asked")]) as h:
        standing = h.engine.ctx.standing
        await standing.grant(grant(time.time() - 1))
        await h.engine.ask("t1", "deploy prod", requested_by="U1")

        labels = h.labels()
        assert "AwaitingApproval:ship" not in labels
        assert labels.index("DecisionRecorded:ship") < labels.index("NodeStarted:ship") \
            < labels.index("NodeFinished:ship")
        decided = next(e for e in h.events if isinstance(e, DecisionRecorded))
        assert decided.standing_grant == grant(0).id and decided.decided_by == "U2"
        approval = await h.engine.ctx.approvals.get(decided.approval_id)
        assert approval is not None and approval.status is ApprovalStatus.APPROVED
        assert approval.reason == covering_reason(grant(0).id)
        journal = await h.engine.ctx.executions.get(decided.approval_id)
        assert journal is not None and journal.status is ExecutionStatus.FINISHED
        assert h.log.count("deploy") == 1

        # revoked, it covers nothing: the next call asks
        await standing.revoke(grant(0).id, by="U1", now=time.time())
        await h.engine.ask("t1", "deploy prod again", requested_by="U1")
        await h.next_event(AwaitingApproval, node_id="ship")
        assert h.log.count("deploy") == 1


def approval(**fields: Any) -> Approval:
    now = time.time()
    base: dict[str, Any] = dict(id="a1", thread_id="t1", plan_id="p", node_id="ship", tool="deploy",
                                args={}, args_digest="d", why="", status=ApprovalStatus.PENDING,
                                requested_by="U1", requested_at=now, expires_at=now + 60)
    base.update(fields)
    return Approval(**base)


class OneGrant:
    """A fake store holding one grant (whatever it is asked, as a store that found it)."""

    def __init__(self, kept: StandingGrant) -> None:
        self.kept = kept

    async def covering(self, thread_id: str, tool: str, requester: str, now: float) -> StandingGrant | None:
        return self.kept if self.kept.is_live(now) else None


async def test_only_calls_asked_for_after_the_grant_and_with_no_doubt_are_covered() -> None:
    ctx = cast(EngineContext, type("Ctx", (), {"standing": OneGrant(grant(time.time() - 10)),
                                              "clock": staticmethod(time.time)})())
    assert await covering_grant(ctx, approval()) is not None
    # asked again because an earlier call's outcome is unknown: a person must look first
    assert await covering_grant(ctx, approval(note="outcome unknown")) is None
    # already waiting when the grant was given: it keeps its approval message
    assert await covering_grant(ctx, approval(requested_at=time.time() - 20)) is None
    # another tool, another thread, no requester, or decided already
    assert await covering_grant(ctx, approval(tool="scale")) is None
    assert await covering_grant(ctx, approval(thread_id="t2")) is None
    assert await covering_grant(ctx, approval(requested_by=None)) is None
    assert await covering_grant(ctx, approval(status=ApprovalStatus.REJECTED)) is None
