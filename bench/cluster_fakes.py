"""The world the cluster benchmark's replicas talk to, apart from Slack: a model and a website.

- :class:`FakeModel`: a stateless model. Many replicas call it at once and a run may be
  resumed by another replica, so it answers each request by reading it (never by counting
  calls): the planner (``plan``) gets a plan for the thread key named in the request; the
  joiner (its prompt, or the ``replan`` tool it is offered) answers in text naming that key.
  The replicas are processes of their own (``dagbot serve``), so it is the policy of the
  shared model server (:class:`infra.emulators.model_server.ModelServer`, on the benchmark's
  event loop), not the in-memory :class:`infra.emulators.scripted_chat.ScriptedChatModel`.
- :class:`Site`: ``GET /slow?ms=N`` answers after N ms (so kills land while green nodes run) and
  ``POST /red/<key>`` is the red node's target: a sink that records each arrival, so the
  benchmark can count red executions per thread and time approval → start.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.emulators.asgi_server import BackgroundServer
from infra.emulators.model_server import USAGE, ModelServer, as_reply
from infra.emulators.openai_wire import ModelReply, WireRequest, forced_tool

KEY = re.compile(r"\b(t\d{3})\b")
REQUEST = re.compile(r"## Request\n(.*?)(?:\n\n## |\Z)", re.S)
FOLLOW_UP = "follow-up"


def answer_marker(key: str, follow_up: bool) -> str:
    """Text the joiner puts in the answer of a thread's first run or its follow-up."""
    return f"answer {key} {'follow-up' if follow_up else 'first'}"


def latest_request(messages: list[dict[str, Any]]) -> str:
    """The request under ``## Request`` in the last user message (earlier runs of the thread
    appear as ``Request: …`` lines of the history, which this does not match)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            found = REQUEST.search(text)
            if found:
                return found.group(1).strip()
    return ""


@dataclass
class FakeModel:
    site_url: str
    server: ModelServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def calls(self) -> dict[str, int]:
        """The requests answered, by role (:meth:`role_of`)."""
        return dict(Counter(served.role for served in self.server.served)) if self.server else {}

    async def start(self) -> None:
        # as it always answered: whole even when asked to stream, and a json_schema response
        # format taken but not held to (so the replicas ask for the plan as a forced tool call)
        self.server = ModelServer(self, stream="ignore", json_schema="ignore", usage=USAGE, role=self.role_of)
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

    @staticmethod
    def role_of(request: WireRequest) -> str:
        """``joiner`` (the request says so), else the tool it forces (the planner's ``plan``),
        else ``text``."""
        return "joiner" if request.is_joiner else forced_tool(request.body) or "text"

    def plan(self, request: str) -> dict[str, Any]:
        key_found = KEY.search(request)
        key = key_found.group(1) if key_found else "t000"
        rng = random.Random(request)  # the same request always gets the same plan
        reads = ["a", "b", "c"][: rng.choice((2, 3))]
        nodes: list[dict[str, Any]] = [
            {"id": name, "tool": "http_get",
             "args": {"url": f"{self.site_url}/slow?ms={rng.randint(300, 1500)}&key={key}&node={name}"}}
            for name in reads]
        if FOLLOW_UP in request:
            return {"thought": f"read the sites again for {key}", "nodes": nodes}
        nodes.append({"id": "report", "tool": "http_post", "depends_on": reads,
                      "why": f"the report for {key} goes to the sink",
                      "args": {"url": f"{self.site_url}/red/{key}", "json": {"key": key}}})
        return {"thought": f"read the sites, then post the report for {key}", "nodes": nodes}

    def reply(self, role: str, messages: list[dict[str, Any]]) -> dict[str, Any] | str:
        request = latest_request(messages)
        if role == "plan":
            return self.plan(request)
        if role == "joiner":
            key_found = KEY.search(request)
            key = key_found.group(1) if key_found else "t000"
            return answer_marker(key, FOLLOW_UP in request) + "."
        return "nothing to say"

    def __call__(self, request: WireRequest) -> ModelReply:
        return as_reply(request.body, self.reply(self.role_of(request), request.body.get("messages") or []))


@dataclass
class Site:
    red: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Thread key → arrival times (``time.monotonic()``) of the red POSTs for it."""
    reads: int = 0
    server: BackgroundServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def start(self) -> None:
        app = Starlette(routes=[Route("/slow", self._slow, methods=["GET"]),
                                Route("/red/{key}", self._red, methods=["POST"])])
        self.server = BackgroundServer(app)
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

    async def _slow(self, request: Request) -> Response:
        ms = min(10_000, max(0, int(request.query_params.get("ms", "0"))))
        await asyncio.sleep(ms / 1000)
        self.reads += 1
        return JSONResponse({"ok": True, "key": request.query_params.get("key"), "slept_ms": ms})

    async def _red(self, request: Request) -> Response:
        at = time.monotonic()
        key = request.path_params["key"]
        await request.body()
        self.red[key].append(at)
        return JSONResponse({"received": key, "count": len(self.red[key])})

    def double_executions(self) -> int:
        return sum(max(0, len(times) - 1) for times in self.red.values())
