"""The OpenAI chat completions wire format, for the model servers that stand in for one
(the benchmarks' and the tests').

A request is its JSON body and, when dagbot sent it, which of dagbot's calls it is
(:class:`WireRequest`: the header :data:`infra.openai_client.ROLE_HEADER`).

A reply is plain text or tool calls. Non-streaming, it is one ``chat.completion`` body;
streaming, a series of ``chat.completion.chunk`` deltas sent as server-sent events, with the
tool calls' arguments cut into pieces as OpenAI and vLLM send them (Ollama sends each call
whole: ``piece=None``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from infra.openai_client import ROLE_HEADER


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str
    """The arguments as JSON text, as the model writes them."""


@dataclass(frozen=True)
class ModelReply:
    text: str = ""
    calls: tuple[ToolCall, ...] = field(default_factory=tuple)

    @classmethod
    def call(cls, name: str, args: dict[str, Any]) -> ModelReply:
        return cls(calls=(ToolCall(name, json.dumps(args, ensure_ascii=False)),))

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.calls else "stop"


def forced_tool(body: dict[str, Any]) -> str | None:
    """The tool the request forces with ``tool_choice`` (None when it forces none)."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice.get("function", {}).get("name") or "") or None
    return None


def offered_tools(body: dict[str, Any]) -> list[str]:
    """The names of the tools the request offers, in order."""
    return [str(tool.get("function", {}).get("name")) for tool in body.get("tools") or []]


def schema_name(body: dict[str, Any]) -> str | None:
    """The name of the JSON schema the request holds its reply to (``response_format``), if it
    does ("" for a schema without a name)."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    return str((response_format.get("json_schema") or {}).get("name") or "")


@dataclass(frozen=True)
class WireRequest:
    body: dict[str, Any]
    role: str | None = None
    """Which of dagbot's calls it is (``planner``, ``joiner``, ``reflexion``); None from other
    clients."""

    @classmethod
    async def read(cls, request: Request) -> WireRequest:
        return cls(await request.json(), request.headers.get(ROLE_HEADER))

    @property
    def is_joiner(self) -> bool:
        return self.role == "joiner"

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))


def completion(reply: ModelReply, model: str, number: int, usage: dict[str, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.calls:
        message["tool_calls"] = [
            {"id": f"call_{number}_{i}", "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for i, call in enumerate(reply.calls)
        ]
    return {"id": f"chatcmpl-{number}", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": usage}


def deltas(reply: ModelReply, number: int, piece: int | None) -> list[tuple[dict[str, Any], str]]:
    """The reply as stream deltas, each with the text it carries (for pacing).

    ``piece``: characters of text or arguments per delta; None sends each call's
    arguments (and the text) in one delta."""
    out: list[tuple[dict[str, Any], str]] = [({"role": "assistant", "content": ""}, "")]
    for part in _cut(reply.text, piece):
        out.append(({"content": part}, part))
    for i, call in enumerate(reply.calls):
        head = {"index": i, "id": f"call_{number}_{i}", "type": "function",
                "function": {"name": call.name, "arguments": ""}}
        out.append(({"tool_calls": [head]}, call.name))
        for part in _cut(call.arguments, piece):
            out.append(({"tool_calls": [{"index": i, "function": {"arguments": part}}]}, part))
    return out


def _cut(text: str, piece: int | None) -> list[str]:
    if not text:
        return []
    if piece is None:
        return [text]
    return [text[i:i + piece] for i in range(0, len(text), piece)]


def chunk(model: str, number: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def usage_chunk(model: str, number: int, usage: dict[str, int]) -> dict[str, Any]:
    return {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [], "usage": usage}


def sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options") or {}
    return bool(options.get("include_usage"))
