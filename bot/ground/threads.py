"""Slack threads as LangGraph threads: the key is team + channel + root message ts."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "slack"


@dataclass(frozen=True)
class ThreadRef:
    team: str
    channel: str
    root_ts: str

    @property
    def key(self) -> str:
        """The engine's thread id for this Slack thread."""
        return f"{PREFIX}:{self.team}:{self.channel}:{self.root_ts}"

    @classmethod
    def parse(cls, key: str) -> ThreadRef | None:
        parts = key.split(":")
        if len(parts) != 4 or parts[0] != PREFIX:
            return None
        return cls(team=parts[1], channel=parts[2], root_ts=parts[3])

    @property
    def link(self) -> str:
        """A deep link to the thread's root message (Slack redirects it to the client)."""
        return permalink(self.channel, self.root_ts)


def permalink(channel: str, ts: str) -> str:
    """A deep link to a message (Slack redirects it to the client)."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def is_slack_thread(key: str) -> bool:
    return key.startswith(PREFIX + ":")


def _mention(bot_user_id: str) -> str:
    return rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>"


def mentions(text: str, bot_user_id: str | None) -> bool:
    """Does the text @mention the bot?"""
    return bool(bot_user_id) and re.search(_mention(bot_user_id or ""), text) is not None


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """The request without the bot's own @mention(s)."""
    if bot_user_id:
        text = re.sub(_mention(bot_user_id), " ", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()  # line breaks stay: requests may be lists


def message_key(channel: str, ts: str) -> str:
    """One Slack message: the message and app_mention twins share it."""
    return f"msg:{channel}:{ts}"
