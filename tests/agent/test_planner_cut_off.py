"""A streamed plan that did not arrive whole: the model hit its output limit (finish reason
``length``), or the server ended the call with arguments that are not JSON. langchain-core
closes what the pieces left open, so such a reply would pass for a complete plan with its
last value shortened; it goes to the repair round instead, as it does when not streamed, and
nothing of the cut-off node runs or asks for approval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from agent.engine.computed_values import COMPUTED_ID
from agent.events import AnswerReady, AwaitingApproval, PlanReady, RunFailed
from agent.execution.context import EngineSettings
from agent.model.reply_marks import repeating_line
from infra.emulators.openai_wire import ModelReply, ToolCall, forced_tool
from infra.openai_client import ChatOpenAIWithRole
from tests.agent.harness import MEMORY, services_on
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, reading_registry


@dataclass(frozen=True)
class Ended(ModelReply):
    """A reply whose stream ends with a given finish reason."""

    reason: str = "length"

    @property
    def finish_reason(self) -> str:
        return self.reason


def cut(plan: dict[str, Any], after: str, reason: str) -> Ended:
    """``plan``'s call, its arguments cut off just after the first ``after``."""
    text = json.dumps(plan)
    return Ended(calls=(ToolCall("plan", text[: text.index(after) + len(after)]),), reason=reason)


def planner_prompts(fake: FakeOpenAI) -> list[str]:
    return [json.dumps(r["messages"]) for r in fake.requests if forced_tool(r) == "plan"]


DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod-canary"}}]}


@pytest.mark.parametrize("reason", ["length", "tool_calls"])
async def test_a_cut_off_red_node_never_asks_for_approval(reason: str) -> None:
    with FakeOpenAI([cut(DEPLOY, '"prod', reason), DEPLOY]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.submit("c1", "deploy prod-canary", requested_by="U1")
            asked = await h.next_event(AwaitingApproval)
            assert asked.args["target"] == "prod-canary"
            await h.engine.cancel("c1", by="U1")
            await h.engine.idle()
            approvals = [e.args["target"] for e in h.drain() if isinstance(e, AwaitingApproval)]
            assert approvals == ["prod-canary"]
            # the repair round was shown the cut-off reply as it came, as not valid JSON
            prompts = planner_prompts(fake)
            assert len(prompts) == 2 and "not valid JSON" in prompts[1]
            assert ("[cut off here" in prompts[1]) is (reason == "length")
            assert h.log.count("deploy") == 0


LOOKUPS = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "alpha"}},
                     {"id": "b", "tool": "lookup", "args": {"key": "beta-gamma"}}],
           "answer": "${a} and ${b}"}


