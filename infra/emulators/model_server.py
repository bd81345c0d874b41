"""An OpenAI-compatible model server: the one the tests and the benchmarks share.

It answers ``/v1/chat/completions``, streamed or not, in the real wire format
(:mod:`infra.emulators.openai_wire`), so what talks to it is the real OpenAI client, in this
process or in a ``dagbot`` process of its own. For a model in memory, with no client and no
server, use :class:`infra.emulators.scripted_chat.ScriptedChatModel`.

What it answers is a *policy*'s business: a function from the request to the reply. A test's
model is a :class:`Script`, its replies given in order, one a request; a benchmark's model reads
each request (which shape, which system, which of dagbot's calls) and answers that, since its
requests come in any order and from many clients at once. What stays the same whatever the
policy is the server's:

- how servers differ at streaming (``stream``): ``"pieces"``, the text, then each call's
  arguments, cut into ``piece`` characters a delta (OpenAI, vLLM); ``"whole"``, each call in
  one delta (Ollama); ``"ignore"``, no stream at all, the whole completion as JSON (a server
  without streaming); ``"refuse"``, HTTP 400 (a server that rejects streaming requests);
- whether it holds a reply to a JSON schema (``json_schema``, a request's ``response_format``):
  ``"hold"``, as llama.cpp, vLLM and Ollama do (a script's dict reply is then the reply's
  text), and dagbot's output probe (:mod:`agent.model.output_probe`) is answered as such a
  server answers it, without asking the policy; ``"refuse"``, HTTP 400, as servers without
  the format do; ``"ignore"``, the request goes to the policy like any other, as a server that
  takes the format and pays it no heed;
- how long the model takes (``latency``, :mod:`infra.emulators.model_latency`); None, no wait;
- the faults a test provokes: ``hold_at``, a streamed reply pauses once the text and arguments
  sent so far contain this, until ``release`` is set (or 10 s pass), so a test can look at what
  happened mid-stream (``held`` is set before the client can read that piece); ``break_at``, a
  streamed reply's connection drops once what was sent contains this (a model that fails
  midway); ``refuse_with``, every request is answered with this HTTP status and an error
  message quoting its ``Authorization`` header, as some servers and proxies do;
- a record: ``received``, every request as it came, refused or not; ``served``, each reply the
  policy gave, with its tokens and times.

It serves in a thread of its own (``with``): for a test, which may have no event loop or block
the one it has (waiting for a ``dagbot`` subprocess), and for a benchmark timing what runs on
its loop, which the server's own work must not delay.
Or it serves on the running loop (``await start()``, ``await stop()``), for a benchmark whose
clients are processes of their own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.model.output_probe import PROBE_NAME
from infra.emulators.asgi_server import BackgroundServer, ThreadedServer
from infra.emulators.model_latency import (
    CHARS_PER_TOKEN,
    LatencyModel,
    PrefixCache,
    prompt_text,
    prompt_tokens,
    reply_tokens,
    tokens,
)
from infra.emulators.openai_wire import (
    ModelReply,
    ToolCall,
    WireRequest,
    chunk,
    completion,
    deltas,
    forced_tool,
    offered_tools,
    schema_name,
    sse,
    usage_chunk,
    wants_usage,
)

Policy = Callable[[WireRequest], ModelReply]
StreamMode = Literal["pieces", "whole", "ignore", "refuse"]
SchemaMode = Literal["hold", "refuse", "ignore"]

USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
"""The same usage for every reply, for a test that adds up tokens (without it, a reply's usage
counts its tokens by :mod:`infra.emulators.model_latency`'s rule)."""
PROBED = ModelReply(text=json.dumps({"dagbot": "ready"}))
"""The output probe's reply from a server that holds it to the probe's schema."""


def as_reply(body: dict[str, Any], scripted: Any) -> ModelReply:
    """A scripted reply as the request gets it. A :class:`ModelReply` as it is (text and tool
    calls together); a dict as the reply's text when the request holds the reply to a JSON
    schema, else as a call of the tool the request forces (``tool_choice``) or else of the
    first it offers (the joiner's ``replan``); anything else as plain text (the joiner's
    answer). A string or a dict means what it means to
    :class:`infra.emulators.scripted_chat.ScriptedChatModel`."""
    if isinstance(scripted, ModelReply):
        return scripted
    if isinstance(scripted, dict) and schema_name(body) is not None:
        return ModelReply(text=json.dumps(scripted))
    if isinstance(scripted, dict):
        offered = offered_tools(body)
        name = forced_tool(body) or (offered[0] if offered else None)
        if name is None:
            raise AssertionError(f"a tool call was scripted for a request offering no tools: {scripted}")
        return ModelReply(calls=(ToolCall(name, json.dumps(scripted)),))
    return ModelReply(text=str(scripted))


class Script:
    """Scripted replies, given in order, one a request (:func:`as_reply`): a test's policy."""

    def __init__(self, replies: Iterable[Any]) -> None:
        self.replies: list[Any] = list(replies)
        """Replies still to give, in order."""

    def __call__(self, request: WireRequest) -> ModelReply:
        if not self.replies:
            raise LookupError("no scripted reply left")
        return as_reply(request.body, self.replies.pop(0))


@dataclass
class Served:
    """One reply as the server gave it (``time.monotonic()`` clock)."""

    model: str
    label: str
    """What the server's ``label`` says of the request (bench.e2e: the shape's name). Prefix
    caching goes by it: :meth:`PrefixCache.forget`."""
    role: str
    """What the server's ``role`` says of the request (by default, which of dagbot's calls it
    says it is; bench.e2e: ``planner``, ``joiner`` or ``agent``)."""
    stream: bool
    """Whether the reply was streamed."""
    prompt_tokens: int
    completion_tokens: int
    arrived: float
    cached_tokens: int = 0
    """Of ``prompt_tokens``, those of a prefix served before (not processed again)."""
    first_token: float = 0.0
    ended: float = 0.0


def said_role(request: WireRequest) -> str:
    """Which of dagbot's calls the request says it is ("" from other clients)."""
    return request.role or ""


class ModelServer:
    """Answers ``/v1/chat/completions`` at :attr:`url` with what ``policy`` replies (the
    options: the module's docstring)."""

    def __init__(self, policy: Policy, *, latency: LatencyModel | None = None,
                 stream: StreamMode = "pieces", piece: int = CHARS_PER_TOKEN,
                 json_schema: SchemaMode = "hold", usage: dict[str, int] | None = None,
                 hold_at: str | None = None, break_at: str | None = None, refuse_with: int | None = None,
                 label: Callable[[WireRequest], str] = lambda request: "",
                 role: Callable[[WireRequest], str] = said_role) -> None:
        self.policy = policy
        self.latency = latency
        """Read at each request: a benchmark may change it between requests."""
        self.stream_mode = stream
        self.piece = piece
        """Characters a delta, streaming ``"pieces"`` (by default one token's)."""
        self.json_schema = json_schema
        self.usage = usage
        self.hold_at = hold_at
        self.break_at = break_at
        self.refuse_with = refuse_with
        self.label = label
        self.role = role
        self.received: list[WireRequest] = []
        self.served: list[Served] = []
        self.cache = PrefixCache()
        """The prompts served with a latency model, for prefix caching."""
        self.release = threading.Event()
        self.held = threading.Event()
        """Set while a stream is paused at ``hold_at``."""
        self.open_streams = 0
        self.port = 0
        """Once serving."""
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._thread: ThreadedServer | None = None
        self._on_loop: BackgroundServer | None = None

    @property
    def url(self) -> str:
        """The base URL to give the OpenAI client (``OPENAI_BASE_URL``), once serving."""
        if not self.port:
            raise RuntimeError("the model server is not serving yet")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The bodies of the requests received, in order."""
        return [r.body for r in self.received]

    def __enter__(self) -> Self:
        self._thread = ThreadedServer(self.app)
        self.port = self._thread.port
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()  # a stream still held ends
        if self._thread is not None:
            self._thread.stop()

    async def start(self) -> str:
        self._on_loop = BackgroundServer(self.app)
        await self._on_loop.start()
        self.port = self._on_loop.port
        return self.url

    async def stop(self) -> None:
        self.release.set()
        if self._on_loop is not None:
            await self._on_loop.stop()

    def _usage(self, prompt: int, completion: int) -> dict[str, int]:
        return self.usage or {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion}

    async def _complete(self, request: Request) -> Response:
        """Answers one request (a test's subclass may answer some itself first, then call this)."""
        arrived = time.monotonic()
        received = await WireRequest.read(request)
        self.received.append(received)
        body, number = received.body, len(self.received)
        model = str(body.get("model", "fake"))
        if self.refuse_with is not None:
            quoted = f"invalid credentials (Authorization: {request.headers.get('authorization')})"
            return _error(self.refuse_with, quoted)
        schema = schema_name(body)
        if schema is not None and self.json_schema == "refuse":
            return _error(400, "response_format json_schema is not supported")
        if schema == PROBE_NAME and self.json_schema == "hold":
            usage = self._usage(prompt_tokens(body), reply_tokens(PROBED))
            return JSONResponse(completion(PROBED, model, number, usage))
        if received.streamed and self.stream_mode == "refuse":
            return _error(400, "streaming is not supported")
        try:
            reply = self.policy(received)
        except Exception as exc:  # a policy's bug or a script run out: the client's error, not a hang
            return _error(500, f"policy: {exc!r}")
        latency = self.latency
        record = Served(model=model, label=self.label(received), role=self.role(received),
                        stream=received.streamed and self.stream_mode != "ignore",
                        prompt_tokens=prompt_tokens(body), completion_tokens=reply_tokens(reply),
                        arrived=arrived)
        if latency is not None:
            cached = self.cache.cached_tokens(prompt_text(body), record.label)
            record.cached_tokens = min(cached, record.prompt_tokens) if latency.prefix_caching else 0
        self.served.append(record)
        usage = self._usage(record.prompt_tokens, record.completion_tokens)
        if latency is None:
            start = arrived
        else:
            start = arrived + latency.first_token_s(record.prompt_tokens, record.cached_tokens)
        if not record.stream:
            if latency is not None:  # returned whole when the last token would have been sent
                await _sleep_until(start + record.completion_tokens / latency.tokens_per_s)
            record.first_token = record.ended = time.monotonic()
            return JSONResponse(completion(reply, model, number, usage))
        return StreamingResponse(self._stream(body, reply, record, number, usage, start, latency),
                                 media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], reply: ModelReply, record: Served, number: int,
                      usage: dict[str, int], start: float, latency: LatencyModel | None
                      ) -> AsyncIterator[str]:
        self.open_streams += 1
        try:
            sent, sent_tokens = "", 0
            piece = None if self.stream_mode == "whole" else self.piece
            for delta, text in deltas(reply, number, piece):
                sent += text
                sent_tokens += tokens(text)
                if latency is not None:  # a delta leaves with its last token; the first at `start`
                    await _sleep_until(start + max(0, sent_tokens - 1) / latency.tokens_per_s)
                if not record.first_token:
                    record.first_token = time.monotonic()
                pause = bool(self.hold_at and self.hold_at in sent and not self.held.is_set())
                if pause:  # set before the client can read this piece
                    self.held.set()
                yield sse(chunk(record.model, number, delta))
                await asyncio.sleep(0)
                if pause:
                    await asyncio.to_thread(self.release.wait, 10)
                if self.break_at and self.break_at in sent:
                    raise ConnectionResetError("the fake model dropped the stream midway")
            yield sse(chunk(record.model, number, {}, reply.finish_reason))
            if wants_usage(body):
                yield sse(usage_chunk(record.model, number, usage))
            yield sse("[DONE]")
            record.ended = time.monotonic()
        finally:
            self.open_streams -= 1


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
