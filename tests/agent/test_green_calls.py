"""Flaky and repeated green tools: retries for errors a tool marks as transient, and reuse of an
identical recent call's result in the same thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.errors import ToolError, TransientToolError
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    NodeFailed,
    NodeFinished,
    NodeStarted,
    ResultReused,
    ToolRetrying,
)
from agent.execution.context import EngineContext, EngineSettings
from agent.ports.sandbox import (
    EmitFn,
    PackageAttemptRecord,
    PackageJob,
    PackageOutcome,
    PackageRunner,
    ToolGateway,
)
from agent.tools.registry import RetryPolicy, Risk
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, Harness, finish, services_on
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

QUICK = RetryPolicy(attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02)


class FlakyArgs(BaseModel):
    key: str
    failures: int = 0
    """How many calls fail (transiently) before one succeeds."""
    permanent: bool = False


def plan(*nodes: tuple[str, str, dict[str, object]]) -> dict[str, object]:
    return {"nodes": [{"id": i, "tool": t, "args": a} for i, t, a in nodes]}


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class CallingPackages:
    """Runs each package as its code would: these tool calls through the engine's gateway."""

    max_attempts = 1

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.calls = calls

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        outputs = []
        for name, args in self.calls:
            outputs.append(await tools.call(name, args))
            await asyncio.sleep(0.05)  # (a result is kept for reuse once the thread's red-call count is read)
        return PackageOutcome(ok=True, output=outputs, attempts=[PackageAttemptRecord(1, job.code, None)])


@asynccontextmanager
async def engine(stores: str, replies: list[object], packages: PackageRunner | None = None,
                 context: Callable[[EngineContext], EngineContext] | None = None,
                 **settings: object) -> AsyncIterator[Harness]:
    log = ToolLog()
    calls: dict[str, int] = {}

    async def flaky(key: str, failures: int = 0, permanent: bool = False) -> str:
        calls[key] = calls.get(key, 0) + 1
        log.calls.append(("flaky", {"key": key}))
        if permanent:
            raise ToolError(f"no such key '{key}'")
        if calls[key] <= failures:
            raise TransientToolError(f"the service is busy (call {calls[key]})")
        return f"flaky {key}"

    async def clock_time(key: str, failures: int = 0, permanent: bool = False) -> str:
        log.calls.append(("now", {"key": key}))
        return f"{time.time()}"

    async def red_flaky(key: str, failures: int = 0, permanent: bool = False) -> str:
        log.calls.append(("red_flaky", {"key": key}))
        raise TransientToolError("the service is busy")

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=flaky, name="flaky", description="Flaky.",
                                              args_schema=FlakyArgs), Risk.GREEN, retry=QUICK)
    registry.add(StructuredTool.from_function(coroutine=clock_time, name="now", description="Now.",
                                              args_schema=FlakyArgs), Risk.GREEN, cacheable=False)
    registry.add(StructuredTool.from_function(coroutine=red_flaky, name="red_flaky", description="Red.",
                                              args_schema=FlakyArgs), Risk.RED, retry=QUICK)
    llm = ScriptedChatModel(replies=replies)
    async with services_on(
        stores, llm, registry, packages=packages or ScriptedPackages(),
        engine_config=EngineSettings(decision_poll_seconds=0.2, **settings),  # type: ignore[arg-type]
        context=context,
    ) as services:
        yield Harness(services, llm, log, ScriptedPackages(), services.events.open())


async def test_a_transient_failure_is_tried_again_and_shown() -> None:
    replies = [plan(("f", "flaky", {"key": "a", "failures": 2})), finish("got it")]
    async with engine(MEMORY, replies) as h:
        await h.engine.ask("g1", "look it up")
        assert (await h.next_event(AnswerReady)).answer == "got it"
        retries = [e for e in h.drain() if isinstance(e, ToolRetrying)]
        assert [(r.attempt, r.max_attempts) for r in retries] == [(1, 3), (2, 3)]
        assert all(0 < r.delay_s <= 0.02 and "busy" in r.error_gist for r in retries)
        result = (await h.engine.state("g1"))["results"]["f"]
        assert result["status"] == "done" and result["attempts"] == 3
        assert [a["error"] for a in result["attempt_log"]] == [
            "the service is busy (call 1)", "the service is busy (call 2)"]


