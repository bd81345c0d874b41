"""Calls to the chat model.

- Structured (the planner): a forced tool call whose arguments are the answer
  (:func:`call_structured`, :func:`stream_structured`).
- Text (the joiner): the reply is the model's text content, and it may call the tools it is
  offered (``tool_choice="auto"``) instead of, or as well as, writing text
  (:func:`call_text`, :func:`stream_text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.runnables import Runnable
from pydantic import BaseModel

_FENCE = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.S)


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


class ModelError(Exception):
    """A failed call of the model. Its text (:func:`model_error_summary`) may be shown to
    users: the error's class and HTTP status, never the server's words, which may quote the
    request's key. ``detail`` is the client's whole message: for the log, once scrubbed of the
    engine's secrets (:attr:`agent.context.EngineContext.redactor`)."""

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


async def call_structured(
    llm: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], name: str
) -> StructuredReply:
    reply = await _invoke(llm.bind_tools([as_tool(schema, name)], tool_choice=name), messages)
    if reply.tool_calls:
        return StructuredReply(reply.tool_calls[0]["args"], _tokens(reply))
    return StructuredReply(_json_in_text(reply.text), _tokens(reply))


async def stream_structured(
    llm: BaseChatModel, messages: list[BaseMessage], schema: type[BaseModel], name: str,
    on_arguments: Callable[[str], Awaitable[None]],
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
    repair round asks again, as for a reply that was not streamed."""
    received = ""

    async def on_piece(piece: AIMessageChunk) -> None:
        nonlocal received
        grown = "".join(c.get("args") or "" for c in piece.tool_call_chunks if c.get("index") in (0, None))
        if grown:
            received += grown
            await on_arguments(received)

    reply = await _stream(llm.bind_tools([as_tool(schema, name)], tool_choice=name), messages, on_piece)
    if reply.response_metadata.get("finish_reason") == "length":
        return StructuredReply((received or reply.text) + CUT_OFF, _tokens(reply))
    if received and not _is_json(received):  # validation says so and the repair round fixes it
        return StructuredReply(received, _tokens(reply))
    if reply.tool_calls:
        return StructuredReply(reply.tool_calls[0]["args"], _tokens(reply))
    if received:
        return StructuredReply(received, _tokens(reply))
    return StructuredReply(_json_in_text(reply.text), _tokens(reply))


CUT_OFF = " …[cut off here: the reply reached the model's output limit]"
"""Appended to a reply cut off by the model's output limit: the repair round sees where."""


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


async def call_text(llm: BaseChatModel, messages: list[BaseMessage],
                    tools: Sequence[dict[str, Any]] = ()) -> TextReply:
    """The model's reply as text, with the calls it made of ``tools`` (none offered: a plain
    completion, no tools in the request)."""
    return _text_reply(await _invoke(_offering(llm, tools), messages))


async def stream_text(llm: BaseChatModel, messages: list[BaseMessage], tools: Sequence[dict[str, Any]],
                      on_text: Callable[[str], Awaitable[None]]) -> TextReply:
    """Like :func:`call_text`, streamed: ``on_text`` gets the text received so far (growing)
    after every piece that adds to it. A chat model that cannot stream gives its reply whole,
    and ``on_text`` is not called. Raises :class:`StreamRefused` and LLMUnavailable as
    :func:`stream_structured` does."""
    received = ""

    async def on_piece(piece: AIMessageChunk) -> None:
        nonlocal received
        if piece.text:
            received += piece.text
            await on_text(received)

    return _text_reply(await _stream(_offering(llm, tools), messages, on_piece))


def _offering(llm: BaseChatModel, tools: Sequence[dict[str, Any]]) -> Runnable[LanguageModelInput, AIMessage]:
    return llm.bind_tools(list(tools), tool_choice="auto") if tools else llm


async def _invoke(bound: Runnable[LanguageModelInput, AIMessage], messages: list[BaseMessage]) -> AIMessage:
    try:
        reply = await bound.ainvoke(messages)
    except Exception as exc:  # the client's error types vary by provider
        raise LLMUnavailable.of(exc) from None
    assert isinstance(reply, AIMessage)
    return reply


async def _stream(bound: Runnable[LanguageModelInput, AIMessage], messages: list[BaseMessage],
                  on_piece: Callable[[AIMessageChunk], Awaitable[None]]) -> AIMessage:
    """The whole reply, streamed: ``on_piece`` sees each streamed piece as it arrives."""
    reply: AIMessage | None = None
    try:
        async for piece in bound.astream(messages, stream_usage=True):
            if not isinstance(piece, AIMessage):
                continue
            if isinstance(reply, AIMessageChunk) and isinstance(piece, AIMessageChunk):
                reply = add_ai_message_chunks(reply, piece)
            else:  # the first piece, or a model that cannot stream giving its reply whole
                reply = piece
            if isinstance(piece, AIMessageChunk):
                await on_piece(piece)
    except Exception as exc:  # the client's error types vary by provider
        raise (StreamRefused if reply is None else LLMUnavailable).of(exc) from None
    if reply is None:
        refused = StreamRefused("the stream ended before the reply began")
        refused.not_streamed = True
        raise refused
    return reply


def _tokens(reply: AIMessage) -> int:
    return int(reply.usage_metadata["total_tokens"]) if reply.usage_metadata else 0


def _text_reply(reply: AIMessage) -> TextReply:
    calls = list(reply.tool_calls) + [
        ToolCall(name=bad.get("name") or "", args={}, id=bad.get("id")) for bad in reply.invalid_tool_calls]
    return TextReply(reply.text, calls, _tokens(reply))


def as_tool(schema: type[BaseModel], name: str) -> dict[str, Any]:
    """An OpenAI tool definition: the model's docstring describes it, its fields are the
    parameters (:func:`compact_schema`)."""
    parameters = compact_schema(schema.model_json_schema())
    # the function's description says what the root's would; the prompt explains the parts
    for part in [parameters, *parameters.get("$defs", {}).values()]:
        part.pop("description", None)
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": (schema.__doc__ or name).strip(),
            "parameters": parameters,
        },
    }


def compact_schema(schema: Any) -> Any:
    """The JSON schema as the model needs it, without what costs prompt tokens (and so time
    to first token) and says nothing: pydantic's generated ``title`` strings (a property
    *named* title stays), ``anyOf [X, null]`` with ``default: null`` for an optional field
    (it is simply not required), and ``additionalProperties`` (validation enforces it)."""
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        kept = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
        return compact_schema({**next(o for o in options if o != {"type": "null"}), **kept})
    return {key: ({name: compact_schema(sub) for name, sub in value.items()}
                  if key in ("properties", "$defs") and isinstance(value, dict) else compact_schema(value))
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str)) and key != "additionalProperties"}


def _json_in_text(text: str) -> Any:
    match = _FENCE.search(text)
    candidate = match.group(1) if match else text.strip()
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return text
