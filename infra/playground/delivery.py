"""Slack's side of the app: events, slash commands and clicks, signed and POSTed to the bot.

Requests are built as Slack builds them and signed with the app's signing secret
(``slack_sdk.signature.SignatureVerifier``), then sent over HTTP to the bot's
``/slack/events``: the bot cannot tell the playground from Slack. Like Slack, a slash command
or a click that is not acknowledged within 3 seconds shows the user an error, and an event
the app did not take is sent again once, with ``X-Slack-Retry-Num``.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from slack_sdk.signature import SignatureVerifier

from infra.playground.standin import PostedMessage, ReplyTarget, SlackStandIn

log = structlog.get_logger(__name__)

APP_ID = "A0PLAYGROUND"
ACK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Delivered:
    """What the app answered: its HTTP status and JSON body (None when it timed out)."""

    status: int | None
    body: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.status == 200


class SlackDelivery:
    def __init__(self, standin: SlackStandIn, signing_secret: str) -> None:
        self.standin = standin
        self.events_url = ""
        self.response_base_url = ""
        self.verifier = SignatureVerifier(signing_secret)
        self.http = httpx.AsyncClient(timeout=ACK_TIMEOUT_SECONDS)
        self._event_ids = itertools.count(1)

    def connect(self, events_url: str, response_base_url: str) -> None:
        """Where the app listens, and where its response_url replies go (known once both serve)."""
        self.events_url = events_url
        self.response_base_url = response_base_url.rstrip("/")

    async def close(self) -> None:
        await self.http.aclose()

    # ------------------------------------------------------------ transport

    async def _post(self, body: str, content_type: str, extra: dict[str, str] | None = None) -> Delivered:
        stamp = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=stamp, body=body)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": str(signature), **(extra or {})}
        try:
            response = await self.http.post(self.events_url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return Delivered(None, None)
        except httpx.HTTPError as exc:
            log.warning("could not reach the app", error=type(exc).__name__)
            return Delivered(None, None)
        try:
            parsed = response.json() if response.content else {}
        except ValueError:
            parsed = {"text": response.text}
        return Delivered(response.status_code, parsed if isinstance(parsed, dict) else {})

    async def _payload(self, payload: dict[str, Any]) -> Delivered:
        form = urlencode({"payload": json.dumps(payload)})
        return await self._post(form, "application/x-www-form-urlencoded")

    def _response_url(self, target: ReplyTarget) -> str:
        return f"{self.response_base_url}/{self.standin.new_reply_target(target)}"

    def _tell_failure(self, what: str, delivered: Delivered, user: str, channel: str,
                      thread_ts: str | None) -> None:
        error = "operation_timeout" if delivered.status is None else f"http_error ({delivered.status})"
        self.standin.post_ephemeral(channel, user, f"{what} failed with the error \"{error}\"",
                                    thread_ts=thread_ts)

    # --------------------------------------------------------------- events

    async def event(self, event: dict[str, Any]) -> Delivered:
        envelope = {
            "token": "playground", "team_id": self.standin.team, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": f"Ev{next(self._event_ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.standin.team, "user_id": self.standin.bot.id,
                                "is_bot": True}],
        }
        body = json.dumps(envelope)
        delivered = await self._post(body, "application/json")
        if not delivered.ok:  # Slack retries an event the app did not acknowledge
            delivered = await self._post(body, "application/json", {
                "X-Slack-Retry-Num": "1",
                "X-Slack-Retry-Reason": "http_timeout" if delivered.status is None else "http_error"})
        return delivered

    def message_event(self, message: PostedMessage, kind: str = "message") -> dict[str, Any]:
        event: dict[str, Any] = {"type": kind, "channel": message.channel, "text": message.text,
                                 "ts": message.ts, "event_ts": message.ts, "team": self.standin.team}
        if message.bot:
            event.update(bot_id=self.standin.bot_id, user=self.standin.bot.id)
        else:
            event["user"] = message.user
        if kind == "message":
            event["channel_type"] = "channel"
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        return event

    async def user_message(self, message: PostedMessage) -> None:
        """A person posted: ``message``, and ``app_mention`` too when it mentions the bot."""
        await self.event(self.message_event(message))
        if f"<@{self.standin.bot.id}>" in message.text:
            await self.event(self.message_event(message, "app_mention"))

    # ------------------------------------------------------- slash commands

    async def slash_command(self, user: str, channel: str, command: str, text: str) -> Delivered:
        fields = {
            "token": "playground", "team_id": self.standin.team, "team_domain": "playground",
            "channel_id": channel, "channel_name": self.standin.channels.get(channel, ""), "user_id": user,
            "user_name": self.standin.name_of(user), "command": command, "text": text, "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(ReplyTarget(user, channel)),
            "trigger_id": self.standin.new_trigger(user),
        }
        delivered = await self._post(urlencode(fields), "application/x-www-form-urlencoded")
        if not delivered.ok:
            self._tell_failure(command, delivered, user, channel, None)
        elif delivered.body and (delivered.body.get("text") or delivered.body.get("blocks")):
            self.respond(ReplyTarget(user, channel), delivered.body)
        return delivered

    def respond(self, target: ReplyTarget, body: dict[str, Any]) -> None:
        """A reply through a response_url (or in a slash command's acknowledgement)."""
        text, blocks = str(body.get("text") or ""), body.get("blocks") or []
        if body.get("response_type") == "in_channel":
            self.standin.post_as_bot(target.channel, text, blocks, target.thread_ts)
        else:
            self.standin.post_ephemeral(target.channel, target.user, text, blocks, target.thread_ts)

    # -------------------------------------------------------- interactivity

    async def click(self, user: str, message: PostedMessage, action: dict[str, Any]) -> Delivered:
        payload = {
            "type": "block_actions", "team": {"id": self.standin.team, "domain": "playground"},
            "user": {"id": user, "username": self.standin.name_of(user), "team_id": self.standin.team},
            "api_app_id": APP_ID, "token": "playground", "trigger_id": self.standin.new_trigger(user),
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                          "is_ephemeral": False, "thread_ts": message.thread_ts},
            "channel": {"id": message.channel, "name": self.standin.channels.get(message.channel, "")},
            "message": {"type": "message", "ts": message.ts, "thread_ts": message.thread_ts,
                        "text": message.text, "blocks": message.blocks, "user": message.user,
                        **({"bot_id": self.standin.bot_id} if message.bot else {})},
            "response_url": self._response_url(ReplyTarget(user, message.channel, message.thread_ts)),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        delivered = await self._payload(payload)
        if not delivered.ok:
            self._tell_failure("The button", delivered, user, message.channel, message.thread_ts)
        return delivered

    async def submit_view(self, user: str, view: dict[str, Any],
                          values: dict[str, dict[str, str]]) -> Delivered:
        state = {block: {action: {"type": "plain_text_input", "value": value}
                         for action, value in actions.items()} for block, actions in values.items()}
        payload = {
            "type": "view_submission", "team": {"id": self.standin.team, "domain": "playground"},
            "user": {"id": user, "username": self.standin.name_of(user), "team_id": self.standin.team},
            "api_app_id": APP_ID, "token": "playground", "trigger_id": self.standin.new_trigger(user),
            "view": {**view, "state": {"values": state}, "team_id": self.standin.team, "app_id": APP_ID},
        }
        return await self._payload(payload)

    async def close_view(self, user: str, view: dict[str, Any]) -> Delivered:
        payload = {
            "type": "view_closed", "team": {"id": self.standin.team, "domain": "playground"},
            "user": {"id": user, "team_id": self.standin.team}, "api_app_id": APP_ID, "token": "playground",
            "view": {**view, "team_id": self.standin.team, "app_id": APP_ID}, "is_cleared": False,
        }
        return await self._payload(payload)
