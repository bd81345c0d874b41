"""Calls to the chat model.

- Structured (the planner): a forced tool call whose arguments are the answer
  (:func:`call_structured`, :func:`stream_structured`), or, where the server constrains
  output to a JSON schema (llama.cpp, vLLM, OpenAI), the reply's text itself, held to the
  schema it is given (``constrained``, :func:`agent.model.tool_schemas.json_schema_format`): a
  small model then cannot write anything but a reply of that shape.
- Text (the joiner): the reply is the model's text content, and it may call the tools it is
  offered (``tool_choice="auto"``) instead of, or as well as, writing text
  (:func:`call_text`, :func:`stream_text`).

Each request says which of dagbot's calls it is (:data:`CALL_ROLE` in its run's metadata:
``planner``, ``joiner``, ``reflexion``): tracing shows it as the run's name, and a client or a
server that answers by role reads it there (:func:`for_role`), never from the prompt's text.

Streamed replies are gathered and mended by :mod:`agent.model.streamed_reply`. A reply the model's
output limit cut off is marked (:mod:`agent.model.reply_marks`): a plan's text ends with :data:`CUT_OFF`,
a text reply has ``cut_off`` set. A streamed plan that writes the same line again and again is
stopped there, and its text ends with :data:`REPEATING`. The schemas sent are made by
:mod:`agent.model.tool_schemas`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal, Self, TypeVar, cast

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, InvalidToolCall, ToolCall
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel

from agent.model.reply_marks import CUT_OFF, REPEATING, TOO_DEEP, repeating_line, stopped_repeating
from agent.model.streamed_reply import StreamedReply, offered_name
from agent.model.tool_schemas import as_tool
from agent.model.written_calls import written_calls

CALL_ROLE = "dagbot_call"
"""The key, in a model request's run metadata, of which of dagbot's calls it is (:data:`Role`)."""
Role = Literal["planner", "joiner", "reflexion"]

_FENCE = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.S)


Call = TypeVar("Call", ToolCall, InvalidToolCall)


@dataclass(frozen=True)
class StructuredReply:
    data: Any
    """The arguments of the forced tool call (or JSON found in the text), else the raw text."""
    tokens: int


@dataclass(frozen=True)
class TextReply:
    text: str
    """The reply's text content, as the model wrote it."""
    tool_calls: list[ToolCall]
    """Calls of the offered tools (one whose arguments are not valid JSON has empty ``args``)."""
    tokens: int
    cut_off: bool = False
    """The model's output limit ended the reply (finish reason ``length``)."""