async def test_retries_are_bounded_and_only_for_transient_errors() -> None:
    replies = [plan(("f", "flaky", {"key": "a", "failures": 5}),
                    ("p", "flaky", {"key": "b", "permanent": True})), finish("no luck")]
    async with engine(MEMORY, replies) as h:
        await h.engine.ask("g2", "look them up")
        failed = {e.node_id: e.error for e in h.drain() if isinstance(e, NodeFailed)}
        assert "tried 3 times" in failed["f"] and failed["p"] == "no such key 'b'"
        assert sorted(str(a["key"]) for a in h.log.args_of("flaky")) == ["a", "a", "a", "b"]


async def test_package_code_calls_get_the_same_retries_and_reuse() -> None:
    package = {"nodes": [{"id": "pkg", "package": {"goal": "read twice", "code": "result = ..."}}]}
    runner = CallingPackages([("flaky", {"key": "p", "failures": 1}), ("lookup", {"key": "k"}),
                              ("lookup", {"key": "k"})])
    async with engine(MEMORY, [package, finish("done")], packages=runner,
                      result_cache_seconds=30.0) as h:
        await h.engine.ask("g6", "run the package")
        assert (await h.next_event(AnswerReady)).answer == "done"
        events = h.drain()
        assert [(e.node_id, e.attempt) for e in events if isinstance(e, ToolRetrying)] == [("pkg", 1)]
        assert [(e.node_id, e.tool) for e in events if isinstance(e, ResultReused)] == [("pkg", "lookup")]
        assert (await h.engine.state("g6"))["results"]["pkg"]["output"] == ["flaky p", "value of k", "value of k"]
        assert h.log.count("flaky") == 2 and h.log.count("lookup") == 1


