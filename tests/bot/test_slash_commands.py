"""Scenarios: ``/agent`` is answered once the command is recorded, before anything is posted,
and a command whose process died after that answer still runs (the recovery pass)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot.inbound.intake import fresh_request_key
from bot.store import SlashCommand
from infra.storage.db import SlackCommandRow, create_engine
from infra.storage.slack_store import SqlSlackStore
from tests.bot.chat import ALICE, OPS, Thread, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack

LOOK_UP_A = {"thought": "one lookup", "nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
RETAKE_QUICKLY = {"recover_interval_seconds": 0.2, "claim_retake_seconds": 1.0}


def command(text: str, *, received_at: float, root_ts: str | None = None) -> SlashCommand:
    return SlashCommand(key=fresh_request_key(), team="T0TEAM", channel=OPS, user=ALICE, text=text,
                        received_at=received_at, root_ts=root_ts)


async def unfinished_commands(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(SlackCommandRow))).scalar_one())
    finally:
        await engine.dispose()


async def test_slack_gets_its_answer_before_the_command_posts_anything(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [LOOK_UP_A, finish("a is 1")]) as app, \
            chat_with(slack, app) as chat:
        slack.latency["chat.postMessage"] = 1.0  # Slack's API is slow today
        response = await chat.driver.slash(ALICE, OPS, "look up a")
        assert response.status_code == 200
        # answered: the command is recorded, and its root message is not posted yet
        assert not [m for m in slack.messages if m.is_from_bot]
        assert await unfinished_commands(database_url) == 1
        slack.latency.clear()
        root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot), None),
                                    what="the root message")
        assert "look up a" in root.content
        assert "a is 1" in (await Thread(chat, OPS, root.ts).answer()).content
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert await unfinished_commands(database_url) == 0  # queued: nothing left to recover
        assert app.log.args_of("lookup") == [{"key": "a"}]


async def test_a_command_whose_process_died_before_posting_is_run_by_the_recovery_pass(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [LOOK_UP_A, finish("a is 1")], **RETAKE_QUICKLY) as app, \
            chat_with(slack, app) as chat:
        # a replica recorded the command, answered Slack, and died
        await app.bot.store.record_command(command("look up a", received_at=time.time() - 2))
        root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot), None),
                                    what="the root message")
        assert f"<@{ALICE}> asked" in root.content and "look up a" in root.content
        answer = await Thread(chat, OPS, root.ts).answer()
        assert "a is 1" in answer.content
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert await unfinished_commands(database_url) == 0
        assert app.log.args_of("lookup") == [{"key": "a"}]


async def test_a_command_whose_root_message_was_posted_runs_in_that_thread(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [LOOK_UP_A, finish("a is 1")], **RETAKE_QUICKLY) as app, \
            chat_with(slack, app) as chat:
        # the replica that died had posted the root message and recorded it
        root_ts = (await app.bot.poster.send(OPS, f"<@{ALICE}> asked: look up a")).ts
        assert root_ts is not None
        await app.bot.store.record_command(command("look up a", received_at=time.time() - 2, root_ts=root_ts))
        thread = Thread(chat, OPS, root_ts)
        assert "a is 1" in (await thread.answer()).content
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert [m.ts for m in slack.messages if m.is_from_bot and m.thread_ts is None] == [root_ts]
        assert len(thread.status_messages()) == 1 and app.log.args_of("lookup") == [{"key": "a"}]


async def test_an_unfinished_command_is_retaken_once_and_only_when_it_is_old_enough(
        database_url: str) -> None:
    engine = create_engine(database_url)
    store = SqlSlackStore(engine)
    try:
        old, young = command("old", received_at=100.0), command("young", received_at=195.0)
        await asyncio.gather(store.record_command(old), store.record_command(young))
        # two replicas' recovery passes at once: each old command goes to one of them
        first, second = await asyncio.gather(store.retake_commands(200.0, unfinished_for=30.0),
                                             store.retake_commands(200.0, unfinished_for=30.0))
        assert sorted(c.key for c in first + second) == [old.key]
        [taken] = first + second
        assert taken.text == "old" and taken.taken_at == 100.0  # the previous taker's
        assert await store.retake_commands(210.0, unfinished_for=30.0) == []  # just retaken
        assert await store.command_posted(young.key, "1700000000.000100", taken_at=195.0, now=195.0)
        [late] = await store.retake_commands(229.0, unfinished_for=30.0)
        assert late.key == young.key and late.root_ts == "1700000000.000100"
        await asyncio.gather(store.finish_command(old.key), store.finish_command(young.key))
        assert await store.retake_commands(10_000.0, unfinished_for=30.0) == []
    finally:
        await engine.dispose()
