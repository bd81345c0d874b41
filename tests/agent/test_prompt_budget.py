"""A thread's prompts stay within DAGBOT_PROMPT_CHARS: one long request or a few big result
sets must not make every later message of the thread fail, and a model that still refuses a
prompt as too long gets the user told so plainly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent.answer.facts import INTRO as FACTS_INTRO
from agent.events import AnswerReady, RunFailed
from agent.model.context_window import exceeds_context
from agent.model.llm import LLMUnavailable
from agent.model.prompting import describe_history, joiner_messages, planner_messages
from agent.state import AgentState, PastRun
from infra.emulators.openai_wire import WireRequest, forced_tool
from tests.agent.harness import MEMORY, finish
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tools import ToolLog, simulated_registry

REGISTRY = simulated_registry(ToolLog())
BUDGET = 30_000


def big_results(tag: str, count: int = 120) -> dict[str, dict[str, Any]]:
    return {f"{tag}{i}": {"status": "done", "output": f"{tag}{i} " + "log line " * 200} for i in range(count)}


def past(request: str, tag: str, results: int = 10) -> PastRun:
    return PastRun(request=request, answer=f"answer {tag}", results=big_results(tag, results))


def size(messages: list[Any]) -> int:
    return sum(len(m.content) for m in messages)


def test_the_oldest_runs_give_way_first_and_an_earlier_request_is_clipped() -> None:
    history = [past("a long log: " + "ERROR disk full\n" * 3_000 + "END-OF-LOG", "old"),
               past("second", "mid"), past("third", "new")]
    state = AgentState(request="look up x", history=history)
    messages = planner_messages(state, REGISTRY, 40, BUDGET)
    body = str(messages[1].content)
    assert size(messages) <= BUDGET
    assert "## Request\nlook up x" in body
    assert "third" in body and "new0" in body  # the last run stays
    assert "a long log" not in body  # the oldest one went first
    assert "earlier run(s) left out" in body

    roomy = str(planner_messages(state, REGISTRY, 40, 10**7)[1].content)
    assert "a long log" in roomy and "END-OF-LOG" not in roomy  # a request of 48,000 characters
    assert "characters left out" in roomy


def test_a_thread_that_fits_shows_its_last_five_runs_whole() -> None:
    state = AgentState(request="and now?", history=[past(f"request {i}", f"r{i}_", 2) for i in range(7)])
    body = str(planner_messages(state, REGISTRY, 40)[1].content)
    assert [f"Request: request {i}\n" in body for i in range(7)] == [False, False] + [True] * 5
    assert "left out" not in body
    assert describe_history(AgentState(request="x", history=state["history"][:3])).count("### Earlier run") == 3


def test_a_request_too_long_for_the_budget_is_clipped_with_a_marker_not_dropped() -> None:
    request = "HEAD " + "x" * 200_000 + " TAIL"
    messages = planner_messages(AgentState(request=request, history=[past("before", "b", 120)]), REGISTRY, 40, BUDGET)
    body = str(messages[1].content)
    assert size(messages) <= BUDGET
    assert "## Request\nHEAD" in body and body.rstrip().endswith("TAIL")
    assert "characters left out" in body


def test_this_plans_results_are_shortened_but_each_still_shown_to_the_joiner() -> None:
    results = big_results("n")
    state = AgentState(request="read them all", history=[past("earlier", "e", 120)], plan={"thought": "t"},
                       results=results)
    messages = joiner_messages(state, 1, BUDGET)
    body = str(messages[1].content)
    assert size(messages) <= BUDGET
    assert "## Request\nread them all" in body and "earlier run(s) left out" in body
    assert "Request: earlier" not in body
    assert all(f"- {node_id}: done → {node_id} log line" in body for node_id in results)


@pytest.mark.parametrize(("status", "message", "too_long"), [
    (400, "This model's maximum context length is 8192 tokens. However, you requested 9000", True),
    (400, "Error code: 400 - {'code': 'context_length_exceeded'}", True),
    (400, "the request exceeds the available context size, try increasing it", True),
    (413, "too many tokens in the prompt", True),
    (400, "Invalid value for 'tool_choice'", False),
    (429, "too many tokens per minute: rate limited", False),
    (None, "maximum context length", False),
])
def test_what_counts_as_a_prompt_too_long_for_the_model(status: int | None, message: str,
                                                        too_long: bool) -> None:
    assert exceeds_context(LLMUnavailable("OpenAIError", message, status)) is too_long


class SmallContext(FakeOpenAI):
    """Refuses, as OpenAI does, every request whose messages are longer than ``limit``."""

    def __init__(self, replies: list[Any], limit: int) -> None:
        super().__init__(replies)
        self.limit = limit
        self.refused = 0

    async def _complete(self, request: Request) -> Response:
        received = await WireRequest.read(request)
        if len(json.dumps(received.body["messages"])) > self.limit:
            self.refused += 1
            self.received.append(received)
            return JSONResponse({"error": {
                "message": "This model's maximum context length is 8192 tokens. key sk-secret-123",
                "type": "invalid_request_error", "code": "context_length_exceeded"}}, status_code=400)
        return await super()._complete(request)


LOOKUP = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "x"}}]}


async def test_a_request_too_long_for_the_model_does_not_poison_its_thread() -> None:
    with SmallContext([LOOKUP, finish("x is found")], limit=40_000) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("p1", "what does this log say?\n" + "ERROR disk full on /var\n" * 2_000)
            failed = await h.next_event(RunFailed)
            assert "too long for the model" in failed.error and "new thread" in failed.error
            assert "OPENAI_BASE_URL" not in failed.error and "sk-secret" not in failed.error
            assert len(fake.requests) == 1  # not asked again whole: it is no refusal to stream
            await h.engine.ask("p1", "sorry, just look up x")
            assert (await h.next_event(AnswerReady)).answer == "x is found"
            assert fake.refused == 1
            planner_prompt = json.dumps([r for r in fake.requests if forced_tool(r)][-1]["messages"])
            assert "characters left out" in planner_prompt  # the earlier request, clipped


class JoinerTooLong(SmallContext):
    """Takes every planner request, and refuses every joiner request as too long."""

    async def _complete(self, request: Request) -> Response:
        if forced_tool(await request.json()):
            return await FakeOpenAI._complete(self, request)
        return await super()._complete(request)


async def test_a_joiner_prompt_too_long_for_the_model_answers_with_the_results_and_says_why() -> None:
    with JoinerTooLong([LOOKUP], limit=0) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("j1", "look up x")
            answer = (await h.next_event(AnswerReady)).answer
            assert answer.startswith(FACTS_INTRO) and "• `a` (lookup): done" in answer
            assert "too long for the model" in answer and "sk-secret" not in answer
            assert fake.refused == 1
