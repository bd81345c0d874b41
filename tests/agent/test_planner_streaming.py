"""Planner streaming: nodes start as they arrive, through the real langchain-openai client
talking to a local OpenAI-compatible server that streams the plan's arguments in pieces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from agent.events import (
    AnswerReady,
    NodeFinished,
    NodeProposed,
    NodeStarted,
    PlanReady,
)
from agent.execution.context import EngineSettings
from infra.emulators.openai_wire import ModelReply, ToolCall, forced_tool
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.openai_client import ChatOpenAIWithRole
from tests.agent.harness import MEMORY, Harness, finish, services_on
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

THREE = {"thought": "a feeds b; c is independent", "nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
    {"id": "c", "tool": "lookup", "args": {"key": "c"}},
]}


@asynccontextmanager
async def over_http(stores: str, fake: FakeOpenAI, *, stream: bool = True,
                    packages: ScriptedPackages | None = None, **engine: Any) -> AsyncIterator[Harness]:
    """The engine with langchain-openai's ChatOpenAI pointed at the fake server (``engine``:
    more EngineSettings; ``stores``: MEMORY, or a database URL)."""
    llm = ChatOpenAIWithRole(model="fake", base_url=fake.url, api_key=SecretStr("unused"), max_retries=0)
    log = ToolLog()
    async with services_on(
        stores, llm, simulated_registry(log), packages=packages or ScriptedPackages(),
        engine_config=EngineSettings(decision_poll_seconds=0.2, stream_planner=stream, **engine),
    ) as services:
        yield Harness(services, ScriptedChatModel(), log, packages or ScriptedPackages(), services.events.open())


async def test_nodes_start_while_the_plan_is_still_streaming() -> None:
    with FakeOpenAI([THREE, finish("a, b and c")], hold_at='"id": "c"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("s1", "look up a, then b from it, and c"))
            # the stream pauses once c has begun: a ran, and b, which needs a, ran after it
            await h.next_event(NodeFinished, node_id="b")
            assert fake.held.is_set() and fake.open_streams == 1, "the plan was still streaming"
            labels = h.labels()
            assert labels.index("NodeProposed:a") < labels.index("NodeStarted:a")
            assert labels.index("NodeFinished:a") < labels.index("NodeStarted:b")
            assert "PlanReady" not in labels and "NodeStarted:c" not in labels
            fake.release.set()
            await run
            assert (await h.next_event(AnswerReady)).answer == "a, b and c"
            labels = h.labels()
            # taken over by the scheduler, not run again
            assert sorted(h.log.args_of("lookup"), key=str) == [
                {"key": "a"}, {"key": "c"}, {"key": "value of a"}]
            assert labels.count("NodeStarted:a") == labels.count("NodeFinished:a") == 1
            state = await h.engine.state("s1")
            assert state["results"]["b"]["output"] == "value of value of a"


async def test_a_calls_args_once_closed_start_it_before_the_node_ends_and_the_node_takes_it_over() -> None:
    # more keys may follow "args" ("why" here): the call starts at the args' closing brace
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}, "why": "to know a"}],
            "answer": "${a}"}
    with FakeOpenAI([plan], hold_at='"why"', piece=1) as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("s10", "look up a"))
            while not h.log.args_of("lookup"):
                await asyncio.sleep(0.01)
            assert fake.held.is_set(), "the plan was still streaming"
            assert "NodeStarted:a" not in h.labels()
            fake.release.set()
            await run
            assert (await h.next_event(AnswerReady)).answer == "value of a"
            assert h.log.args_of("lookup") == [{"key": "a"}]  # taken over, not made again


async def test_a_call_started_at_its_args_is_made_again_when_a_dependency_follows() -> None:
    plan = {"nodes": [{"id": "z", "tool": "lookup", "args": {"key": "z"}},
                      {"id": "a", "tool": "lookup", "args": {"key": "a"}, "depends_on": ["z"]}],
            "answer": "${a}"}
    with FakeOpenAI([plan], hold_at='"depends_on"', piece=1) as fake:
        async with over_http(MEMORY, fake, result_cache_seconds=0) as h:
            h.log.delays["z"] = 0.3
            run = asyncio.create_task(h.engine.ask("s11", "after z, look up a"))
            while len(h.log.args_of("lookup")) < 2:  # z, and a's call from its args
                await asyncio.sleep(0.01)
            fake.release.set()
            await run
            marks = [mark for _, mark in h.log.timeline]
            assert marks.count("lookup:a:start") == 2
            assert max(i for i, m in enumerate(marks) if m == "lookup:a:start") > marks.index("lookup:z:end")


async def test_a_node_started_early_that_the_validated_plan_leaves_out_is_not_among_its_results() -> None:
    """bench.quality revenue-total: the 1.5B model also wrote its reply as a package, which
    started while the plan streamed; validation then left it out (the plan's answer says the
    same). Its output ("$None") was mixed into the results, so the plan's answer was not used
    and the joiner wrote "The total revenue is $None"."""
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "answer", "package": {"goal": "format the reply",
                                                   "code": "result = 'The value is $None.'"}}],
            "answer": "The value is ${a}."}
    packages = ScriptedPackages(outputs={"answer": lambda inputs: "The value is $None."})
    with FakeOpenAI([plan, finish("the joiner was asked")], hold_at='"answer": "The') as fake:
        async with over_http(MEMORY, fake, packages=packages) as h:
            run = asyncio.create_task(h.engine.ask("s9", "what is a?"))
            await h.next_event(NodeFinished, node_id="answer")  # it ran while the plan streamed
            fake.release.set()
            await run
            assert (await h.next_event(AnswerReady)).answer == "The value is value of a."
            state = await h.engine.state("s9")
            assert set(state["results"]) == {"a"}
            assert [r for r in fake.requests if forced_tool(r) == "plan"] == fake.requests


@pytest.mark.parametrize(("mode", "piece"), [("pieces", 1), ("pieces", 7), ("whole", None)])
async def test_servers_that_stream_arguments_in_pieces_or_whole(mode: str,
                                                               piece: int | None) -> None:
    with FakeOpenAI([THREE, finish("done")], stream=mode, piece=piece or 7) as fake:  # type: ignore[arg-type]
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("s2", "look things up")
            assert (await h.next_event(AnswerReady)).answer == "done"
            assert h.log.count("lookup") == 3
            assert fake.requests[0]["stream"] is True
            proposed = [e.node_id for e in h.drain() if isinstance(e, NodeProposed)]
            assert proposed == ["a", "b", "c"]


@pytest.mark.parametrize("mode", ["ignore", "refuse"])
async def test_a_server_that_does_not_stream_is_asked_again_without_streaming(mode: str) -> None:
    lost = [THREE] if mode == "ignore" else []  # the reply the client could not read as a stream
    with FakeOpenAI([*lost, THREE, finish("one"), THREE, finish("two")], stream=mode) as fake:  # type: ignore[arg-type]
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("s3", "look things up")
            assert (await h.next_event(AnswerReady)).answer == "one"
            assert h.log.count("lookup") == 3
            # one streamed attempt, then the same request whole; later plans are not streamed
            await h.engine.ask("s4", "again")
            assert (await h.next_event(AnswerReady)).answer == "two"
            planner = [r for r in fake.requests if forced_tool(r) == "plan"]
            assert [bool(r.get("stream")) for r in planner] == [True, False, False]
            assert h.services.engine.ctx.state.stream_refused


DRAFT = {"nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "z", "tool": "lookup", "args": {"key": "${a}"}},
    {"id": "ship", "tool": "deploy", "args": {"target": "prod"}},
    {"id": "x", "tool": "teleport", "args": {}},
    {"id": "y", "tool": "lookup", "args": {"key": "${x}"}},
]}
REPAIRED = {"nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "z", "tool": "lookup", "args": {"key": "z2"}},
    {"id": "ship", "tool": "deploy", "args": {"target": "prod"}},
    {"id": "x", "tool": "lookup", "args": {"key": "x"}},
    {"id": "y", "tool": "lookup", "args": {"key": "${x}"}},
]}


async def test_an_invalid_plan_runs_nothing_red_and_the_repair_keeps_unchanged_green_work() -> None:
    with FakeOpenAI([DRAFT, REPAIRED], hold_at='"id": "y"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("s5", "look things up and deploy", requested_by="U1"))
            # the draft, still streaming: a and z (valid on their own, green) ran; the red
            # node and the invalid one waited for the whole plan
            await h.next_event(NodeFinished, node_id="z")
            # z is complete once `ship` begins, before the stream reaches its pause at y
            assert await asyncio.to_thread(fake.held.wait, 10), "the plan was still streaming"
            labels = h.labels()
            assert not any(label.endswith((":ship", ":x", ":y")) for label in labels
                           if "Proposed" not in label)
            fake.release.set()
            await run
            labels = h.labels()
            ready = labels.index("PlanReady")  # the repaired plan's (the draft was invalid)
            assert labels.index("AwaitingApproval:ship") > ready
            assert h.log.count("deploy") == 0
            # the repair kept a's result (same definition, same inputs) and ran z again, whose
            # arguments changed
            calls = h.log.args_of("lookup")
            assert calls.count({"key": "a"}) == 1
            assert calls.count({"key": "value of a"}) == 1 and calls.count({"key": "z2"}) == 1
            assert calls.count({"key": "x"}) == 1 and calls.count({"key": "value of x"}) == 1
            results = (await h.engine.state("s5"))["results"]
            assert results["a"]["output"] == "value of a" and results["z"]["output"] == "value of z2"
            assert len(fake.requests) == 2
            await h.engine.cancel("s5", by="U1")
            await h.engine.idle()
            assert h.log.count("deploy") == 0


async def test_the_repair_round_is_shown_what_the_drafts_green_nodes_returned() -> None:
    """bench.quality mail-primary: the draft's read ran while it streamed; the repair round
    writes the mail with the value it returned in view, not a guess at the file's layout."""
    draft = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                       {"id": "x", "tool": "teleport", "args": {"to": "${a.name}"}}]}
    repaired = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                          {"id": "x", "tool": "lookup", "args": {"key": "value of a, copied"}}]}
    with FakeOpenAI([draft, repaired, finish("done")], hold_at='"id": "x"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("s5b", "look up a, then use it"))
            await h.next_event(NodeFinished, node_id="a")
            fake.release.set()
            await run
            repair_prompt = str(fake.requests[1]["messages"][-1]["content"])
            shown = repair_prompt.split("Problems:\n", 1)[1]
            assert "unknown tool 'teleport'" in shown
            assert "These nodes of it already ran" in shown and '- a: done → <untrusted source="lookup">value of a</untrusted>' in shown
            assert h.log.args_of("lookup") == [{"key": "a"}, {"key": "value of a, copied"}]


async def test_a_first_plan_is_shown_no_draft_results() -> None:
    with FakeOpenAI([THREE, finish("ok")]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("s5c", "look things up")
            assert "already ran" not in str(fake.requests[0]["messages"][-1]["content"])


async def test_the_status_events_show_nodes_as_they_arrive() -> None:
    with FakeOpenAI([THREE, finish("ok")], piece=3) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("s6", "look things up")
            events = h.drain()
            first_started = next(i for i, e in enumerate(events) if isinstance(e, NodeStarted))
            proposed = [i for i, e in enumerate(events) if isinstance(e, NodeProposed)]
            plan_ready = next(i for i, e in enumerate(events) if isinstance(e, PlanReady))
            assert proposed[0] < first_started < plan_ready


async def test_streaming_can_be_turned_off() -> None:
    with FakeOpenAI([THREE, finish("ok")]) as fake:
        async with over_http(MEMORY, fake, stream=False) as h:
            await h.engine.ask("s7", "look things up")
            labels: list[Any] = h.labels()
            assert not any(label.startswith("NodeProposed") for label in labels)
            assert labels.index("PlanReady") < labels.index("NodeStarted:a")
            assert not fake.requests[0].get("stream")


async def test_a_run_cancelled_while_the_plan_streams_starts_nothing_more() -> None:
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
                      {"id": "c", "tool": "lookup", "args": {"key": "c"}}]}
    with FakeOpenAI([plan], hold_at='"id": "b"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("s8", "look things up"))
            await h.next_event(NodeFinished, node_id="a")
            await h.engine.cancel("s8", by="U1")
            fake.release.set()
            await run
            await h.engine.idle()
            assert h.log.args_of("lookup") == [{"key": "a"}]
            assert "cancelled" in h.drain()[-1].error  # type: ignore[attr-defined]


@pytest.mark.parametrize("stream", [True, False])
async def test_a_lone_surrogate_in_a_plan_goes_to_the_repair_round(database_url: str, stream: bool) -> None:
    """A model that writes half of an emoji's escape pair (``\\ud83d`` alone): the node is
    refused with a problem the repair round fixes, not an internal error; the repair prompt,
    which shows the draft, can still be sent."""
    broken = ModelReply(calls=(ToolCall("plan", '{"nodes": [{"id": "a", "tool": "lookup", '
                                                        '"args": {"key": "smile \\ud83d"}}]}'),))
    fixed = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "smile 🙂"}}]}
    with FakeOpenAI([broken, fixed, finish("smiled")]) as fake:
        async with over_http(database_url, fake, stream=stream) as h:
            await h.engine.ask("u1", "look up a smile")
            assert (await h.next_event(AnswerReady)).answer == "smiled"
            assert h.log.args_of("lookup") == [{"key": "smile 🙂"}]
            repair = [r for r in fake.requests if forced_tool(r)][1]["messages"][-1]["content"]
            assert "half of a UTF-16 surrogate pair" in repair and "\\ud83d" in repair


