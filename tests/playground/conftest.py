"""Fixtures: the whole playground in this process (demo model, real bot, real sandbox), and a
person's hands on it through the page's own HTTP endpoints."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.emulators.slack.workspace import Message
from infra.operations.embedded_server import serving
from infra.playground.app import Playground, open_playground
from infra.playground.delivery import SlackDelivery
from infra.playground.feed import Feed
from infra.playground.standin import Person as Someone
from infra.playground.standin import PlaygroundSlack
from infra.playground.web import PlaygroundWeb
from infra.settings import Settings
from tests.fakes.waiting import wait_until

ALICE, BOB = "U0ALICE", "U0BOB"
CHANNEL = "C0OPS"


DEMO_WORDS_PER_SECOND = 250.0


def playground_settings(tmp_path: Path, *, tracker: bool = False) -> Settings:
    """``tracker``: with the playground's MCP incident tracker, as a newcomer gets it (a server
    process per playground: only the tests marked ``tracker`` get it)."""
    # Explicit values win over the environment: no model key, no Slack, a database of our own.
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path}/dagbot.sqlite", DAGBOT_PLAYGROUND_DIR=tmp_path / "pg",
                        OPENAI_API_KEY="", OPENAI_BASE_URL=None, SLACK_BOT_TOKEN=None, SLACK_SIGNING_SECRET=None,
                        SLACK_APP_TOKEN=None, DAGBOT_APPROVERS="")
    if tracker:
        return settings
    no_servers = tmp_path / "no-mcp-servers.json"
    no_servers.write_text('{"mcpServers": {}}\n')
    return settings.model_copy(update={"mcp_config": no_servers})


ALICE_ON_THE_PAGE = Someone(ALICE, "alice", "requester")


def small_slack() -> PlaygroundSlack:
    """The playground's Slack alone (no bot behind it): alice, the channel, a bot named U0BOT."""
    return PlaygroundSlack(people=[ALICE_ON_THE_PAGE], bot=Someone("U0BOT", "dagbot", "bot"),
                           channels={CHANNEL: "ops"}, team="T0", bot_id="B0")


@contextlib.asynccontextmanager
async def page_of(slack: PlaygroundSlack, *, ready: bool = True,
                  host: str = "127.0.0.1") -> AsyncIterator[tuple[PlaygroundWeb, str]]:
    """The playground's HTTP surface for ``slack``, served; ``ready``: as if the bot listened."""
    web = PlaygroundWeb(slack, SlackDelivery(slack, "secret"), Feed(), command="/agent", extras=dict, host=host)
    if ready:
        web.ready.set()
    async with serving(web.asgi()) as url:
        slack.serve_at(url)
        yield web, url


class Person:
    """Someone using the playground page: what they type and click, and what they see."""

    def __init__(self, playground: Playground, http: httpx.AsyncClient, user: str) -> None:
        self.playground, self.http, self.user = playground, http, user

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.playground.url}{path}", json={"user": self.user, **body})
        response.raise_for_status()
        return dict(response.json())

    async def send(self, text: str, thread_ts: str | None = None) -> dict[str, Any]:
        return await self._post("/ui/send", {"channel": CHANNEL, "text": text, "thread_ts": thread_ts})

    async def click(self, message: Message, label: str) -> dict[str, Any]:
        for block in message.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("text", {}).get("text") == label:
                    return await self._post("/ui/action", {
                        "channel": message.channel, "ts": message.ts, "action_id": element["action_id"],
                        "block_id": block.get("block_id", "")})
        raise AssertionError(f"no {label!r} button on the message: {json.dumps(message.blocks)[:500]}")

    async def submit_view(self, view_id: str, values: dict[str, dict[str, str]]) -> dict[str, Any]:
        return await self._post("/ui/view_submit", {"view_id": view_id, "values": values})

    def told(self) -> list[str]:
        return [e.text for e in self.playground.slack.ephemerals if e.user == self.user]


def text_of(message: Message) -> str:
    parts = [message.text]
    for block in message.blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


class Channel:
    def __init__(self, playground: Playground) -> None:
        self.playground = playground

    def messages(self) -> list[Message]:
        return list(self.playground.slack.messages)

    def thread(self, root_ts: str) -> list[Message]:
        return [m for m in self.messages() if m.ts == root_ts or m.thread_ts == root_ts]

    async def wait_for(self, probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        return await wait_until(probe, within=timeout, what=what)

    async def root_for(self, request_part: str) -> Message:
        return await self.wait_for(lambda: next((m for m in self.messages() if m.is_from_bot and m.thread_ts is None
                                                 and request_part in text_of(m)), None),
                                   f"the root message of {request_part!r}")

    async def answer_in(self, root: Message, *, after: int = 0) -> Message:
        """The next answer in the thread (a bot reply with the answer footer)."""
        def probe() -> Message | None:
            answers = [m for m in self.thread(root.ts) if m.is_from_bot and ":stopwatch:" in text_of(m)]
            return answers[after] if len(answers) > after else None
        return await self.wait_for(probe, "the answer")

    async def approval_in(self, root: Message, tool: str) -> Message:
        return await self.wait_for(lambda: next((m for m in self.thread(root.ts) if m.is_from_bot
                                                 and "Approval needed" in text_of(m) and f"`{tool}`" in text_of(m)),
                                                None), f"the approval of {tool}")

    def status_of(self, root: Message) -> Message:
        return self.thread(root.ts)[1]

    def plan_of(self, root: Message) -> Message | None:
        """The thread's streamed plan (a message with a plan block), once there is one."""
        return next((m for m in self.thread(root.ts) if any(b.get("type") == "plan" for b in m.blocks)), None)

    async def final_plan(self, root: Message) -> str:
        """The streamed plan once its stream has ended (with the run), as text: its title, then
        a line per task, ``[status] id: label — details — output``."""
        return str(await self.wait_for(lambda: (lambda m: m.content if m and not m.streaming else None)(
            self.plan_of(root)), "the streamed plan to end"))

    async def final_status(self, root: Message) -> str:
        """The status message once it shows the run done (its edits are coalesced to 1/s)."""
        return str(await self.wait_for(lambda: (lambda t: t if "*Done*" in t else None)(
            text_of(self.status_of(root))), "the status message to show the run done"))


@pytest.fixture
async def playground(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Playground]:
    tracker = request.node.get_closest_marker("tracker") is not None
    # (no "thinking", and answers written ten times as fast as a newcomer sees them: still in pieces)
    async with open_playground(playground_settings(tmp_path, tracker=tracker), demo_delay_seconds=0,
                               demo_words_per_second=DEMO_WORDS_PER_SECOND) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def alice(playground: Playground, http: httpx.AsyncClient) -> Person:
    return Person(playground, http, ALICE)


@pytest.fixture
def bob(playground: Playground, http: httpx.AsyncClient) -> Person:
    return Person(playground, http, BOB)


@pytest.fixture
def channel(playground: Playground) -> Channel:
    return Channel(playground)
