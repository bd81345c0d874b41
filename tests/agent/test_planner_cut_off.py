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

from agent.events import AnswerReady, AwaitingApproval, RunFailed
from infra.emulators.openai_wire import ModelReply, ToolCall, forced_tool
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI


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
async def test_a_cut_off_red_node_never_asks_for_approval(sqlite_url: str, reason: str) -> None:
    with FakeOpenAI([cut(DEPLOY, '"prod', reason), DEPLOY]) as fake:
        async with over_http(sqlite_url, fake) as h:
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


async def test_a_cut_off_green_node_does_not_run_with_its_shortened_argument(sqlite_url: str) -> None:
    with FakeOpenAI([cut(LOOKUPS, '"beta', "length"), LOOKUPS]) as fake:
        async with over_http(sqlite_url, fake) as h:
            await h.engine.ask("c2", "look up alpha and beta-gamma")
            answer = await h.next_event(AnswerReady)
            assert answer.answer == "value of alpha and value of beta-gamma"
            # a, complete before the cut, ran once (started early, kept by the repaired plan)
            assert h.log.args_of("lookup") == [{"key": "alpha"}, {"key": "beta-gamma"}]
            assert len(planner_prompts(fake)) == 2



MANY = {"nodes": [{"id": f"n{i}", "tool": "lookup",
                   "args": {"key": f"host-{i}.eu-west-1.internal.example.com/status?fields=cpu,mem,disk,net,load,uptime,users,kernel,ports&format=json"}}
                  for i in range(40)]}


async def test_a_long_cut_off_plan_is_repaired_knowing_why(sqlite_url: str) -> None:
    """The repair round sees where the plan was cut off, however long it was, and is asked
    for a shorter one; cut off again, the user is told to split the request."""
    last = f'"host-{35}.'
    with FakeOpenAI([cut(MANY, last, "length"), cut(MANY, last, "length")]) as fake:
        async with over_http(sqlite_url, fake) as h:
            await h.engine.ask("c3", "check the status of 40 hosts")
            failed = await h.next_event(RunFailed)
            repair = json.loads(planner_prompts(fake)[1])[-1]["content"]
            assert len(json.dumps(MANY)) > 6_000
            assert "[cut off here" in repair and "output limit" in repair and "`each`" in repair
            assert "too long for the model's output limit" in failed.error
            assert "not valid JSON" not in failed.error and "Split the request" in failed.error
            assert h.log.count("lookup") < 40  # the cut-off node never ran
