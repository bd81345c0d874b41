"""Scenarios: a running bot picks up threads whose runner died or that were decided elsewhere,
without a restart (the periodic recovery pass)."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from agent.events import AnswerReady
from bot.ground.threads import ThreadRef
from infra.storage.db import SlackStatusMessageRow, create_engine
from infra.storage.engine_store import SqlStore
from tests.bot.chat import ALICE, Thread, chat_with, finish, running_bot
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


async def test_an_approval_whose_message_was_never_posted_gets_one_and_the_thread_goes_on(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [DEPLOY, finish("deployed")], missing_approval_seconds=0.5,
                           **FAST_RECOVERY) as app, chat_with(slack, app) as chat:
        # the approval is asked for, but its message never reaches Slack (as if the process
        # that asked died before posting it): the thread parks on a click nobody could make
        lost = slack.inject("chat.postMessage", status=200, error="invalid_blocks",
                            when=lambda call: "Approval needed" in str(call.get("text", "")))
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await wait_until_parked(database_url)
        assert lost.times == 0 and thread.approvals() == []
        # the recovery pass posts it: a click on it runs the red call
        approval = await thread.approval_for("deploy")
        await alice.clicks("Approve", approval)
        assert "deployed" in (await thread.answer()).content
        assert app.log.count("deploy") == 1 and len(thread.approvals()) == 1


async def test_an_answer_given_again_after_a_takeover_is_not_posted_twice(
        slack: FakeSlack, database_url: str) -> None:
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
    async with running_bot(slack, database_url, [plan, finish("the answer")], holder="replica-a") as a, \
            chat_with(slack, a) as chat:
        thread = await chat.person(ALICE).runs("look up a")
        await thread.answer()
        await a.engine.idle()
        run_id = str((await a.engine.state(thread_key(thread)))["run_id"])
    # replica A posted the answer and died before recording it (its status message stays
    # unfinished); replica B, taking the run over, runs its answer step again
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(SlackStatusMessageRow).values(finished=False))
    finally:
        await engine.dispose()
    async with running_bot(slack, database_url, [], holder="replica-b") as b:
        b.bot.notifier._route(AnswerReady(thread_id=thread_key(thread), run_id=run_id, answer="the answer",
                                          duration_s=1.0, nodes_run=1, tokens=10))
        for _ in range(200):  # B finishes the run's status message once it has dealt with the answer
            if not await b.bot.store.unfinished_status_messages(thread_key=thread_key(thread)):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("B never dealt with the answer")
        await b.bot.tasks.idle()
    assert len(thread.answers()) == 1


def thread_key(thread: Thread) -> str:
    return ThreadRef(thread.slack.team, thread.channel, thread.root_ts).key
