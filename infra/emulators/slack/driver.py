"""Slack's side of the app: events, slash commands and clicks, signed and POSTed to the app.

Requests are built as Slack builds them from the emulated workspace (:class:`.SlackServer`),
signed with the app's signing secret (``slack_sdk.signature.SignatureVerifier``) and sent to
the app's ``/slack/events``: the app cannot tell the driver from Slack. A person's message is
also posted in the workspace, so threads look real; a command or a click carries a trigger
id and a response_url the workspace answers. Each send returns the app's HTTP response.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import APP_ID, Message, ReplyTarget

EVENTS_PATH = "/slack/events"
"""Where a Bolt app takes Slack's requests (its manifest's request URL)."""


class SlackDriver:
    def __init__(self, slack: SlackServer, app_url: str, signing_secret: str, *, timeout: float = 30) -> None:
        self.slack = slack
        self.app_url = app_url.rstrip("/")
        self.verifier = SignatureVerifier(signing_secret)
        self.http = httpx.AsyncClient(timeout=timeout)
        self._events = itertools.count(1)

    async def close(self) -> None:
        await self.http.aclose()

    # -------------------------------------------------------------- transport

    async def send(self, body: str, content_type: str, *, timestamp: int | None = None,
                   signature: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = signature or self.verifier.generate_signature(timestamp=stamp, body=body) or ""
        return await self.http.post(
            f"{self.app_url}{EVENTS_PATH}", content=body.encode(),
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                     "X-Slack-Signature": signed, **(headers or {})},
        )

    async def send_form(self, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await self.send(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    async def send_payload(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.send_form({"payload": json.dumps(payload)}, **kwargs)

    # -------------------------------------------------------------- commands

    def slash_fields(self, user: str, channel: str, text: str, command: str = "/agent") -> dict[str, str]:
        return {
            "token": "legacy", "team_id": self.slack.team, "team_domain": self.slack.domain,
            "channel_id": channel, "channel_name": self.channel_name(channel), "user_id": user,
            "user_name": self.slack.name_of(user), "command": command, "text": text, "api_app_id": APP_ID,
            "is_enterprise_install": "false", "trigger_id": self.new_trigger(user),
            "response_url": self.slack.response_url(ReplyTarget(user, channel)),
        }

    def channel_name(self, channel: str) -> str:
        """As a slash command names it: ``directmessage`` in a DM, else the conversation's name
        (a group DM's is ``mpdm-…``)."""
        conversation = self.slack.channels.get(channel)
        return "?" if conversation is None else "directmessage" if conversation.im else conversation.name

    async def slash(self, user: str, channel: str, text: str, command: str = "/agent") -> httpx.Response:
        return await self.send_form(self.slash_fields(user, channel, text, command))

    def new_trigger(self, user: str = "") -> str:
        return self.slack.new_trigger(user)

    # ---------------------------------------------------------------- events

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy", "team_id": self.slack.team, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id or self.new_event_id(),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.slack.team, "user_id": self.slack.bot_user, "is_bot": True}],
        }

    def new_event_id(self) -> str:
        return f"Ev{next(self._events):08d}"

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
                    retry_reason: str = "http_timeout") -> httpx.Response:
        headers = ({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
                   if retry_num else None)
        body = json.dumps(self.envelope(event, event_id))
        return await self.send(body, "application/json", headers=headers)

    def message_event(self, message: Message, kind: str = "message") -> dict[str, Any]:
        event: dict[str, Any] = {"type": kind, "channel": message.channel, "user": message.user,
                                 "text": message.text, "ts": message.ts, "event_ts": message.ts,
                                 "team": self.slack.team}
        if message.bot_id:
            event["bot_id"] = message.bot_id
        if kind == "message":  # (an app_mention carries no channel_type)
            conversation = self.slack.channels.get(message.channel)
            event["channel_type"] = conversation.channel_type if conversation else "channel"
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        return event

    def events_of(self, message: Message) -> list[dict[str, Any]]:
        """What Slack sends the app for a person's message: ``message`` and, if it mentions the
        bot, ``app_mention``."""
        mentioned = f"<@{self.slack.bot_user}>" in message.text
        mention = [self.message_event(message, "app_mention")] if mentioned else []
        return [self.message_event(message), *mention]

    async def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> Message:
        """A user posts a message, and Slack tells the app."""
        message = self.slack.post_as_user(channel, user, text, thread_ts)
        for event in self.events_of(message):
            await self.event(event)
        return message

    # ----------------------------------------------------------- interactivity

    def _person(self, user: str) -> dict[str, Any]:
        return {"id": user, "username": self.slack.name_of(user), "team_id": self.slack.team}

    def block_action(self, user: str, message: Message, action: dict[str, Any]) -> dict[str, Any]:
        """A click on ``action`` (an element of the message; its block id in ``block_id`` or, as
        :meth:`Message.button` gives it, ``_block_id``)."""
        conversation = self.slack.channels.get(message.channel)
        return {
            "type": "block_actions", "team": {"id": self.slack.team, "domain": self.slack.domain},
            "user": self._person(user), "api_app_id": APP_ID, "token": "legacy",
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                          "is_ephemeral": False, "thread_ts": message.thread_ts},
            "trigger_id": self.new_trigger(user),
            "channel": {"id": message.channel, "name": conversation.name if conversation else ""},
            "message": {"type": "message", "ts": message.ts, "thread_ts": message.thread_ts,
                        "text": message.text, "blocks": message.blocks, "user": message.user,
                        **({"bot_id": message.bot_id} if message.bot_id else {})},
            "response_url": self.slack.response_url(ReplyTarget(user, message.channel, message.thread_ts)),
            "actions": [{"type": action.get("type", "button"), "action_id": action["action_id"],
                         "block_id": action.get("block_id", action.get("_block_id", "")),
                         "value": action.get("value", ""), "text": action.get("text"),
                         "action_ts": f"{time.time():.6f}"}],
        }

    async def click(self, user: str, message: Message, label: str) -> httpx.Response:
        return await self.send_payload(self.block_action(user, message, message.button(label)))

    def view_payload(self, kind: str, user: str, view: dict[str, Any], *, state: dict[str, Any] | None = None,
                     **fields: Any) -> dict[str, Any]:
        """``view_submission`` (with the inputs' ``state``) or ``view_closed`` of a modal the app opened."""
        shown = {k: v for k, v in view.items() if not k.startswith("_")} | ({"state": state} if state else {})
        return {"type": kind, "team": {"id": self.slack.team, "domain": self.slack.domain},
                "user": self._person(user), "api_app_id": APP_ID, "token": "legacy",
                "view": {**shown, "team_id": self.slack.team, "app_id": APP_ID}, **fields}

    async def submit_view(self, user: str, view: dict[str, Any],
                          values: dict[str, dict[str, Any]]) -> httpx.Response:
        """Submit a modal; ``values`` is ``{block_id: {action_id: value}}``: the text typed into a
        plain text input, the value of the option chosen with radio buttons or a select ("" or
        None: none), the values of the boxes ticked (a list)."""
        state = {block: {action: input_state(element_of(view, block, action), value)
                         for action, value in actions.items()} for block, actions in values.items()}
        return await self.send_payload(self.view_payload(
            "view_submission", user, view, state={"values": state}, trigger_id=self.new_trigger(user)))

    async def close_view(self, user: str, view: dict[str, Any]) -> httpx.Response:
        """Close a modal the app asked to hear about (``notify_on_close``)."""
        return await self.send_payload(self.view_payload("view_closed", user, view, is_cleared=False))

    # ------------------------------------------------------- the AI-app surface

    async def open_assistant_thread(self, user: str, context_channel: str | None = None) -> Message:
        """The user opens dagbot in the assistant pane: Slack makes a thread in their DM with the
        app (the root is the app's) and sends ``assistant_thread_started``."""
        channel = self.slack.app_dm(user)
        root = self.slack.post_as_user(channel, self.slack.bot_user, "Hi, how can I help?")
        root.bot_id = self.slack.bot_id
        await self.event({"type": "assistant_thread_started", "event_ts": self.slack.next_ts(),
                          "assistant_thread": {
                              "user_id": user, "channel_id": channel, "thread_ts": root.ts,
                              "context": {"channel_id": context_channel, "team_id": self.slack.team,
                                          "enterprise_id": None}}})
        return root

    async def stop_session(self, user: str, channel: str, thread_ts: str) -> httpx.Response:
        """The user clicks the stop button of the thread's agent session: Slack stops the app's
        streams under way in the thread and sends ``agent_session_stopped`` naming them. The
        session's status stays as it was: moving it is the app's job."""
        stopped = [m for m in self.slack.thread(channel, thread_ts) if m.streaming and m.is_from_bot]
        for message in stopped:
            message.streaming = False
            self.slack.changed(message)
        return await self.event({"type": "agent_session_stopped", "user": user, "channel": channel,
                                 "thread_ts": thread_ts, "streaming_message_ts": [m.ts for m in stopped],
                                 "event_ts": self.slack.next_ts()})

    async def context_changed(self, user: str, *entities: tuple[str, Any]) -> httpx.Response:
        """The user, with the app's agent conversation open, looks at something else:
        ``app_context_changed`` naming ``(type, value)`` entities, most relevant first (e.g.
        ``("slack#/types/channel_id", "C0OPS")``); none: an empty context."""
        context: dict[str, Any] = {"entities": [{"type": kind, "value": value, "team_id": self.slack.team}
                                                for kind, value in entities]} if entities else {}
        return await self.event({"type": "app_context_changed", "user": user, "context": context,
                                 "channel": self.slack.app_dm(user), "event_ts": self.slack.next_ts()})

    async def home_opened(self, user: str) -> httpx.Response:
        return await self.event(self.home_event(user))

    def home_event(self, user: str) -> dict[str, Any]:
        """``app_home_opened``: the user opens the app's Home tab."""
        return {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home",
                "event_ts": self.slack.next_ts()}

    async def feedback(self, user: str, message: Message, vote: str) -> httpx.Response:
        """Click 👍 (``up``) or 👎 (``down``) on a message's feedback buttons."""
        element = message.feedback()
        assert element is not None, f"no feedback buttons on message {message.ts}: {message.content}"
        button = element["positive_button" if vote == "up" else "negative_button"]
        block_id = next(b.get("block_id", "") for b in message.blocks if b.get("type") == "context_actions")
        return await self.send_payload(self.block_action(user, message, {
            "type": "feedback_buttons", "action_id": element["action_id"], "block_id": block_id,
            "value": button["value"], "text": button["text"]}))

    async def click_in_home(self, user: str, label: str, block_id_prefix: str = "",
                            view: dict[str, Any] | None = None) -> httpx.Response:
        """Click a button in the Home view last published for ``user`` (or in ``view``, one
        published earlier that they still look at): the first with this label, in a block whose
        id starts with ``block_id_prefix``."""
        view = view or self.slack.home(user)
        assert view is not None, f"no Home view was published for {user}"
        block, element = next((b, e) for b in view["blocks"] if b.get("type") == "actions"
                              and b.get("block_id", "").startswith(block_id_prefix)
                              for e in b.get("elements", []) if e.get("text", {}).get("text") == label)
        clicked = {**element, "block_id": block["block_id"]}
        return await self.send_payload(self.view_action(user, view, clicked))

    def view_action(self, user: str, view: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        """A click on ``action`` (a button of ``view``, a Home tab, with its ``block_id``)."""
        return {
            "type": "block_actions", "team": {"id": self.slack.team, "domain": self.slack.domain},
            "user": self._person(user), "api_app_id": APP_ID, "token": "legacy",
            "container": {"type": "view", "view_id": view["id"]}, "trigger_id": self.new_trigger(user),
            "view": {**view, "team_id": self.slack.team, "app_id": APP_ID},
            "actions": [{"type": action.get("type", "button"), "action_id": action["action_id"],
                         "block_id": action.get("block_id", ""), "value": action.get("value", ""),
                         "text": action.get("text"), "action_ts": f"{time.time():.6f}"}],
        }


def element_of(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    """The input element of ``view`` at ``block_id``/``action_id`` ({} when there is none)."""
    for i, block in enumerate(view.get("blocks") or []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict) and block.get("block_id", f"block_{i}") == block_id \
                and element.get("action_id", "value") == action_id:
            return element
    return {}


def input_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """An input's entry in ``view.state.values``, as Slack sends it for the element's type."""
    kind = element.get("type", "plain_text_input")
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    if kind == "checkboxes":
        ticked = value if isinstance(value, list) else [value] if value else []
        return {"type": kind, "selected_options": [o for o in options if o.get("value") in ticked]}
    if kind in ("radio_buttons", "static_select"):
        chosen = next((o for o in options if value and o.get("value") == value), None)
        return {"type": kind, "selected_option": chosen}
    return {"type": kind, "value": value if value else None}

