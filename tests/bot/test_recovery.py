"""Scenarios: a running bot picks up threads whose runner died or that were decided elsewhere,
without a restart (the periodic recovery pass)."""

from __future__ import annotations

from infra.db import create_engine
from infra.store import SqlStore
from tests.bot.chat import ALICE, chat_with, finish, running_bot
from tests.bot.test_restart import wait_until_parked
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tools import ToolLog

SLOW = {"thought": "one slow lookup", "nodes": [
    {"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
DEPLOY = {"thought": "deploy needs approval", "nodes": [
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship it"}]}
FAST_RECOVERY = {"recover_interval_seconds": 0.2}


async def test_a_running_bot_takes_over_a_thread_whose_runner_stopped(
        slack: FakeSlack, database_url: str) -> None:
    log = ToolLog()
    # replica B runs from the start; replica A takes alice's request, then stops mid-run
    async with running_bot(slack, database_url, [finish("looked it up")], log=log, holder="replica-b",
                           **FAST_RECOVERY) as b:
        async with running_bot(slack, database_url, [SLOW], log=log, holder="replica-a",
                               **FAST_RECOVERY) as a, chat_with(slack, a) as chat:
            thread = await chat.person(ALICE).runs("look it up")
            await thread.status_showing("`slow`")
            await slack.wait_for(lambda: log.count("lookup") == 1, what="the slow lookup started in A")
        # A is gone, its lease left lapsed: B, already running, takes the thread over
        log.gates["g"].set()
        answer = await thread.answer()
        assert "looked it up" in answer.content
        assert log.count("lookup") == 2  # A's in-flight lookup, then B's: never two at once
        assert b.llm.calls and len(b.llm.calls) == 1  # B ran the joiner; A had planned


async def test_a_running_bot_resumes_a_thread_decided_directly_in_the_database(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [DEPLOY, finish("deployed")], **FAST_RECOVERY) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("deploy prod")
        await thread.approval_for("deploy")
        await wait_until_parked(database_url)
        # another process records the decision and dies before it can resume the thread
        engine = create_engine(database_url)
        try:
            other = SqlStore(engine)
            [pending] = await other.pending()
            assert (await other.decide(pending.id, approved=True, by=ALICE)).changed
        finally:
            await engine.dispose()
        answer = await thread.answer()
        assert "deployed" in answer.content
        assert app.log.count("deploy") == 1
