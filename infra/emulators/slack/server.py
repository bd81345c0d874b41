"""The emulated Slack on HTTP: the Web API, response_urls and Socket Mode, with a call log.

Point a real ``AsyncWebClient`` at :attr:`SlackServer.base_url` (started as an async context
manager, on 127.0.0.1 and a free port), or serve :meth:`SlackServer.routes` in an app of your
own (the playground's). Routes:

    /api/{method}   the Web API (:mod:`.web_api`); the bot token, or the app-level token for
                    apps.connections.open
    /hooks/{key}    response_urls, as handed out in commands and clicks (:meth:`response_url`)
    /socket-mode    Socket Mode's WebSocket: :meth:`over_socket` sends the app an envelope

Every call is logged (:attr:`calls`: when it arrived, when it was answered, its status and
answer). A call may be slowed (:attr:`latency`), refused by an injected fault (:meth:`inject`)
or by the rate limits once switched on (:attr:`rate_limit`, :mod:`.limits`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, Self, TypeVar, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from infra.emulators.asgi_server import BackgroundServer
from infra.emulators.slack.blockkit import Refusal
from infra.emulators.slack.limits import Fault, RateLimit
from infra.emulators.slack.web_api import METHODS, BadCall, read_call
from infra.emulators.slack.workspace import APP_ID, ReplyTarget, Workspace
from infra.emulators.waiting import wait_until

T = TypeVar("T")


@dataclass
class Call:
    seq: int
    method: str
    args: dict[str, Any]
    status: int
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    """When it was answered (for a post: when the message appeared), ``time.monotonic()``."""
    received_at: float = 0.0
    """When the request arrived, before any latency added."""


class Answer(NamedTuple):
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class SlackServer(Workspace):
    def __init__(self, *, channels: dict[str, str] | None = None, call_log: int | None = None,
                 socket_mode: bool = True, **workspace: Any) -> None:
        """``channels``: id → name of public channels the bot is in (default ``C0OPS``, ``ops``);
        ``call_log``: how many calls to keep (None: all); ``socket_mode``: whether to serve
        Socket Mode (else apps.connections.open refuses)."""
        super().__init__(**workspace)
        self.socket_mode_served = socket_mode
        for channel_id, name in (channels if channels is not None else {"C0OPS": "ops"}).items():
            self.add_channel(channel_id, name)
        self.calls: list[Call] = []
        self.call_log = call_log
        self._calls_by_method: dict[str, list[Call]] = {}
        self._seqs = itertools.count(1)
        self.latency: dict[str, float] = {}
        """Method → seconds to wait before answering it."""
        self.faults: list[Fault] = []
        self.rate_limit = RateLimit()
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self._socket: WebSocket | None = None
        self._server: BackgroundServer | None = None
        self._url = ""

    # ------------------------------------------------------------ serving

    async def __aenter__(self) -> Self:
        self._server = BackgroundServer(Starlette(routes=self.routes()))
        self.serve_at(await self._server.start())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.stop()

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [Route("/api/{method}", self.web_api, methods=["GET", "POST"]),
                                   Route("/hooks/{key}", self.hook, methods=["POST"])]
        if self.socket_mode_served:
            routes.append(WebSocketRoute("/socket-mode", self.socket_mode))
        return routes

    def serve_at(self, url: str) -> None:
        """The address its routes are served at (known once they serve)."""
        self._url = url.rstrip("/")
        if self.socket_mode_served:
            self.socket_mode_url = self._url.replace("http://", "ws://", 1) + "/socket-mode"

    @property
    def url(self) -> str:
        assert self._url, "start the emulated Slack first"
        return self._url

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, target: ReplyTarget) -> str:
        return f"{self.url}/hooks/{self.new_reply_target(target)}"

    # ----------------------------------------------------------- the calls

    def inject(self, method: str, *, times: int = 1, status: int = 429, retry_after: int = 1,
               error: str = "ratelimited", when: Callable[[dict[str, Any]], bool] | None = None) -> Fault:
        """Answer the next ``times`` calls of ``method`` (those ``when`` accepts, if given) with
        ``error``: by default HTTP 429 + Retry-After; ``status=200`` for an ``ok: false`` answer.
        Set the returned fault's ``times`` to 0 to end it."""
        fault = Fault(method, times, status, retry_after, error, when)
        self.faults.append(fault)
        return fault

    def call(self, method: str, args: dict[str, Any], token: str) -> Answer:
        """Answer one Web API call: HTTP status, JSON body, extra headers."""
        fault = next((f for f in self.faults if f.hits(method, args)), None)
        if fault is not None:
            return Answer(*fault.answer())
        if token != (self.app_token if method == "apps.connections.open" else self.token):
            return Answer(200, {"ok": False, "error": "invalid_auth" if token else "not_authed"}, {})
        handler = METHODS.get(method)
        if handler is None:
            return Answer(200, self.refuse(method, Refusal("unknown_method")), {})
        wait = self.rate_limit.check(method, str(args.get("channel", "")), self.clock())
        if wait is not None:
            self.notify({"type": "rate_limit", "rate_limit": self.rate_limit.state()})
            return Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        return Answer(200, handler(self, args), {})

    def set_rate_limit(self, on: bool) -> None:
        self.rate_limit.switch(on)
        self.notify({"type": "rate_limit", "rate_limit": self.rate_limit.state()})

    async def web_api(self, request: Request) -> Response:
        received_at = time.monotonic()
        method = request.path_params["method"]
        try:
            args, token = await read_call(request)
        except BadCall as bad:
            return JSONResponse(self.refuse(method, bad.refusal))
        await asyncio.sleep(self.latency.get(method, 0.0))
        answer = self.call(method, args, token)
        self._record(Call(0, method, args, answer.status, answer.body, received_at=received_at))
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    async def hook(self, request: Request) -> Response:
        target = self.reply_target(request.path_params["key"])
        if target is None:
            return Response("no_such_response_url", status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return Response("invalid_payload", status_code=400)
        body = body if isinstance(body, dict) else {}
        self.respond(target, body)
        self._record(Call(0, "response_url", body, 200, received_at=time.monotonic()))
        return Response("ok")

    def _record(self, call: Call) -> None:
        call.seq = next(self._seqs)
        self.calls.append(call)
        self._calls_by_method.setdefault(call.method, []).append(call)
        if self.call_log is not None and len(self.calls) > 2 * self.call_log:  # forget the oldest half
            self.calls = self.calls[-self.call_log:]
            self._calls_by_method = {}
            for kept in self.calls:
                self._calls_by_method.setdefault(kept.method, []).append(kept)

    def calls_of(self, method: str) -> list[Call]:
        return list(self._calls_by_method.get(method, []))

    async def wait_for(self, probe: Callable[[], T | None], within: float = 30.0, what: str = "") -> T:
        """Poll until ``probe`` returns something truthy (the state changes under HTTP), for at
        most ``within`` seconds."""
        return await wait_until(probe, within=within, what=what)

    # --------------------------------------------------------- Socket Mode

    async def socket_mode(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self._socket = websocket
        await websocket.send_json({"type": "hello", "num_connections": 1,
                                   "connection_info": {"app_id": APP_ID}})
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                if "envelope_id" in message:
                    self.socket_acks[message["envelope_id"]] = message
        except WebSocketDisconnect:
            pass
        finally:
            if self._socket is websocket:
                self._socket = None

    async def over_socket(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Deliver an envelope (``slash_commands``, ``events_api``, ``interactive``) to the
        connected Socket Mode client; returns its acknowledgement. As Slack does, an envelope
        the client did not acknowledge before its connection was replaced (a client that
        found its connection stale reconnects) is delivered again on the new connection,
        with ``retry_attempt`` counted up."""
        envelope_id = self.next_id("env-")
        for attempt in range(SOCKET_DELIVERIES):
            socket = await self.wait_for(lambda: self._socket, what="a Socket Mode connection")
            await socket.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api",
                                    "retry_attempt": attempt,
                                    "retry_reason": "connection_replaced" if attempt else ""})
            outcome = await self.wait_for(partial(self._ack_or_moved, envelope_id, socket),
                                          what="the envelope's ack")
            if outcome != "moved":
                return cast(dict[str, Any], outcome)
        raise AssertionError(f"the envelope was not acknowledged on {SOCKET_DELIVERIES} connections")

    def _ack_or_moved(self, envelope_id: str, sent_on: WebSocket) -> dict[str, Any] | str | None:
        return self.socket_acks.get(envelope_id) or ("moved" if self._socket is not sent_on else None)


SOCKET_DELIVERIES = 3
"""How many connections an unacknowledged Socket Mode envelope is delivered on."""
