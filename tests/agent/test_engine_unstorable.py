"""Outputs PostgreSQL would refuse reach the stores storable: NaN and Infinity (which Python's
json writes, and sql_query or http_get outputs can hold) are refused by its json columns, and
a NUL character by the jsonb in which LangGraph's checkpointer keeps string state values such
as the answer. Either used to stop the run outside the graph, with no answer and no failure
shown. They are named ("NaN", "Infinity") or dropped where results and answers are recorded."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.engine.engine import ThreadStatus
from agent.events import AnswerReady, AwaitingApproval, RunFailed
from agent.tools.registry import Risk
from tests.agent.harness import Harness, finish, harness


class NoArgs(BaseModel):
    pass


def add_tool(h: Harness, name: str, risk: Risk, output: Any) -> None:
    async def tool() -> Any:
        return output

    run: Callable[[], Awaitable[Any]] = tool
    h.services.registry.add(StructuredTool.from_function(
        coroutine=run, name=name, description=f"The {name}.", args_schema=NoArgs), risk)


async def ended(h: Harness, thread_id: str) -> list[Any]:
    await h.engine.idle()
    assert await h.engine.status(thread_id) is ThreadStatus.IDLE
    return [e for e in h.drain() if isinstance(e, AnswerReady | RunFailed)]


async def test_a_non_finite_reading_is_stored_by_its_name(database_url: str) -> None:
    plan = {"nodes": [{"id": "m", "tool": "metric", "args": {}}], "answer": "${m}"}
    async with harness(database_url, [plan]) as h:
        add_tool(h, "metric", Risk.GREEN, {"error_rate": math.nan, "peak": math.inf, "rows": [1.5, -math.inf]})
        await h.engine.submit("nan", "what is the error rate?", requested_by="U1")
        [answer] = await ended(h, "nan")
        stored = {"error_rate": "NaN", "peak": "Infinity", "rows": [1.5, "-Infinity"]}
        assert isinstance(answer, AnswerReady) and 'error_rate: NaN' in answer.answer
        state = await h.engine.state("nan")
        assert state["results"]["m"]["output"] == stored
        saved = await h.services.store.load("nan", state["plan_id"])
        assert saved["m"].output == stored


async def test_a_nul_character_never_reaches_the_answer(database_url: str) -> None:
    plan = {"nodes": [{"id": "b", "tool": "banner", "args": {}}], "answer": "The banner is: ${b}"}
    async with harness(database_url, [plan]) as h:
        add_tool(h, "banner", Risk.GREEN, "SSH-2.0-OpenSSH\x00")
        await h.engine.submit("nul", "what is the ssh banner?", requested_by="U1")
        assert [e.answer for e in await ended(h, "nul")] == ["The banner is: SSH-2.0-OpenSSH"]
        assert (await h.engine.state("nul"))["answer"] == "The banner is: SSH-2.0-OpenSSH"


async def test_a_nul_character_in_the_joiners_answer_is_dropped(database_url: str) -> None:
    async with harness(database_url, [{"nodes": []}, finish("hello\x00 world")]) as h:
        await h.engine.submit("nul2", "say hello", requested_by="U1")
        assert [e.answer for e in await ended(h, "nul2")] == ["hello world"]


async def test_a_red_calls_non_finite_output_is_journalled(database_url: str) -> None:
    plan = {"nodes": [{"id": "reset", "tool": "reset_counter", "args": {}}], "answer": "Was ${reset.before}."}
    async with harness(database_url, [plan]) as h:
        add_tool(h, "reset_counter", Risk.RED, {"before": math.nan})
        await h.engine.submit("red", "reset the counter", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        assert [e.answer for e in await ended(h, "red")] == ["Was NaN."]
