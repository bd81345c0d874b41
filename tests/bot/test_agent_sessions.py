"""Scenarios in an agent conversation (Slack's agent messaging experience, ``agent_view``): a DM
with the app, each request a thread there. Its session status follows the runs (processing,
suspended while only approvals are left, active at the end), set only when it changes; Slack's
stop button cancels the run as Cancel does, with the same permission check; a Slack that
refuses the statuses changes nothing else; and what the person looks at is recorded."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.views.wording import CANCEL_NOT_ALLOWED
from infra.emulators.slack.workspace import AgentSession
from tests.bot.chat import ALICE, BOB, MALLORY, MEMORY, Chat, Thread, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack

LOOK_UP_HELD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "hold"}}]}
LOOK_UP_B = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
LOOK_UP_AND_DEPLOY = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                                {"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}


async def dm_request(chat: Chat, user: str, text: str) -> Thread:
    """``user`` writes to the app in its DM (the agent conversation): the request's thread."""
    dm = chat.slack.app_dm(user)
    message = await chat.person(user).says(text, channel=dm)
    return Thread(chat, dm, message.ts)


def session_of(slack: FakeSlack, thread: Thread) -> AgentSession | None:
    return slack.sessions.get((thread.channel, thread.root_ts))


async def session_showing(slack: FakeSlack, thread: Thread, status: str) -> AgentSession:
    return await slack.wait_for(lambda: (s := session_of(slack, thread)) is not None and s.status == status and s,
                                what=f"the session {status}; it is {session_of(slack, thread)}")


async def test_the_session_follows_the_run_processing_suspended_then_active(
        slack: FakeSlack) -> None:
    replies = [LOOK_UP_AND_DEPLOY, finish("looked up a and deployed"), LOOK_UP_B, finish("b is 'value of b'")]
    async with running_bot(slack, MEMORY, replies, approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        thread = await dm_request(chat, ALICE, "look up a, then deploy prod")
        # the lookup runs; the deploy waits for bob, alone: the session is suspended
        approval = await thread.approval_for("ship")
        session = await session_showing(slack, thread, "suspended")
        await thread.status_showing(":white_check_mark: `a`")
        assert session.title == "look up a, then deploy prod"

        await chat.person(BOB).approves(approval)
        assert "deployed" in (await thread.answer()).content
        await settle(app)
        assert session.statuses == ["processing", "suspended", "processing", "active"]
        assert app.log.count("deploy") == 1

        # a follow-up in the thread: the same session goes processing, then active; its title stays
        await chat.person(ALICE).replies(thread, "and b")
        assert "value of b" in (await thread.answer(1)).content
        await settle(app)
        assert session.statuses[4:] == ["processing", "active"]
        assert session.title == "look up a, then deploy prod"
        # one call per change, all for this thread
        assert len(slack.calls_of("agents.sessions.setStatus")) == 6
        assert all(call.args["channel_id"] == thread.channel for call in slack.calls_of("agents.sessions.setStatus"))


async def test_the_stop_button_cancels_the_run_as_cancel_does(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP_HELD]) as app, chat_with(slack, app) as chat:
        thread = await dm_request(chat, ALICE, "look up a")
        await thread.status_showing(":arrows_counterclockwise: `a`")
        session = await session_showing(slack, thread, "processing")

        # someone who may not cancel it: told why, privately (a DM: it is not their conversation)
        refused = await chat.driver.stop_session(MALLORY, thread.channel, thread.root_ts)
        assert refused.status_code == 200
        await chat.person(MALLORY).gets_dm(CANCEL_NOT_ALLOWED)
        assert "Cancelled" not in (await thread.status_message()).content
        assert session.status == "processing"

        # the person who asked: the run stops, as with Cancel, and the session leaves processing
        stopped = await chat.driver.stop_session(ALICE, thread.channel, thread.root_ts)
        assert stopped.status_code == 200
        await thread.status_showing(":no_entry_sign: *Cancelled* by <@U0ALICE>")
        await session_showing(slack, thread, "active")
        app.log.gates["hold"].set()
        await settle(app)
        assert session.statuses == ["processing", "active"]
        assert thread.answers() == []


async def test_a_stop_with_no_run_going_says_so_and_releases_the_session(
        slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP_B, finish("b is 'value of b'")]) as app, \
            chat_with(slack, app) as chat:
        thread = await dm_request(chat, ALICE, "look up b")
        await thread.answer()
        await settle(app)
        await chat.driver.stop_session(ALICE, thread.channel, thread.root_ts)
        await chat.person(ALICE).is_told("nothing left to cancel")
        await settle(app)
        session = session_of(slack, thread)
        assert session is not None and session.statuses == ["processing", "active", "active"]