@dataclass
class TableAwarePackages(ScriptedPackages):
    """A runner whose package over ``a``'s value waits for the whole plan (as a table query
    does: sandbox/table_query.py)."""

    def needs_whole_plan(self, inputs: dict[str, Any]) -> bool:
        return "value of a" in inputs.values()


async def test_a_package_its_runner_says_needs_the_whole_plan_waits_for_it_and_then_knows_its_place() -> None:
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "rows", "package": {"goal": "parse", "code": "result = 1"}, "depends_on": ["a"]},
                      {"id": "total", "package": {"goal": "sum", "code": "result = 2"}, "depends_on": ["rows"]}],
            "answer": "The total is ${total}."}
    for packages, early in ((TableAwarePackages(outputs={"rows": lambda i: 1, "total": lambda i: 2}), False),
                            (ScriptedPackages(outputs={"rows": lambda i: 1, "total": lambda i: 2}), True)):
        with FakeOpenAI([plan], hold_at='"answer": "The') as fake:
            async with over_http(MEMORY, fake, packages=packages) as h:
                run = asyncio.create_task(h.engine.ask("s12", "what is the total of a?"))
                await h.next_event(NodeFinished, node_id="a")
                await asyncio.sleep(0.3)  # what would start early has started by now
                assert fake.held.is_set()
                assert ("NodeStarted:rows" in h.labels()) is early
                fake.release.set()
                await run
                assert (await h.next_event(AnswerReady)).answer == "The total is 2."
        assert [j.node_id for j in packages.jobs] == ["rows", "total"]
        if not early:  # started with the whole plan in view: the request, and who goes on from it
            assert [(j.final, j.request) for j in packages.jobs] == [
                (False, "what is the total of a?"), (True, "what is the total of a?")]
