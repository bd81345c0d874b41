"""A slash command retaken while the process that took it is still at it (slow, not dead).

Two replicas share the stores and the engine's queue: replica A took the command and is stuck
in a Slack call; the recovery pass of replica B finds the command unfinished and runs it too.
Whatever interleaving, the request runs once, in one thread, under one live status message,
and no root or status message is left behind saying something that will never happen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.background_tasks import TaskSet
from bot.ground.poster import Sent, SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.commands import SlashCommands
from bot.inbound.intake import Intake
from bot.store import SlashCommand
from infra.emulators.memory_slack_store import MemorySlackStore
from infra.emulators.memory_stores import MemoryStore
from tests.agent.harness import MEMORY, Harness, harness
from tests.bot.chat import ALICE, OPS, finish, is_status
from tests.fakes.slack_api import FakeSlack, Message

LOOK_UP_A = {"thought": "one lookup", "nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
NOW = 1_700_000_000.0
KEY = "c" * 32


class StuckPoster(SlackPoster):
    """Slack takes the message at once, but this process hears back only when ``gate`` opens
    (a replica starved of CPU, or a slow connection), for the posts ``stuck`` picks."""

    def __init__(self, slack: FakeSlack, stuck: Callable[[str | None], bool]) -> None:
        super().__init__(AsyncWebClient(token=slack.token, base_url=slack.base_url))
        self.stuck = stuck
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, channel: str, text: str, blocks: Any = None, thread_ts: str | None = None,
                   metadata: dict[str, Any] | None = None) -> Sent:
        sent = await super().send(channel, text, blocks, thread_ts, metadata)
        if self.stuck(thread_ts) and not self.gate.is_set():
            self.waiting.set()
            await self.gate.wait()
        return sent


@dataclass
class Replicas:
    slack: FakeSlack
    h: Harness
    store: MemorySlackStore
    a: SlashCommands
    b: SlashCommands
    a_poster: StuckPoster
    clock: list[float]

    def command(self) -> SlashCommand:
        return SlashCommand(key=KEY, team=self.slack.team, channel=OPS, user=ALICE, text="look up a",
                            received_at=self.clock[0])

    def roots(self) -> list[Message]:
        return [m for m in self.slack.messages if m.is_from_bot and m.thread_ts is None]

    def statuses(self, root: Message) -> list[Message]:
        return [m for m in self.slack.thread(OPS, root.ts) if is_status(m)]

    async def settle(self) -> None:
        for _ in range(3):
            await asyncio.gather(self.a.tasks.idle(), self.b.tasks.idle())
            await self.h.engine.idle()


def memory_store(h: Harness) -> MemoryStore:
    assert isinstance(h.services.store, MemoryStore)
    return h.services.store


def replica(slack: FakeSlack, h: Harness, store: MemorySlackStore, poster: SlackPoster,
            clock: Callable[[], float], retake_seconds: float) -> SlashCommands:
    intake = Intake(engine=h.engine, store=store, poster=poster, command="/agent", clock=clock)
    return SlashCommands(intake=intake, store=store, poster=poster, tasks=TaskSet(),
                         answers_in=lambda channel, *, direct: True, retake_seconds=retake_seconds,
                         clock=clock)


@pytest.fixture
def stuck_on() -> Callable[[str | None], bool]:
    return lambda thread_ts: thread_ts is None  # the root message, unless a test says otherwise


@pytest.fixture
async def replicas(slack: FakeSlack, stuck_on: Callable[[str | None], bool]) -> AsyncIterator[Replicas]:
    async with harness(MEMORY, [LOOK_UP_A, finish("a is 1")]) as h:
        store, clock = MemorySlackStore(memory_store(h)), [NOW]
        a_poster = StuckPoster(slack, stuck_on)
        b_poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
        # A is stuck (its time stands still, and it keeps nothing alive); B's pass comes 2 minutes on
        a = replica(slack, h, store, a_poster, lambda: clock[0], retake_seconds=3600.0)
        b = replica(slack, h, store, b_poster, lambda: clock[0], retake_seconds=30.0)
        yield Replicas(slack, h, store, a, b, a_poster, clock)
        a_poster.gate.set()


async def run_once_in_one_thread(replicas: Replicas) -> None:
    """The request ran once, in the thread of the one root message left, whose one status
    message is the run's; nothing says "Queued"; the command is finished."""
    await replicas.settle()
    (root,) = replicas.roots()
    thread = ThreadRef(replicas.slack.team, OPS, root.ts)
    (status,) = replicas.statuses(root)
    assert "Queued" not in status.content
    assert "a is 1" in str((await replicas.h.engine.state(thread.key)).get("answer", ""))
    assert replicas.h.log.args_of("lookup") == [{"key": "a"}]
    recorded = await replicas.store.unfinished_status_messages()  # (no notifier here binds or ends it)
    assert [(m.ts, m.request_key) for m in recorded] == [(status.ts, KEY)]
    assert await replicas.store.retake_commands(NOW + 10_000, unfinished_for=30.0) == []


