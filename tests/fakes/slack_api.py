"""A stateful fake of the Slack Web API, served over real HTTP on 127.0.0.1.

Point a real ``AsyncWebClient`` at :attr:`FakeSlack.base_url`. It keeps channels,
messages with ``ts`` (threads, every edit), ephemeral messages, opened views, users and
user groups; checks the bot token and Block Kit limits like Slack does; records every
call (when it arrived and when it was answered); and can answer a method with HTTP 429 +
Retry-After or another error (every call of it, or only the calls a predicate picks), or slowly.

The AI-app surface too: streamed messages (``chat.startStream`` / ``appendStream`` /
``stopStream``; :attr:`FakeSlack.stream_error` makes them unavailable), assistant threads
(``assistant.threads.setStatus`` / ``setTitle`` / ``setSuggestedPrompts``, a status cleared
when the app replies in the thread, as Slack does; :attr:`FakeSlack.assistant_error`), Home
tabs (``views.publish``; :attr:`FakeSlack.home_error`), ``markdown`` blocks and feedback
buttons (``context_actions``), refused the way Slack refuses bad ones.

A ``chat.postMessage`` to a user id posts in the app's DM with that user (opened if need be),
as Slack does, and answers with that DM's id; ``conversations.info`` tells a public channel
from a private one, a DM and a group DM (``is_private``, ``is_im``, ``is_mpim``), and
``chat.getPermalink`` links to a message; a conversation given ``members`` refuses an
ephemeral message to anyone else (``user_not_in_channel``): the app's DM with a user has only
that user.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.asgi_server import BackgroundServer
from tests.fakes.waiting import wait_until

T = TypeVar("T")

SECTION_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MESSAGE_TEXT_LIMIT = 40_000
MARKDOWN_LIMIT = 12_000
"""All markdown blocks of one payload together, and one stream call's markdown_text."""
BLOCK_TYPES = {"section", "context", "actions", "header", "divider", "markdown", "context_actions", "input",
               "image", "rich_text"}


@dataclass
class Call:
    seq: int
    method: str
    args: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)
    """When the fake answered (for a post: when the message appeared), ``time.monotonic()``."""
    received_at: float = 0.0
    """When the request arrived, before any injected latency."""


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    versions: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    """Every content the message has shown, oldest first (the post, then each update)."""
    metadata: dict[str, Any] | None = None
    """Slack's message metadata (``event_type``, ``event_payload``), as posted."""
    streaming: bool = False
    """Started with chat.startStream and not stopped yet."""
    appended: list[str] = field(default_factory=list)
    """Each piece of Markdown streamed into the message, in order."""

    @property
    def is_from_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def content(self) -> str:
        return render_text(self.text, self.blocks)

    def history(self) -> list[str]:
        return [render_text(text, blocks) for text, blocks in self.versions]

    def feedback(self) -> dict[str, Any] | None:
        """The message's feedback buttons element, if it has one."""
        return next((e for b in self.blocks if b.get("type") == "context_actions"
                     for e in b.get("elements", []) if e.get("type") == "feedback_buttons"), None)

    def buttons(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements", [])]

    def button(self, label: str) -> dict[str, Any]:
        """The newest button with this label; from an earlier version if the message lost it
        (a client that has not seen the update yet still shows, and lets people click, it)."""
        for _, blocks in reversed(self.versions):
            for block in blocks:
                for element in block.get("elements", []) if block.get("type") == "actions" else []:
                    if element.get("text", {}).get("text") == label:
                        return dict(element, _block_id=block.get("block_id", ""))
        raise AssertionError(f"no {label!r} button was ever on message {self.ts}: {self.content}")


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    thread_ts: str | None = None


def render_text(text: str, blocks: list[dict[str, Any]]) -> str:
    """The message as one string: every text in its blocks (or the plain text without blocks)."""
    if not blocks:
        return text
    parts: list[str] = []
    for block in blocks:
        if block.get("type") == "markdown":
            parts.append(str(block.get("text", "")))
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element.get("text"), dict):
                parts.append(f"[{element['text'].get('text', '')}]")
    return "\n".join(parts)


