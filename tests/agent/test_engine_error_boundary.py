"""The engine's error boundary (agent.engine.run_end): a run that raises something the graph does not
handle (a bug, a value a store refuses, a database error) is ended as failed, and the user is
told. It used to escape the drive, logged only: no answer and no failure shown, the lease left
lapsed, the run taken over and failing again for ever, queued follow-ups stuck behind it. A run
stopped after its answer was published ends answered (agent.answer.record)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from agent.engine.engine import Submission, ThreadStatus
from agent.events import AnswerReady, AwaitingApproval, DecisionRecorded, LeaseTakenOver, RunFailed
from agent.execution.context import EngineContext
from agent.ports.stores import ApprovalStatus, NodeResult, NodeResultStore
from tests.agent.harness import Harness, finish, harness


class RefusingResults:
    """A result store that refuses to save the result of one node (as PostgreSQL refuses a value
    it cannot store), once."""

    def __init__(self, inner: NodeResultStore, node_id: str) -> None:
        self.inner, self.node_id, self.refused = inner, node_id, False

    async def save(self, thread_id: str, plan_id: str, *results: NodeResult) -> None:
        if any(result.node_id == self.node_id for result in results) and not self.refused:
            self.refused = True
            raise RuntimeError("the store refused the value\nsecond line")
        await self.inner.save(thread_id, plan_id, *results)

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]:
        return await self.inner.load(thread_id, plan_id)


def refusing_result_of(node_id: str) -> Callable[[EngineContext], EngineContext]:
    """The engine's result store, refusing the result of ``node_id`` once."""
    return lambda ctx: replace(ctx, results=RefusingResults(ctx.results, node_id))


async def settled(h: Harness) -> list[Any]:
    """The events, once the engine's background work is done."""
    await h.engine.idle()
    return h.drain()


async def test_an_unexpected_error_ends_the_run_and_the_user_is_told(database_url: str) -> None:
    plan = {"nodes": [{"id": "m", "tool": "lookup", "args": {"key": "k"}}]}
    async with harness(database_url, [plan, finish("never")], context=refusing_result_of("m")) as h:
        assert await h.engine.submit("e1", "look it up", requested_by="U1") is Submission.STARTED
        events = await settled(h)
        [failed] = [e for e in events if isinstance(e, AnswerReady | RunFailed)]
        assert isinstance(failed, RunFailed)
        assert "internal error" in failed.error and "RuntimeError: the store refused the value" in failed.error
        assert "second line" not in failed.error and "Ask again" in failed.error
        # the run is over: the thread is idle, its lease free, nothing for recovery to take over
        assert await h.engine.status("e1") is ThreadStatus.IDLE
        assert await h.services.store.held_threads() == []
        assert await h.engine.recover_lapsed() == []
        await h.engine.idle()
        state = await h.engine.state("e1")
        assert state["failure"] == failed.error and state["history"][-1]["answer"] == failed.error
        assert len(h.llm.calls) == 1 and not any(isinstance(e, LeaseTakenOver) for e in h.drain())


async def test_a_follow_up_queued_behind_the_failed_run_starts(database_url: str) -> None:
    plan = {"nodes": [{"id": "m", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
    async with harness(database_url, [plan, {"nodes": []}, finish("hello")], context=refusing_result_of("m")) as h:
        assert await h.engine.submit("e2", "look it up", requested_by="U1") is Submission.STARTED
        assert await h.engine.submit("e2", "never mind, say hello", requested_by="U1") is Submission.QUEUED
        h.log.gates["g"].set()
        events = await settled(h)
        ended = [type(e).__name__ for e in events if isinstance(e, AnswerReady | RunFailed)]
        assert ended == ["RunFailed", "AnswerReady"]
        assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["hello"]
        assert await h.engine.status("e2") is ThreadStatus.IDLE


async def test_the_failed_runs_pending_approvals_are_withdrawn(database_url: str) -> None:
    plan = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}},
                      {"id": "m", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
    async with harness(database_url, [plan], context=refusing_result_of("m")) as h:
        await h.engine.submit("e3", "deploy and look it up", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        h.log.gates["g"].set()
        events = await settled(h)
        withdrawn = [e for e in events if isinstance(e, DecisionRecorded)]
        assert [(e.approval_id, e.status) for e in withdrawn] == [(asked.approval_id, "withdrawn")]
        assert events.index(withdrawn[0]) < next(i for i, e in enumerate(events) if isinstance(e, RunFailed))
        approval = await h.services.store.get(asked.approval_id)
        assert approval is not None and approval.status is ApprovalStatus.WITHDRAWN
        assert not (await h.engine.decide(asked.approval_id, approved=True, by="U1")).changed
        await h.engine.idle()
        assert h.log.count("deploy") == 0 and await h.engine.status("e3") is ThreadStatus.IDLE


def lose_the_answer(h: Harness, monkeypatch: pytest.MonkeyPatch, *, checkpoints: int) -> None:
    """The run stops after publishing AnswerReady: the answer step's writes are lost, and the
    next ``checkpoints`` checkpoints that record an answer (or a failure) cannot be written."""
    saver: Any = h.engine.graph.checkpointer
    put, put_writes = saver.aput, saver.aput_writes
    left = {"writes": 1, "checkpoints": checkpoints}

    def refuse(kind: str) -> None:
        if left[kind] > 0:
            left[kind] -= 1
            raise RuntimeError("the database went away")

    async def aput(config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if "history" in new_versions:
            refuse("checkpoints")
        return await put(config, checkpoint, metadata, new_versions)

    async def aput_writes(config: Any, writes: Any, task_id: str, task_path: str = "") -> Any:
        if any(channel == "history" for channel, _ in writes):
            refuse("writes")
        return await put_writes(config, writes, task_id, task_path)

    monkeypatch.setattr(saver, "aput", aput)
    monkeypatch.setattr(saver, "aput_writes", aput_writes)


async def test_a_run_stopped_after_its_answer_ends_answered(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with harness(database_url, [{"nodes": []}, finish("the answer")]) as h:
        lose_the_answer(h, monkeypatch, checkpoints=1)
        await h.engine.submit("e4", "answer me", requested_by="U1")
        events = await settled(h)
        assert [type(e).__name__ for e in events if isinstance(e, AnswerReady | RunFailed)] == ["AnswerReady"]
        assert await h.engine.status("e4") is ThreadStatus.IDLE
        assert (await h.engine.state("e4"))["history"][-1]["answer"] == "the answer"


async def test_a_take_over_after_the_answer_was_published_ends_the_run_answered(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer was published, then neither its checkpoint nor the error boundary's could be
    written: the take-over finds the answer recorded and ends the run answered."""
    async with harness(database_url, [{"nodes": []}, finish("the answer")]) as h:
        lose_the_answer(h, monkeypatch, checkpoints=2)
        await h.engine.submit("e5", "answer me", requested_by="U1")
        await h.engine.idle()
        assert await h.engine.status("e5") is ThreadStatus.RUNNING
        for _ in range(100):  # (on PostgreSQL, a freed thread is taken over after a grace)
            if await h.engine.recover_lapsed() == ["e5"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the recovery pass never took the thread over")
        events = await settled(h)
        kinds = [type(e).__name__ for e in events if isinstance(e, AnswerReady | RunFailed | LeaseTakenOver)]
        assert kinds == ["AnswerReady", "LeaseTakenOver"]
        assert await h.engine.status("e5") is ThreadStatus.IDLE
        assert await h.engine.recover_lapsed() == []
