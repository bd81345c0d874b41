"""Slack features a workspace or app may lack (a scope, the assistant pane, streaming): each is
switched off for this process the first time Slack says it is unavailable, logged once, and
its caller falls back (an answer is then posted whole, a status not shown, a plan listed in the
status message instead of streamed)."""

from __future__ import annotations

from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)

UNAVAILABLE = frozenset({
    "missing_scope", "not_allowed_token_type", "unknown_method", "method_deprecated", "not_allowed",
    "feature_not_enabled", "team_not_allowed", "access_denied", "no_permission",
})
"""Error codes meaning the app cannot use the method at all (a scope, a token, a feature)."""
NOT_HERE = frozenset({"method_not_supported_for_channel_type", "channel_type_not_supported"})
"""Error codes meaning the method does not work in this kind of conversation (others may do)."""
UNSUPPORTED = frozenset({"invalid_chunks"})
"""Error codes meaning this Slack does not take the feature's input (streamed tasks, say)."""


class Feature(StrEnum):
    STREAMING = "streaming answers (chat.startStream)"
    ASSISTANT = "the assistant pane (assistant.threads.*)"
    SESSIONS = "agent session statuses (agents.sessions.setStatus)"
    HOME = "the App Home tab (views.publish)"
    FEEDBACK = "feedback buttons on answers"
    PLAN = "plans streamed as tasks (chat.startStream chunks)"
    CONVERSATION_INFO = "telling private conversations from public ones (conversations.info)"


class SlackFeatures:
    def __init__(self) -> None:
        self._off: dict[Feature, str] = {}
        self._not_here: set[tuple[Feature, str]] = set()

    def available(self, feature: Feature, channel: str = "") -> bool:
        return feature not in self._off and (feature, channel[:1]) not in self._not_here

    def refused(self, feature: Feature, error: str, channel: str = "") -> bool:
        """Slack refused a call of ``feature`` with ``error``: True (and the feature switched
        off, logged once) when that means it is unavailable, here or everywhere."""
        if error in UNAVAILABLE or error in UNSUPPORTED or error.startswith("invalid_blocks_with_"):
            if feature not in self._off:
                self._off[feature] = error
                log.warning("a Slack feature is unavailable; dagbot carries on without it",
                            feature=feature.value, error=error)
            return True
        if error in NOT_HERE:
            key = (feature, channel[:1])  # C, G or D: the kind of conversation
            if key not in self._not_here:
                self._not_here.add(key)
                log.warning("a Slack feature is unavailable in this kind of conversation; dagbot "
                            "carries on without it there", feature=feature.value, error=error,
                            conversation_kind=channel[:1])
            return True
        return False

    def off(self) -> dict[str, str]:
        """Unavailable features and why (for operators)."""
        return {feature.value: error for feature, error in self._off.items()}
