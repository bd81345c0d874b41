"""A mention retaken by Slack's retry while the replica that claimed it is still at it (slow,
not dead).

Two replicas share the stores and the engine's queue: replica A claimed the message and is
stuck in a Slack call, past ``claim_retake_seconds``; Slack's retry reaches replica B. A claimer
that is merely slow keeps its claim (B is asked to retry, and its retry finds the message
handled); one frozen that long anyway (its claim renewed by nobody) leaves the message to B.
Either way the request runs once, under one status message, and none is left saying "Queued".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef, message_key
from bot.inbound.intake import Delivery, Intake
from bot.store import IntakeStore, StatusMessage
from infra.emulators.memory_slack_store import MemorySlackStore
from tests.agent.harness import MEMORY, Harness, harness
from tests.bot.chat import ALICE, OPS, finish, is_status
from tests.bot.test_command_retake_race import LOOK_UP_A, StuckPoster, memory_store
from tests.fakes.slack_api import FakeSlack, Message

NOW = 1_700_000_000.0
RETAKE = 5.0  # (the cluster bench's DAGBOT_CLAIM_RETAKE)


def replica(h: Harness, store: MemorySlackStore, poster: SlackPoster, clock: Callable[[], float],
            claim_retake_seconds: float) -> Intake:
    return Intake(engine=h.engine, store=store, poster=poster, command="/agent", clock=clock,
                  claim_retake_seconds=claim_retake_seconds, claim_wait_seconds=0.05)


class StuckAfterRecording:
    """The shared store, as a replica sees it that freezes once it recorded its status message
    (until ``gate`` opens)."""

    def __init__(self, store: MemorySlackStore) -> None:
        self.store = store
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def add_status_message(self, *args: Any, **kwargs: Any) -> StatusMessage:
        recorded = await self.store.add_status_message(*args, **kwargs)
        self.waiting.set()
        await self.gate.wait()
        return recorded


def the_status_message_stuck(thread_ts: str | None) -> bool:
    return thread_ts is not None


@dataclass
class Replicas:
    slack: FakeSlack
    h: Harness
    store: MemorySlackStore
    a_poster: StuckPoster
    b_poster: SlackPoster
    mention: Message

    def event(self) -> dict[str, Any]:
        return {"type": "app_mention", "channel": OPS, "user": ALICE, "ts": self.mention.ts,
                "text": self.mention.content}

    def statuses(self) -> list[Message]:
        return [m for m in self.slack.thread(OPS, self.mention.ts) if is_status(m)]

    async def runs_once_under_one_status_message(self) -> None:
        await self.h.engine.idle()
        (status,) = self.statuses()
        assert "Queued" not in status.content
        thread = ThreadRef(self.slack.team, OPS, self.mention.ts)
        assert "a is 1" in str((await self.h.engine.state(thread.key)).get("answer", ""))
        assert len(self.h.llm.calls) == 2 and self.h.log.args_of("lookup") == [{"key": "a"}]  # one run
        recorded = await self.store.unfinished_status_messages()  # (no notifier here binds or ends it)
        assert [m.ts for m in recorded] == [status.ts]
        assert await self.store.claim_settled(message_key(OPS, self.mention.ts))


@pytest.fixture
async def replicas(slack: FakeSlack) -> AsyncIterator[Replicas]:
    async with harness(MEMORY, [LOOK_UP_A, finish("a is 1")]) as h:
        a_poster = StuckPoster(slack, the_status_message_stuck)
        b_poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
        mention = slack.post_as_user(OPS, ALICE, f"<@{slack.bot_user}> look up a")
        yield Replicas(slack, h, MemorySlackStore(memory_store(h)), a_poster, b_poster, mention)
        a_poster.gate.set()


async def test_a_mention_retaken_while_its_claimer_posts_the_status_message_runs_once(
        replicas: Replicas) -> None:
    clock = [NOW]
    # A is frozen (its time stands still, and it keeps nothing alive); B gets Slack's retry
    a = replica(replicas.h, replicas.store, replicas.a_poster, lambda: clock[0], claim_retake_seconds=3600.0)
    b = replica(replicas.h, replicas.store, replicas.b_poster, lambda: clock[0], claim_retake_seconds=RETAKE)
    bot = replicas.slack.bot_user
    taking = asyncio.create_task(a.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True))
    await asyncio.wait_for(replicas.a_poster.waiting.wait(), 5)  # A's status message is in Slack, not recorded

    clock[0] = NOW + 2 * RETAKE
    assert await b.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True) is Delivery.HANDLED
    await replicas.h.engine.idle()  # B posted a status message of its own, and the request ran

    replicas.a_poster.gate.set()  # A hears back from Slack at last
    await asyncio.wait_for(taking, 10)
    await replicas.runs_once_under_one_status_message()


async def test_a_mention_whose_claimer_is_slow_but_alive_is_not_retaken(replicas: Replicas) -> None:
    a = replica(replicas.h, replicas.store, replicas.a_poster, time.time, claim_retake_seconds=0.3)
    b = replica(replicas.h, replicas.store, replicas.b_poster, time.time, claim_retake_seconds=0.3)
    bot = replicas.slack.bot_user
    taking = asyncio.create_task(a.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True))
    try:
        await asyncio.wait_for(replicas.a_poster.waiting.wait(), 5)
        for _ in range(4):  # over a second of Slack's silence: A is slow, and alive
            await asyncio.sleep(0.3)
            retry = await b.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True)
            assert retry is Delivery.UNSETTLED  # Slack is asked to retry later
    finally:
        replicas.a_poster.gate.set()
    assert await asyncio.wait_for(taking, 10) is Delivery.HANDLED
    assert await b.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True) is Delivery.DUPLICATE
    await replicas.runs_once_under_one_status_message()


async def test_a_mention_retaken_after_its_claimer_recorded_the_status_message_runs_once(
        replicas: Replicas) -> None:
    clock = [NOW]
    replicas.a_poster.gate.set()  # A hears back from Slack, and freezes once it recorded its status message
    a_store = StuckAfterRecording(replicas.store)
    a = Intake(engine=replicas.h.engine, store=cast(IntakeStore, a_store), poster=replicas.a_poster,
               command="/agent", clock=lambda: clock[0], claim_retake_seconds=3600.0)
    b = replica(replicas.h, replicas.store, replicas.b_poster, lambda: clock[0], claim_retake_seconds=RETAKE)
    bot = replicas.slack.bot_user
    taking = asyncio.create_task(a.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True))
    try:
        await asyncio.wait_for(a_store.waiting.wait(), 5)

        clock[0] = NOW + 2 * RETAKE
        assert await b.from_event(replicas.slack.team, replicas.event(), bot, mentioned=True) is Delivery.HANDLED
        await replicas.h.engine.idle()  # B reused A's status message, queued the request, and it ran
    finally:
        a_store.gate.set()
    await asyncio.wait_for(taking, 10)
    await replicas.runs_once_under_one_status_message()
