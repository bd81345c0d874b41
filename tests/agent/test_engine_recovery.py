"""The recovery pass of a running process: it never starts a second runner for a thread that a
drive of this process is on, even when that thread's lease looks lapsed; it takes over a lease
left lapsed; it backs off from a thread whose run fails at every take-over (and cannot be
ended as failed), and ends it as failed after RECOVERY_TAKEOVERS take-overs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import update

from agent.engine.engine import Submission, ThreadStatus
from agent.engine.recovery import RECOVERY_TAKEOVERS
from agent.events import AnswerReady, LeaseTakenOver, NodeStarted, RunFailed
from agent.execution.context import EngineContext
from infra.storage.db import ThreadLeaseRow, utc
from tests.agent.harness import finish, harness


def clock_of(now: list[float]) -> Callable[[EngineContext], EngineContext]:
    """The engine's clock: the time, until the test puts one in ``now`` (then that one, which
    the test moves)."""
    return lambda ctx: replace(ctx, clock=lambda: now[0] if now else time.time())


SLOW = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}


async def test_resume_and_the_recovery_pass_leave_a_thread_running_here_alone(sqlite_url: str) -> None:
    async with harness(sqlite_url, [SLOW, finish("done")]) as h:
        assert await h.engine.submit("t1", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        # the lease looks lapsed (say the database was slow to take a renewal)
        async with h.services.store.session.begin() as s:
            await s.execute(update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == "t1")
                            .values(expires_at=utc(0)))
        assert await h.engine.recover_lapsed() == []
        # the checkpoint shows the run under way (it is written in the background): what a
        # resume that ignored this process's own drive would take over
        for _ in range(1000):
            if (await h.engine.graph.aget_state(h.engine.config("t1"))).next:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the checkpoint never showed the run under way")
        # resume() returns at once, while the run is still held at the gate: it did not queue
        # a second drive behind this one (the wait_for only keeps a regression from hanging)
        await asyncio.wait_for(h.engine.resume("t1"), 30)
        assert await h.engine.status("t1") is ThreadStatus.RUNNING
        h.log.gates["g"].set()
        await h.engine.idle()
        events = h.drain()
        assert [type(e) for e in events if isinstance(e, AnswerReady | LeaseTakenOver)] == [AnswerReady]
        assert h.log.count("lookup") == 1 and len(h.llm.calls) == 2
        assert await h.services.store.held_threads() == []


async def test_the_recovery_pass_takes_over_a_lease_left_lapsed_by_a_failed_runner(sqlite_url: str) -> None:
    async with harness(sqlite_url, [SLOW, finish("done")]) as h:
        assert await h.engine.submit("t2", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        for task in list(h.engine._tasks):  # the runner fails mid-run in this live process
            task.cancel()
        await h.engine.idle()
        assert await h.services.store.lapsed_threads() == ["t2"]
        h.log.gates["g"].set()
        assert await h.engine.recover_lapsed() == ["t2"]
        await h.engine.idle()
        kinds = [type(e) for e in h.drain() if isinstance(e, AnswerReady | LeaseTakenOver)]
        assert kinds == [LeaseTakenOver, AnswerReady]
        assert await h.services.store.lapsed_threads() == []
        assert await h.engine.recover_lapsed() == []  # nothing left: a pass with nothing to do


async def test_a_thread_whose_run_fails_at_every_take_over_is_retried_less_and_less_often(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now: list[float] = []
    async with harness(sqlite_url, [SLOW, finish("done")], context=clock_of(now)) as h:
        assert await h.engine.submit("t3", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        for task in list(h.engine._tasks):  # the runner fails mid-run in this live process
            task.cancel()
        await h.engine.idle()
        h.log.gates["g"].set()
        start = time.time()
        now.append(start)  # the engine's clock stops: the test moves it from here

        async def broken(*args: Any, **kwargs: Any) -> Any:  # say a database that refuses writes
            raise RuntimeError("cannot run this thread")

        monkeypatch.setattr(h.engine.graph, "ainvoke", broken)
        monkeypatch.setattr(h.engine.graph, "aupdate_state", broken)  # nor end its run
        taken_over_at = []
        for seconds in (0, 1, 5, 6, 14, 16, 30):  # after the first pass
            now[0] = start + seconds
            if await h.engine.recover_lapsed():
                taken_over_at.append(seconds)
            await h.engine.idle()
        assert taken_over_at == [0, 5, 16]  # then 5 s, then 10 s, then 20 s later...
        # once the thread can run again, it runs to its end and is forgotten
        monkeypatch.undo()
        now[0] = start + 36
        assert await h.engine.recover_lapsed() == ["t3"]
        await h.engine.idle()
        assert isinstance(h.drain()[-1], AnswerReady)
        assert await h.engine.recover_lapsed() == []
        assert h.engine._recovery.retries == {}


async def test_a_thread_whose_take_overs_keep_failing_is_ended_and_its_queue_runs(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now: list[float] = []
    async with harness(sqlite_url, [SLOW, {"nodes": []}, finish("hello")], context=clock_of(now)) as h:
        assert await h.engine.submit("t4", "look it up", requested_by="U1") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        assert await h.engine.submit("t4", "then say hello", requested_by="U1") is Submission.QUEUED
        for task in list(h.engine._tasks):  # the runner fails mid-run in this live process
            task.cancel()
        await h.engine.idle()
        start = time.time()
        now.append(start)  # the engine's clock stops: the test moves it from here

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("cannot run this thread")

        monkeypatch.setattr(h.engine.graph, "ainvoke", broken)
        update_state = h.engine.graph.aupdate_state
        monkeypatch.setattr(h.engine.graph, "aupdate_state", broken)
        taken_over_at = []
        for seconds in (0, 5, 15, 35, 75):  # RECOVERY_TAKEOVERS of them, backing off
            now[0] = start + seconds
            assert await h.engine.recover_lapsed() == ["t4"]
            await h.engine.idle()
            taken_over_at.append(seconds)
        assert len(taken_over_at) == RECOVERY_TAKEOVERS
        assert not any(isinstance(e, RunFailed | AnswerReady) for e in h.drain())
        # due once more: the pass ends the run instead of resuming it (and can, now)
        monkeypatch.setattr(h.engine.graph, "aupdate_state", update_state)
        now[0] = start + 155
        assert await h.engine.recover_lapsed() == ["t4"]
        monkeypatch.undo()  # the queued request runs as usual
        await h.engine.idle()
        events = h.drain()
        ended = [e for e in events if isinstance(e, RunFailed | AnswerReady)]
        assert [type(e).__name__ for e in ended] == ["RunFailed", "AnswerReady"]
        assert "failed every time it was resumed (5 times)" in ended[0].error  # type: ignore[union-attr]
        assert ended[1].answer == "hello"  # type: ignore[union-attr]
        assert sum(isinstance(e, LeaseTakenOver) for e in events) == RECOVERY_TAKEOVERS  # not a 6th
        assert await h.engine.status("t4") is ThreadStatus.IDLE
        assert await h.engine.recover_lapsed() == [] and h.engine._recovery.retries == {}
        assert h.log.count("lookup") == 1


async def test_a_run_that_takes_every_process_down_is_ended_after_the_take_overs_of_all_of_them(
        sqlite_url: str) -> None:
    """The take-over count is kept in the database: a run that kills each process it lands
    on (say, by its memory) is not taken over by every new process for ever."""
    async with harness(sqlite_url, [SLOW]) as h:
        assert await h.engine.submit("t5", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        for task in list(h.engine._tasks):  # the process dies mid-run
            task.cancel()
        await h.engine.idle()
    for _ in range(RECOVERY_TAKEOVERS):  # a new process each time, which dies in the run too
        async with harness(sqlite_url, []) as h:
            assert await h.engine.recover() == ["t5"]
            await h.next_event(LeaseTakenOver)
            await h.next_event(NodeStarted, node_id="slow")
            for task in list(h.engine._tasks):
                task.cancel()
            await h.engine.idle()
    async with harness(sqlite_url, []) as h:
        assert await h.engine.recover() == ["t5"]
        await h.engine.idle()
        events = h.drain()
        assert not any(isinstance(e, LeaseTakenOver | NodeStarted) for e in events)
        failed = [e for e in events if isinstance(e, RunFailed)]
        assert len(failed) == 1 and "failed every time it was resumed (5 times)" in failed[0].error
        assert await h.engine.status("t5") is ThreadStatus.IDLE
        assert await h.services.store.held_threads() == []
        assert h.log.count("lookup") == 0  # (each process has its own log: this one ran nothing)
