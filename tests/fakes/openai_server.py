"""A local OpenAI-compatible chat completions server with scripted replies.

Exercises the real ``langchain-openai`` client: point ``OPENAI_BASE_URL`` at ``url``. This is the
wire-level fake (requests, streams, HTTP errors); for scripted replies in memory, with no client
and no server, use :class:`infra.emulators.scripted_chat.ScriptedChatModel`, which takes the same
string and dict replies.
A dict reply is returned as a call of the tool the request forces (``tool_choice``), or
else of the first tool it offers (the joiner's ``replan``); a string reply as plain
content (the joiner's answer); a :class:`ModelReply` as it is (text and tool calls together).

Requests that ask for a stream get one, as servers differ (``stream``):
- ``"pieces"``: the text, then each call's arguments, cut into ``piece`` characters per delta
  (OpenAI, vLLM);
- ``"whole"``: each call in one delta (Ollama);
- ``"ignore"``: no stream at all, the whole completion as JSON (a server without streaming);
- ``"refuse"``: HTTP 400 (a server that rejects streaming requests).
``hold_at``: a streamed reply pauses once the text and arguments sent so far contain this, until
``release`` is set (or 10 s pass), so a test can look at what happened mid-stream; ``held`` is
set before the client can read that piece.
``break_at``: a streamed reply's connection drops once the text and arguments sent so far
contain this (a model that fails midway).
``refuse_with``: every request is answered with this HTTP status and an error message quoting
the request's ``Authorization`` header, as some servers and proxies do.
``json_schema``: a request whose ``response_format`` is a JSON schema gets a dict reply as its
text, as llama.cpp, vLLM and Ollama hold it; dagbot's output probe
(:mod:`agent.model.output_probe`) is answered as such a server answers it, without using a
scripted reply. False: such requests are refused with HTTP 400, as servers without the format do.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.model.output_probe import PROBE_NAME
from infra.emulators.openai_wire import (
    ModelReply,
    ToolCall,
    WireRequest,
    chunk,
    completion,
    deltas,
    forced_tool,
    sse,
    usage_chunk,
    wants_usage,
)
from tests.fakes.asgi_server import ThreadedServer

USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
StreamMode = Literal["pieces", "whole", "ignore", "refuse"]


class FakeOpenAI:
    def __init__(self, replies: list[Any], *, stream: StreamMode = "pieces", piece: int = 7,
                 hold_at: str | None = None, break_at: str | None = None,
                 refuse_with: int | None = None, json_schema: bool = True) -> None:
        self.replies = list(replies)
        self.received: list[WireRequest] = []
        self.stream_mode = stream
        self.piece = piece
        self.hold_at = hold_at
        self.break_at = break_at
        self.refuse_with = refuse_with
        self.json_schema = json_schema
        self.release = threading.Event()
        self.held = threading.Event()
        """Set while a stream is paused at ``hold_at``."""
        self.open_streams = 0
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._server = ThreadedServer(app)
        self.port = self._server.port
        self.url = f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The bodies of the requests received, in order."""
        return [r.body for r in self.received]

    def __enter__(self) -> FakeOpenAI:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.stop()

    def _reply(self, body: dict[str, Any], scripted: Any) -> ModelReply:
        if isinstance(scripted, ModelReply):
            return scripted
        if isinstance(scripted, dict) and _schema_name(body) is not None:
            return ModelReply(text=json.dumps(scripted))
        if isinstance(scripted, dict):
            offered = [tool["function"]["name"] for tool in body.get("tools") or []]
            name = forced_tool(body) or (offered[0] if offered else None)
            if name is None:
                raise AssertionError(f"a tool call was scripted for a request offering no tools: {scripted}")
            return ModelReply(calls=(ToolCall(name, json.dumps(scripted)),))
        return ModelReply(text=str(scripted))

    async def _complete(self, request: Request) -> Response:
        received = await WireRequest.read(request)
        self.received.append(received)
        body = received.body
        if self.refuse_with is not None:
            quoted = f"invalid credentials (Authorization: {request.headers.get('authorization')})"
            return JSONResponse({"error": {"message": quoted}}, status_code=self.refuse_with)
        schema = _schema_name(body)
        if schema is not None and not self.json_schema:
            return JSONResponse({"error": {"message": "response_format json_schema is not supported"}},
                                status_code=400)
        streamed = bool(body.get("stream"))
        if schema == PROBE_NAME:
            probed = ModelReply(text=json.dumps({"dagbot": "ready"}))
            return JSONResponse(completion(probed, str(body.get("model", "fake")), len(self.requests), USAGE))
        if not self.replies:
            return JSONResponse({"error": {"message": "no scripted reply left"}}, status_code=500)
        if streamed and self.stream_mode == "refuse":
            return JSONResponse({"error": {"message": "streaming is not supported"}}, status_code=400)
        reply = self._reply(body, self.replies.pop(0))
        number, model = len(self.requests), str(body.get("model", "fake"))
        if not streamed or self.stream_mode == "ignore":
            return JSONResponse(completion(reply, model, number, USAGE))
        return StreamingResponse(self._stream(body, reply, number, model), media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], reply: ModelReply, number: int, model: str
                      ) -> AsyncIterator[str]:
        self.open_streams += 1
        try:
            sent = ""
            piece = None if self.stream_mode == "whole" else self.piece
            for delta, text in deltas(reply, number, piece):
                sent += text
                pause = bool(self.hold_at and self.hold_at in sent and not self.held.is_set())
                if pause:  # set before the client can read this piece
                    self.held.set()
                yield sse(chunk(model, number, delta))
                await asyncio.sleep(0)
                if pause:
                    await asyncio.to_thread(self.release.wait, 10)
                if self.break_at and self.break_at in sent:
                    raise ConnectionResetError("the fake model dropped the stream midway")
            yield sse(chunk(model, number, {}, reply.finish_reason))
            if wants_usage(body):
                yield sse(usage_chunk(model, number, USAGE))
            yield sse("[DONE]")
        finally:
            self.open_streams -= 1


def _schema_name(body: dict[str, Any]) -> str | None:
    """The name of the JSON schema a request holds its reply to, if it does."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    return str((response_format.get("json_schema") or {}).get("name") or "")
