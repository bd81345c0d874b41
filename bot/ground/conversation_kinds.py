"""What kind of conversation a channel id is (public channel, private channel, DM, group DM),
as Slack tells the bot: for deciding who can see a message posted there.

A ``D…`` id is a DM, known without asking. Anything else is asked of ``conversations.info``
(``is_im``, ``is_mpim``, ``is_private``) and cached for ``cache_seconds`` (a channel can be made
private). When Slack will not say (no ``channels:read``/``groups:read``/``mpim:read`` scope, an
error), a ``G…`` id is still known to be private (old private channels and group DMs); a ``C…``
id stays unknown, and an unknown kind is not cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import error_code

log = structlog.get_logger(__name__)


class ConversationKind(StrEnum):
    PUBLIC = "public channel"
    PRIVATE = "private channel"
    IM = "direct message"
    MPIM = "group DM"
    UNKNOWN = "unknown"

    @property
    def is_private(self) -> bool:
        """Only its members see it (an unknown kind is not known to be private)."""
        return self in (ConversationKind.PRIVATE, ConversationKind.IM, ConversationKind.MPIM)


def kind_of(conversation: Mapping[str, Any]) -> ConversationKind:
    """Pure: the kind of a ``conversations.info`` conversation object."""
    if conversation.get("is_im"):
        return ConversationKind.IM
    if conversation.get("is_mpim"):
        return ConversationKind.MPIM
    if conversation.get("is_private") or conversation.get("is_group"):
        return ConversationKind.PRIVATE
    return ConversationKind.PUBLIC


def kind_by_id(channel: str) -> ConversationKind:
    """Pure: what the id alone says (``D…``: a DM; ``G…``: private, an old private channel or a
    group DM; ``C…``: either)."""
    match channel[:1]:
        case "D":
            return ConversationKind.IM
        case "G":
            return ConversationKind.PRIVATE
    return ConversationKind.UNKNOWN


class ConversationKinds:
    def __init__(self, client: AsyncWebClient, features: SlackFeatures, *, cache_seconds: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.features = features
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._known: dict[str, tuple[float, ConversationKind]] = {}

    async def kind(self, channel: str) -> ConversationKind:
        if channel.startswith("D"):
            return ConversationKind.IM
        cached = self._known.get(channel)
        if cached is not None and self.clock() - cached[0] < self.cache_seconds:
            return cached[1]
        if not self.features.available(Feature.CONVERSATION_INFO):
            return kind_by_id(channel)
        try:
            response = await self.client.conversations_info(channel=channel)
        except SlackApiError as exc:
            if not self.features.refused(Feature.CONVERSATION_INFO, error_code(exc)):
                log.warning("conversations.info failed", channel=channel, error=error_code(exc))
            return kind_by_id(channel)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("conversations.info failed", channel=channel, error=type(exc).__name__)
            return kind_by_id(channel)
        kind = kind_of(response.get("channel") or {})
        self._known[channel] = (self.clock(), kind)
        return kind
