"""The playground's Slack: the emulated one (:mod:`infra.emulators.slack`), with the playground's
people and channel, and what the page is shown of it.

The bot reaches its Web API through ``SLACK_API_URL`` exactly as it reaches Slack: the same
client, the same token check, the same answers, refusals and rate limits. What is the
playground's own is here: the people on the page (each with a title), its one channel and each
person's DM with the app (the agent conversation, with its session status and stop button), a
workspace on the real clock (the page shows when things were said, and trigger ids expire),
and the snapshot of it all the page loads (:meth:`PlaygroundSlack.snapshot`); the page follows
each change as the workspace's watchers are told of it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from infra.emulators.slack.server import SlackServer

TEAM = "T0PLAYGROUND"
WORKSPACE_NAME = "dagbot playground"
CHANNELS = {"C0OPS": "ops"}
CALL_LOG = 1000
"""How many Web API calls the playground remembers (it may run for days)."""
SHOWN_REFUSALS = 50


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str


BOT = Person("U0DAGBOT", "dagbot", "the bot")
PEOPLE = [Person("U0ALICE", "alice", "requester"), Person("U0BOB", "bob", "someone else")]


class PlaygroundSlack(SlackServer):
    def __init__(self, *, people: list[Person] | None = None, bot: Person = BOT,
                 channels: dict[str, str] | None = None, **workspace: Any) -> None:
        """``people``: who may use the page (default alice and bob); ``channels``: id → name of the
        public channels the bot is in; ``workspace``: the emulated workspace's own settings."""
        settings: dict[str, Any] = {
            "team": TEAM, "team_name": WORKSPACE_NAME, "domain": "playground", "bot_user": bot.id,
            "bot_name": bot.name, "bot_id": "B0DAGBOT", "token": "xoxb-playground-" + secrets.token_hex(12),
            "app_token": "xapp-playground-" + secrets.token_hex(12), "web_url": "http://127.0.0.1/",
            "clock": time.time, "call_log": CALL_LOG, "socket_mode": False}
        super().__init__(channels=CHANNELS if channels is None else channels, **(settings | workspace))
        self.people = list(PEOPLE if people is None else people)
        for person in self.people:
            self.add_user(person.id, person.name)
            self.app_dm(person.id)  # each person's agent conversation with the app (agent_view)

    def is_person(self, user: str) -> bool:
        """One of the people on the page (not the bot, not a stranger)."""
        return any(person.id == user for person in self.people)

    def snapshot(self) -> dict[str, Any]:
        """Everything of Slack the page shows, as it loads it (``/ui/state``)."""
        return {
            "workspace_name": self.team_name,
            "bot": {"user_id": self.bot_user, "name": self.bot_name},
            "users": [asdict(person) for person in self.people],
            "channels": [{"id": c.id, "name": c.name} for c in self.channels.values() if not c.im],
            "dms": [{"id": self.app_dm(person.id), "user": person.id} for person in self.people],
            "sessions": [session.as_json() for session in self.sessions.values()],
            "messages": [m.as_json() for m in self.messages],
            "ephemerals": [e.as_json() for e in self.ephemerals],
            "views": [v.as_json() for v in self.modals.values()],
            "homes": {person.id: home for person in self.people if (home := self.home(person.id))},
            "rate_limit": self.rate_limit.state(),
            "refusals": self.refusals[-SHOWN_REFUSALS:],
        }