class ModelError(Exception):
    """A failed call of the model. Its text (:func:`model_error_summary`) may be shown to
    users: the error's class and HTTP status, never the server's words, which may quote the
    request's key. ``detail`` is the client's whole message: for the log, once scrubbed of the
    engine's secrets (:attr:`agent.execution.context.EngineContext.redactor`)."""

    def __init__(self, summary: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(summary)
        self.detail = detail or summary
        self.status = status
        """The HTTP status the server answered, if it answered."""

    @classmethod
    def of(cls, exc: BaseException) -> Self:
        """``exc`` (the client's error) as this error: chain it ``from None``, so no traceback
        carries what the client's message may quote."""
        return cls(model_error_summary(exc), f"{type(exc).__name__}: {exc}", http_status(exc))


class LLMUnavailable(ModelError):
    """The model could not be reached or answered with an error."""


class StreamRefused(ModelError):
    """The model would not stream (an error before the first piece of the reply)."""

    not_streamed = False
    """The server answered, but not as a stream."""


_STATUS_HINTS = {401: "the key was refused", 403: "access denied", 404: "no such model or URL",
                 429: "rate-limited or out of quota"}


def http_status(exc: BaseException) -> int | None:
    """The HTTP status the server answered with ``exc``, if it answered."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def model_error_summary(exc: BaseException) -> str:
    """``exc`` as users may see it: its class, and the HTTP status the server answered."""
    status = http_status(exc)
    if status is None:
        return type(exc).__name__
    hint = _STATUS_HINTS.get(status)
    return f"{type(exc).__name__}, HTTP {status}" + (f": {hint}" if hint else "")


def for_role(bound: Runnable[LanguageModelInput, Any], role: Role) -> Runnable[LanguageModelInput, Any]:
    """``bound`` marked as ``role``'s request (:data:`CALL_ROLE`), named so in traces."""
    return bound.with_config(run_name=f"dagbot {role}", metadata={CALL_ROLE: role})


def role_in(config: RunnableConfig | None) -> str | None:
    """The role a model request's ``config`` marks it with (:func:`for_role`), if any."""
    role = ((config or {}).get("metadata") or {}).get(CALL_ROLE)
    return role if isinstance(role, str) else None


def _forcing(llm: BaseChatModel, schema: type[BaseModel], name: str
             ) -> Runnable[LanguageModelInput, AIMessage]:
    """The planner's request, forcing the call of ``name``."""
    return for_role(llm.bind_tools([as_tool(schema, name)], tool_choice=name), "planner")


def _held_to(llm: BaseChatModel, response_format: dict[str, Any]) -> Runnable[LanguageModelInput, AIMessage]:
    """``llm`` asked for the planner's replies held to ``response_format``. Sent as it is in
    the request's body: langchain-openai's own ``response_format`` handling parses the reply itself and
    raises on a cut-off one, which the repair round handles instead."""
    return for_role(llm.bind(extra_body={"response_format": response_format}), "planner")


def _constrained_reply(reply: AIMessage) -> StructuredReply:
    if _cut_off(reply):
        return StructuredReply(reply.text + CUT_OFF, _tokens(reply))
    return StructuredReply(_json_in_text(reply.text), _tokens(reply))


async def call_structured(
    llm: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], name: str,
    constrained: dict[str, Any] | None = None,
) -> StructuredReply:
    """The forced call's arguments (the call of ``name`` when the model called others too).
    Arguments that are not JSON, or cut off by the model's output limit (then ending with
    :data:`CUT_OFF`), are the text written: validation refuses it and the repair round asks
    again, as for a streamed reply (:func:`stream_structured`). With ``constrained`` (a
    ``response_format``), the reply's text held to it instead of a tool call."""
    if constrained is not None:
        return _constrained_reply(await _invoke(_held_to(llm, constrained), messages))
    reply = await _invoke(_forcing(llm, schema, name), messages)
    call = _named(reply.tool_calls, name)
    bad = _named(reply.invalid_tool_calls, name)  # arguments that are not JSON, as written
    raw = str(bad.get("args") or "") if bad else ""
    if _cut_off(reply):
        written = raw or (json.dumps(call["args"], ensure_ascii=False) if call else reply.text)
        return StructuredReply(written + CUT_OFF, _tokens(reply))
    if call is not None:
        return StructuredReply(call["args"], _tokens(reply))
    if raw:  # validation says so and the repair round fixes it
        return StructuredReply(_readable(raw), _tokens(reply))
    return StructuredReply(_json_in_text(reply.text), _tokens(reply))


