"""Streams in an agent conversation keep its session as the run has it. Slack sets a thread's
session with every ``chat.stopStream`` (to ``active`` when the call names no ``session_status``),
so a message stopped while the run goes on (an answer continuing in a new message, a full plan
message) must keep the session ``processing``; and the streams Slack itself stopped at the stop
button are neither stopped again (Slack refuses: ``message_not_in_streaming_state``) nor posted
anew."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.views.answer_view import ANSWER_PART_CHARS
from tests.bot.chat import ALICE, MEMORY, chat_with, finish, running_bot, settle
from tests.bot.test_agent_sessions import LOOK_UP_HELD, dm_request, session_of, session_showing
from tests.bot.test_long_streams import LONG, answer_parts, shown
from tests.bot.test_plan_stream import plan_messages, plan_showing
from tests.bot.test_streamed_answers import LOOK_UP_A, streaming_bot
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


async def test_an_answer_going_on_in_new_messages_keeps_the_session_processing(
        slack: FakeSlack) -> None:
    assert len(LONG) > 2 * ANSWER_PART_CHARS
    with FakeOpenAI([LOOK_UP_A, finish(LONG)], piece=400, hold_at="Paragraph 25") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await dm_request(chat, ALICE, "look up a")
            # the answer is partly written: its first message is full and stopped; the run goes on
            await slack.wait_for(lambda: fake.held.is_set() and slack.calls_of("chat.stopStream"),
                                 what="the answer's first message stopped")
            assert {c.args.get("session_status") for c in slack.calls_of("chat.stopStream")} == {"processing"}
            session = session_of(slack, thread)
            assert session is not None and session.status == "processing"

            fake.release.set()
            await thread.answer()
            await settle(app)
            parts = answer_parts(thread)
            assert len(parts) >= 3 and shown(parts) == LONG
            # only the stop that ends the answer, with the run, makes the session active
            assert slack.calls_of("chat.stopStream")[-1].args.get("session_status") == "active"
            first_active = session.statuses.index("active")
            assert set(session.statuses[:first_active]) == {"processing"}
            assert set(session.statuses[first_active:]) == {"active"} and session.status == "active"


async def test_streams_slack_stopped_at_the_stop_button_are_not_stopped_again_or_reposted(
        slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP_HELD], stream_plan=True,
                           stream_interval_seconds=0.05) as app, chat_with(slack, app) as chat:
        thread = await dm_request(chat, ALICE, "look up a")
        plan = await plan_showing(slack, thread, a="in_progress")
        assert plan.streaming
        await session_showing(slack, thread, "processing")

        await chat.driver.stop_session(ALICE, thread.channel, thread.root_ts)
        await thread.status_showing(":no_entry_sign: *Cancelled* by <@U0ALICE>")
        await session_showing(slack, thread, "active")
        app.log.gates["hold"].set()
        await settle(app)

        # no stop of a stream Slack stopped (it would refuse), and no plan posted anew: the stale
        # message goes, and the status message lists the nodes as the run left them
        refused = [c for c in slack.calls if c.method.startswith("chat.") and c.answer.get("ok") is False]
        assert refused == []
        assert not any(c.args.get("ts") == plan.ts for c in slack.calls_of("chat.stopStream"))
        assert plan_messages(thread) == []
        assert len(slack.calls_of("chat.startStream")) == 1
        await thread.status_showing("`a`", "Cancelled")
        assert thread.answers() == []


async def test_the_emulated_slack_sets_the_session_with_each_stop_as_slack_does(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    dm = slack.app_dm(ALICE)
    root = slack.post_as_user(dm, ALICE, "look up a")
    await client.agents_sessions_setStatus(channel_id=dm, thread_ts=root.ts, status="processing")

    async def stream() -> str:
        started = await client.chat_startStream(channel=dm, thread_ts=root.ts, markdown_text="part")
        return str(started["ts"])

    await client.chat_stopStream(channel=dm, ts=await stream(), session_status="suspended")
    await client.chat_stopStream(channel=dm, ts=await stream())  # none named: active, as Slack documents
    with pytest.raises(SlackApiError) as refused:
        await client.chat_stopStream(channel=dm, ts=await stream(), session_status="busy")
    assert refused.value.response["error"] == "invalid_arguments"
    session = slack.sessions[(dm, root.ts)]
    assert session.statuses == ["processing", "suspended", "active"]
