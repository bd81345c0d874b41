"""Non-blocking approvals: a red node waits alone while every green branch keeps running."""

from __future__ import annotations

import asyncio

from agent.engine.engine import ThreadStatus
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    NodeFailed,
    NodeFinished,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    Waiting,
)
from agent.execution.context import EngineSettings
from agent.ports.stores import ApprovalStatus, DecisionOutcome
from tests.agent.harness import MEMORY, finish, harness

RED_AND_GREEN_CHAIN = {
    "thought": "deploy needs approval; the lookups are independent of it",
    "nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship it"},
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
        {"id": "c", "tool": "lookup", "args": {"key": "${b}"}},
    ],
}


async def test_green_branch_finishes_while_red_node_waits_then_resume() -> None:
    async with harness(MEMORY, [RED_AND_GREEN_CHAIN, finish("deployed and looked up")]) as h:
        # the user asks; the run goes quiet with only the approval left
        await h.engine.ask("t1", "deploy prod and look things up", requested_by="U1")
        assert await h.engine.status("t1") is ThreadStatus.WAITING
        labels = h.labels()
        asked = labels.index("AwaitingApproval:deploy")
        for node in ("a", "b", "c"):
            assert labels.index(f"NodeFinished:{node}") > asked  # the chain ran after the ask
        assert "Waiting" in labels and "DecisionRecorded:deploy" not in labels
        assert h.log.count("deploy") == 0 and h.log.count("lookup") == 3

        # a human approves; the parked thread resumes and the red tool runs once
        approval = next(e for e in h.events if isinstance(e, AwaitingApproval))
        assert approval.requested_by == "U1" and approval.args == {"target": "prod", "note": ""}
        result = await h.engine.decide(approval.approval_id, approved=True, by="U2")
        assert result.outcome is DecisionOutcome.RECORDED
        await h.engine.idle()
        assert h.log.count("deploy") == 1
        answer = await h.next_event(AnswerReady)
        assert answer.answer == "deployed and looked up"
        assert h.labels().index("DecisionRecorded:deploy") < h.labels().index("NodeFinished:deploy")
        assert await h.engine.status("t1") is ThreadStatus.IDLE

        # a second click on the same approval changes nothing
        again = await h.engine.decide(approval.approval_id, approved=True, by="U3")
        assert again.outcome is DecisionOutcome.ALREADY_DECIDED
        await h.engine.idle()
        assert h.log.count("deploy") == 1


async def test_decision_arriving_mid_run_is_picked_up_without_parking() -> None:
    plan = {"nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "stage"}},
        {"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "hold"}},
        {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
    ]}
    async with harness(MEMORY, [plan, finish("done")]) as h:
        await h.engine.submit("t2", "deploy stage", requested_by="U1")
        asked = await h.next_event(AwaitingApproval, node_id="deploy")
        await h.next_event(NodeStarted, node_id="a")  # the green branch is running
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.next_event(NodeFinished, node_id="deploy")
        h.log.gates["hold"].set()  # only now may the green branch finish
        await h.engine.idle()
        labels = h.labels()
        assert labels.index("NodeFinished:deploy") < labels.index("NodeFinished:a")
        assert "Waiting" not in labels  # never parked: the decision arrived while running
        assert h.log.count("deploy") == 1
        assert isinstance(h.events[-1], AnswerReady)


async def test_rejection_skips_dependents_and_the_joiner_is_told_why() -> None:
    plan = {"nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
        {"id": "notify", "tool": "send", "args": {"to": "ops", "body": "deployed ${deploy}"}},
        {"id": "check", "tool": "lookup", "args": {"key": "health"}},
    ]}
    async with harness(MEMORY, [plan, finish("Deploy was rejected; health looked fine.")]) as h:
        await h.engine.ask("t3", "deploy prod and tell ops", requested_by="U1")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=False, by="U9", reason="change freeze")
        await h.engine.idle()
        rejected = next(e for e in h.drain() if isinstance(e, NodeRejected))
        assert rejected.reason == "rejected by U9: change freeze"
        skipped = next(e for e in h.events if isinstance(e, NodeSkipped))
        assert skipped.node_id == "notify" and "'deploy' was rejected" in skipped.reason
        assert h.log.count("deploy") == 0 and h.log.count("send") == 0
        joiner_prompt = h.llm.calls[-1][-1].content
        assert "deploy: rejected — rejected by U9: change freeze" in joiner_prompt
        assert "notify: skipped" in joiner_prompt
        decision = next(e for e in h.events if isinstance(e, DecisionRecorded))
        assert decision.status == "rejected"


