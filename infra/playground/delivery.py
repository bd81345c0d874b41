"""Slack's side of the app, as the page's people use it: their messages, slash commands, clicks
and modals, delivered to the bot as Slack delivers them.

The requests are the emulator's (:class:`infra.emulators.slack.driver.SlackDriver`): built as
Slack builds them, signed with the app's signing secret and POSTed to the bot's
``/slack/events``, so the bot cannot tell the playground from Slack. What is added here is what
Slack does when the app is slow or fails: a slash command or a click not acknowledged within 3
seconds shows the user an error, and an event the app did not take is sent again once, with
``X-Slack-Retry-Num``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from infra.emulators.slack.driver import SlackDriver
from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import Message, ReplyTarget

log = structlog.get_logger(__name__)

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
    def __init__(self, slack: SlackServer, signing_secret: str) -> None:
        self.slack = slack
        self.driver = SlackDriver(slack, "", signing_secret, timeout=ACK_TIMEOUT_SECONDS)

    def connect(self, app_url: str) -> None:
        """Where the app listens (known once it serves)."""
        self.driver.app_url = app_url.rstrip("/")

    async def close(self) -> None:
        await self.driver.close()

    async def _delivered(self, sent: Awaitable[httpx.Response]) -> Delivered:
        try:
            response = await sent
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

    def _tell_failure(self, what: str, delivered: Delivered, user: str, channel: str,
                      thread_ts: str | None) -> None:
        error = "operation_timeout" if delivered.status is None else f"http_error ({delivered.status})"
        self.slack.post_ephemeral(channel, user, f"{what} failed with the error \"{error}\"",
                                  thread_ts=thread_ts)

    # --------------------------------------------------------------- events

    async def event(self, event: dict[str, Any]) -> Delivered:
        event_id = self.driver.new_event_id()
        delivered = await self._delivered(self.driver.event(event, event_id=event_id))
        if not delivered.ok:  # Slack retries an event the app did not acknowledge
            reason = "http_timeout" if delivered.status is None else "http_error"
            delivered = await self._delivered(self.driver.event(event, event_id=event_id, retry_num=1,
                                                                retry_reason=reason))
        return delivered

    async def user_message(self, message: Message) -> None:
        """A person posted: ``message``, and ``app_mention`` too when it mentions the bot."""
        for event in self.driver.events_of(message):
            await self.event(event)

    async def bot_message(self, message: Message) -> None:
        """Slack sends an app the message events of its own posts too (the bot ignores them)."""
        await self.event(self.driver.message_event(message))

    async def stop_session(self, user: str, channel: str, thread_ts: str) -> Delivered:
        """The stop button of the thread's agent session (``agent_session_stopped``)."""
        return await self._delivered(self.driver.stop_session(user, channel, thread_ts))

    # ------------------------------------------------------- slash commands

    async def slash_command(self, user: str, channel: str, command: str, text: str) -> Delivered:
        fields = self.driver.slash_fields(user, channel, text, command)
        delivered = await self._delivered(self.driver.send_form(fields))
        if not delivered.ok:
            self._tell_failure(command, delivered, user, channel, None)
        elif delivered.body and (delivered.body.get("text") or delivered.body.get("blocks")):
            self.slack.respond(ReplyTarget(user, channel), delivered.body)
        return delivered

    # -------------------------------------------------------- interactivity

    async def click(self, user: str, message: Message, action: dict[str, Any]) -> Delivered:
        payload = self.driver.block_action(user, message, action)
        delivered = await self._delivered(self.driver.send_payload(payload))
        if not delivered.ok:
            self._tell_failure("The button", delivered, user, message.channel, message.thread_ts)
        return delivered

    async def home_opened(self, user: str) -> Delivered:
        """The person opens the app's Home tab (``app_home_opened``)."""
        return await self.event(self.driver.home_event(user))

    async def click_in_view(self, user: str, view: dict[str, Any], action: dict[str, Any]) -> Delivered:
        """A click on a button of ``view`` (the Home tab)."""
        return await self._delivered(self.driver.send_payload(self.driver.view_action(user, view, action)))

    async def submit_view(self, user: str, view: dict[str, Any],
                          values: dict[str, dict[str, Any]]) -> Delivered:
        return await self._delivered(self.driver.submit_view(user, view, values))

    async def close_view(self, user: str, view: dict[str, Any]) -> Delivered:
        return await self._delivered(self.driver.close_view(user, view))
