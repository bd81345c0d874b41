"""Plays Slack's side of the app: signed HTTP requests, as Slack sends them, to the running app.

Events, slash commands and interactivity payloads are built like Slack builds them and
signed with the app's signing secret (``slack_sdk.signature.SignatureVerifier``).
User messages are also recorded in the :class:`FakeSlack`, so threads look real.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import FakeSlack, Message

APP_ID = "A0DAGBOT"


class SlackDriver:
    def __init__(self, fake: FakeSlack, app_url: str, signing_secret: str) -> None:
        self.fake = fake
        self.app_url = app_url.rstrip("/")
        self.verifier = SignatureVerifier(signing_secret)
        self.http = httpx.AsyncClient(timeout=30)
        self._events = itertools.count(1)

    async def close(self) -> None:
        await self.http.aclose()

    # -------------------------------------------------------------- transport

    async def send(self, body: str, content_type: str, *, timestamp: int | None = None,
                   signature: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = signature or self.verifier.generate_signature(timestamp=stamp, body=body) or ""
        return await self.http.post(
            f"{self.app_url}/slack/events", content=body.encode(),
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
            "token": "legacy", "team_id": self.fake.team, "team_domain": "fake", "channel_id": channel,
            "channel_name": self.channel_name(channel), "user_id": user,
            "user_name": self.fake.users.get(user, {}).get("name", user), "command": command, "text": text,
            "api_app_id": APP_ID, "response_url": self.fake.response_url(f"{user}:{uuid.uuid4().hex[:8]}"),
            "trigger_id": self.new_trigger(),
        }

    def channel_name(self, channel: str) -> str:
        """As a slash command names it: ``directmessage`` in a DM, else the conversation's name
        (a group DM's is ``mpdm-…``)."""
        info = self.fake.channels.get(channel, {})
        return "directmessage" if info.get("im") else str(info.get("name", "?"))

    async def slash(self, user: str, channel: str, text: str, command: str = "/agent") -> httpx.Response:
        return await self.send_form(self.slash_fields(user, channel, text, command))

    def new_trigger(self) -> str:
        trigger = f"{next(self._events)}.{uuid.uuid4().hex[:12]}"
        self.fake.triggers.add(trigger)
        return trigger

    # ---------------------------------------------------------------- events

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy", "team_id": self.fake.team, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.fake.team, "user_id": self.fake.bot_user, "is_bot": True}],
        }

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    retry_num: int | None = None) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry_num else None
        return await self.send(json.dumps(self.envelope(event, event_id)), "application/json", headers=headers)

    def message_event(self, message: Message, kind: str = "message") -> dict[str, Any]:
        info = self.fake.channels.get(message.channel, {})
        event: dict[str, Any] = {"type": kind, "channel": message.channel, "user": message.user,
                                 "text": message.text, "ts": message.ts, "event_ts": message.ts,
                                 "team": self.fake.team}
        if kind == "message":  # (an app_mention carries no channel_type)
            event["channel_type"] = ("im" if info.get("im") else "mpim" if info.get("mpim")
                                     else "group" if info.get("private") else "channel")
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        return event

    async def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> Message:
        """A user posts a message: Slack sends ``message`` and, if it mentions the bot, ``app_mention``."""
        message = self.fake.post_as_user(channel, user, text, thread_ts)
        await self.event(self.message_event(message))
        if f"<@{self.fake.bot_user}>" in text:
            await self.event(self.message_event(message, "app_mention"))
        return message

    # ----------------------------------------------------------- interactivity

    def block_action(self, user: str, message: Message, action: dict[str, Any]) -> dict[str, Any]:
        block_id = action.get("_block_id", "")
        return {
            "type": "block_actions", "team": {"id": self.fake.team, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team}, "api_app_id": APP_ID, "token": "legacy",
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                          "is_ephemeral": False, "thread_ts": message.thread_ts},
            "trigger_id": self.new_trigger(), "channel": {"id": message.channel},
            "message": {"type": "message", "ts": message.ts, "thread_ts": message.thread_ts,
                        "text": message.text, "blocks": message.blocks, "bot_id": message.bot_id},
            "response_url": self.fake.response_url(f"{user}:{uuid.uuid4().hex[:8]}"),
            "actions": [{"type": "button", "action_id": action["action_id"], "block_id": block_id,
                         "value": action.get("value", ""), "text": action["text"],
                         "action_ts": f"{time.time():.6f}"}],
        }

    async def click(self, user: str, message: Message, label: str) -> httpx.Response:
        return await self.send_payload(self.block_action(user, message, message.button(label)))

    async def submit_view(self, user: str, view: dict[str, Any],
                          values: dict[str, dict[str, Any]]) -> httpx.Response:
        """Submit a modal; ``values`` is ``{block_id: {action_id: value}}`` for plain text inputs."""
        state = {block: {action: {"type": "plain_text_input", "value": value}
                         for action, value in actions.items()} for block, actions in values.items()}
        payload = {
            "type": "view_submission", "team": {"id": self.fake.team, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team}, "api_app_id": APP_ID, "token": "legacy",
            "trigger_id": self.new_trigger(),
            "view": {**{k: v for k, v in view.items() if not k.startswith("_")}, "state": {"values": state},
                     "team_id": self.fake.team, "app_id": APP_ID},
        }
        return await self.send_payload(payload)

    # ------------------------------------------------------- the AI-app surface

    async def open_assistant_thread(self, user: str, context_channel: str | None = None) -> Message:
        """The user opens dagbot in the assistant pane: Slack makes a thread in their DM with the
        app (the root is the app's) and sends ``assistant_thread_started``."""
        channel = self.fake.app_dm(user)
        root = self.fake.post_as_user(channel, self.fake.bot_user, "Hi, how can I help?")
        root.bot_id = self.fake.bot_id
        await self.event({"type": "assistant_thread_started", "event_ts": self.fake.next_ts(),
                          "assistant_thread": {
                              "user_id": user, "channel_id": channel, "thread_ts": root.ts,
                              "context": {"channel_id": context_channel, "team_id": self.fake.team,
                                          "enterprise_id": None}}})
        return root

    async def home_opened(self, user: str) -> httpx.Response:
        channel = f"D{user[1:]}"
        return await self.event({"type": "app_home_opened", "user": user, "channel": channel, "tab": "home",
                                 "event_ts": self.fake.next_ts()})

    async def feedback(self, user: str, message: Message, vote: str) -> httpx.Response:
        """Click 👍 (``up``) or 👎 (``down``) on a message's feedback buttons."""
        element = message.feedback()
        assert element is not None, f"no feedback buttons on message {message.ts}: {message.content}"
        button = element["positive_button" if vote == "up" else "negative_button"]
        block_id = next(b.get("block_id", "") for b in message.blocks if b.get("type") == "context_actions")
        payload = self.block_action(user, message, {"action_id": element["action_id"], "_block_id": block_id,
                                                    "value": button["value"], "text": button["text"]})
        payload["actions"][0]["type"] = "feedback_buttons"
        return await self.send_payload(payload)

    async def click_in_home(self, user: str, label: str, block_id_prefix: str = "",
                            view: dict[str, Any] | None = None) -> httpx.Response:
        """Click a button in the Home view last published for ``user`` (or in ``view``, one
        published earlier that they still look at): the first with this label, in a block whose
        id starts with ``block_id_prefix``."""
        view = view or self.fake.home(user)
        assert view is not None, f"no Home view was published for {user}"
        block, element = next((b, e) for b in view["blocks"] if b.get("type") == "actions"
                              and b.get("block_id", "").startswith(block_id_prefix)
                              for e in b.get("elements", []) if e.get("text", {}).get("text") == label)
        payload = {
            "type": "block_actions", "team": {"id": self.fake.team, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team}, "api_app_id": APP_ID, "token": "legacy",
            "container": {"type": "view", "view_id": view["id"]}, "trigger_id": self.new_trigger(),
            "view": {**view, "team_id": self.fake.team, "app_id": APP_ID},
            "actions": [{"type": "button", "action_id": element["action_id"], "block_id": block["block_id"],
                         "value": element.get("value", ""), "text": element["text"],
                         "action_ts": f"{time.time():.6f}"}],
        }
        return await self.send_payload(payload)
