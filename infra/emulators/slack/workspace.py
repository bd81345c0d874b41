"""One Slack workspace, as state: its conversations, people, messages and views.

The Web API's methods (:mod:`.web_api`) read and change it; the server (:mod:`.server`) puts it
on HTTP; the driver (:mod:`.driver`) plays its people. Every message has a ``ts`` unique in the
workspace and remembers each content it has shown; a thread is its root and the replies naming
it. A conversation is a public channel, a private one, a group DM or the app's DM with one
person; given ``members``, only those people are in it.

Whoever shows the workspace (the playground's page) watches it: each change is handed to every
callable in :attr:`Workspace.watchers` as a JSON event (``message``, ``message_deleted``,
``ephemeral``, ``view_open``, ``view_update``, ``view_close``, ``refusal``, ``rate_limit``,
``agent_session``).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from infra.emulators.slack.blockkit import Refusal

APP_ID = "A0DAGBOT"
"""The app's id, as Slack names it in what it sends the app."""
TRIGGER_TTL_SECONDS = 3.0
"""Slack's trigger ids expire after 3 seconds."""
REFUSAL_LOG = 200
"""How many refusals the workspace remembers (the page shows the latest)."""


@dataclass
class Conversation:
    id: str
    name: str
    bot_is_member: bool = True
    im: bool = False
    """The app's DM with one person."""
    mpim: bool = False
    private: bool = False
    members: set[str] | None = None
    """The people in it; None: everyone (membership is never checked)."""

    @property
    def channel_type(self) -> str:
        """As a ``message`` event names it."""
        return "im" if self.im else "mpim" if self.mpim else "group" if self.private else "channel"


@dataclass
class User:
    id: str
    name: str
    is_bot: bool = False


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
    """Every content the message has shown, oldest first (the post, then each change)."""
    metadata: dict[str, Any] | None = None
    """Slack's message metadata (``event_type``, ``event_payload``), as posted."""
    edited: bool = False
    """Changed with chat.update (Slack shows "(edited)")."""
    streaming: bool = False
    """Started with chat.startStream and not stopped yet."""
    appended: list[str] = field(default_factory=list)
    """Each piece of Markdown streamed into the message, in order."""
    chunks: list[dict[str, Any]] = field(default_factory=list)
    """Each chunk streamed into the message (markdown_text, plan_update, task_update…), in order."""
    task_display_mode: str = "timeline"
    """How a stream shows its tasks: ``timeline`` (a card each) or ``plan`` (one plan block)."""
    plan_title: str = ""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A stream's tasks by id, each as its last ``task_update`` chunk gave it whole."""

    @property
    def is_from_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def content(self) -> str:
        return render_text(self.text, self.blocks)

    def show(self, text: str, blocks: list[dict[str, Any]]) -> None:
        """Change what the message shows, remembering the version."""
        self.text, self.blocks = text, blocks
        self.versions.append((text, blocks))

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

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "ts": self.ts, "text": self.text, "blocks": self.blocks,
                "user": self.user, "bot": self.is_from_bot, "thread_ts": self.thread_ts,
                "edited": self.edited, "streaming": self.streaming}


@dataclass
class Ephemeral:
    id: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ts: str = ""
    thread_ts: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AgentSession:
    """An agent session: a thread's status and title beside the conversation (Slack's agent
    messaging experience), made by the first ``agents.sessions.setStatus`` of its thread."""

    channel: str
    thread_ts: str
    status: str
    title: str = ""
    statuses: list[str] = field(default_factory=list)
    """Every status set, oldest first."""

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "thread_ts": self.thread_ts, "status": self.status,
                "title": self.title}


@dataclass
class OpenView:
    """A modal opened with views.open, for the person whose click gave the trigger."""

    id: str
    user: str
    view: dict[str, Any]
    trigger: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "view": self.view}


@dataclass(frozen=True)
class ReplyTarget:
    """Where a response_url posts: the user who acted, in which channel and thread."""

    user: str
    channel: str
    thread_ts: str | None = None