async def test_a_red_tool_is_never_retried() -> None:
    replies = [plan(("r", "red_flaky", {"key": "a"})), finish("failed")]
    async with engine(MEMORY, replies) as h:
        await h.engine.ask("g3", "do it", requested_by="U1")
        approval = await h.next_event(AwaitingApproval)
        await h.engine.decide(approval.approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert h.log.count("red_flaky") == 1
        assert not any(isinstance(e, ToolRetrying) for e in h.drain())


async def test_an_identical_call_in_the_thread_reuses_the_recent_result() -> None:
    same = plan(("a", "lookup", {"key": "a"}))
    replies = [same, finish("one"), same, finish("two"), same, finish("three"), same, finish("four")]
    clock = Clock()
    async with engine(MEMORY, replies, context=lambda ctx: replace(ctx, clock=clock),
                      result_cache_seconds=30.0) as h:
        await h.engine.ask("g4", "look a up")
        await h.engine.ask("g4", "look a up again")  # same thread, within the TTL: reused
        reused = [e for e in h.drain() if isinstance(e, ResultReused)]
        assert [(e.node_id, e.tool) for e in reused] == [("a", "lookup")]
        assert h.log.count("lookup") == 1
        assert (await h.engine.state("g4"))["results"]["a"]["output"] == "value of a"
        await h.engine.ask("g5", "look a up")  # another thread: its own call
        assert h.log.count("lookup") == 2
        clock.offset = 31  # past the TTL: called again
        await h.engine.ask("g4", "and once more")
        assert h.log.count("lookup") == 3


async def test_uncacheable_tools_failures_and_red_calls_are_not_reused() -> None:
    now = plan(("t", "now", {"key": "t"}))
    flaky = plan(("f", "flaky", {"key": "x", "failures": 3}))
    lookup = plan(("a", "lookup", {"key": "a"}))
    replies = [now, finish("1"), now, finish("2"), flaky, finish("3"), flaky, finish("4"),
               lookup, finish("5"), plan(("d", "deploy", {"target": "prod"})), finish("6"),
               lookup, finish("7")]
    async with engine(MEMORY, replies) as h:
        for request in ("now", "now again"):
            await h.engine.ask("g6", request)
        assert h.log.count("now") == 2  # declared uncacheable
        for request in ("flaky", "flaky again"):
            await h.engine.ask("g6", request)
        assert h.log.count("flaky") == 4  # 3 failures then a success: the failures were not kept
        await h.engine.ask("g6", "lookup")
        await h.engine.ask("g6", "deploy", requested_by="U1")
        approval = await h.next_event(AwaitingApproval)
        await h.engine.decide(approval.approval_id, approved=True, by="U1")
        await h.engine.idle()
        await h.engine.ask("g6", "lookup after the deploy")
        assert h.log.count("deploy") == 1
        assert h.log.count("lookup") == 2  # the red call made the thread's results stale


async def test_a_read_in_flight_while_a_red_call_runs_is_not_reused_after_it() -> None:
    held = plan(("d", "deploy", {"target": "prod"}), ("a", "lookup", {"key": "a", "gate": "hold"}))
    again = plan(("a", "lookup", {"key": "a", "gate": "hold"}))
    async with engine(MEMORY, [held, finish("1"), again, finish("2")]) as h:
        await h.engine.submit("g8", "read and deploy", requested_by="U1")
        approval = await h.next_event(AwaitingApproval)
        await h.next_event(NodeStarted, node_id="a")  # the read is in flight, held at its gate
        await h.engine.decide(approval.approval_id, approved=True, by="U1")
        await h.next_event(NodeFinished, node_id="d")
        h.log.gates["hold"].set()  # the read finishes after the deploy changed the world
        assert (await h.next_event(AnswerReady)).answer == "1"
        await h.engine.ask("g8", "read again")
        assert h.log.count("lookup") == 2  # what the read saw may predate the deploy: called again
        assert not any(isinstance(e, ResultReused) for e in h.drain())


async def test_the_cache_can_be_turned_off() -> None:
    same = plan(("a", "lookup", {"key": "a"}))
    async with engine(MEMORY, [same, finish("1"), same, finish("2")], result_cache_seconds=0.0) as h:
        await h.engine.ask("g7", "one")
        await h.engine.ask("g7", "two")
        assert h.log.count("lookup") == 2


def test_backoff_doubles_up_to_its_ceiling_with_jitter_below_it() -> None:
    policy = RetryPolicy(attempts=5, backoff_seconds=1.0, max_backoff_seconds=3.0, jitter=0.5)
    assert [policy.delay(n, 0.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
    assert policy.delay(2, 0.999) > 1.0 and policy.delay(2, 0.5) == 1.5


class RefusingAccess:
    """The access policy refuses ``lookup`` to everyone here."""

    async def refused_tools(self, thread_id: str, requester: str | None, tools: Sequence[str]) -> dict[str, str]:
        return {"lookup": "only #ops may use it"} if "lookup" in tools else {}


class ProbingPackages:
    """Package code that reaches a tool by a computed name (which validation cannot see)."""

    max_attempts = 1

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        try:
            await tools.call("look" + "up", {"key": "k"})
        except ToolError as exc:
            return PackageOutcome(ok=True, output=str(exc), attempts=[PackageAttemptRecord(1, job.code, None)])
        return PackageOutcome(ok=True, output="called", attempts=[PackageAttemptRecord(1, job.code, None)])


async def test_package_code_is_refused_a_tool_the_requester_may_not_use_and_told_why() -> None:
    package = {"nodes": [{"id": "pkg", "package": {"goal": "probe", "code": "result = ..."}}]}
    async with engine(MEMORY, [package, finish("done")], packages=ProbingPackages(),
                      context=lambda ctx: replace(ctx, access=RefusingAccess())) as h:
        await h.engine.ask("g7", "run the package", requested_by="U1")
        assert (await h.next_event(AnswerReady)).answer == "done"
        said = (await h.engine.state("g7"))["results"]["pkg"]["output"]
        assert said == "tool 'lookup' is not allowed: only #ops may use it"
        assert h.log.count("lookup") == 0


async def test_a_runs_green_nodes_read_the_threads_red_call_count_once() -> None:
    three = plan(("a", "lookup", {"key": "a"}), ("b", "lookup", {"key": "b"}), ("c", "lookup", {"key": "c"}))
    async with engine(MEMORY, [three, finish("one"), three, finish("two")], result_cache_seconds=30.0) as h:
        journal = h.engine.ctx.executions
        counts: list[str] = []
        read = journal.changes

        async def counted(thread_id: str) -> int:
            counts.append(thread_id)
            return await read(thread_id)

        journal.changes = counted  # type: ignore[method-assign]
        await h.engine.ask("g9", "look a, b and c up")
        assert counts == ["g9"] and h.log.count("lookup") == 3
        await h.engine.ask("g9", "and again")  # the next run reads it again, and reuses all three
        assert counts == ["g9", "g9"] and h.log.count("lookup") == 3
