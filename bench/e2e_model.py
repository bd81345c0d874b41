"""A local OpenAI-compatible server with a latency model, for ``bench.e2e``.

Every request, whatever system sends it, waits ``ttft_s + prompt_tokens × prompt_s_per_token``
before its first token (less the tokens of the longest prefix it shares with a prompt served
before: OpenAI, vLLM and llama.cpp all reuse a prompt prefix they have seen), then emits its
reply at ``tokens_per_s``: streamed as server-sent events (one delta per token) when the
request asks for a stream, else returned whole at the time the last token would have been sent.
A policy (a function of the request body) decides the reply.

Tokens are counted with one rule for every system, since tiktoken's encodings cannot be
downloaded here: a text of n characters is ceil(n / 4) tokens. A prompt is 4 tokens per
message plus its content and tool calls (as JSON), plus the JSON of the tools offered; a
reply is its text plus each call's name and arguments.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from infra.emulators.asgi_server import ThreadedServer
from infra.emulators.openai_wire import (
    ModelReply,
    WireRequest,
    chunk,
    completion,
    deltas,
    sse,
    usage_chunk,
    wants_usage,
)

CHARS_PER_TOKEN = 4
"""The token rule (see the module docstring)."""


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict[str, Any]) -> int:
    total = tokens(json.dumps(body.get("tools") or [], ensure_ascii=False)) if body.get("tools") else 0
    for message in body.get("messages", []):
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content or "", ensure_ascii=False)
        total += 4 + tokens(text)
        if message.get("tool_calls"):
            total += tokens(json.dumps(message["tool_calls"], ensure_ascii=False))
    return total


def prompt_text(body: dict[str, Any]) -> str:
    """The prompt as one text, in the order a server reads it (tools, then each message): two
    prompts share the tokens of their common prefix."""
    parts = [json.dumps(body.get("tools") or [], ensure_ascii=False)]
    for message in body.get("messages", []):
        content = message.get("content")
        parts.append(f"<{message.get('role')}>")
        parts.append(content if isinstance(content, str) else json.dumps(content or "", ensure_ascii=False))
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"], ensure_ascii=False))
    return "".join(parts)


class PrefixCache:
    """The prompts served so far, by label (the request they belong to); a new prompt's cached
    tokens are those of the longest prefix it shares with one of them (whole tokens: characters
    / 4, rounded down). :meth:`forget` a label before asking its request again, so that a repeat
    reuses only what other requests share with it (the system prompt, the tools), as a new
    request would."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, str]] = []

    def cached_tokens(self, text: str, label: str) -> int:
        longest = max((_shared(text, seen) for _, seen in self._seen), default=0)
        self._seen.append((label, text))
        return longest // CHARS_PER_TOKEN

    def forget(self, label: str) -> None:
        self._seen = [(other, text) for other, text in self._seen if other != label]


def _shared(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (a binary search over slices
    compared in C: fast on prompts of thousands of characters)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def reply_tokens(reply: ModelReply) -> int:
    return tokens(reply.text) + sum(tokens(c.name) + tokens(c.arguments) for c in reply.calls)


@dataclass(frozen=True)
class LatencyModel:
    ttft_s: float = 0.5
    """Time to first token, before prompt processing."""
    tokens_per_s: float = 60.0
    prompt_s_per_token: float = 0.0002
    """Prompt processing (prefill) per prompt token not cached: 5,000 tokens/s."""
    prefix_caching: bool = True
    """A prompt's prefix served before is not processed again."""

    def first_token_s(self, prompt: int, cached: int = 0) -> float:
        return self.ttft_s + max(0, prompt - cached) * self.prompt_s_per_token


@dataclass
class Served:
    """One request as the server saw it (``time.monotonic()`` clock)."""

    model: str
    label: str
    """What the policy's ``label`` says of the request (bench.e2e: the shape's name)."""
    role: str
    """What the policy's ``role`` says of the request (bench.e2e: ``planner``, ``joiner`` or
    ``agent``)."""
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    arrived: float
    cached_tokens: int = 0
    """Of ``prompt_tokens``, those of a prefix served before (not processed again)."""
    first_token: float = 0.0
    ended: float = 0.0


Policy = Callable[[WireRequest], ModelReply]


class LatencyModelServer:
    """Serves ``/v1/chat/completions`` in a thread of its own; ``served`` records requests."""

    def __init__(self, policy: Policy, latency: LatencyModel,
                 label: Callable[[WireRequest], str] = lambda request: "",
                 role: Callable[[WireRequest], str] = lambda request: "") -> None:
        self.policy = policy
        self.label = label
        self.role = role
        self.latency = latency
        self.served: list[Served] = []
        self.cache = PrefixCache()
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._server = ThreadedServer(app)
        self.url = f"http://127.0.0.1:{self._server.port}/v1"

    def __enter__(self) -> LatencyModelServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    async def _complete(self, request: Request) -> Response:
        arrived = time.monotonic()
        received = await WireRequest.read(request)
        body = received.body
        try:
            reply = self.policy(received)
        except Exception as exc:  # a policy bug shows as the client's error, not a hang
            return JSONResponse({"error": {"message": f"policy: {exc!r}"}}, status_code=500)
        record = Served(model=str(body.get("model")), label=self.label(received), role=self.role(received),
                        stream=bool(body.get("stream")), prompt_tokens=prompt_tokens(body),
                        completion_tokens=reply_tokens(reply), arrived=arrived)
        cached = self.cache.cached_tokens(prompt_text(body), record.label)
        record.cached_tokens = min(cached, record.prompt_tokens) if self.latency.prefix_caching else 0
        self.served.append(record)
        number = len(self.served)
        usage = {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens,
                 "total_tokens": record.prompt_tokens + record.completion_tokens}
        start = arrived + self.latency.first_token_s(record.prompt_tokens, record.cached_tokens)
        if not record.stream:
            await _sleep_until(start + record.completion_tokens / self.latency.tokens_per_s)
            record.first_token = record.ended = time.monotonic()
            return JSONResponse(completion(reply, record.model, number, usage))
        return StreamingResponse(self._stream(body, reply, record, number, usage, start),
                                 media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], reply: ModelReply, record: Served, number: int,
                      usage: dict[str, int], start: float) -> AsyncIterator[str]:
        sent = 0
        for delta, text in deltas(reply, number, piece=CHARS_PER_TOKEN):
            sent += tokens(text)
            # the delta leaves when its last token is generated; the first one at `start`
            await _sleep_until(start + max(0, sent - 1) / self.latency.tokens_per_s)
            if not record.first_token:
                record.first_token = time.monotonic()
            yield sse(chunk(record.model, number, delta))
        yield sse(chunk(record.model, number, {}, reply.finish_reason))
        if wants_usage(body):
            yield sse(usage_chunk(record.model, number, usage))
        yield sse("[DONE]")
        record.ended = time.monotonic()


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
