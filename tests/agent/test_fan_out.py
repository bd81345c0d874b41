"""Fan-out nodes (``each``): one green tool over a list of argument sets, in one short node.

The plan says the tool once and each call's arguments only (LLMCompiler-style fan-out at
the token cost of native parallel tool calls); the calls run at once, each with the tool's
retries and result reuse, and the node's output is the list of their outputs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.errors import PlanError
from agent.events import AnswerReady, NodeFailed, NodeStarted, PlanReady, ResultReused
from agent.plan.edges import call_args
from agent.plan.format import node_label, plan_json_schema
from agent.plan.limits import PlanLimits
from agent.plan.parsing import item_argument
from agent.plan.validation import validate_plan
from bot.views.progress_view import RunProgress
from tests.agent.harness import MEMORY, Harness, finish, harness
from tests.agent.test_green_calls import engine
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tools import ToolLog, simulated_registry

REGISTRY = simulated_registry(ToolLog())


def fan_out(node_id: str, *keys: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "tool": "lookup", "each": [{"key": k} for k in keys], **fields}


def problems(raw: Any, limits: PlanLimits | None = None) -> list[str]:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw, REGISTRY, limits)
    return [str(p) for p in caught.value.problems]


def test_each_item_is_one_call_with_the_shared_args_and_its_references_are_edges() -> None:
    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "m", "tool": "lookup", "args": {"gate": "g"}, "each": [{"key": "x"}, {"key": "${a}"}]},
    ]}, REGISTRY)
    node = plan.node("m")
    assert call_args(node) == [{"gate": "g", "key": "x"}, {"gate": "g", "key": "${a}"}]
    assert node.depends_on == ["a"]


def test_plain_items_are_the_value_of_the_one_argument_left_open() -> None:
    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "m", "tool": "lookup", "args": {"gate": "g"}, "each": ["x", "${a}", {"key": "y"}]},
        {"id": "n", "tool": "lookup", "each": ["z"]},
    ]}, REGISTRY)
    assert call_args(plan.node("m")) == [{"gate": "g", "key": "x"}, {"gate": "g", "key": "${a}"},
                                         {"gate": "g", "key": "y"}]
    assert plan.node("m").depends_on == ["a"]
    assert call_args(plan.node("n")) == [{"key": "z"}]  # the one required argument (gate is optional)


def test_the_plan_schema_admits_plain_items_only_where_one_argument_is_open() -> None:
    plain = [name for name in ("lookup", "scale") if item_argument(REGISTRY.get(name).json_schema(), {}) is not None]
    assert plain == ["lookup"]
    schema = plan_json_schema({"lookup": ["key", "gate"], "scale": ["service", "replicas", "token"]}, plain)
    lookup, scale, _ = schema["properties"]["nodes"]["items"]["anyOf"]
    args, each = lookup["properties"]["lookup"]["anyOf"]  # the tool's name: its args, or a list of items
    assert each["items"] == {"anyOf": [args, {"type": ["string", "number"]}]}
    scale_args, scale_each = scale["properties"]["scale"]["anyOf"]
    assert scale_each["items"] == scale_args
    assert lookup["required"] == ["id", "lookup"]  # held to it, a small model left out ids others read


@pytest.mark.parametrize(("raw", "expected"), [
    ({"nodes": [{"id": "d", "tool": "deploy", "each": [{"target": "a"}, {"target": "b"}]}]},
     "node 'd', field 'each': 'deploy' is a red tool: give each of its calls a node of its own"),
    ({"nodes": [{"id": "m", "tool": "lookup", "each": [{"key": "a"}, {"key": 3}]}]},
     "node 'm', field 'each.1': do not fit tool 'lookup': key: Input should be a valid string"),
    ({"nodes": [{"id": "m", "tool": "lookup", "each": []}]}, "node 'm', field 'each': needs 1 to 3 items, not 0"),
    ({"nodes": [fan_out("m", "a", "b", "c", "d")]}, "needs 1 to 3 items, not 4"),
    ({"nodes": [{"id": "m", "tool": "lookup", "each": ["b", ["a"]]}]},
     "node 'm', field 'each.1': do not fit tool 'lookup': key: Input should be a valid string"),
    ({"nodes": [{"id": "m", "tool": "lookup", "each": [3, "b"]}]},
     "node 'm', field 'each.0': do not fit tool 'lookup': key: Input should be a valid string"),
    ({"nodes": [{"id": "s", "tool": "scale", "each": ["web", "api"]}]},
     "node 's', field 'each': 'scale' takes several arguments (service, replicas, token): write each "
     "item as an object of them"),
    ({"nodes": [{"id": "s", "tool": "scale", "args": {"replicas": 2}, "each": ["web", "api"]}]},
     "node 's', field 'each': 'scale' is a red tool"),
    ({"nodes": [{"id": "m", "tool": "ghost", "each": ["a"]}]}, "node 'm', field 'tool': unknown tool 'ghost'"),
    ({"nodes": [{"id": "p", "package": {"goal": "g", "code": "result = 1"}, "each": [{"key": "a"}]}]},
     "node 'p', field 'each': a package takes no 'each'; loop in its code"),
    ({"nodes": [fan_out("m", "${ghost}")]}, "node 'm', field 'depends_on': refers to unknown node 'ghost'"),
])
def test_bad_fan_outs_are_named_by_node_and_item(raw: Any, expected: str) -> None:
    found = problems(raw, PlanLimits(max_each=3))
    assert any(expected in p for p in found), found


async def test_the_calls_run_at_once_and_the_output_keeps_the_item_order() -> None:
    plan = {"nodes": [fan_out("m", "c", "a", "b"),
                      {"id": "n", "tool": "lookup", "args": {"key": "${m.2}"}}],
            "answer": "${m.0} | ${m.1} | ${n}"}
    log = ToolLog(delays={"c": 0.2, "a": 0.1, "b": 0.05})
    async with harness(MEMORY, [plan], log=log) as h:
        await h.engine.ask("fan1", "look up c, a and b, then what b says")
        events = h.drain()
        answer = next(e.answer for e in events if isinstance(e, AnswerReady))
        assert answer == "value of c | value of a | value of value of b"
        marks = [mark for _, mark in log.timeline]
        first_end = next(i for i, mark in enumerate(marks) if mark.endswith(":end"))
        assert {m for m in marks[:first_end]} == {"lookup:c:start", "lookup:a:start", "lookup:b:start"}
        assert [e.label for e in events if isinstance(e, NodeStarted)] == ["lookup ×3", "lookup"]
        state = await h.engine.state("fan1")
        assert state["results"]["m"]["output"] == ["value of c", "value of a", "value of b"]


async def test_a_failed_item_fails_the_node_by_name_and_a_rerun_calls_only_that_item() -> None:
    failing = {"nodes": [{"id": "m", "tool": "flaky",
                          "each": [{"key": "a"}, {"key": "b", "permanent": True}, {"key": "c"}]}]}
    fixed = {"nodes": [{"id": "m", "tool": "flaky", "each": [{"key": "a"}, {"key": "b"}, {"key": "c"}]}]}
    replies = [failing, finish("b is missing"), fixed, finish("all three")]
    async with engine(MEMORY, replies, result_cache_seconds=30.0) as h:
        await h.engine.ask("fan2", "look up a, b and c")
        failed = next(e for e in h.drain() if isinstance(e, NodeFailed))
        assert failed.error.startswith("1 of 3 calls failed: item 1 ")
        assert "no such key 'b'" in failed.error
        assert 'm: failed — <untrusted source="flaky">1 of 3 calls failed: item 1' in h.llm.calls[1][-1].content
        await h.engine.ask("fan2", "try again")
        reused = [e for e in h.drain() if isinstance(e, ResultReused)]
        assert len(reused) == 2  # a and c: fresh results of the same calls
        assert [args["key"] for tool, args in h.log.calls if tool == "flaky"] == ["a", "b", "c", "b"]
        assert (await h.engine.state("fan2"))["results"]["m"]["output"] == ["flaky a", "flaky b", "flaky c"]


def test_the_status_message_names_a_fan_out_by_its_tool_and_count() -> None:
    node = fan_out("m", "a", "b")
    assert node_label(node) == "lookup ×2"
    progress = RunProgress(request="r", requested_by="U1", started_at=0.0)
    progress.apply(PlanReady(thread_id="t", run_id="r", plan={"nodes": [node]}))
    assert progress.nodes["m"].label == "lookup ×2"


# ------------------------------------------------------------ while the plan streams

STREAMED = {"nodes": [fan_out("m", "a", "b", "c")], "answer": "${m.0}, ${m.1}, ${m.2}"}


async def _lookups_started(h: Harness, count: int) -> None:
    while sum(1 for _, mark in h.log.timeline if mark.endswith(":start")) < count:
        await asyncio.sleep(0.01)


PLAIN = {"nodes": [{"id": "m", "tool": "lookup", "each": ["a", "b", "c"]}], "answer": STREAMED["answer"]}
NO_ID = {"nodes": [{"tool": "lookup", "each": ["a", "b", "c"]}], "answer": "${lookup.0}, ${lookup.1}, ${lookup.2}"}


@pytest.mark.parametrize(("plan", "at_hold"), [(STREAMED, ["a", "b"]), (PLAIN, ["a", "b", "c"]), (NO_ID, ["a", "b", "c"])],
                         ids=["argument objects", "plain items", "no id"])
async def test_a_fan_out_starts_each_item_as_it_is_written_and_keeps_those_calls(
        plan: dict[str, Any], at_hold: list[str]) -> None:
    with FakeOpenAI([plan], hold_at='"c"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("fan3", "look up a, b and c"))
            await asyncio.wait_for(_lookups_started(h, len(at_hold)), 10)
            # held just after "c": a plain item is complete at its closing quote; an object may
            # still get another key, so c's is not; the node itself has not started
            assert await asyncio.to_thread(fake.held.wait, 10), "the plan was still streaming"
            assert [args["key"] for args in h.log.args_of("lookup")] == at_hold
            assert not any(isinstance(e, NodeStarted) for e in h.drain())
            fake.release.set()
            await run
            answer = next(e.answer for e in h.drain() if isinstance(e, AnswerReady))
            assert answer == "value of a, value of b, value of c"
            assert [args["key"] for args in h.log.args_of("lookup")] == ["a", "b", "c"]  # none twice


async def test_items_started_early_are_not_used_when_the_node_turns_out_to_depend() -> None:
    plan = {"nodes": [{"id": "first", "tool": "lookup", "args": {"key": "z"}},
                      {**fan_out("m", "a", "b"), "depends_on": ["first"]}],
            "answer": "${m.0}"}
    log_marks = "lookup:z:end"
    with FakeOpenAI([plan], hold_at='"depends_on"') as fake:
        async with over_http(MEMORY, fake, result_cache_seconds=0) as h:  # (no reuse either)
            h.log.delays["z"] = 0.3
            run = asyncio.create_task(h.engine.ask("fan4", "after z, look up a and b"))
            await asyncio.wait_for(_lookups_started(h, 2), 10)  # z, and a (b was the last item)
            fake.release.set()
            await run
            marks = [mark for _, mark in h.log.timeline]
            # the node's own calls of a and b came after its dependency
            assert marks.index("lookup:b:start") > marks.index(log_marks)
            assert len([m for m in marks if m == "lookup:a:start"]) == 2
            assert max(i for i, m in enumerate(marks) if m == "lookup:a:start") > marks.index(log_marks)


async def test_a_red_or_refused_fan_out_is_never_started_while_written() -> None:
    red = {"nodes": [{"id": "d", "tool": "deploy", "each": [{"target": "a"}, {"target": "b"}, {"target": "c"}]}]}
    with FakeOpenAI([red, {"nodes": []}, finish("nothing to do")], hold_at='"c"') as fake:
        async with over_http(MEMORY, fake) as h:
            run = asyncio.create_task(h.engine.ask("fan5", "deploy a, b and c"))
            await asyncio.to_thread(fake.held.wait, 10)
            await asyncio.sleep(0.2)
            assert h.log.count("deploy") == 0
            fake.release.set()
            await run
            assert h.log.count("deploy") == 0
            assert "'deploy' is a red tool" in fake.requests[1]["messages"][-1]["content"]


async def test_a_one_item_fan_out_made_one_call_keeps_the_call_it_started_while_written() -> None:
    """``{"m": ["a"]}`` read as one call's output is that call (agent/plan/single_calls.py); its
    item, started at its closing quote, is the call the node makes: not made twice."""
    plan = {"nodes": [{"id": "m", "lookup": ["a"]}], "answer": "Got ${m}."}
    with FakeOpenAI([plan], hold_at='"answer"') as fake:
        async with over_http(MEMORY, fake, result_cache_seconds=0) as h:
            run = asyncio.create_task(h.engine.ask("fan6", "look up a"))
            await asyncio.wait_for(_lookups_started(h, 1), 10)
            fake.release.set()
            await run
            answer = next(e.answer for e in h.drain() if isinstance(e, AnswerReady))
            assert answer == "Got value of a."
            assert [args["key"] for args in h.log.args_of("lookup")] == ["a"]
