"""The tests' Slack: the emulated one (:mod:`infra.emulators.slack`), with a few conveniences.

Point a real ``AsyncWebClient`` at :attr:`FakeSlack.base_url`; it keeps channels, messages
with ``ts`` (threads, every edit), ephemeral messages, modals, Home tabs, assistant threads,
users and user groups; refuses what Slack refuses; logs every call; and can answer a method
with HTTP 429 + Retry-After or another error (:meth:`FakeSlack.inject`, e.g. ``msg_too_long``),
or slowly (:attr:`FakeSlack.latency`), and end the streams under way as Slack ends idle ones
(:meth:`FakeSlack.expire_streams`). See :class:`infra.emulators.slack.server.SlackServer`.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.blockkit import MAX_MESSAGE_BLOCKS, message_refusal
from infra.emulators.slack.limits import Fault
from infra.emulators.slack.server import Call, SlackServer
from infra.emulators.slack.streaming import expire
from infra.emulators.slack.workspace import Ephemeral, Message, render_text

__all__ = ["Call", "Ephemeral", "FakeSlack", "Fault", "Message", "block_problems", "render_text"]


class FakeSlack(SlackServer):
    def told(self, user: str) -> list[str]:
        """Ephemeral messages shown to a user (slash-command replies among them), oldest first."""
        return [e.text for e in self.ephemerals if e.user == user]

    def dms(self, user: str) -> list[str]:
        """The app's messages in its DM with ``user`` (not in threads there), oldest first."""
        channel = f"D{user[1:]}"
        return [m.text for m in self.messages if m.channel == channel and m.is_from_bot and m.thread_ts is None]

    def expire_streams(self) -> list[Message]:
        """End every stream under way, as Slack ends one left without appends for a while (a
        long approval wait): later appends are refused with ``message_not_in_streaming_state``."""
        streaming = [m for m in self.messages if m.streaming]
        for message in streaming:
            expire(self, message)
        return streaming


def block_problems(text: str, blocks: list[dict[str, Any]], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """What Slack would refuse in a message (none: an empty list)."""
    refusal = message_refusal(text, blocks, max_blocks=max_blocks)
    return [] if refusal is None else list(refusal.messages) or [refusal.error]
