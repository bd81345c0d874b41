"""Posting to Slack: Web API calls with their failures logged (by error code, never tokens)."""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block

log = structlog.get_logger(__name__)


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


class SlackPoster:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, text: str, blocks: list[Block] | None = None,
                   thread_ts: str | None = None) -> str | None:
        """Post a message; its ts, or None when Slack refused it (logged)."""
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts,
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as exc:
            log.warning("chat.postMessage failed", channel=channel, error=error_code(exc))
            return None
        return str(response["ts"])

    async def update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> bool:
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("chat.update failed", channel=channel, ts=ts, error=error_code(exc))
            return False
        return True

    async def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("chat.postEphemeral failed", channel=channel, error=error_code(exc))
