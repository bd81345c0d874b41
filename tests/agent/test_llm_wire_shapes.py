"""Replies in the shapes real OpenAI-compatible servers send, through the real langchain-openai
client over HTTP: tool-call deltas without an ``index`` (Gemini's OpenAI endpoint, mistral.rs),
the tool's name on every delta (some NIM and MiniMax servers), another tool called before the
forced one, a reply cut off by the output limit whether streamed or not, arguments nested
deeper than JSON can be read, and a long plan in many small pieces (merged once, not per
piece)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.messages import ai as langchain_ai
from langchain_openai import ChatOpenAI
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.engine.graph import REPLAN, Replan
from agent.errors import PlanError
from agent.model.llm import call_structured, call_text, stream_structured, stream_text
from agent.model.reply_marks import CUT_OFF, was_cut_off
from agent.model.tool_schemas import as_tool, json_schema_format
from agent.plan.format import Plan, plan_json_schema
from agent.plan.validation import validate_plan
from agent.tools.registry import ToolRegistry
from infra.emulators.openai_wire import chunk, sse, usage_chunk
from tests.fakes.asgi_server import ThreadedServer

USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
PLAN = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "alpha"}},
                  {"id": "b", "tool": "lookup", "args": {"key": "beta"}}]}


class WireServer:
    """Answers each request with the next scripted reply: a list of deltas (streamed, then
    the finish reason), or a dict (the message of a whole completion)."""

    def __init__(self, replies: list[tuple[list[dict[str, Any]] | dict[str, Any], str]]) -> None:
        self.replies = list(replies)
        self.bodies: list[dict[str, Any]] = []
        """Every request's JSON body, in order."""
        self._server = ThreadedServer(Starlette(routes=[
            Route("/v1/chat/completions", self._complete, methods=["POST"])]))
        self.llm = ChatOpenAI(model="m", base_url=f"http://127.0.0.1:{self._server.port}/v1",
                              api_key=SecretStr("unused"), max_retries=0)

    async def _complete(self, request: Request) -> Response:
        self.bodies.append(await request.json())
        reply, reason = self.replies.pop(0)
        if isinstance(reply, dict):
            return JSONResponse({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                                 "choices": [{"index": 0, "finish_reason": reason,
                                              "message": {"role": "assistant", **reply}}],
                                 "usage": USAGE})

        async def events() -> AsyncIterator[str]:
            for delta in reply:
                yield sse(chunk("m", 1, delta))
            yield sse(chunk("m", 1, {}, reason))
            yield sse(usage_chunk("m", 1, USAGE))
            yield sse("[DONE]")
        return StreamingResponse(events(), media_type="text/event-stream")


@contextmanager
def serving(*replies: tuple[list[dict[str, Any]] | dict[str, Any], str]) -> Iterator[ChatOpenAI]:
    server = WireServer(list(replies))
    server._server.start()
    try:
        yield server.llm
    finally:
        server._server.stop()