def feedback_problems(block: dict[str, Any]) -> list[str]:
    """A context_actions block: 1 to 5 feedback_buttons / icon_button elements; a feedback
    element has a positive and a negative button, each plain_text (≤ 75) with a value (≤ 2000)."""
    elements = block.get("elements") or []
    problems = [] if 1 <= len(elements) <= 5 else ["context_actions needs 1 to 5 elements"]
    for element in elements:
        if element.get("type") not in ("feedback_buttons", "icon_button"):
            problems.append(f"context_actions cannot hold {element.get('type')!r}")
            continue
        if element.get("type") != "feedback_buttons":
            continue
        for side in ("positive_button", "negative_button"):
            button = element.get(side)
            text = (button or {}).get("text") or {}
            if not isinstance(button, dict) or text.get("type") != "plain_text" \
                    or not 0 < len(text.get("text", "")) <= 75 \
                    or not isinstance(button.get("value"), str) or len(button["value"]) > 2000:
                problems.append(f"feedback_buttons {side} is not valid")
        if len(element.get("action_id", "")) > 255:
            problems.append("action_id too long")
    return problems


def block_problems(text: str, blocks: list[dict[str, Any]], *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """What Slack would refuse in a message (a subset of its rules)."""
    problems = []
    if len(text) > MESSAGE_TEXT_LIMIT:
        problems.append("text longer than 40,000 characters")
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (limit {max_blocks})")
    markdown = [b for b in blocks if b.get("type") == "markdown"]
    if any(not isinstance(b.get("text"), str) or not b["text"] for b in markdown):
        problems.append("markdown block without text")
    elif sum(len(b["text"]) for b in markdown) > MARKDOWN_LIMIT:
        problems.append("markdown blocks longer than 12,000 characters together")
    for block in blocks:
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            problems.append(f"unknown block type {kind!r}")
        if kind == "context_actions":
            problems.extend(feedback_problems(block))
        if kind == "section" and len(block.get("text", {}).get("text", "")) > SECTION_TEXT_LIMIT:
            problems.append("section text longer than 3000 characters")
        if kind == "header" and len(block.get("text", {}).get("text", "")) > 150:
            problems.append("header longer than 150 characters")
        if kind == "context" and len(block.get("elements", [])) > 10:
            problems.append("context with more than 10 elements")
        for element in block.get("elements", []):
            if kind == "context" and len(element.get("text", "")) > SECTION_TEXT_LIMIT:
                problems.append("context text longer than 3000 characters")
            if element.get("type") == "button" and (
                len(element["text"]["text"]) > 75 or len(element.get("value", "")) > 2000
            ):
                problems.append("button text or value too long")
        if len(block.get("block_id", "")) > 255:
            problems.append("block_id too long")
    return problems


@dataclass
class Fault:
    method: str
    times: int
    status: int = 429
    retry_after: int = 1
    error: str = "ratelimited"
    when: Callable[[dict[str, Any]], bool] | None = None
    """Only calls whose arguments this accepts get the error (None: every call)."""


class FakeSlack:
    def __init__(self, *, team: str = "T0TEAM", bot_user: str = "U0BOT", bot_id: str = "B0BOT",
                 token: str = "xoxb-fake-bot-token", app_token: str = "xapp-fake-app-token") -> None:
        self.team, self.bot_user, self.bot_id = team, bot_user, bot_id
        self.token, self.app_token = token, app_token
        self.users: dict[str, dict[str, Any]] = {bot_user: {"id": bot_user, "name": "dagbot", "is_bot": True}}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: list[Message] = []
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._threads: dict[tuple[str, str], list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        """Posts to response_url (slash command replies)."""
        self.calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self.latency: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.triggers: set[str] = set()
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.stream_error: str | None = None
        """Set (e.g. "missing_scope"): chat.startStream answers it, as where streaming is unavailable."""
        self.assistant_error: str | None = None
        """Set: every assistant.threads.* call answers it (e.g. a missing assistant:write scope)."""
        self.home_error: str | None = None
        """Set: views.publish answers it (e.g. the Home tab is not enabled)."""
        self.statuses: dict[tuple[str, str], list[str]] = {}
        """(channel, thread ts) → every assistant status set, oldest first ("" clears it)."""
        self.titles: dict[tuple[str, str], str] = {}
        self.prompts: dict[tuple[str, str], dict[str, Any]] = {}
        self.homes: dict[str, list[dict[str, Any]]] = {}
        """User → every Home view published for them, oldest first."""
        self._socket: WebSocket | None = None
        self._seq = itertools.count(1)
        self._ts_base = int(time.time())
        self._server: BackgroundServer | None = None
        self.add_channel("C0OPS", "ops")

    # ------------------------------------------------------------- set-up

    def add_user(self, user_id: str, name: str) -> None:
        self.users[user_id] = {"id": user_id, "name": name, "is_bot": False}

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)

    def add_channel(self, channel_id: str, name: str, *, bot_is_member: bool = True, im: bool = False,
                    mpim: bool = False, private: bool = False, members: list[str] | None = None) -> None:
        """A conversation: a public channel, a private one (``private``), a DM with the app
        (``im``) or a group DM (``mpim``, named ``mpdm-…`` as Slack names them). ``members``:
        the people in it (None: everyone, so membership is never checked); an ephemeral message
        to anyone else is refused with ``user_not_in_channel``, as Slack refuses it."""
        self.channels[channel_id] = {"id": channel_id, "name": name, "bot_is_member": bot_is_member, "im": im,
                                     "mpim": mpim, "private": private or im or mpim,
                                     "members": None if members is None else set(members)}

    def app_dm(self, user: str) -> str:
        """The id of the app's DM with ``user`` (opened if need be: its members are the user)."""
        channel = f"D{user[1:]}"
        if channel not in self.channels:
            self.add_channel(channel, f"{user}-dm", im=True, members=[user])
        return channel

    def inject(self, method: str, *, times: int = 1, status: int = 429, retry_after: int = 1,
               error: str = "ratelimited", when: Callable[[dict[str, Any]], bool] | None = None) -> Fault:
        """Answer the next ``times`` calls of ``method`` (those ``when`` accepts, if given) with
        ``error``: by default HTTP 429 + Retry-After; ``status=200`` for an ``ok: false`` answer.
        Set the returned fault's ``times`` to 0 to end it."""
        fault = Fault(method, times, status, retry_after, error, when)
        self.faults.append(fault)
        return fault

    async def __aenter__(self) -> FakeSlack:
        self._server = BackgroundServer(self.asgi())
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return self._server.url

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/hooks/{key}"

    # ------------------------------------------------------------- queries

    def next_ts(self) -> str:
        return f"{self._ts_base}.{next(self._seq):06d}"

    def post_as_user(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> Message:
        message = Message(channel, self.next_ts(), text, [], user=user, thread_ts=thread_ts)
        message.versions.append((text, []))
        self._add(message)
        return message

    def _add(self, message: Message) -> None:
        self.messages.append(message)
        self._by_ts[(message.channel, message.ts)] = message
        root = message.thread_ts or message.ts
        self._threads.setdefault((message.channel, root), []).append(message)

    def _record(self, method: str, args: dict[str, Any], status: int, received_at: float = 0.0) -> None:
        call = Call(next(self._seq), method, args, status, received_at=received_at or time.monotonic())
        self.calls.append(call)
        self._calls_by_method.setdefault(method, []).append(call)

    def message(self, channel: str, ts: str) -> Message | None:
        return self._by_ts.get((channel, ts))

    def thread(self, channel: str, root_ts: str) -> list[Message]:
        return list(self._threads.get((channel, root_ts), []))

    def calls_of(self, method: str) -> list[Call]:
        return list(self._calls_by_method.get(method, []))

    def told(self, user: str) -> list[str]:
        """Ephemeral messages and slash-command replies shown to a user, oldest first."""
        return [e.text for e in self.ephemerals if e.user == user] + [
            r.get("text", "") for r in self.responses if r.get("_user") == user]

    def dms(self, user: str) -> list[str]:
        """The app's messages in its DM with ``user`` (not in threads there), oldest first."""
        channel = f"D{user[1:]}"
        return [m.text for m in self.messages if m.channel == channel and m.is_from_bot and m.thread_ts is None]

    async def wait_for(self, probe: Callable[[], T | None], timeout: float = 30.0, what: str = "") -> T:
        """Poll until ``probe`` returns something truthy (the fake's state changes under HTTP)."""
        return await wait_until(probe, timeout=timeout, what=what)

    # ---------------------------------------------------------------- HTTP

    def asgi(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
            Route("/hooks/{key}", self._hook, methods=["POST"]),
            WebSocketRoute("/socket-mode", self._socket_mode),
        ])

    async def _args(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                args.update(json.loads(body))
            else:
                args.update(dict(parse_qsl(body.decode())))
        for key in ("blocks", "view", "metadata", "prompts", "chunks"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: Request) -> Response:
        received_at = time.monotonic()
        method = request.path_params["method"]
        args = await self._args(request)
        await asyncio.sleep(self.latency.get(method, 0.0))
        fault = next((f for f in self.faults if f.method == method and f.times > 0
                      and (f.when is None or f.when(args))), None)
        if fault is not None:
            fault.times -= 1
            self._record(method, args, fault.status, received_at)
            headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else None
            return JSONResponse({"ok": False, "error": fault.error}, status_code=fault.status, headers=headers)
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token != (self.app_token if method == "apps.connections.open" else self.token):
            result: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            result = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        self._record(method, args, 200, received_at)
        return JSONResponse(result)

    async def _hook(self, request: Request) -> Response:
        body = json.loads(await request.body())
        body["_user"] = request.path_params["key"].split(":")[0]
        self.responses.append(body)
        self._record("response_url", body, 200)
        return Response("ok")

    # --------------------------------------------------------- Socket Mode

    async def _socket_mode(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self._socket = websocket
        await websocket.send_json({"type": "hello", "num_connections": 1,
                                   "connection_info": {"app_id": "A0DAGBOT"}})
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
        connected Socket Mode client; returns its acknowledgement."""
        socket = await self.wait_for(lambda: self._socket, what="a Socket Mode connection")
        envelope_id = f"env-{next(self._seq)}"
        await socket.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                                "retry_reason": ""})
        return await self.wait_for(lambda: self.socket_acks.get(envelope_id), what="the envelope's ack")

    # ------------------------------------------------------------- methods

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket-mode"}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake Team", "user": "dagbot",
                "team_id": self.team, "user_id": self.bot_user, "bot_id": self.bot_id}

    def _can_post(self, channel: str) -> str | None:
        info = self.channels.get(channel)
        if info is None:
            return "channel_not_found"
        if not info["bot_is_member"] and not info["im"]:
            return "not_in_channel"
        return None

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, text, blocks = args.get("channel", ""), args.get("text") or "", args.get("blocks") or []
        if channel in self.users and channel != self.bot_user:  # a user id: the app's DM with them
            channel = self.app_dm(channel)
        error = self._can_post(channel)
        if error:
            return {"ok": False, "error": error}
        if block_problems(text, blocks):
            return {"ok": False, "error": "invalid_blocks", "problems": block_problems(text, blocks)}
        message = Message(channel, self.next_ts(), text, blocks, user=self.bot_user, bot_id=self.bot_id,
                          thread_ts=args.get("thread_ts"), metadata=args.get("metadata"))
        message.versions.append((text, blocks))
        self._add(message)
        self._replied(channel, args.get("thread_ts"))
        return {"ok": True, "channel": channel, "ts": message.ts,
                "message": {"text": text, "ts": message.ts, "bot_id": self.bot_id}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.message(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if not message.is_from_bot:
            return {"ok": False, "error": "cant_update_message"}
        text, blocks = args.get("text") or "", args.get("blocks") or []
        if block_problems(text, blocks):
            return {"ok": False, "error": "invalid_blocks", "problems": block_problems(text, blocks)}
        message.text, message.blocks, message.streaming = text, blocks, False
        if args.get("metadata"):
            message.metadata = args["metadata"]
        message.versions.append((text, blocks))
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.message(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if not message.is_from_bot:
            return {"ok": False, "error": "cant_delete_message"}
        self.messages.remove(message)
        del self._by_ts[(message.channel, message.ts)]
        root = message.thread_ts or message.ts
        self._threads[(message.channel, root)].remove(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    # ------------------------------------------------------------ streaming

    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.stream_error:
            return {"ok": False, "error": self.stream_error}
        channel, thread_ts = args.get("channel", ""), args.get("thread_ts")
        error = self._can_post(channel)
        if error:
            return {"ok": False, "error": error}
        if not thread_ts or not self.thread(channel, thread_ts):
            return {"ok": False, "error": "invalid_thread_ts"}
        if not self.channels[channel]["im"] and not (args.get("recipient_user_id")
                                                      and args.get("recipient_team_id")):
            return {"ok": False, "error": "invalid_arguments"}  # required outside DMs
        text = args.get("markdown_text") or ""
        if len(text) > MARKDOWN_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        message = Message(channel, self.next_ts(), text, [], user=self.bot_user, bot_id=self.bot_id,
                          thread_ts=thread_ts, streaming=True, appended=[text] if text else [])
        message.versions.append((text, []))
        self._add(message)
        self._replied(channel, thread_ts)
        return {"ok": True, "channel": channel, "ts": message.ts}

    def _streaming(self, args: dict[str, Any]) -> Message | dict[str, Any]:
        message = self.message(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if not message.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        text = args.get("markdown_text") or ""
        if len(text) > MARKDOWN_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        return message

    def _chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(args)
        if not isinstance(message, Message):
            return message
        if not args.get("markdown_text"):
            return {"ok": False, "error": "invalid_arguments"}
        message.appended.append(args["markdown_text"])
        message.text += args["markdown_text"]
        message.versions.append((message.text, []))
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(args)
        if not isinstance(message, Message):
            return message
        text = message.text + (args.get("markdown_text") or "")
        blocks = [{"type": "markdown", "text": text}, *(args.get("blocks") or [])]
        if block_problems(text, blocks):
            return {"ok": False, "error": "invalid_blocks", "problems": block_problems(text, blocks)}
        if args.get("markdown_text"):
            message.appended.append(args["markdown_text"])
        message.text, message.blocks, message.streaming = text, blocks, False
        message.metadata = args.get("metadata") or message.metadata
        message.versions.append((text, blocks))
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    # -------------------------------------------------------- assistant pane

    def _assistant_thread(self, args: dict[str, Any]) -> tuple[str, str] | dict[str, Any]:
        if self.assistant_error:
            return {"ok": False, "error": self.assistant_error}
        channel, ts = args.get("channel_id", ""), args.get("thread_ts", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not self.channels[channel]["im"]:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if not self.thread(channel, ts):
            return {"ok": False, "error": "invalid_thread_ts"}
        return channel, ts

    def _replied(self, channel: str, thread_ts: str | None) -> None:
        """The app replied in the thread: Slack clears its assistant status."""
        shown = self.statuses.get((channel, thread_ts or ""))
        if shown and shown[-1]:
            shown.append("")

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        where = self._assistant_thread(args)
        if isinstance(where, dict):
            return where
        if "status" not in args:
            return {"ok": False, "error": "invalid_arguments"}
        self.statuses.setdefault(where, []).append(str(args["status"]))
        return {"ok": True}

    def _assistant_threads_setTitle(self, args: dict[str, Any]) -> dict[str, Any]:
        where = self._assistant_thread(args)
        if isinstance(where, dict):
            return where
        if not args.get("title"):
            return {"ok": False, "error": "invalid_arguments"}
        self.titles[where] = str(args["title"])
        return {"ok": True}

    def _assistant_threads_setSuggestedPrompts(self, args: dict[str, Any]) -> dict[str, Any]:
        where = self._assistant_thread(args)
        if isinstance(where, dict):
            return where
        prompts = args.get("prompts")
        if not isinstance(prompts, list) or not 1 <= len(prompts) <= 4 or not all(
                isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            return {"ok": False, "error": "invalid_arguments"}
        self.prompts[where] = {"title": args.get("title"), "prompts": prompts}
        return {"ok": True}

    # ------------------------------------------------------------- App Home

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.home_error:
            return {"ok": False, "error": self.home_error}
        user, view = args.get("user_id", ""), args.get("view") or {}
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        blocks = view.get("blocks") or []
        problems = block_problems("", blocks, max_blocks=MAX_VIEW_BLOCKS)
        if view.get("type") != "home" or any(b.get("type") == "markdown" for b in blocks):
            problems.append("not a home view of view blocks")
        ids = [b["block_id"] for b in blocks if b.get("block_id")]
        if len(ids) != len(set(ids)):
            problems.append("duplicate block_id")
        if problems:
            return {"ok": False, "error": "invalid_arguments", "problems": problems}
        published = dict(view, id=f"V{next(self._seq):06d}")
        self.homes.setdefault(user, []).append(published)
        return {"ok": True, "view": published}

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home view last published for ``user``."""
        views = self.homes.get(user)
        return views[-1] if views else None

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._can_post(args.get("channel", ""))
        if error:
            return {"ok": False, "error": error}
        members = self.channels[args["channel"]]["members"]
        if members is not None and args.get("user") not in members:
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemerals.append(Ephemeral(args["channel"], args["user"], args.get("text") or "",
                                         args.get("thread_ts")))
        return {"ok": True, "message_ts": self.next_ts()}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id", "")
        if trigger not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        self.triggers.discard(trigger)  # a trigger opens one view
        view = dict(args["view"], id=f"V{next(self._seq):06d}", _trigger=trigger)
        self.views.append(view)
        return {"ok": True, "view": view}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """The conversation object, with the flags Slack sets for each kind (a private channel
        or conversation the bot is not in is not found, as Slack answers a bot)."""
        info = self.channels.get(args.get("channel", ""))
        if info is None or (info["private"] and not info["bot_is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        if info["im"]:
            user = next(iter(info["members"] or []), None)
            return {"ok": True, "channel": {"id": info["id"], "created": self._ts_base, "is_im": True,
                                            "is_org_shared": False, "user": user, "is_user_deleted": False,
                                            "priority": 0}}
        return {"ok": True, "channel": {
            "id": info["id"], "name": info["name"], "is_channel": not info["mpim"], "is_group": False,
            "is_im": False, "is_mpim": info["mpim"], "is_private": info["private"], "created": self._ts_base,
            "is_archived": False, "is_general": False, "name_normalized": info["name"], "is_shared": False,
            "is_org_shared": False, "is_ext_shared": False, "is_member": info["bot_is_member"]}}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        message = self.message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://fake.slack.test/archives/{channel}/p{ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != ts:  # a reply: Slack adds the thread
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.thread(args.get("channel", ""), args.get("ts", ""))
        with_metadata = args.get("include_all_metadata") in (True, "true", "1", 1)
        return {"ok": True, "messages": [
            {"ts": m.ts, "text": m.text, "user": m.user, "bot_id": m.bot_id, "thread_ts": m.thread_ts,
             **({"metadata": m.metadata} if with_metadata and m.metadata else {})} for m in messages]}