def render_text(text: str, blocks: list[dict[str, Any]]) -> str:
    """The message as one string: every text in its blocks (or the plain text without blocks)."""
    if not blocks:
        return text
    parts: list[str] = []
    for block in blocks:
        if block.get("type") == "markdown":
            parts.append(str(block.get("text", "")))
        if block.get("type") in ("plan", "task_card"):
            parts.append(plan_text(block))
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element.get("text"), dict):
                parts.append(f"[{element['text'].get('text', '')}]")
    return "\n".join(parts)


def plan_text(block: dict[str, Any]) -> str:
    """A plan block (its title, then a line per task) or one task card, as text:
    ``[status] title — details — output``."""
    def rich(value: Any) -> str:
        if not isinstance(value, dict):
            return ""
        return "".join(str(e.get("text", "")) for section in value.get("elements", [])
                       for e in section.get("elements", []))

    def line(task: dict[str, Any]) -> str:
        texts = [rich(task.get("details")), rich(task.get("output")),
                 *(f"{s.get('text')} <{s.get('url')}>" for s in task.get("sources") or [])]
        return " — ".join([f"[{task.get('status')}] {task.get('title')}", *filter(None, texts)])

    if block.get("type") == "task_card":
        return line(block)
    return "\n".join([str(block.get("title", "")), *(line(t) for t in block.get("tasks", []))])


