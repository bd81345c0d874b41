"""Scenarios: where requests come from, follow-ups in a thread, and duplicate deliveries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langchain_core.messages import BaseMessage

from bot.ground.threads import ThreadRef, message_key
from bot.inbound.intake import request_key
from tests.bot.chat import ALICE, BOB, MEMORY, OPS, Thread, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack

LOOK_UP_A = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
LOOK_UP_HELD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "hold"}}]}
LOOK_UP_B = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}


def planner_seeing(text: str, plan: dict[str, Any]) -> Any:
    """A planner reply that insists the prompt contains ``text`` (what the thread already did)."""
    def reply(messages: list[BaseMessage]) -> dict[str, Any]:
        prompt = "\n".join(str(m.content) for m in messages)
        assert text in prompt, f"the planner did not see {text!r}"
        return plan
    return reply


async def test_a_follow_up_in_the_thread_sees_the_first_result(slack: FakeSlack) -> None:
    replies = [LOOK_UP_A, finish("a is 'value of a'"),
               planner_seeing("value of a", LOOK_UP_B), finish("and b is 'value of b'")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a")
        await thread.answer()

        # alice replies in the thread, without mentioning the bot
        await alice.replies(thread, "now look up b as well")
        second = await thread.answer(1)
        assert "and b is 'value of b'" in second.content
        assert len(thread.status_messages()) == 2
        assert app.log.args_of("lookup") == [{"key": "a"}, {"key": "b"}]


async def test_a_follow_up_while_a_run_is_active_is_queued(slack: FakeSlack) -> None:
    replies = [LOOK_UP_HELD, finish("first done"), LOOK_UP_B, finish("second done")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a slowly")
        await thread.status_showing(":arrows_counterclockwise: `a`")

        # the follow-up arrives while the first run is busy: alice is told it waits its turn
        await alice.replies(thread, "then look up b")
        queued = await thread.status_message(1)
        await thread.status_showing("*Queued*", index=1)
        assert queued.buttons() == []

        # the first run finishes, then the queued one runs in the same thread
        app.log.gates["hold"].set()
        first, second = await thread.answer(0), await thread.answer(1)
        assert "first done" in first.content and "second done" in second.content
        assert float(first.ts) < float(second.ts)
        await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `b`", index=1)


async def test_mentions_and_direct_messages_start_runs(slack: FakeSlack) -> None:
    slack.add_channel("D0ALICE", "alice-dm", im=True)
    replies = [LOOK_UP_A, finish("from the channel"), LOOK_UP_B, finish("from the DM")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        bob, alice = chat.person(BOB), chat.person(ALICE)

        # bob mentions the bot in the channel: the run lives in his message's thread
        thread = await bob.mentions_bot("look up a")
        assert "from the channel" in (await thread.answer()).content

        # alice writes to the bot directly
        message = await alice.says("look up b", channel="D0ALICE")
        dm_thread = type(thread)(chat, "D0ALICE", message.ts)
        assert "from the DM" in (await dm_thread.answer()).content


async def test_retries_and_twins_start_one_run(slack: FakeSlack) -> None:
    replies = [LOOK_UP_A, finish("one run"), LOOK_UP_B, finish("one follow-up")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        bob, driver = chat.person(BOB), chat.driver

        # a mention arrives as message + app_mention; Slack then retries the app_mention
        thread = await bob.mentions_bot("look up a")
        mention = thread.root()
        retry = await driver.event(driver.message_event(mention, "app_mention"), event_id="EvRETRY",
                                   retry_num=1)
        assert retry.status_code == 200
        await thread.answer()

        # a mention inside the bot's thread: app_mention first this time, then message, then a retry
        follow_up = slack.post_as_user(OPS, BOB, f"<@{slack.bot_user}> and b", thread.root_ts)
        for kind in ("app_mention", "message", "message"):
            assert (await driver.event(driver.message_event(follow_up, kind))).status_code == 200
        await thread.answer(1)

        # other bots and the bot itself are ignored, even in its own thread
        other_bot = {"type": "message", "channel": OPS, "bot_id": "B0OTHER", "subtype": "bot_message",
                     "text": "beep", "ts": slack.next_ts(), "thread_ts": thread.root_ts}
        own = {"type": "message", "channel": OPS, "user": slack.bot_user, "bot_id": slack.bot_id,
               "text": "my own words", "ts": slack.next_ts(), "thread_ts": thread.root_ts}
        for event in (other_bot, own):
            assert (await driver.event(event)).status_code == 200
        await app.engine.idle()
        await app.bot.tasks.idle()

        assert len(thread.status_messages()) == 2 and len(thread.answers()) == 2
        assert len(app.llm.calls) == 4  # two plans, two answers: nothing ran twice


async def test_cancelling_a_run_drops_its_queued_follow_up(slack: FakeSlack) -> None:
    replies = [LOOK_UP_HELD, LOOK_UP_B, finish("second done")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a slowly")
        running = await thread.status_showing(":arrows_counterclockwise: `a`")

        # a follow-up queues behind the busy run
        await alice.replies(thread, "then look up b")
        queued = await thread.status_showing("*Queued*", index=1)

        # alice cancels the running one: the queued request is cancelled with it
        await alice.clicks("Cancel", running)
        await slack.wait_for(lambda: "Cancelled before it started" in queued.content,
                             what="the queued request cancelled")
        app.log.gates["hold"].set()  # the node that was running finishes; nothing new starts
        await thread.status_showing(":no_entry_sign: *Cancelled* by <@U0ALICE>")
        await settle(app)

        # the follow-up never ran: one plan, one lookup, no answers, and its message stayed cancelled
        assert len(app.llm.calls) == 1 and app.log.args_of("lookup") == [{"key": "a"}]
        assert thread.answers() == [] and len(thread.status_messages()) == 2
        assert "Cancelled before it started" in queued.content
        assert not any("Planning" in version for version in queued.history())


async def test_a_message_whose_claimer_died_before_queueing_it_runs_on_slacks_retry(
        slack: FakeSlack, sqlite_url: str) -> None:
    replies = [LOOK_UP_A, finish("ran once")]
    async with running_bot(slack, sqlite_url, replies, claim_retake_seconds=60.0) as app, \
            chat_with(slack, app) as chat:
        driver = chat.driver
        mention = slack.post_as_user(OPS, BOB, f"<@{slack.bot_user}> look up a")
        # a replica claimed the message a minute ago and died before queueing its request
        key = message_key(OPS, mention.ts)
        assert await app.bot.store.claim(key, time.time() - 61, unsettled_for=60) is not None

        # Slack's retry finds the claim stale: it takes the message over and runs it
        response = await driver.event(driver.message_event(mention, "app_mention"), retry_num=1)
        assert response.status_code == 200
        thread = Thread(chat, OPS, mention.ts)
        assert "ran once" in (await thread.answer()).content
        assert await app.bot.store.claim_settled(key)
        # later twins are duplicates
        assert (await driver.event(driver.message_event(mention, "message"), retry_num=2)).status_code == 200
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert len(thread.status_messages()) == 1 and len(app.llm.calls) == 2


async def test_a_twin_of_an_unsettled_claim_asks_slack_to_retry_and_the_retry_runs_it_once(
        slack: FakeSlack, sqlite_url: str) -> None:
    replies = [LOOK_UP_A, finish("ran once")]
    async with running_bot(slack, sqlite_url, replies, claim_retake_seconds=2.0) as app, \
            chat_with(slack, app) as chat:
        driver = chat.driver
        mention = slack.post_as_user(OPS, BOB, f"<@{slack.bot_user}> look up a")
        thread = Thread(chat, OPS, mention.ts)
        # a replica claims the message, posts its status message and queues the request,
        # then dies before settling the claim (and before Slack got its answer)
        key = message_key(OPS, mention.ts)
        assert await app.bot.store.claim(key, time.time(), unsettled_for=2.0) is not None
        ref = ThreadRef(slack.team, OPS, mention.ts)
        await app.bot.store.own_thread(ref, BOB, time.time())
        await app.bot.intake.start(ref, "look up a", BOB, fresh=True, key=request_key(OPS, mention.ts))

        # the twin finds the claim unsettled and young: Slack is asked to deliver it again
        twin = await driver.event(driver.message_event(mention, "app_mention"))
        assert twin.status_code == 503
        # Slack's retry, once the claim is old enough, takes it over: the status message the
        # claimer posted is reused and the request, queued already, does not run twice
        await asyncio.sleep(2.1)
        retry = await driver.event(driver.message_event(mention, "app_mention"), retry_num=1)
        assert retry.status_code == 200
        assert "ran once" in (await thread.answer()).content
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert await app.bot.store.claim_settled(key)
        assert len(thread.status_messages()) == 1 and len(thread.answers()) == 1
        assert len(app.llm.calls) == 2 and app.log.args_of("lookup") == [{"key": "a"}]


async def test_a_message_not_recorded_in_time_is_answered_503_and_its_retry_runs_nothing_twice(
        slack: FakeSlack, sqlite_url: str) -> None:
    replies = [LOOK_UP_A, finish("ran once")]
    async with running_bot(slack, sqlite_url, replies, durable_ack_seconds=0.0) as app, \
            chat_with(slack, app) as chat:
        driver = chat.driver
        mention = slack.post_as_user(OPS, BOB, f"<@{slack.bot_user}> look up a")
        thread = Thread(chat, OPS, mention.ts)
        # Slack gets its answer before the request is queued: it is told to deliver it again
        first = await driver.event(driver.message_event(mention, "app_mention"))
        assert first.status_code == 503
        assert "ran once" in (await thread.answer()).content
        # the retry (answered 503 too: with no time to wait, nothing is recorded before the
        # answer) finds the message claimed and settled, and starts nothing
        retry = await driver.event(driver.message_event(mention, "app_mention"), retry_num=1)
        assert retry.status_code == 503
        await app.engine.idle()
        await app.bot.tasks.idle()
        assert len(thread.status_messages()) == 1 and len(app.llm.calls) == 2
