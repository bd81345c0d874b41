"""Cancel by request: a cancel names the request it is for (its queue key), and stops only
what that request started; another person's run or queued request is never touched."""

from __future__ import annotations

from agent.engine.engine import Submission, ThreadStatus
from agent.events import AnswerReady, NodeStarted, RunFailed
from agent.execution.cancelling import CancelOutcome
from tests.agent.harness import MEMORY, finish, harness


def held(key: str, gate: str) -> dict[str, object]:
    return {"nodes": [{"id": key, "tool": "lookup", "args": {"key": key, "gate": gate}}]}


async def test_a_cancel_for_a_request_whose_run_is_over_changes_nothing() -> None:
    replies = [held("m", "g1"), finish("mallory's answer"), held("a", "g2"), finish("alice's answer")]
    async with harness(MEMORY, replies) as h:
        assert await h.engine.submit("c1", "look up m", "UM", key="km") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="m")
        assert await h.engine.submit("c1", "look up a", "UA", key="ka") is Submission.QUEUED
        h.log.gates["g1"].set()
        await h.next_event(NodeStarted, node_id="a")  # mallory's run is over, alice's runs

        late = await h.engine.cancel("c1", by="UM", request_key="km")
        assert late.outcome is CancelOutcome.TOO_LATE and late.withdrawn == () and late.dropped == ()

        h.log.gates["g2"].set()
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert answers == ["mallory's answer", "alice's answer"]
        assert not any(isinstance(e, RunFailed) for e in h.events)


async def test_a_cancel_for_a_queued_request_drops_only_it() -> None:
    replies = [held("m", "g1"), finish("mallory's answer"), held("b", "g2"), finish("bob's answer")]
    async with harness(MEMORY, replies) as h:
        await h.engine.submit("c2", "look up m", "UM", key="km")
        await h.next_event(NodeStarted, node_id="m")
        await h.engine.submit("c2", "look up a", "UA", key="ka")
        await h.engine.submit("c2", "look up b", "UB", key="kb")

        dropped = await h.engine.cancel("c2", by="UA", request_key="ka")
        assert dropped.outcome is CancelOutcome.DEQUEUED and dropped.dropped == ("ka",)
        assert await h.engine.status("c2") is ThreadStatus.RUNNING  # mallory's run goes on

        h.log.gates["g1"].set()
        h.log.gates["g2"].set()
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert answers == ["mallory's answer", "bob's answer"]
        assert [args["key"] for args in h.log.args_of("lookup")] == ["m", "b"]  # alice's never ran


async def test_cancelling_a_run_drops_its_requesters_follow_ups_and_no_one_elses() -> None:
    replies = [held("m", "g1"), held("a", "g2"), finish("alice's answer")]
    async with harness(MEMORY, replies) as h:
        await h.engine.submit("c3", "look up m", "UM", key="km")
        await h.next_event(NodeStarted, node_id="m")
        await h.engine.submit("c3", "then look up a", "UA", key="ka")
        await h.engine.submit("c3", "and then mail it", "UM", key="km2")

        stopped = await h.engine.cancel("c3", by="UM", request_key="km")
        assert stopped.outcome is CancelOutcome.STOPPED and stopped.dropped == ("km2",)

        await h.next_event(RunFailed)  # mallory's run ends cancelled; alice's starts
        await h.next_event(NodeStarted, node_id="a")
        h.log.gates["g2"].set()
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert answers == ["alice's answer"]
        assert [args["key"] for args in h.log.args_of("lookup")] == ["m", "a"]
        assert not await h.services.store.has_queued("c3")


async def test_a_cancel_for_a_parked_run_withdraws_its_approvals() -> None:
    plan = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
    async with harness(MEMORY, [plan]) as h:
        await h.engine.submit("c4", "deploy prod", "UM", key="km")
        await h.engine.idle()
        assert await h.engine.status("c4") is ThreadStatus.WAITING

        assert (await h.engine.cancel("c4", by="UA", request_key="other")).outcome is CancelOutcome.TOO_LATE
        stopped = await h.engine.cancel("c4", by="UM", request_key="km")
        assert stopped.outcome is CancelOutcome.STOPPED and len(stopped.withdrawn) == 1
        await h.engine.idle()
        assert await h.engine.status("c4") is ThreadStatus.IDLE and h.log.count("deploy") == 0