def call_deltas(name: str, arguments: str, *, piece: int = 7, index: int | None = 0,
                call_id: str = "call_1", name_every_time: bool = False) -> list[dict[str, Any]]:
    """A tool call as stream deltas: its head (id, name), then its arguments in pieces;
    ``index`` None sends no index at all."""
    def delta(fields: dict[str, Any]) -> dict[str, Any]:
        return {"tool_calls": [fields if index is None else {"index": index, **fields}]}
    head = {"id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
    out = [delta(head)]
    for start in range(0, len(arguments), piece):
        part = arguments[start:start + piece]
        out.append(delta({**head, "function": {"name": name, "arguments": part}} if name_every_time
                         else {"function": {"arguments": part}}))
    return out


def whole_call(name: str, arguments: str) -> dict[str, Any]:
    return {"content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                             "function": {"name": name, "arguments": arguments}}]}


async def nothing(_: str) -> None:
    pass


PROMPT = [HumanMessage("look up alpha and beta")]


@pytest.mark.parametrize("piece", [9, 1000])
async def test_tool_call_deltas_without_an_index_make_one_call(piece: int) -> None:
    seen: list[str] = []

    async def on_arguments(received: str) -> None:
        seen.append(received)

    with serving((call_deltas("plan", json.dumps(PLAN), piece=piece, index=None), "tool_calls")) as llm:
        reply = await stream_structured(llm, PROMPT, Plan, "plan", on_arguments)
    assert reply.data == PLAN
    assert seen[-1] == json.dumps(PLAN)


async def test_deltas_without_an_index_of_two_calls_stay_two_calls() -> None:
    other = json.dumps({"key": "x"})
    deltas = call_deltas("lookup", other, index=None, call_id="call_1") + call_deltas(
        "plan", json.dumps(PLAN), index=None, call_id="call_2")
    with serving((deltas, "tool_calls")) as llm:
        reply = await stream_structured(llm, PROMPT, Plan, "plan", nothing)
    assert reply.data == PLAN


async def test_the_forced_tools_call_counts_when_another_tool_was_called_first() -> None:
    first = call_deltas("lookup", json.dumps({"key": "x"}), index=0, call_id="call_1")
    second = call_deltas("plan", json.dumps(PLAN), index=1, call_id="call_2")
    seen: list[str] = []

    async def on_arguments(received: str) -> None:
        seen.append(received)

    both = {"content": None, "tool_calls": [whole_call("lookup", "{}")["tool_calls"][0],
                                            {**whole_call("plan", json.dumps(PLAN))["tool_calls"][0],
                                             "id": "call_2"}]}
    with serving((first + second, "tool_calls"), (both, "tool_calls")) as llm:
        streamed = await stream_structured(llm, PROMPT, Plan, "plan", on_arguments)
        whole = await call_structured(llm, PROMPT, Plan, "plan")
    assert streamed.data == PLAN and whole.data == PLAN
    assert seen and all(json.dumps(PLAN).startswith(text) for text in seen)  # plan's only


async def test_a_tool_name_sent_on_every_delta_is_the_tools_name() -> None:
    feedback = json.dumps({"feedback": "look up gamma too"})
    joiner = [{"role": "assistant", "content": "Not enough, replanning."},
              *call_deltas(REPLAN, feedback, piece=6, name_every_time=True)]
    planner = call_deltas("plan", json.dumps(PLAN), piece=6, name_every_time=True)
    with serving((joiner, "tool_calls"), (planner, "tool_calls")) as llm:
        reply = await stream_text(llm, PROMPT, [as_tool(Replan, REPLAN)], nothing)
        plan = await stream_structured(llm, PROMPT, Plan, "plan", nothing)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [(REPLAN, {"feedback": "look up gamma too"})]
    assert plan.data == PLAN


@pytest.mark.parametrize("streamed", [True, False])
async def test_arguments_nested_too_deeply_go_to_the_repair_round(streamed: bool) -> None:
    deep = '{"nodes": [{"id": "a", "tool": "lookup", "args": {"key": ' + "[" * 3000 + "]" * 3000 + "}}]}"
    reply = (call_deltas("plan", deep, piece=500), "tool_calls") if streamed else (
        whole_call("plan", deep), "tool_calls")
    with serving(reply) as llm:
        got = await (stream_structured(llm, PROMPT, Plan, "plan", nothing) if streamed
                     else call_structured(llm, PROMPT, Plan, "plan"))
    assert isinstance(got.data, str) and got.data.startswith('{"nodes"')
    with pytest.raises(PlanError, match="not valid JSON"):  # refused as any text that is not JSON
        validate_plan(got.data, ToolRegistry())


@pytest.mark.parametrize("streamed", [True, False])
async def test_a_plan_cut_off_by_the_output_limit_ends_with_the_marker(streamed: bool) -> None:
    text = json.dumps(PLAN)
    cut = text[: text.index('"beta') + 5]
    reply = (call_deltas("plan", cut), "length") if streamed else (whole_call("plan", cut), "length")
    with serving(reply) as llm:
        got = await (stream_structured(llm, PROMPT, Plan, "plan", nothing) if streamed
                     else call_structured(llm, PROMPT, Plan, "plan"))
    assert got.data == cut + CUT_OFF
    assert was_cut_off(got.data) and not was_cut_off(PLAN) and not was_cut_off(text)


@pytest.mark.parametrize("streamed", [True, False])
async def test_a_text_reply_cut_off_by_the_output_limit_says_so(streamed: bool) -> None:
    pieces = [{"role": "assistant", "content": "The answer is"}, {"content": " long and"}]
    reply = (pieces, "length") if streamed else ({"content": "The answer is long and"}, "length")
    with serving(reply, (pieces, "stop")) as llm:
        cut = await (stream_text(llm, PROMPT, [], nothing) if streamed else call_text(llm, PROMPT))
        whole = await stream_text(llm, PROMPT, [], nothing)
    assert cut.text == "The answer is long and" and cut.cut_off
    assert not whole.cut_off


async def test_a_long_plan_in_many_pieces_is_parsed_once_not_once_per_piece(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # merging every piece into the reply so far re-parsed all the arguments so far: quadratic
    plan = {"nodes": [{"id": f"n{i}", "tool": "lookup", "args": {"key": f"k{i}-" + "x" * 60}}
                      for i in range(40)]}
    text = json.dumps(plan)
    parsed: list[int] = []
    parse = langchain_ai.parse_partial_json

    def counting(s: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(len(s))
        return parse(s, *args, **kwargs)

    monkeypatch.setattr(langchain_ai, "parse_partial_json", counting)
    with serving((call_deltas("plan", text, piece=4), "tool_calls")) as llm:
        reply = await stream_structured(llm, PROMPT, Plan, "plan", nothing)
    assert reply.data == plan
    assert sum(parsed) <= 3 * len(text), f"{sum(parsed)} characters parsed for {len(text)}"


async def test_arguments_sent_before_the_name_on_the_same_call_are_kept() -> None:
    text = json.dumps(PLAN)
    deltas = [{"tool_calls": [{"index": 0, "function": {"arguments": text[:10]}}]},
              {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                               "function": {"name": "plan", "arguments": text[10:]}}]}]
    seen: list[str] = []

    async def on_arguments(received: str) -> None:
        seen.append(received)

    with serving((deltas, "tool_calls")) as llm:
        reply = await stream_structured(llm, PROMPT, Plan, "plan", on_arguments)
    assert reply.data == PLAN and seen[-1] == text


def _constrained_server(*replies: tuple[list[dict[str, Any]] | dict[str, Any], str]) -> WireServer:
    server = WireServer(list(replies))
    server._server.start()
    return server


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_plan_held_to_its_json_schema_is_read_from_the_text(streamed: bool) -> None:
    """DAGBOT_PLAN_OUTPUT=json_schema: no tool is offered; the request carries the plan's JSON
    schema, whose tool names are the registry's, and the reply's text is the plan."""
    text = json.dumps(PLAN)
    reply: list[dict[str, Any]] | dict[str, Any] = (
        [{"content": text[i:i + 9]} for i in range(0, len(text), 9)] if streamed else {"content": text})
    server = _constrained_server((reply, "stop"))
    constrained = json_schema_format(plan_json_schema({"lookup": ["key"], "deploy": ["target"]}), "plan")
    seen: list[str] = []

    async def on_arguments(received: str) -> None:
        seen.append(received)

    try:
        if streamed:
            got = await stream_structured(server.llm, PROMPT, Plan, "plan", on_arguments, constrained)
        else:
            got = await call_structured(server.llm, PROMPT, Plan, "plan", constrained)
    finally:
        server._server.stop()
    assert got.data == PLAN
    [body] = server.bodies
    assert "tools" not in body and "tool_choice" not in body
    schema = body["response_format"]["json_schema"]["schema"]
    lookup, deploy, package = schema["properties"]["nodes"]["items"]["anyOf"]
    assert "lookup" in lookup["required"] and "deploy" in deploy["required"]  # a node names its tool by its key
    args, _ = lookup["properties"]["lookup"]["anyOf"]
    assert args == {"type": "object", "properties": {"key": {}}, "additionalProperties": False}
    assert "package" in package["required"]
    assert (seen[-1] == text) if streamed else not seen


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_schema_held_plan_cut_off_ends_with_the_marker(streamed: bool) -> None:
    text = json.dumps(PLAN)[:40]
    reply: list[dict[str, Any]] | dict[str, Any] = [{"content": text}] if streamed else {"content": text}
    server = _constrained_server((reply, "length"))
    constrained = json_schema_format(plan_json_schema({"lookup": ["key"]}), "plan")
    try:
        got = await (stream_structured(server.llm, PROMPT, Plan, "plan", nothing, constrained)
                     if streamed else call_structured(server.llm, PROMPT, Plan, "plan", constrained))
    finally:
        server._server.stop()
    assert was_cut_off(got.data) and got.data.startswith(text)