async def test_an_approval_nobody_decides_expires_and_counts_as_rejected() -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}
    settings = EngineSettings(approval_ttl_seconds=0.3, decision_poll_seconds=0.1)
    async with harness(MEMORY, [plan, finish("nobody approved")], settings=settings) as h:
        await h.engine.ask("t4", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await asyncio.sleep(0.5)
        expired = await h.engine.sweep_expired()
        assert [a.id for a in expired] == [asked.approval_id]
        await h.engine.idle()
        late = await h.engine.decide(asked.approval_id, approved=True, by="U1")
        assert late.outcome is DecisionOutcome.EXPIRED
        assert late.approval is not None and late.approval.status is ApprovalStatus.EXPIRED
        rejected = next(e for e in h.drain() if isinstance(e, NodeRejected))
        assert "expired" in rejected.reason
        assert h.log.count("deploy") == 0
        assert isinstance(h.events[-1], AnswerReady)


async def test_a_click_after_the_deadline_expires_it_and_the_run_goes_on() -> None:
    """No sweeper has run yet: the late click itself expires the approval and wakes the run."""
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                      {"id": "notify", "tool": "send", "args": {"to": "ops", "body": "${deploy}"}}]}
    settings = EngineSettings(approval_ttl_seconds=0.3, decision_poll_seconds=0.1)
    async with harness(MEMORY, [plan, finish("the deploy approval expired")], settings=settings) as h:
        await h.engine.ask("t4b", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await asyncio.sleep(0.5)
        late = await h.engine.decide(asked.approval_id, approved=True, by="U1")
        assert late.outcome is DecisionOutcome.EXPIRED and late.changed
        await h.engine.idle()
        events = h.drain()
        decisions = [e for e in events if isinstance(e, DecisionRecorded)]
        assert [d.status for d in decisions] == ["expired"]
        rejected = next(e for e in events if isinstance(e, NodeRejected))
        assert "expired" in rejected.reason
        assert h.log.count("deploy") == 0 and h.log.count("send") == 0
        assert isinstance(h.events[-1], AnswerReady)
        again = await h.engine.decide(asked.approval_id, approved=True, by="U1")
        assert again.outcome is DecisionOutcome.EXPIRED and not again.changed


async def test_double_decision_race_runs_the_red_tool_once() -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}
    async with harness(MEMORY, [plan, finish("ok")]) as h:
        await h.engine.ask("t5", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        results = await asyncio.gather(*[
            h.engine.decide(asked.approval_id, approved=True, by=f"U{i}") for i in range(5)
        ])
        assert sorted(r.outcome.value for r in results) == ["already_decided"] * 4 + ["recorded"]
        await h.engine.idle()
        assert h.log.count("deploy") == 1
        assert sum(isinstance(e, Waiting) for e in h.drain()) == 1


async def test_cancel_withdraws_approvals_and_nothing_red_runs_afterwards() -> None:
    plan = {"nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
        {"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "never"}},
    ]}
    async with harness(MEMORY, [plan]) as h:
        await h.engine.submit("t6", "deploy prod")
        asked = await h.next_event(AwaitingApproval, node_id="deploy")
        await h.next_event(NodeStarted, node_id="a")
        withdrawn = (await h.engine.cancel("t6", by="U1")).withdrawn
        assert [a.id for a in withdrawn] == [asked.approval_id]
        await h.engine.idle()
        late = await h.engine.decide(asked.approval_id, approved=True, by="U1")
        assert late.outcome is DecisionOutcome.ALREADY_DECIDED
        assert late.approval is not None and late.approval.status is ApprovalStatus.WITHDRAWN
        await h.engine.idle()
        assert h.log.count("deploy") == 0
        kinds = h.kinds()
        assert kinds[-1] == "RunFailed" and "cancelled" in h.events[-1].error  # type: ignore[attr-defined]
        assert await h.engine.status("t6") is ThreadStatus.IDLE


async def test_a_change_fed_a_value_that_is_none_fails_and_asks_nobody() -> None:
    """wide 5xx-to-file: a package whose code set no ``result`` fed a write, and ``null`` was
    written to the report after an approval."""
    plan = {"nodes": [{"id": "count", "package": {"goal": "count the rows", "code": "result = 0"}},
                      {"id": "deploy", "tool": "deploy", "args": {"target": "${count}"}, "depends_on": ["count"]},
                      {"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
    async with harness(MEMORY, [plan, finish("nothing was deployed")]) as h:
        h.packages.outputs["count"] = lambda inputs: None
        await h.engine.ask("t1", "deploy what the rows count", requested_by="U1")
        await h.engine.idle()
        events = h.drain()
        assert not any(isinstance(e, AwaitingApproval) for e in events)
        assert h.log.count("deploy") == 0 and h.log.count("lookup") == 1
        [failed] = [e for e in events if isinstance(e, NodeFailed) and e.node_id == "deploy"]
        assert failed.error.startswith("`count` computed nothing") and "${" not in failed.error
        assert "no approval asked" in failed.error


async def test_an_answer_that_says_a_rejected_change_was_made_gives_way_to_dagbots_own() -> None:
    """wide rejected-5xx-ips: the write was rejected, and the answer said the IPs were written."""
    plan = {"nodes": [{"id": "save", "tool": "send", "args": {"to": "ops", "body": "5xx IPs"}},
                      {"id": "check", "tool": "lookup", "args": {"key": "health"}}]}
    async with harness(MEMORY, [plan, finish("The IPs were sent to ops.")]) as h:
        await h.engine.ask("t9", "send the 5xx IPs to ops", requested_by="U1")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=False, by="U9", reason="not now")
        await h.engine.idle()
        answer = next(e for e in h.drain() if isinstance(e, AnswerReady)).answer
    assert "as the model's answer says a change was made, and `save` did not run:" in answer
    assert "• `save` (send ops): did not run: not approved (rejected by U9: not now)" in answer
    assert answer.endswith("Nothing was changed.") and "The IPs were sent" not in answer


async def test_an_answer_that_says_a_rejected_change_was_not_made_stands() -> None:
    plan = {"nodes": [{"id": "save", "tool": "send", "args": {"to": "ops", "body": "5xx IPs"}}]}
    async with harness(MEMORY, [plan, finish("The mail was rejected, so nothing was sent.")]) as h:
        await h.engine.ask("t10", "send the 5xx IPs to ops", requested_by="U1")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=False, by="U9")
        await h.engine.idle()
        answer = next(e for e in h.drain() if isinstance(e, AnswerReady)).answer
    assert answer == "The mail was rejected, so nothing was sent."