async def stream_structured(
    llm: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], name: str,
    on_arguments: Callable[[str], Awaitable[None]], constrained: dict[str, Any] | None = None,
) -> StructuredReply:
    """Like :func:`call_structured`, streamed: ``on_arguments`` gets the forced call's arguments
    received so far (JSON text, growing) after every piece the model sends.

    Servers that send the arguments in pieces (OpenAI, vLLM) call it many times; one that sends
    the call whole (Ollama) once; a chat model that cannot stream gives its reply whole, and
    ``on_arguments`` is not called. Raises :class:`StreamRefused` when the stream fails before
    any of the reply arrived (the server does not stream, or refuses), and LLMUnavailable when
    it fails midway.

    The call's arguments count only if the text received is whole JSON and the model was not
    cut off (finish reason ``length``): from streamed pieces, langchain-core closes whatever
    is left open, so a cut-off reply would pass for a complete plan with its last value
    shortened. Otherwise the text received goes to validation, which refuses it, and the
    repair round asks again, as for a reply that was not streamed. When the model calls
    other tools too, the call of ``name`` counts. With ``constrained``, the reply's text held
    to it (:func:`call_structured`) is what ``on_arguments`` gets."""
    if constrained is not None:
        return await _stream_constrained(llm, messages, constrained, on_arguments)
    received = ""
    forced: int | None = None
    """The index of the call of ``name``, once its name arrived."""
    named: set[int | None] = set()

    async def on_piece(piece: AIMessageChunk) -> None:
        nonlocal received, forced
        grown = ""
        for chunk in piece.tool_call_chunks:
            index = chunk.get("index")
            if chunk.get("name"):
                named.add(index)
                if forced is None and offered_name(chunk.get("name") or "", [name]) == name:
                    forced = index
                    if index != 0:  # what came before was another call's (index 0, unnamed)
                        received, grown = "", ""
            if index == forced or (forced is None and index == 0 and index not in named):
                grown += chunk.get("args") or ""
        if grown:
            received += grown
            if repeating_line(received) is not None:
                raise _StopStream
            await on_arguments(received)

    reply = await _stream(_forcing(llm, schema, name), messages, on_piece)
    if stopped_repeating(received):
        return StructuredReply(received + REPEATING, _tokens(reply))
    if _cut_off(reply):
        return StructuredReply((received or reply.text) + CUT_OFF, _tokens(reply))
    if received:  # whole JSON counts; else validation says so and the repair round fixes it
        return StructuredReply(_readable(received), _tokens(reply))
    call = _named(reply.tool_calls, name)
    if call is not None:
        return StructuredReply(call["args"], _tokens(reply))
    return StructuredReply(_json_in_text(reply.text), _tokens(reply))


async def _stream_constrained(llm: BaseChatModel, messages: list[BaseMessage], constrained: dict[str, Any],
                              on_arguments: Callable[[str], Awaitable[None]]) -> StructuredReply:
    growing = _growing_text(on_arguments, stop_repeating=True)
    reply = await _stream(_held_to(llm, constrained), messages, growing)
    if stopped_repeating(reply.text):
        return StructuredReply(reply.text + REPEATING, _tokens(reply))
    return _constrained_reply(reply)


def _growing_text(on_text: Callable[[str], Awaitable[None]], stop_repeating: bool = False
                  ) -> Callable[[AIMessageChunk], Awaitable[None]]:
    """A streamed piece's handler that gives ``on_text`` the reply's text so far, as it grows;
    with ``stop_repeating``, it ends the stream once the text repeats a line (:func:`repeating_line`)."""
    received = ""

    async def on_piece(piece: AIMessageChunk) -> None:
        nonlocal received
        if piece.text:
            received += piece.text
            if stop_repeating and repeating_line(received) is not None:
                raise _StopStream
            await on_text(received)

    return on_piece


class _StopStream(Exception):
    """Raised by a streamed piece's handler to end the stream where it is."""


def _readable(text: str) -> Any:
    """``text`` as JSON when it is whole JSON, else as it is; nested too deeply to read, its
    start, still not JSON, so validation refuses it as it does any text that is not."""
    try:
        return json.loads(text)
    except RecursionError:
        return text[:200] + TOO_DEEP
    except ValueError:
        return text


def _cut_off(reply: AIMessage) -> bool:
    return reply.response_metadata.get("finish_reason") == "length"


def _named(calls: Sequence[Call], name: str) -> Call | None:
    """The call of tool ``name`` (a name repeated, as some servers send it, counts), else the
    first call."""
    return next((c for c in calls if offered_name(c.get("name") or "", [name]) == name),
                calls[0] if calls else None)


