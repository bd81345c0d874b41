"""Two replicas on one PostgreSQL database (two engines with their own connections, in one
test process): a decision or a cancel made on one reaches the run on the other through
signals, with the runner's own poll turned off; a replica that loses its hold on a thread
stops, and the other takes the thread over without re-running what finished."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest

from agent.engine.engine import Submission, ThreadStatus
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    LeaseTakenOver,
    NodeSkipped,
    NodeStarted,
    ResultReused,
)
from agent.execution.context import EngineSettings
from agent.ports.ownership import Signal
from infra.storage.ownership import AdvisoryLeases
from tests.agent.harness import Harness, finish, harness
from tests.fakes.tools import ToolLog

pytestmark = pytest.mark.postgres
NO_POLL = EngineSettings(decision_poll_seconds=3600)
"""Runners never look for decisions themselves: only a signal can wake them."""
GATED = {"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}


@asynccontextmanager
async def replicas(url: str, replies_a: list[Any], replies_b: list[Any]) -> AsyncIterator[
        tuple[Harness, Harness, ToolLog]]:
    log = ToolLog()
    async with harness(url, replies_a, settings=NO_POLL, log=log) as a, \
            harness(url, replies_b, settings=NO_POLL, log=log) as b:
        assert a.engine.holder != b.engine.holder
        yield a, b, log


async def test_a_decision_made_on_another_replica_starts_the_red_call_at_once(postgres_url: str) -> None:
    plan = {"nodes": [GATED, {"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
    async with replicas(postgres_url, [plan, finish("shipped")], []) as (a, b, log):
        assert await a.engine.submit("t1", "look it up and ship", requested_by="U1") is Submission.STARTED
        asked = await a.next_event(AwaitingApproval, node_id="ship")
        await b.engine.decide(asked.approval_id, approved=True, by="U2")
        await a.next_event(NodeStarted, node_id="ship", timeout=20)
        assert log.count("deploy") == 1
        assert not any(entry.endswith("lookup:k:end") for _, entry in log.timeline)  # still running
        log.gates["g"].set()
        assert (await a.next_event(AnswerReady)).answer == "shipped"
        await a.engine.idle()
        await b.engine.idle()
        assert log.count("deploy") == 1


async def test_cancel_on_another_replica_stops_the_run_and_its_green_node_in_flight(postgres_url: str) -> None:
    async with replicas(postgres_url, [{"nodes": [GATED]}, finish("never")], []) as (a, b, log):
        assert await a.engine.submit("t2", "look it up", requested_by="U1") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        await b.engine.cancel("t2", by="U2")
        skipped = await a.next_event(NodeSkipped, node_id="slow", timeout=20)  # the gate never opens
        assert skipped.reason == "run cancelled"
        await asyncio.wait_for(a.engine.idle(), 20)
        assert await a.engine.status("t2") is ThreadStatus.IDLE
        assert not any(entry.endswith("lookup:k:end") for _, entry in log.timeline)


async def test_a_replica_that_lost_its_hold_stops_and_another_takes_the_thread_over(postgres_url: str) -> None:
    plan = {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "first"}},
                      {**GATED, "depends_on": ["first"]}]}
    async with replicas(postgres_url, [plan], [finish("recovered")]) as (a, b, log):
        assert await a.engine.submit("t3", "look it up", requested_by="U1") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        assert isinstance(a.engine.leases, AdvisoryLeases)
        # a's database session ends (its host is cut off): the server frees a's locks at once
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (a.engine.leases.backend_pid,))
        await asyncio.wait_for(a.engine.idle(), 20)  # a noticed it no longer holds t3 and stopped
        for _ in range(200):
            if await b.engine.recover_lapsed() == ["t3"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the other replica never took the thread over")
        await b.next_event(LeaseTakenOver)
        log.gates["g"].set()
        assert (await b.next_event(AnswerReady)).answer == "recovered"
        assert log.args_of("lookup").count({"key": "first"}) == 1  # finished before: not run again
        assert log.args_of("lookup").count({"key": "k"}) == 2  # cut off in flight: run again
        await b.engine.idle()  # the request a queued stays run once: its run recorded it
        assert not await b.services.store.has_queued("t3")
        assert log.args_of("lookup").count({"key": "first"}) == 1


async def test_a_request_accepted_just_before_its_replica_died_runs_on_another(postgres_url: str) -> None:
    lookup = {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "first"}}]}
    async with replicas(postgres_url, [], [lookup, finish("ran anyway")]) as (a, b, log):
        assert await a.engine.submit("t4", "look it up", requested_by="U1") is Submission.STARTED
        for task in list(a.engine._tasks):  # a dies before its run is under way...
            task.cancel()
        assert isinstance(a.engine.leases, AdvisoryLeases)
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (a.engine.leases.backend_pid,))
        # ...and its request, queued before submit() returned, is started by b's recovery pass
        # (the full pass finds it queued, or a later one finds its lease lapsed)

        async def passes() -> None:
            while True:
                await b.engine.recover_lapsed()
                await asyncio.sleep(0.05)

        recovering = asyncio.create_task(passes())
        try:
            assert (await b.next_event(AnswerReady)).answer == "ran anyway"
        finally:
            recovering.cancel()
        await b.engine.idle()
        assert log.args_of("lookup") == [{"key": "first"}]
        assert not await b.services.store.has_queued("t4")
        assert await b.engine.recover_lapsed() == []  # nothing left marked held


async def test_a_replica_that_died_between_a_steps_writes_and_its_checkpoint_is_taken_over(
        postgres_url: str) -> None:
    """Checkpoints are written in the background: a runner can die after a step's writes are
    saved but before the checkpoint after it is. The thread looks finished to LangGraph's
    ``next`` (which leaves out finished tasks) though its run is not over."""
    plan = {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "first"}},
                      {**GATED, "depends_on": ["first"]}]}
    async with replicas(postgres_url, [plan], [finish("finished elsewhere")]) as (a, b, log):
        saver: Any = a.engine.graph.checkpointer
        save_checkpoint, save_writes = saver.aput, saver.aput_writes
        dying, checkpoint_held, writes_saved = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def checkpoint(*args: Any, **kwargs: Any) -> Any:
            if dying.is_set():
                checkpoint_held.set()
                await asyncio.Event().wait()  # a dies before this checkpoint reaches the database
            return await save_checkpoint(*args, **kwargs)

        async def writes(*args: Any, **kwargs: Any) -> Any:
            await save_writes(*args, **kwargs)
            if dying.is_set():
                writes_saved.set()

        saver.aput, saver.aput_writes = checkpoint, writes  # (a run binds them as it starts)
        assert await a.engine.submit("t5", "look it up", requested_by="U1") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        dying.set()
        log.gates["g"].set()
        await asyncio.wait_for(asyncio.gather(checkpoint_held.wait(), writes_saved.wait()), 20)
        a.engine._start = lambda *args, **kwargs: None  # type: ignore[method-assign]  # a dies:
        for task in list(a.engine._tasks):  # it starts nothing more, and what it ran stops
            task.cancel()
        assert isinstance(a.engine.leases, AdvisoryLeases)
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (a.engine.leases.backend_pid,))

        assert await b.engine.status("t5") is ThreadStatus.RUNNING  # not over, though ``next`` is ()
        for _ in range(200):
            if await b.engine.recover_lapsed() == ["t5"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the other replica never took the thread over")
        assert (await b.next_event(AnswerReady)).answer == "finished elsewhere"
        await b.engine.idle()
        assert log.args_of("lookup") == [{"key": "first"}, {"key": "k"}]  # nothing re-run
        assert not await b.services.store.has_queued("t5")


async def test_a_red_call_on_another_replica_makes_the_threads_reusable_results_stale(
        postgres_url: str) -> None:
    lookup = {"nodes": [{"id": "read", "tool": "lookup", "args": {"key": "state"}}]}
    deploy = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
    async with replicas(postgres_url, [lookup, finish("read"), lookup, finish("reused"),
                                       lookup, finish("read again")],
                        [deploy, finish("shipped")]) as (a, b, log):
        await a.engine.ask("t6", "read the state")
        await a.engine.ask("t6", "read it again")  # nothing changed: a reuses its result
        assert log.count("lookup") == 1
        await b.engine.submit("t6", "ship it", requested_by="U1")  # the follow-up lands on b
        asked = await b.next_event(AwaitingApproval, node_id="ship")
        await b.engine.decide(asked.approval_id, approved=True, by="U1")
        assert (await b.next_event(AnswerReady)).answer == "shipped"
        await b.engine.idle()
        await a.engine.ask("t6", "read the state after the deploy")  # back on a, within the TTL
        assert log.count("deploy") == 1
        assert log.count("lookup") == 2  # what a read before the deploy is stale: read again
        assert len([e for e in a.drain() if isinstance(e, ResultReused)]) == 1  # the first reuse only


async def test_a_cancel_whose_signal_was_lost_stops_the_run_at_its_runners_next_look(
        postgres_url: str) -> None:
    """The cancel is also recorded on the thread's lease row, which the runner reads each time
    it renews its lease; the thread's next run is not affected by it."""
    async with replicas(postgres_url, [{"nodes": [GATED]}], []) as (a, b, log):
        assert await a.engine.submit("t7", "look it up", requested_by="U1") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        sent: list[Signal] = []

        async def lost(thread_id: str, signal: Signal) -> None:
            sent.append(signal)  # the listener on a was reconnecting: the NOTIFY never arrives

        b.engine.signals.send = lost  # type: ignore[method-assign]
        await b.engine.cancel("t7", by="U2")
        assert sent == [Signal.CANCEL]
        skipped = await a.next_event(NodeSkipped, node_id="slow", timeout=20)
        assert skipped.reason == "run cancelled"
        await asyncio.wait_for(a.engine.idle(), 20)
        assert await a.engine.status("t7") is ThreadStatus.IDLE
        assert not any(entry.endswith("lookup:k:end") for _, entry in log.timeline)

        a.llm.replies.extend([{"nodes": [{"id": "again", "tool": "lookup", "args": {"key": "a"}}]},
                              finish("looked again")])
        assert await a.engine.submit("t7", "look again", requested_by="U1") is Submission.STARTED
        assert (await a.next_event(AnswerReady)).answer == "looked again"
        await a.engine.idle()
        assert log.args_of("lookup")[-1] == {"key": "a"}


async def test_a_replica_that_loses_its_lock_stops_its_run_before_another_takes_the_thread(
        postgres_url: str) -> None:
    """The server frees a session's locks the moment it ends, but the replica only finds out
    at its next probe: it stops its runs then, and the others wait out a grace before taking
    a freed thread over, so the thread never has two runners."""
    async with replicas(postgres_url, [{"nodes": [GATED]}], [finish("recovered")]) as (a, b, log):
        assert await a.engine.submit("t8", "look it up", requested_by="U1") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        assert isinstance(a.engine.leases, AdvisoryLeases)
        a_stopped = asyncio.create_task(a.engine.idle())
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (a.engine.leases.backend_pid,))
        b_took_over = False
        for _ in range(400):  # b's recovery pass, far more often than the serve loop's
            if await b.engine.recover_lapsed() == ["t8"]:
                b_took_over = True
                break
            await asyncio.sleep(0.02)
        assert b_took_over
        assert a_stopped.done()  # a had stopped its run before b took the thread over
        await b.next_event(LeaseTakenOver)
        log.gates["g"].set()
        assert (await b.next_event(AnswerReady)).answer == "recovered"
        assert [entry for _, entry in log.timeline if entry.startswith("lookup:k")].count("lookup:k:end") == 1
