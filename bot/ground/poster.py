"""Posting to Slack: Web API calls with their failures logged (by error code, never tokens)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from bot.ground.blocks import Block
from bot.ground.threads import permalink

log = structlog.get_logger(__name__)

GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message", "is_archived",
                  "not_in_channel", "invalid_auth", "account_inactive", "token_revoked"})
"""Errors after which the message (or the bot's access to it) is gone: trying again cannot help."""
UNSEEN = frozenset({"user_not_in_channel", "channel_not_found", "not_in_channel"})
"""Why Slack refuses an ephemeral message to someone where they would never see it: they are
not in the conversation, or the bot cannot post there (any more)."""
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                       "request_timeout", "connection_error"})
"""Errors that may pass: the same call can succeed later."""
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
"""Seconds before each retry of a post or update Slack refused for now (at least Retry-After)."""


def error_code(exc: SlackApiError) -> str:
    response = exc.response
    return str(response.get("error") if response is not None else "unknown")


def retry_after(exc: SlackApiError, default: float = 1.0) -> float | None:
    """Seconds to wait when Slack rate-limited the call (HTTP 429); None for other errors."""
    response = exc.response
    if response is None or response.status_code != 429:
        return None
    value: Any = (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class Sent:
    """What Slack said to one post or edit: accepted (``error`` None), or why not."""

    ts: str | None = None
    error: str | None = None
    channel: str | None = None
    """Where a post landed, as Slack answered: a post to a user id lands in the app's DM with
    them (``D…``), where later updates must be addressed."""
    retry_after: float | None = None
    """Seconds Slack asked to wait (HTTP 429, still limited after the client's own retries)."""
    status: int | None = None
    """The HTTP status of Slack's refusal, if it answered."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def transient(self) -> bool:
        """Refused for now: the same call may succeed later (429, a server error, no answer)."""
        return self.error is not None and (self.retry_after is not None or self.error in TRANSIENT
                                           or (self.status or 0) >= 500)

    @property
    def gone(self) -> bool:
        return self.error in GONE

    @classmethod
    def refused(cls, exc: SlackApiError) -> Sent:
        wait = retry_after(exc)
        status = exc.response.status_code if exc.response is not None else None
        return cls(error="ratelimited" if wait is not None else error_code(exc), retry_after=wait,
                   status=status)


Answer = TypeVar("Answer", bound="Sent | None")


def refused_for_now(sent: Sent | None) -> bool:
    return sent is not None and sent.transient


async def retried(call: Callable[[], Awaitable[Answer]], delays: Sequence[float] = RETRY_DELAYS) -> Answer:
    """Make a post or update, and make it again while Slack refuses it for now, after each of
    ``delays`` (or the Retry-After Slack asked for, if longer). Returns the last answer; ``call``
    may answer None for "nothing (left) to do", which ends the retries too."""

    def wait(state: RetryCallState) -> float:
        if state.attempt_number > len(delays):  # (tenacity asks before it checks the stop)
            return 0.0
        last = state.outcome.result() if state.outcome is not None else None
        return max(delays[state.attempt_number - 1], getattr(last, "retry_after", None) or 0.0)

    def last_answer(state: RetryCallState) -> Answer:
        assert state.outcome is not None  # (the retries ran out after an answer)
        answer: Answer = state.outcome.result()
        return answer

    async def attempt() -> Answer:
        return await call()

    retrying = AsyncRetrying(retry=retry_if_result(refused_for_now), stop=stop_after_attempt(len(delays) + 1),
                             wait=wait, retry_error_callback=last_answer)
    answer: Answer = await retrying(attempt)
    return answer


class SlackPoster:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, channel: str, text: str, blocks: list[Block] | None = None,
                   thread_ts: str | None = None, metadata: dict[str, Any] | None = None) -> Sent:
        """Post a message: its ts, or why Slack refused it (logged). ``metadata``: Slack's
        message metadata (``event_type``, ``event_payload``), to find the message again."""
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts,
                unfurl_links=False, unfurl_media=False, metadata=metadata,
            )
        except SlackApiError as exc:
            sent = Sent.refused(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("chat.postMessage failed", channel=channel, error=type(exc).__name__)
            return Sent(error="connection_error")
        else:
            return Sent(ts=str(response["ts"]), channel=str(response.get("channel") or channel))
        log.warning("chat.postMessage failed", channel=channel, error=sent.error)
        return sent

    async def post(self, channel: str, text: str, blocks: list[Block] | None = None,
                   thread_ts: str | None = None, metadata: dict[str, Any] | None = None) -> str | None:
        """Post a message; its ts, or None when Slack refused it (logged)."""
        return (await self.send(channel, text, blocks, thread_ts, metadata)).ts

    async def permalink(self, channel: str, ts: str) -> str | None:
        """Slack's link to a message (``chat.getPermalink``); None when Slack would not give one."""
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("chat.getPermalink failed", channel=channel,
                        error=error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__)
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def thread_has(self, channel: str, thread_ts: str, event_type: str,
                         payload: dict[str, Any]) -> bool | None:
        """Whether the thread has a message whose metadata is ``event_type`` with ``payload``
        among its fields; None when Slack would not say (e.g. a missing history scope)."""
        try:
            async for page in await self.client.conversations_replies(
                    channel=channel, ts=thread_ts, include_all_metadata=True, limit=200):
                for message in page.get("messages") or []:
                    meta = message.get("metadata") or {}
                    fields = meta.get("event_payload") or {}
                    if meta.get("event_type") == event_type and all(
                            fields.get(k) == v for k, v in payload.items()):
                        return True
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("conversations.replies failed", channel=channel, error=type(exc).__name__)
            return None
        return False

    async def edit(self, channel: str, ts: str, text: str, blocks: list[Block],
                   metadata: dict[str, Any] | None = None) -> Sent:
        """Update a message: accepted, or why Slack refused it (logged)."""
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, metadata=metadata)
        except SlackApiError as exc:
            sent = Sent.refused(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("chat.update failed", channel=channel, ts=ts, error=type(exc).__name__)
            return Sent(ts=ts, error="connection_error")
        else:
            return Sent(ts=ts)
        log.warning("chat.update failed", channel=channel, ts=ts, error=sent.error)
        return Sent(ts=ts, error=sent.error, retry_after=sent.retry_after, status=sent.status)

    async def delete(self, channel: str, ts: str) -> bool:
        try:
            await self.client.chat_delete(channel=channel, ts=ts)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("chat.delete failed", channel=channel, ts=ts,
                        error=error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__)
            return False
        return True

    async def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> bool:
        return (await self.edit(channel, ts, text, blocks)).ok

    async def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None, *,
                        about: str | None = None) -> None:
        """Tell ``user`` privately in ``channel`` (in the thread ``thread_ts``). Where they would
        not see it, by a DM from the app instead: with no channel (a click in the App Home
        tab), or when Slack says they are not in the conversation (or it is gone). The DM opens
        with ``about`` (what it is about; by default, a link to the thread)."""
        if channel:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                                     thread_ts=thread_ts)
                return
            except SlackApiError as exc:
                log.warning("chat.postEphemeral failed", channel=channel, error=error_code(exc))
                if error_code(exc) not in UNSEEN:
                    return
            if about is None:
                about = (f"About <{permalink(channel, thread_ts)}|this thread>:" if thread_ts
                         else f"In <#{channel}>:")
        await self.send(user, f"{about}\n{text}" if about else text)  # (a user id: the app's DM with them)

    async def respond(self, response_url: str, text: str) -> bool:
        """Answer a slash command privately through its ``response_url`` (as Bolt's ``respond``
        does); False when that did not work (the URL expired, Slack unreachable: logged)."""
        try:
            sent = await AsyncWebhookClient(response_url, session=self.client.session).send(
                text=text, response_type="ephemeral")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("response_url failed", error=type(exc).__name__)
            return False
        if sent.status_code != 200:
            log.warning("response_url refused", status=sent.status_code)
        return sent.status_code == 200