async def call_text(llm: BaseChatModel, messages: list[BaseMessage],
                    tools: Sequence[dict[str, Any]] = ()) -> TextReply:
    """The model's reply as text, with the calls it made of ``tools`` (none offered: a plain
    completion, no tools in the request)."""
    return _text_reply(await _invoke(_offering(llm, tools), messages), tools)


async def stream_text(llm: BaseChatModel, messages: list[BaseMessage], tools: Sequence[dict[str, Any]],
                      on_text: Callable[[str], Awaitable[None]]) -> TextReply:
    """Like :func:`call_text`, streamed: ``on_text`` gets the text received so far (growing)
    after every piece that adds to it. A chat model that cannot stream gives its reply whole,
    and ``on_text`` is not called. Raises :class:`StreamRefused` and LLMUnavailable as
    :func:`stream_structured` does."""
    return _text_reply(await _stream(_offering(llm, tools), messages, _growing_text(on_text)), tools)


def _offering(llm: BaseChatModel, tools: Sequence[dict[str, Any]]) -> Runnable[LanguageModelInput, AIMessage]:
    """The joiner's request (the text calls' only caller), offering ``tools``."""
    return for_role(llm.bind_tools(list(tools), tool_choice="auto") if tools else llm, "joiner")


async def _invoke(bound: Runnable[LanguageModelInput, AIMessage], messages: list[BaseMessage]) -> AIMessage:
    try:
        reply = await bound.ainvoke(messages)
    except Exception as exc:  # the client's error types vary by provider
        raise LLMUnavailable.of(exc) from None
    assert isinstance(reply, AIMessage)
    return reply


async def _stream(bound: Runnable[LanguageModelInput, AIMessage], messages: list[BaseMessage],
                  on_piece: Callable[[AIMessageChunk], Awaitable[None]]) -> AIMessage:
    """The whole reply, streamed: ``on_piece`` sees each streamed piece as it arrives (mended:
    :mod:`agent.model.streamed_reply`)."""
    pieces = StreamedReply()
    try:
        streamed = cast(AsyncGenerator[AIMessage, None], bound.astream(messages, stream_usage=True))
        async with aclosing(streamed) as stream:
            async for piece in stream:  # (closed on leaving: the server stops writing)
                if isinstance(piece, AIMessage) and (kept := pieces.add(piece)) is not None:
                    await on_piece(kept)
    except _StopStream:
        pass
    except Exception as exc:  # the client's error types vary by provider
        raise (LLMUnavailable if pieces.began else StreamRefused).of(exc) from None
    reply = pieces.merged()
    if reply is None:
        refused = StreamRefused("the stream ended before the reply began")
        refused.not_streamed = True
        raise refused
    return reply


def _tokens(reply: AIMessage) -> int:
    return int(reply.usage_metadata["total_tokens"]) if reply.usage_metadata else 0


def _text_reply(reply: AIMessage, tools: Sequence[dict[str, Any]]) -> TextReply:
    offered = [str(tool.get("function", {}).get("name") or "") for tool in tools]
    calls = [ToolCall(name=offered_name(c["name"], offered), args=c["args"], id=c.get("id"))
             for c in reply.tool_calls] + [
        ToolCall(name=offered_name(bad.get("name") or "", offered), args={}, id=bad.get("id"))
        for bad in reply.invalid_tool_calls]
    text = str(reply.text)
    if not calls and offered:  # an offered tool's call written as text is that call
        written, rest = written_calls(text)
        if written and all(call.name in offered for call in written):
            calls, text = [ToolCall(name=c.name, args=c.args, id=None) for c in written], rest
    return TextReply(text, calls, _tokens(reply), cut_off=_cut_off(reply))


def _json_in_text(text: str) -> Any:
    match = _FENCE.search(text)
    candidate = match.group(1) if match else text.strip()
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return text
