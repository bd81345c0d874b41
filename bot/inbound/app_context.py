"""What each person looks at in Slack beside their agent conversation (``app_context_changed``).

Apps with Slack's agent messaging experience (``features.agent_view``) are told, whenever it
changes, what the person with the app's conversation open is viewing: ``context.entities``, most
relevant first (a channel, a canvas, a list, a message), or an empty context. It is the agent
view's ``assistant_thread_context_changed`` (which :class:`bot.outbound.assistant.AssistantPane` records
per pane thread), but per person rather than per thread, so it is recorded per person: the
entities and the channel among them. Kept by each bot process, for the people whose events it
received (as who has the Home tab open is), and forgotten all at once past
:data:`KNOWN_PEOPLE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)

KNOWN_PEOPLE = 10_000
CHANNEL_ENTITY = "slack#/types/channel_id"
MESSAGE_ENTITY = "slack#/types/message_context"


@dataclass(frozen=True)
class AppContext:
    user: str
    entities: tuple[Mapping[str, Any], ...]
    """What they view, most relevant first, as Slack names it (``type``, ``value``)."""

    @property
    def channel(self) -> str | None:
        """The most relevant channel they view (a message's, if that comes first), if any."""
        for entity in self.entities:
            value = entity.get("value")
            if entity.get("type") == MESSAGE_ENTITY and isinstance(value, Mapping):
                value = value.get("channel_id")
            elif entity.get("type") != CHANNEL_ENTITY:
                continue
            if isinstance(value, str) and value:
                return value
        return None


def context_of(body: Mapping[str, Any], event: Mapping[str, Any]) -> AppContext | None:
    """The context an ``app_context_changed`` event gives, and whose it is (the event's ``user``,
    else the one person, not the bot, the delivery is authorised for); None when nobody is named."""
    user = event.get("user") or next(
        (a.get("user_id") for a in body.get("authorizations") or [] if not a.get("is_bot")), None)
    if not user:
        return None
    entities = (event.get("context") or {}).get("entities") or []
    return AppContext(str(user), tuple(e for e in entities if isinstance(e, Mapping)))


class AppContexts:
    def __init__(self) -> None:
        self._viewing: dict[tuple[str, str], AppContext] = {}

    def changed(self, team: str, body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """Record an ``app_context_changed`` event."""
        context = context_of(body, event)
        if context is None:
            log.warning("an app_context_changed event names nobody")
            return
        if len(self._viewing) >= KNOWN_PEOPLE and (team, context.user) not in self._viewing:
            self._viewing.clear()
        self._viewing[(team, context.user)] = context

    def looking_at(self, team: str, user: str) -> AppContext | None:
        """What ``user`` was last seen viewing beside the app's conversation (None: not known here)."""
        return self._viewing.get((team, user))