async def test_a_command_retaken_before_its_taker_recorded_its_root_message_runs_in_one_thread(
        replicas: Replicas) -> None:
    taking = asyncio.create_task(replicas.a.take(replicas.command(), lambda: None))
    await asyncio.wait_for(replicas.a_poster.waiting.wait(), 5)  # A's root is in Slack, not recorded

    replicas.clock[0] = NOW + 120
    assert await replicas.b.retake() == 1
    await replicas.settle()  # B posted a root message of its own and queued the request

    replicas.a_poster.gate.set()  # A hears back from Slack at last
    await asyncio.wait_for(taking, 10)
    await run_once_in_one_thread(replicas)


@pytest.mark.parametrize("stuck_on", [lambda thread_ts: thread_ts is not None])  # the status message
async def test_a_command_retaken_while_its_taker_posts_the_status_message_runs_once(
        replicas: Replicas) -> None:
    taking = asyncio.create_task(replicas.a.take(replicas.command(), lambda: None))
    await asyncio.wait_for(replicas.a_poster.waiting.wait(), 5)  # root recorded; status message not yet

    replicas.clock[0] = NOW + 120
    assert await replicas.b.retake() == 1
    await replicas.settle()  # B found no status message: it posted one and queued the request

    replicas.a_poster.gate.set()
    await asyncio.wait_for(taking, 10)
    await run_once_in_one_thread(replicas)


async def test_a_command_whose_taker_is_slow_but_alive_is_not_retaken(slack: FakeSlack) -> None:
    async with harness(MEMORY, [LOOK_UP_A, finish("a is 1")]) as h:
        store = MemorySlackStore(memory_store(h))
        a_poster = StuckPoster(slack, lambda thread_ts: thread_ts is None)
        b_poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
        a = replica(slack, h, store, a_poster, time.time, retake_seconds=0.3)
        b = replica(slack, h, store, b_poster, time.time, retake_seconds=0.3)
        command = SlashCommand(key=KEY, team=slack.team, channel=OPS, user=ALICE, text="look up a",
                               received_at=time.time())
        taking = asyncio.create_task(a.take(command, lambda: None))
        try:
            await asyncio.wait_for(a_poster.waiting.wait(), 5)
            for _ in range(4):  # over a second of Slack's silence: A is slow, and alive
                await asyncio.sleep(0.3)
                assert await b.retake() == 0
        finally:
            a_poster.gate.set()
        await asyncio.wait_for(taking, 10)
        await h.engine.idle()
        assert len([m for m in slack.messages if m.is_from_bot and m.thread_ts is None]) == 1
        assert h.log.args_of("lookup") == [{"key": "a"}]


@pytest.mark.parametrize("stuck_on", [lambda thread_ts: False])
async def test_a_command_retaken_after_its_run_began_does_not_run_again(replicas: Replicas) -> None:
    command = replicas.command()
    await replicas.a.take(command, lambda: None)
    await replicas.settle()  # the run is over
    (root,) = replicas.roots()
    thread = ThreadRef(replicas.slack.team, OPS, root.ts)
    await replicas.store.bind_status_message(thread.key, "run-1")  # as the notifier does when it starts
    # as if A had frozen before finishing the command
    await replicas.store.record_command(dataclasses.replace(command, root_ts=root.ts))

    replicas.clock[0] = NOW + 120
    assert await replicas.b.retake() == 1
    await replicas.settle()
    assert len(replicas.h.llm.calls) == 2 and replicas.h.log.args_of("lookup") == [{"key": "a"}]
    assert len(replicas.statuses(root)) == 1 and replicas.roots() == [root]
    assert await replicas.store.retake_commands(NOW + 10_000, unfinished_for=30.0) == []
