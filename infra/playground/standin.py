"""The stand-in for Slack's Web API: the methods dagbot calls, with Slack's answers and refusals.

State: channels, messages (``ts``, threads, edits, deletions, streams: see
:mod:`infra.playground.streaming`), ephemeral messages, open modals, trigger ids and response
URLs. Every change is published on the :class:`~infra.playground.feed.Feed` for the page. The
bot reaches it through ``SLACK_API_URL`` exactly as it reaches Slack: the same client, the same
token check, the same error codes (see :mod:`infra.playground.blockkit`). With rate limits
switched on, each method accepts one call per channel every ``RATE_LIMIT_INTERVAL`` seconds and
answers the others with HTTP 429 and a ``Retry-After`` that says exactly when the next call
will be accepted, as Slack's limits do.
"""

from __future__ import annotations

import itertools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from infra.playground.blockkit import Refusal, message_refusal, view_refusal
from infra.playground.feed import Feed
from infra.playground.streaming import chat_append_stream, chat_start_stream, chat_stop_stream

TRIGGER_TTL_SECONDS = 3.0
"""Slack's trigger ids expire after 3 seconds."""
RATE_LIMIT_INTERVAL = 2.0
REFUSAL_LOG = 200


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str
    bot: bool = False
    thread_ts: str | None = None
    edited: bool = False
    streaming: bool = False
    """Started with chat.startStream and not stopped yet (the page shows it being written)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EphemeralMessage:
    id: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    thread_ts: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OpenView:
    id: str
    user: str
    view: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "view": self.view}


@dataclass(frozen=True)
class ReplyTarget:
    """Where a response_url posts: the user who acted, in which channel and thread."""

    user: str
    channel: str
    thread_ts: str | None = None


@dataclass
class RateLimit:
    on: bool = False
    refused: int = 0
    next_allowed: dict[tuple[str, str], float] = field(default_factory=dict)

    def check(self, method: str, channel: str, now: float) -> float | None:
        """Seconds to wait before this call is accepted, or None to accept it now."""
        if not self.on:
            return None
        key = (method, channel)
        allowed = self.next_allowed.get(key, 0.0)
        if now < allowed:
            self.refused += 1
            return allowed - now
        self.next_allowed[key] = now + RATE_LIMIT_INTERVAL
        return None


class SlackStandIn:
    def __init__(self, *, team: str, bot: Person, bot_id: str, people: list[Person],
                 channels: dict[str, str], feed: Feed, clock: Callable[[], float] = time.time) -> None:
        self.team, self.bot, self.bot_id = team, bot, bot_id
        self.people = people
        self.channels = dict(channels)
        """Channel id → name; the bot is a member of each."""
        self.feed = feed
        self.clock = clock
        self.token = "xoxb-playground-" + secrets.token_hex(12)
        self.messages: list[PostedMessage] = []
        self._by_ts: dict[tuple[str, str], PostedMessage] = {}
        self.ephemerals: list[EphemeralMessage] = []
        self.views: dict[str, OpenView] = {}
        self.refusals: list[dict[str, Any]] = []
        self.rate_limit = RateLimit()
        self._triggers: dict[str, tuple[str, float]] = {}
        self._reply_targets: dict[str, ReplyTarget] = {}
        self._seq = itertools.count(1)
        self._last_ts = 0.0
        self.on_bot_message: Callable[[PostedMessage], None] | None = None
        """Called for each message the bot posts (Slack sends the app those as events too)."""

    # ----------------------------------------------------------------- ids

    def next_ts(self) -> str:
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def new_trigger(self, user: str) -> str:
        trigger = f"{next(self._seq)}.{secrets.token_hex(8)}"
        self._triggers[trigger] = (user, self.clock())
        return trigger

    def new_reply_target(self, target: ReplyTarget) -> str:
        key = secrets.token_hex(12)
        self._reply_targets[key] = target
        return key

    def reply_target(self, key: str) -> ReplyTarget | None:
        return self._reply_targets.get(key)

    # --------------------------------------------------------------- state

    def message(self, channel: str, ts: str) -> PostedMessage | None:
        return self._by_ts.get((channel, ts))

    def name_of(self, user_id: str) -> str:
        if user_id == self.bot.id:
            return self.bot.name
        return next((p.name for p in self.people if p.id == user_id), user_id)

    def snapshot(self) -> dict[str, Any]:
        return {
            "workspace_name": "dagbot playground",
            "bot": {"user_id": self.bot.id, "name": self.bot.name},
            "users": [asdict(p) for p in self.people],
            "channels": [{"id": cid, "name": name} for cid, name in self.channels.items()],
            "messages": [m.as_json() for m in self.messages],
            "ephemerals": [e.as_json() for e in self.ephemerals],
            "views": [v.as_json() for v in self.views.values()],
            "rate_limit": self.rate_limit_state(),
            "refusals": self.refusals[-50:],
        }

    def rate_limit_state(self) -> dict[str, Any]:
        return {"on": self.rate_limit.on, "refused": self.rate_limit.refused}

    def set_rate_limit(self, on: bool) -> None:
        self.rate_limit.on = on
        self.rate_limit.next_allowed.clear()
        self.feed.publish({"type": "rate_limit", "rate_limit": self.rate_limit_state()})

    def post_as_user(self, channel: str, user: str, text: str, thread_ts: str | None) -> PostedMessage:
        message = PostedMessage(channel, self.next_ts(), text, [], user=user, thread_ts=thread_ts)
        self._add(message)
        return message

    def post_ephemeral(self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None,
                       thread_ts: str | None = None) -> EphemeralMessage:
        ephemeral = EphemeralMessage(f"E{next(self._seq)}", channel, user, text, blocks or [],
                                     self.next_ts(), thread_ts)
        self.ephemerals.append(ephemeral)
        self.feed.publish({"type": "ephemeral", "ephemeral": ephemeral.as_json()})
        return ephemeral

    def post_as_bot(self, channel: str, text: str, blocks: list[dict[str, Any]],
                    thread_ts: str | None, *, streaming: bool = False) -> PostedMessage:
        message = PostedMessage(channel, self.next_ts(), text, blocks, user=self.bot.id, bot=True,
                                thread_ts=thread_ts, streaming=streaming)
        self._add(message)
        if self.on_bot_message is not None:
            self.on_bot_message(message)
        return message

    def close_view(self, view_id: str) -> OpenView | None:
        view = self.views.pop(view_id, None)
        if view is not None:
            self.feed.publish({"type": "view_close", "id": view_id})
        return view

    def replace_view(self, view_id: str, view: dict[str, Any]) -> None:
        if view_id in self.views:
            self.views[view_id].view = dict(view, id=view_id)
            self.feed.publish({"type": "view_update", "view": self.views[view_id].as_json()})

    def changed(self, message: PostedMessage) -> None:
        """Show the page a message's new content."""
        self.feed.publish({"type": "message", "message": message.as_json()})

    def _add(self, message: PostedMessage) -> None:
        self.messages.append(message)
        self._by_ts[(message.channel, message.ts)] = message
        self.changed(message)

    def _remove(self, message: PostedMessage) -> None:
        self.messages.remove(message)
        del self._by_ts[(message.channel, message.ts)]
        self.feed.publish({"type": "message_deleted", "channel": message.channel, "ts": message.ts})

    def _refuse(self, method: str, refusal: Refusal) -> dict[str, Any]:
        entry = {"at": self.clock(), "method": method, "error": refusal.error,
                 "detail": "; ".join(refusal.messages)}
        self.refusals = [*self.refusals[-REFUSAL_LOG + 1:], entry]
        self.feed.publish({"type": "refusal", "refusal": entry})
        return refusal.as_response()

    # ---------------------------------------------------------- the Web API

    def call(self, method: str, args: dict[str, Any],
             token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one Web API call: HTTP status, JSON body, extra headers."""
        if token != self.token:
            return 200, {"ok": False, "error": "not_authed" if not token else "invalid_auth"}, {}
        handler = _METHODS.get(method)
        if handler is None:
            return 200, self._refuse(method, Refusal("unknown_method")), {}
        wait = self.rate_limit.check(method, str(args.get("channel", "")), self.clock())
        if wait is not None:
            self.feed.publish({"type": "rate_limit", "rate_limit": self.rate_limit_state()})
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(wait)))}
        return 200, handler(self, args), {}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "http://127.0.0.1/", "team": "dagbot playground", "user": self.bot.name,
                "team_id": self.team, "user_id": self.bot.id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _channel_problem(self, method: str, channel: str) -> dict[str, Any] | None:
        if channel not in self.channels:
            return self._refuse(method, Refusal("channel_not_found"))
        return None

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        problem = self._channel_problem("chat.postMessage", channel)
        if problem:
            return problem
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.message(channel, thread_ts) is None:
            return self._refuse("chat.postMessage", Refusal("thread_not_found"))
        refusal = message_refusal(args.get("text"), args.get("blocks"))
        if refusal:
            return self._refuse("chat.postMessage", refusal)
        message = self.post_as_bot(channel, args.get("text") or "", args.get("blocks") or [], thread_ts)
        return {"ok": True, "channel": channel, "ts": message.ts,
                "message": {"type": "message", "text": message.text, "ts": message.ts, "bot_id": self.bot_id,
                            "user": self.bot.id, "thread_ts": thread_ts}}

    def named_message(self, method: str, args: dict[str, Any]) -> PostedMessage | dict[str, Any]:
        """The message a call names (``channel``, ``ts``), or Slack's refusal of the call."""
        channel = str(args.get("channel", ""))
        problem = self._channel_problem(method, channel)
        if problem:
            return problem
        message = self.message(channel, str(args.get("ts", "")))
        return message if message is not None else self._refuse(method, Refusal("message_not_found"))

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.named_message("chat.update", args)
        if isinstance(message, dict):
            return message
        if not message.bot:
            return self._refuse("chat.update", Refusal("cant_update_message"))
        if message.streaming:  # it is stopped first (chat.stopStream)
            return self._refuse("chat.update", Refusal("streaming_state_conflict"))
        text, blocks = args.get("text"), args.get("blocks")
        refusal = message_refusal(text if text is not None else message.text,
                                  blocks if blocks is not None else message.blocks)
        if refusal:
            return self._refuse("chat.update", refusal)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.edited = True
        self.changed(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.named_message("chat.delete", args)
        if isinstance(message, dict):
            return message
        if not message.bot:  # a bot token deletes only what that bot posted
            return self._refuse("chat.delete", Refusal("cant_delete_message"))
        self._remove(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        problem = self._channel_problem("chat.postEphemeral", channel)
        if problem:
            return problem
        user = str(args.get("user", ""))
        if user not in {p.id for p in self.people}:
            return self._refuse("chat.postEphemeral", Refusal("user_not_in_channel"))
        refusal = message_refusal(args.get("text"), args.get("blocks"))
        if refusal:
            return self._refuse("chat.postEphemeral", refusal)
        ephemeral = self.post_ephemeral(channel, user, args.get("text") or "", args.get("blocks") or [],
                                        args.get("thread_ts") or None)
        return {"ok": True, "message_ts": ephemeral.ts}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id", ""))
        issued = self._triggers.pop(trigger, None)
        if issued is None:
            return self._refuse("views.open", Refusal("invalid_trigger_id"))
        user, at = issued
        if self.clock() - at > TRIGGER_TTL_SECONDS:
            return self._refuse("views.open", Refusal("expired_trigger_id"))
        view = args.get("view")
        refusal = view_refusal(view)
        if refusal:
            return self._refuse("views.open", refusal)
        assert isinstance(view, dict)
        opened = OpenView(f"V{next(self._seq):08d}", user, dict(view))
        opened.view["id"] = opened.id
        self.views[opened.id] = opened
        self.feed.publish({"type": "view_open", "view": opened.as_json()})
        return {"ok": True, "view": opened.view}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user", ""))
        if user_id == self.bot.id:
            return {"ok": True, "user": {"id": self.bot.id, "name": self.bot.name, "is_bot": True}}
        person = next((p for p in self.people if p.id == user_id), None)
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": person.id, "name": person.name, "real_name": person.name,
                                     "is_bot": False}}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": False, "error": "no_such_subteam"}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """The playground's channels are public ones (whoever may approve sees the approvals)."""
        channel = str(args.get("channel", ""))
        problem = self._channel_problem("conversations.info", channel)
        if problem:
            return problem
        name = self.channels[channel]
        return {"ok": True, "channel": {
            "id": channel, "name": name, "name_normalized": name, "is_channel": True, "is_group": False,
            "is_im": False, "is_mpim": False, "is_private": False, "is_archived": False, "is_member": True,
            "created": int(self.clock())}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, root = str(args.get("channel", "")), str(args.get("ts", ""))
        if self.message(channel, root) is None:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": [
            {"type": "message", "ts": m.ts, "text": m.text, "user": m.user, "thread_ts": m.thread_ts,
             **({"bot_id": self.bot_id} if m.bot else {})}
            for m in self.messages if m.channel == channel and (m.ts == root or m.thread_ts == root)]}


_METHODS: dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackStandIn._auth_test,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "chat.update": SlackStandIn._chat_update,
    "chat.delete": SlackStandIn._chat_delete,
    "chat.startStream": chat_start_stream,
    "chat.appendStream": chat_append_stream,
    "chat.stopStream": chat_stop_stream,
    "chat.postEphemeral": SlackStandIn._chat_post_ephemeral,
    "views.open": SlackStandIn._views_open,
    "users.info": SlackStandIn._users_info,
    "usergroups.users.list": SlackStandIn._usergroups_users_list,
    "conversations.replies": SlackStandIn._conversations_replies,
    "conversations.info": SlackStandIn._conversations_info,
}
