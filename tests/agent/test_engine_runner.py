"""One runner per thread: a runner that loses its lease stops; a restart resumes parked
threads whose approvals were decided while no process was there to resume them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import update

from agent.engine.engine import Submission, ThreadStatus
from agent.events import AnswerReady, AwaitingApproval, NodeStarted
from agent.execution.result_cache import ResultCache
from infra.storage.db import ThreadLeaseRow, utc
from tests.agent.harness import finish, harness


async def test_a_runner_that_loses_its_lease_stops_instead_of_running_beside_another(
        sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "never"}}]}
    async with harness(sqlite_url, [plan, finish("unused")]) as h:
        assert await h.engine.submit("r1", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        store = h.services.store
        async with store.session.begin() as s:  # another process took the thread over
            await s.execute(update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == "r1")
                            .values(holder="intruder", expires_at=utc(time.time() + 60)))
        await h.engine.idle()  # the renewer notices within a third of the lease TTL and stops the run
        assert await store.held_threads() == ["r1"]  # still the intruder's: not released by us
        assert not any(isinstance(e, AnswerReady) for e in h.drain())
        assert h.log.count("lookup") == 1 and len(h.llm.calls) == 1  # no joiner ran


async def test_recover_resumes_a_parked_thread_decided_while_no_process_ran_it(sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}
    async with harness(sqlite_url, [plan, finish("deployed")]) as h:
        await h.engine.ask("r2", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        assert await h.engine.status("r2") is ThreadStatus.WAITING
        # The decision reached the database, then the process died before resuming the thread:
        # nothing holds its lease, so only the decision records point at it.
        await h.services.store.decide(asked.approval_id, approved=True, by="U1")
        assert await h.services.store.held_threads() == []
        assert await h.engine.recover() == ["r2"]
        await h.engine.idle()
        assert h.log.count("deploy") == 1
        assert isinstance(h.drain()[-1], AnswerReady)
        assert await h.engine.recover() == ["r2"]  # decided recently, but nothing left to do
        await h.engine.idle()
        assert h.log.count("deploy") == 1


async def test_a_restart_resumes_the_interrupted_run_then_its_queued_follow_up(sqlite_url: str) -> None:
    first = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
    second = {"nodes": [{"id": "again", "tool": "lookup", "args": {"key": "k2"}}]}
    async with harness(sqlite_url, [first]) as h:
        assert await h.engine.submit("r3", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        assert await h.engine.submit("r3", "and then again") is Submission.QUEUED
    # the process stopped mid-run (a deploy): the next one picks up both requests
    async with harness(sqlite_url, [finish("first done"), second, finish("second done")]) as h:
        h.log.gates["g"].set()
        assert await h.engine.recover() == ["r3"]
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert answers == ["first done", "second done"]
        assert [args["key"] for args in h.log.args_of("lookup")] == ["k", "k2"]
        assert not await h.services.store.has_queued("r3")


async def test_a_request_for_a_thread_another_process_runs_is_queued_for_that_runner(
        sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
    follow = {"nodes": [{"id": "next", "tool": "lookup", "args": {"key": "k2"}}]}
    async with harness(sqlite_url, [plan, finish("one"), follow, finish("two")]) as a, \
            harness(sqlite_url, []) as b:
        assert await a.engine.submit("r4", "look it up") is Submission.STARTED
        await a.next_event(NodeStarted, node_id="slow")
        assert await b.engine.submit("r4", "then this") is Submission.QUEUED
        a.log.gates["g"].set()
        await a.engine.idle()
        answers = [e.answer for e in a.drain() if isinstance(e, AnswerReady)]
        assert answers == ["one", "two"] and b.llm.calls == []


async def test_an_approved_call_starts_before_the_parked_graph_resumes(sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                      {"id": "tell", "tool": "lookup", "args": {"key": "${deploy.deployed}"}}]}
    async with harness(sqlite_url, [plan, finish("deployed")]) as h:
        await h.engine.ask("r5", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        graph_invoke = h.engine.graph.ainvoke

        async def recorded(*args: Any, **kwargs: Any) -> Any:
            h.log.calls.append(("graph resumes", {}))
            return await graph_invoke(*args, **kwargs)

        h.engine.graph.ainvoke = recorded  # type: ignore[method-assign]
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert [name for name, _ in h.log.calls] == ["deploy", "graph resumes", "lookup"]
        labels = h.labels()
        assert labels.index("NodeStarted:deploy") < labels.index("NodeFinished:deploy") \
            < labels.index("NodeStarted:tell")
        assert labels.count("NodeStarted:deploy") == 1 and isinstance(h.events[-1], AnswerReady)
        state = await h.engine.state("r5")
        assert state["results"]["deploy"]["status"] == "done"


async def test_a_request_right_after_a_cancel_on_an_idle_thread_still_runs_to_its_answer(
        sqlite_url: str) -> None:
    first = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
    second = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "b", "gate": "g"}}]}
    async with harness(sqlite_url, [first, finish("one"), second, finish("two")]) as h:
        await h.engine.ask("r6", "look up a")
        await h.engine.cancel("r6", by="U1")  # nothing to cancel: the thread is idle
        await h.engine.submit("r6", "look up b")
        await h.next_event(NodeStarted, node_id="slow")
        await asyncio.sleep(2.5)  # past a lease renewal (TTL 5 s): the run keeps its lease
        h.log.gates["g"].set()
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert answers == ["one", "two"] and h.log.count("lookup") == 2
        assert await h.engine.status("r6") is ThreadStatus.IDLE


async def test_a_thread_leaves_nothing_behind_in_the_process_once_its_runs_are_over(sqlite_url: str) -> None:
    """A bot runs for weeks over thousands of threads: the per-thread state a run needs (its
    lock, its wake-up event, its result-cache epoch) goes when no run of the thread is left."""
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                      {"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
    async with harness(sqlite_url, []) as h:
        for n in range(3):
            h.llm.replies.extend([plan, finish(f"done {n}")])
            await h.engine.ask(f"t{n}", "deploy prod and look a up")
            asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval) and e.thread_id == f"t{n}")
            await h.engine.decide(asked.approval_id, approved=True, by="U1")  # a red call: a new epoch
            await h.engine.idle()
            assert (await h.engine.state(f"t{n}"))["answer"] == f"done {n}"
        ctx = h.engine.ctx
        assert dict(h.engine._runner._locks) == {}
        assert ctx.state.wakeups._events == {}
        assert ctx.state.result_cache._epochs == {}
        assert h.engine._claims == {}


def test_a_thread_forgotten_by_the_result_cache_never_gets_an_epoch_it_had_before() -> None:
    cache = ResultCache()
    key = cache.key("t", "lookup", {"key": "a"})
    cache.forget("t")  # an earlier red call
    before = cache.epoch("t")  # a read starts
    cache.forget("t")  # a red call
    cache.release("t")  # the thread's runs end here; it comes back later
    cache.forget("t")
    cache.put(key, "stale", now=0.0, epoch=before, red_changes=0)  # the old read ends at last
    assert cache.get(key, now=0.0, ttl=30) is None


async def test_a_new_threads_request_runs_once_even_when_delivered_twice(sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "g"}}]}
    async with harness(sqlite_url, [plan, finish("one")]) as h:
        first = await h.engine.submit("r9", "look up a", key="k" * 32, new_thread=True)
        again = await h.engine.submit("r9", "look up a", key="k" * 32, new_thread=True)  # a retry
        await h.next_event(NodeStarted, node_id="a")
        h.log.gates["g"].set()
        await h.engine.idle()
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        assert (first, again) == (Submission.STARTED, Submission.QUEUED)
        assert answers == ["one"] and h.log.count("lookup") == 1
        assert await h.engine.status("r9") is ThreadStatus.IDLE
        assert not await h.services.store.has_queued("r9")