async def test_a_cut_off_green_node_does_not_run_with_its_shortened_argument() -> None:
    with FakeOpenAI([cut(LOOKUPS, '"beta', "length"), LOOKUPS]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("c2", "look up alpha and beta-gamma")
            answer = await h.next_event(AnswerReady)
            assert answer.answer == "value of alpha and value of beta-gamma"
            # a, complete before the cut, ran once (started early, kept by the repaired plan)
            assert h.log.args_of("lookup") == [{"key": "alpha"}, {"key": "beta-gamma"}]
            assert len(planner_prompts(fake)) == 2



MANY = {"nodes": [{"id": f"n{i}", "tool": "lookup",
                   "args": {"key": f"host-{i}.eu-west-1.internal.example.com/status?fields=cpu,mem,disk,net,load,uptime,users,kernel,ports&format=json"}}
                  for i in range(40)]}


async def test_a_long_cut_off_plan_is_repaired_knowing_why() -> None:
    """The repair round sees where the plan was cut off, however long it was, and is asked
    for a shorter one; cut off again, the user is told to split the request."""
    last = f'"host-{35}.'
    with FakeOpenAI([cut(MANY, last, "length"), cut(MANY, last, "length")]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("c3", "check the status of 40 hosts")
            failed = await h.next_event(RunFailed)
            repair = json.loads(planner_prompts(fake)[1])[-1]["content"]
            assert len(json.dumps(MANY)) > 6_000
            assert "[cut off here" in repair and "output limit" in repair and "`each`" in repair
            assert "too long for the model's output limit" in failed.error
            assert "not valid JSON" not in failed.error and "Split the request" in failed.error
            assert h.log.count("lookup") < 40  # the cut-off node never ran


LOOPING_LINE = "result = result['changes'][0]['details']['description']"
LOOPING = {"nodes": [{"id": "page", "tool": "lookup", "args": {"key": "releases"}},
                     {"id": "parse", "package": {"goal": "what changed", "code": "\n".join(
                         ["result = inputs['page']"] + [LOOPING_LINE] * 40)}}]}


@pytest.mark.parametrize("plan_output", ["tool_call", "json_schema"])
async def test_a_plan_writing_one_line_over_and_over_is_stopped_and_repaired(plan_output: str) -> None:
    """bench.quality follow-up-read: the 1.5B model wrote one line of package code until its
    output limit, twice. The stream stops once the line comes three times in a row (six for a
    line under 40 characters), and the repair round is told what happened; nothing of the
    stopped plan runs but what was whole."""
    def written(plan: dict[str, Any]) -> Any:  # held to a schema, the plan is the reply's text
        return plan if plan_output == "tool_call" else ModelReply(text=json.dumps(plan, indent=1))

    with FakeOpenAI([written(LOOPING), written(LOOKUPS), "done"]) as fake:
        async with over_http(MEMORY, fake, plan_output=plan_output) as h:
            await h.engine.ask("c4", "what changed in the release")
            answer = await h.next_event(AnswerReady)
            assert answer.answer == "value of alpha and value of beta-gamma"
            repair = fake.requests[1]["messages"][-1]["content"]
            assert "repeated itself" in repair and "writes each step once" in repair
            assert "[stopped here: the reply wrote the same line over and over]" in repair
            assert repair.count(LOOPING_LINE) == 3  # stopped at the third: a piece of 40+ characters
            assert fake.open_streams == 0


@pytest.mark.parametrize(("text", "line"), [
    ("a\n" + "x = compute(value)\n" * 6, "x = compute(value)"),
    ('{"code": "' + "total = total + rows[0]\\n" * 7, "total = total + rows[0]"),  # in a JSON string
    ("x = compute(value)\n" * 5, None),  # five: not yet
    ("x = compute(value)\n" * 5 + "x = compute(val", None),  # the sixth is not whole yet
    ("}\n" * 30, None),  # short lines repeat in any JSON
    ("x = compute(value)\n" * 5 + "y = compute(value)\n", None),
])
def test_a_repeating_line_is_six_whole_lines_alike(text: str, line: str | None) -> None:
    assert repeating_line(text) == line


NODE = '{"id": "answer", "package": {"goal": "p99", "code": "import json\\nresult = json.loads(x)"}}, '
SIMILAR = ", ".join(f'{{"id": "n{i}", "read_file": {{"path": "logs/host-{i}.log"}}}}' for i in range(30))


def test_a_longer_piece_repeats_when_it_comes_three_times_in_a_row() -> None:
    """bench.quality average-p99: the repair round wrote the same package node, on one line,
    until the output limit. Nodes alike but for their ids and paths are no loop."""
    assert repeating_line('{"nodes": [' + NODE * 3) == NODE
    assert repeating_line('{"nodes": [' + NODE * 2) is None
    plan = '{"nodes": [' + SIMILAR + "]}"
    assert all(repeating_line(plan[:end]) is None for end in range(len(plan) + 1))


async def test_a_plan_repeating_itself_again_after_the_repair_round_keeps_its_reads_and_computes() -> None:
    """data longest-backup: the read, then a package whose regular expression went ``\\b\\b…``
    until stopped, twice alike. The whole nodes before the loop run, and one package computes
    the request from them."""
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: "3 changes"})
    with FakeOpenAI([LOOPING, LOOPING, "3 changes."]) as fake:
        async with over_http(MEMORY, fake, packages=packages) as h:
            await h.engine.ask("c5", "what changed in the release")
            answer = await h.next_event(AnswerReady)
            [ready] = [e for e in h.drain() if isinstance(e, PlanReady)]
    assert "repetition-left-out" in ready.mends
    assert [n["id"] for n in ready.plan["nodes"]] == ["page", COMPUTED_ID]
    [job] = packages.jobs
    assert job.goal.endswith("what changed in the release") and set(job.inputs) == {"page"}
    assert answer.answer == "3 changes." and h.log.count("lookup") == 1


async def test_a_plan_repeating_itself_again_with_nothing_whole_before_the_loop_ends_saying_so() -> None:
    looping_first = {"nodes": LOOPING["nodes"][1:]}
    with FakeOpenAI([looping_first, looping_first]) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("c6", "what changed in the release")
            failed = await h.next_event(RunFailed)
            assert failed.error.startswith("I could not make a plan for this request: the model wrote the "
                                           "same part of the plan again and again")
            assert "not valid JSON" not in failed.error
            assert h.log.count("lookup") == 0


@pytest.mark.parametrize(("plan_output", "whole"), [("tool_call", []), ("json_schema", []),
                                                    ("tool_call", [{"id": "n", "tool": "lookup", "args": {}}])])
async def test_a_question_about_named_files_whose_plan_loops_twice_is_computed_from_their_reads(
        plan_output: str, whole: list[dict[str, Any]]) -> None:
    """evening paid-day-and-kenji: the plan looped before its first node was whole, twice; the
    files the question names are read and one package computes it (question-files-read); so
    when the nodes whole before the loop make no valid plan either (``whole``: a lookup with no
    key)."""
    log = ToolLog()
    tools = reading_registry(log)
    looping_first = {"nodes": [*whole, *LOOPING["nodes"][1:]]}
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: "2026-11-21"})
    looping: Any = looping_first if plan_output == "tool_call" else ModelReply(text=json.dumps(looping_first, indent=1))
    with FakeOpenAI([looping, looping, "It was paid on 2026-11-21."]) as fake:
        llm = ChatOpenAIWithRole(model="fake", base_url=fake.url, api_key=SecretStr("unused"), max_retries=0)
        async with services_on(MEMORY, llm, tools, packages=packages,
                               engine_config=EngineSettings(decision_poll_seconds=0.2,
                                                            plan_output=plan_output)) as services:
            events = services.events.open()
            await services.engine.ask("c7", "When was F-15 paid? See billing/invoices.json")
            seen = [events.get_nowait() for _ in range(events.qsize())]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert "question-files-read" in ready.mends
    assert log.calls == [("read_file", {"path": "billing/invoices.json"})]
    assert isinstance(seen[-1], AnswerReady) and seen[-1].answer == "It was paid on 2026-11-21."