class Workspace:
    def __init__(self, *, team: str = "T0TEAM", team_name: str = "Fake Team", domain: str = "fake",
                 bot_user: str = "U0BOT", bot_name: str = "dagbot", bot_id: str = "B0BOT",
                 token: str = "xoxb-fake-bot-token",  # noqa: S107 - the emulated Slack's own, not a secret
                 app_token: str = "xapp-fake-app-token",  # noqa: S107 - the same
                 web_url: str = "https://fake.slack.test/", clock: Callable[[], float] | None = None) -> None:
        """``clock``: the workspace's time (``time.time`` for Slack's); None: it stands at the
        moment the workspace was made, so every ts is that moment plus a count and trigger ids
        never expire (what tests and benchmarks on a busy machine want)."""
        self.team, self.team_name, self.domain, self.web_url = team, team_name, domain, web_url
        self.bot_user, self.bot_name, self.bot_id = bot_user, bot_name, bot_id
        self.token, self.app_token = token, app_token
        started = time.time()
        self.clock: Callable[[], float] = clock or (lambda: started)
        self.created = int(started)
        self.users: dict[str, User] = {bot_user: User(bot_user, bot_name, is_bot=True)}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, Conversation] = {}
        self.messages: list[Message] = []
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._threads: dict[tuple[str, str], list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.modals: dict[str, OpenView] = {}
        """The modals open now, by id."""
        self.opened: list[OpenView] = []
        """Every modal views.open opened, oldest first."""
        self.homes: dict[str, list[dict[str, Any]]] = {}
        """User → every Home view published for them, oldest first."""
        self.statuses: dict[tuple[str, str], list[str]] = {}
        """(channel, thread ts) → every assistant status set, oldest first ("" clears it)."""
        self.titles: dict[tuple[str, str], str] = {}
        self.prompts: dict[tuple[str, str], dict[str, Any]] = {}
        self.sessions: dict[tuple[str, str], AgentSession] = {}
        """(channel, thread ts) → its agent session (agents.sessions.*)."""
        self.responses: list[dict[str, Any]] = []
        """What the app posted to response_urls, each with the ``_user`` it answered."""
        self.refusals: list[dict[str, Any]] = []
        """The latest calls refused, newest last: when, which method, Slack's error and its detail."""
        self.stream_error: str | None = None
        """Set (e.g. "missing_scope"): chat.startStream answers it, as where streaming is unavailable."""
        self.assistant_error: str | None = None
        """Set: every assistant.threads.* call answers it (e.g. a missing assistant:write scope)."""
        self.session_error: str | None = None
        """Set: every agents.sessions.* call answers it (e.g. ``not_allowed``: no agent app)."""
        self.home_error: str | None = None
        """Set: views.publish answers it (e.g. the Home tab is not enabled)."""
        self.trigger_ttl = TRIGGER_TTL_SECONDS
        self.socket_mode_url = ""
        """Where apps.connections.open sends Socket Mode clients (none: it refuses them)."""
        self.watchers: list[Callable[[dict[str, Any]], None]] = []
        self.on_bot_message: Callable[[Message], None] | None = None
        """Called for each message the app posts (Slack sends the app those as events too)."""
        self._triggers: dict[str, tuple[str, float]] = {}
        self._reply_targets: dict[str, ReplyTarget] = {}
        self._ids = itertools.count(1)
        self._last_micros = 0

    # ---------------------------------------------------------------- set-up

    def add_user(self, user_id: str, name: str) -> None:
        self.users[user_id] = User(user_id, name)

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)

    def add_channel(self, channel_id: str, name: str, *, bot_is_member: bool = True, im: bool = False,
                    mpim: bool = False, private: bool = False, members: list[str] | None = None) -> None:
        """A conversation: a public channel, a private one (``private``), a DM with the app
        (``im``) or a group DM (``mpim``, named ``mpdm-…`` as Slack names them). ``members``:
        the people in it (None: everyone, so membership is never checked); an ephemeral message
        to anyone else is refused with ``user_not_in_channel``, as Slack refuses it."""
        people = None if members is None else set(members)
        self.channels[channel_id] = Conversation(channel_id, name, bot_is_member, im, mpim,
                                                 private or im or mpim, people)

    def app_dm(self, user: str) -> str:
        """The id of the app's DM with ``user`` (opened if need be: its members are the user)."""
        channel = f"D{user[1:]}"
        if channel not in self.channels:
            self.add_channel(channel, f"{user}-dm", im=True, members=[user])
        return channel

    # ------------------------------------------------------------------- ids

    def next_ts(self) -> str:
        """A ts unique in the workspace: the clock's time in microseconds, or one more than the
        last (counted in whole microseconds: a float that large cannot add 0.000001 exactly)."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def new_trigger(self, user: str = "") -> str:
        """A trigger id, as a click or a command gives one: it opens one modal, for 3 seconds."""
        trigger = f"{next(self._ids)}.{secrets.token_hex(8)}"
        self._triggers[trigger] = (user, self.clock())
        return trigger

    def use_trigger(self, trigger: str) -> tuple[str, Refusal | None]:
        """Spend a trigger id: whose it is, or Slack's refusal (unknown, used or expired)."""
        issued = self._triggers.pop(trigger, None)
        if issued is None:
            return "", Refusal("invalid_trigger_id")
        user, at = issued
        if self.clock() - at > self.trigger_ttl:
            return user, Refusal("expired_trigger_id")
        return user, None

    def new_reply_target(self, target: ReplyTarget) -> str:
        key = secrets.token_hex(12)
        self._reply_targets[key] = target
        return key

    def reply_target(self, key: str) -> ReplyTarget | None:
        return self._reply_targets.get(key)

    # --------------------------------------------------------------- queries

    def message(self, channel: str, ts: str) -> Message | None:
        return self._by_ts.get((channel, ts))

    def thread(self, channel: str, root_ts: str) -> list[Message]:
        return list(self._threads.get((channel, root_ts), []))

    def name_of(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.name if user else user_id

    @property
    def views(self) -> list[dict[str, Any]]:
        """Every modal opened, as it opened, oldest first (``_trigger``: the trigger id that opened it)."""
        return [dict(v.view, _trigger=v.trigger) for v in self.opened]

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home view last published for ``user``."""
        views = self.homes.get(user)
        return views[-1] if views else None

    # --------------------------------------------------------------- changes

    def notify(self, event: dict[str, Any]) -> None:
        for watcher in self.watchers:
            watcher(event)

    def changed(self, message: Message) -> None:
        """Show watchers a message's new content."""
        if self.watchers:
            self.notify({"type": "message", "message": message.as_json()})

    def post_as_user(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> Message:
        message = Message(channel, self.next_ts(), text, [], user=user, thread_ts=thread_ts)
        self._add(message)
        return message

    def post_as_bot(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None = None,
                    *, metadata: dict[str, Any] | None = None, streaming: bool = False) -> Message:
        message = Message(channel, self.next_ts(), text, blocks, user=self.bot_user, bot_id=self.bot_id,
                          thread_ts=thread_ts, metadata=metadata, streaming=streaming)
        self._add(message)
        self._replied(channel, thread_ts)
        if self.on_bot_message is not None:
            self.on_bot_message(message)
        return message

    def _add(self, message: Message) -> None:
        message.versions.append((message.text, message.blocks))
        self.messages.append(message)
        self._by_ts[(message.channel, message.ts)] = message
        self._threads.setdefault((message.channel, message.thread_ts or message.ts), []).append(message)
        self.changed(message)

    def _replied(self, channel: str, thread_ts: str | None) -> None:
        """The app replied in the thread: Slack clears its assistant status."""
        shown = self.statuses.get((channel, thread_ts or ""))
        if shown and shown[-1]:
            shown.append("")

    def remove(self, message: Message) -> None:
        self.messages.remove(message)
        del self._by_ts[(message.channel, message.ts)]
        self._threads[(message.channel, message.thread_ts or message.ts)].remove(message)
        self.notify({"type": "message_deleted", "channel": message.channel, "ts": message.ts})

    def post_ephemeral(self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None,
                       thread_ts: str | None = None) -> Ephemeral:
        ephemeral = Ephemeral(self.next_id("E"), channel, user, text, blocks or [], self.next_ts(), thread_ts)
        self.ephemerals.append(ephemeral)
        if self.watchers:
            self.notify({"type": "ephemeral", "ephemeral": ephemeral.as_json()})
        return ephemeral

    def respond(self, target: ReplyTarget, body: dict[str, Any]) -> None:
        """A reply through a response_url (or in a slash command's acknowledgement): in the
        channel for everyone with ``response_type: in_channel``, else only to whoever acted."""
        self.responses.append({**body, "_user": target.user})
        text, blocks = str(body.get("text") or ""), body.get("blocks") or []
        if body.get("response_type") == "in_channel":
            self.post_as_bot(target.channel, text, blocks, target.thread_ts)
        else:
            self.post_ephemeral(target.channel, target.user, text, blocks, target.thread_ts)

    def open_view(self, user: str, view: dict[str, Any], trigger: str = "") -> OpenView:
        opened = OpenView(self.next_id("V"), user, dict(view), trigger)
        opened.view["id"] = opened.id
        self.modals[opened.id] = opened
        self.opened.append(opened)
        self.notify({"type": "view_open", "view": opened.as_json()})
        return opened

    def close_view(self, view_id: str) -> OpenView | None:
        view = self.modals.pop(view_id, None)
        if view is not None:
            self.notify({"type": "view_close", "id": view_id})
        return view

    def replace_view(self, view_id: str, view: dict[str, Any]) -> None:
        if view_id in self.modals:
            self.modals[view_id].view = dict(view, id=view_id)
            self.notify({"type": "view_update", "view": self.modals[view_id].as_json()})

    def refuse(self, method: str, refusal: Refusal) -> dict[str, Any]:
        """Slack's answer refusing a call, remembered (and shown to watchers)."""
        entry = {"at": self.clock(), "method": method, "error": refusal.error,
                 "detail": "; ".join(refusal.messages)}
        self.refusals = [*self.refusals[-REFUSAL_LOG + 1:], entry]
        self.notify({"type": "refusal", "refusal": entry})
        return refusal.as_response()