async def test_a_slack_refusing_session_statuses_changes_nothing_else(slack: FakeSlack) -> None:
    replies = [LOOK_UP_B, finish("b is 'value of b'"), LOOK_UP_B, finish("b again")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        # a passing failure (a server error) is logged; the run, its status and the next statuses go on
        slack.inject("agents.sessions.setStatus", status=500, error="internal_error")
        thread = await dm_request(chat, ALICE, "look up b")
        assert "value of b" in (await thread.answer()).content
        await thread.status_showing(":white_check_mark: `b`")
        await settle(app)
        statuses = [call.args["status"] for call in slack.calls_of("agents.sessions.setStatus")]
        assert statuses[0] == "processing" and statuses[-1] == "active"

        # an app Slack does not let set them (not an agent): refused once, then never asked again
        slack.session_error = "not_allowed"
        asked = len(slack.calls_of("agents.sessions.setStatus"))
        other = await dm_request(chat, ALICE, "look up b again")
        assert "b again" in (await other.answer()).content
        await other.status_showing(":white_check_mark: `b`")
        await settle(app)
        assert len(slack.calls_of("agents.sessions.setStatus")) == asked + 1


async def test_what_the_person_looks_at_is_recorded(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, []) as app, chat_with(slack, app) as chat:
        assert app.bot.contexts.looking_at(slack.team, ALICE) is None
        answered = await chat.driver.context_changed(ALICE, ("slack#/types/channel_id", "C0OPS"))
        assert answered.status_code == 200
        seen = app.bot.contexts.looking_at(slack.team, ALICE)
        assert seen is not None and seen.channel == "C0OPS"

        # a message in view names its channel; an empty context forgets what was in view
        await chat.driver.context_changed(ALICE, ("slack#/types/message_context",
                                                  {"channel_id": "C0DEV", "message_ts": "1.000001"}))
        assert (seen := app.bot.contexts.looking_at(slack.team, ALICE)) is not None and seen.channel == "C0DEV"
        await chat.driver.context_changed(ALICE)
        seen = app.bot.contexts.looking_at(slack.team, ALICE)
        assert seen is not None and seen.channel is None and seen.entities == ()
        assert app.bot.contexts.looking_at(slack.team, BOB) is None


async def test_the_emulated_slack_keeps_sessions_and_refuses_what_slack_refuses(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    dm = slack.app_dm(ALICE)
    root = slack.post_as_user(dm, ALICE, "look up a")

    async def refusal(call: Awaitable[object]) -> str:
        with pytest.raises(SlackApiError) as refused:
            await call
        return str(refused.value.response["error"])

    set_status = client.agents_sessions_setStatus
    assert await refusal(set_status(channel_id=dm, thread_ts=root.ts, status="busy")) == "invalid_arguments"
    assert await refusal(set_status(channel_id=dm, status="processing")) == "invalid_arguments"
    assert await refusal(set_status(channel_id="", thread_ts=root.ts, status="processing")) == "invalid_arguments"
    assert await refusal(set_status(channel_id="D0NOPE", thread_ts=root.ts, status="processing")) \
        == "channel_not_found"
    assert await refusal(set_status(channel_id=dm, thread_ts="1.000001", status="processing")) == "invalid_thread_ts"
    assert await refusal(client.agents_sessions_rename(channel_id=dm, thread_ts=root.ts, title="x")) \
        == "session_not_found"
    assert slack.sessions == {}

    # the first status makes the session with its title; later titles are ignored, rename changes it
    made = await set_status(channel_id=dm, thread_ts=root.ts, status="processing", title="look up a")
    assert made["status"] == "processing" and made["title"] == "look up a"
    await set_status(channel_id=dm, thread_ts=root.ts, status="suspended", title="something else")
    session = slack.sessions[(dm, root.ts)]
    assert (session.status, session.title, session.statuses) == ("suspended", "look up a",
                                                                 ["processing", "suspended"])
    assert await refusal(client.agents_sessions_rename(channel_id=dm, thread_ts=root.ts, title="")) \
        == "invalid_arguments"
    await client.agents_sessions_rename(channel_id=dm, thread_ts=root.ts, title="the lookup")
    assert session.title == "the lookup"

    # a reply in the thread does not change it (unlike the pane's "is …" status); an app that
    # is not an agent is refused
    slack.post_as_bot(dm, "a is 'value of a'", [], thread_ts=root.ts)
    assert session.status == "suspended"
    slack.session_error = "not_allowed"
    assert await refusal(set_status(channel_id=dm, thread_ts=root.ts, status="active")) == "not_allowed"
    assert session.statuses == ["processing", "suspended"]
