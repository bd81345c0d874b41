"""The new approval buttons, the standing decision lines, "Approve all" and App Home's list of
grants pass the emulated Slack's Block Kit rules (as they must pass Slack's), and each actions
block names each action once (Slack refuses an action_id twice in a block)."""

from __future__ import annotations

import time
from typing import Any

from agent.events import DecisionRecorded
from agent.plan.readiness import NodeState
from agent.ports.standing import StandingGrant, covering_reason, granting_reason, standing_decision
from agent.ports.stores import Approval, ApprovalStatus
from bot.views.approval_view import render_approval
from bot.views.home_view import MAX_APPROVALS, home_view
from bot.views.progress_view import STANDING_DECISION, NodeView, Phase, RunProgress
from bot.views.standing_view import (
    APPROVE_ALL_BUTTON,
    APPROVE_FOR_THREAD_BUTTON,
    MAX_GRANTS,
    grant_blocks,
)
from bot.views.status_view import render_status
from infra.emulators.slack.blockkit import message_refusal, view_refusal
from tests.fakes.slack_api import render_text


def approval(**fields: Any) -> Approval:
    base: dict[str, Any] = dict(
        id="a" * 32, thread_id="slack:T0TEAM:C0OPS:1.0", plan_id="p", run_id="r", node_id="mail",
        tool="send_email", args={"to": "ops@example.com", "body": "x" * 5000}, args_digest="d", why="asked",
        requested_by="U0ALICE", status=ApprovalStatus.PENDING, requested_at=time.time(),
        expires_at=time.time() + 60)
    base.update(fields)
    return Approval(**base)


def grant(n: int) -> StandingGrant:
    return StandingGrant(id=f"{n:032x}", thread_id=f"slack:T0TEAM:C0OPS:{n}.0", tool="send_email" * 10,
                         requester="U0ALICE", granted_by="U0BOB", granted_at=time.time(),
                         expires_at=time.time() + 3600, approval_id="a" * 32)


def action_ids_are_unique(blocks: list[dict[str, Any]]) -> bool:
    for block in blocks:
        ids = [e.get("action_id") for e in block.get("elements", []) if block.get("type") == "actions"]
        if len(ids) != len(set(ids)):
            return False
    return True


def test_the_approval_message_offers_approve_for_this_thread_only_when_asked_to() -> None:
    text, offered = render_approval(approval(), "<@U0ALICE>", standing=True)
    assert message_refusal(text, offered) is None and action_ids_are_unique(offered)
    assert "[Approve]\n[Approve for this thread]\n[Reject]\n[Edit]" in render_text(text, offered)
    _, plain = render_approval(approval(), "<@U0ALICE>")
    assert APPROVE_FOR_THREAD_BUTTON not in render_text(text, plain)


def test_standing_decisions_say_what_they_were() -> None:
    given = approval(status=ApprovalStatus.APPROVED, decided_by="U0BOB", decided_at=time.time(),
                     reason=granting_reason("b" * 32))
    covered = approval(status=ApprovalStatus.APPROVED, decided_by="U0BOB", decided_at=time.time(),
                       reason=covering_reason("b" * 32))
    for decided, line in ((given, "Approved for this thread by <@U0BOB>"),
                          (covered, "by the standing approval <@U0BOB> gave for this thread")):
        text, blocks = render_approval(decided, "<@U0ALICE>", standing=True)
        assert message_refusal(text, blocks) is None and line in render_text(text, blocks)
    assert standing_decision(given).granted_here and not standing_decision(covered).granted_here  # type: ignore[union-attr]
    assert standing_decision(approval(status=ApprovalStatus.REJECTED, reason=granting_reason("b"))) is None
    assert standing_decision(approval(status=ApprovalStatus.APPROVED, reason="some text")) is None


def test_approve_all_shows_while_several_approvals_wait() -> None:
    run = RunProgress(request="r", requested_by="U0ALICE", started_at=time.time(), phase=Phase.WAITING)
    run.nodes = {n: NodeView(n, "deploy", state=NodeState.AWAITING_APPROVAL) for n in ("a", "b")}
    text, blocks = render_status(run, time.time(), "slack:T0TEAM:C0OPS:1.0")
    assert message_refusal(text, blocks) is None and action_ids_are_unique(blocks)
    assert f"[{APPROVE_ALL_BUTTON}]\n[Cancel]" in render_text(text, blocks)
    run.nodes["b"].state = NodeState.DONE
    _, one = render_status(run, time.time(), "slack:T0TEAM:C0OPS:1.0")
    assert APPROVE_ALL_BUTTON not in render_text(text, one)

    run.apply(DecisionRecorded(thread_id="slack:T0TEAM:C0OPS:1.0", run_id="r", approval_id="x", node_id="a",
                               status="approved", decided_by="U0BOB", standing_grant="g"))
    assert run.nodes["a"].decision == STANDING_DECISION


def test_home_lists_grants_with_revoke_within_the_view_limits() -> None:
    approvals = [render_approval(approval(id=f"{i:032x}"), "<@U0ALICE>", standing=True)[1]
                 for i in range(MAX_APPROVALS)]
    grants = grant_blocks([grant(i) for i in range(MAX_GRANTS + 5)])
    view = home_view([], approvals, 3, [], grants)
    assert view_refusal(view, kind="home") is None and action_ids_are_unique(view["blocks"])
    shown = render_text("", view["blocks"])
    assert shown.count("[Revoke]") == MAX_GRANTS and "… and 5 more." in shown
    assert grant_blocks([]) == [] and "Standing approvals" not in render_text("", home_view([], [], 0, [])["blocks"])
