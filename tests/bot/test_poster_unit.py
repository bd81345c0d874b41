"""bot.ground.poster on its own: a real AsyncWebClient against the emulated Slack (no app, no database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.poster import Sent, SlackPoster, retried
from infra.emulators.slack.workspace import ReplyTarget
from tests.bot.chat import ALICE, BOB, OPS
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def poster(slack: FakeSlack) -> Iterator[SlackPoster]:
    yield SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))


async def test_send_posts_in_the_thread_with_metadata_and_a_post_to_a_user_lands_in_their_dm(
        slack: FakeSlack, poster: SlackPoster) -> None:
    root = await poster.send(OPS, "root")
    assert root.ok and root.ts is not None and root.channel == OPS
    meta = {"event_type": "dagbot_answer", "event_payload": {"run_id": "r1"}}
    reply = await poster.send(OPS, "reply", [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
                              thread_ts=root.ts, metadata=meta)
    assert reply.ts is not None
    posted = slack.message(OPS, reply.ts)
    assert posted is not None and posted.thread_ts == root.ts and posted.metadata == meta
    assert [m.ts for m in slack.thread(OPS, root.ts)] == [root.ts, reply.ts]

    dm = await poster.send(ALICE, "psst")
    assert dm.channel == "D0ALICE"  # later edits must be addressed there, not to the user id
    assert slack.dms(ALICE) == ["psst"]
    assert await poster.thread_has(OPS, root.ts, "dagbot_answer", {"run_id": "r1"}) is True
    assert await poster.thread_has(OPS, root.ts, "dagbot_answer", {"run_id": "r2"}) is False


async def test_refusals_are_told_apart_gone_transient_and_other(slack: FakeSlack, poster: SlackPoster) -> None:
    gone = await poster.send("C0NOWHERE", "hello")
    assert gone == Sent(error="channel_not_found", status=200)
    assert gone.gone and not gone.transient and gone.ts is None

    slack.inject("chat.postMessage", status=429, retry_after=7)
    limited = await poster.send(OPS, "hello")
    assert limited.error == "ratelimited" and limited.retry_after == 7.0 and limited.transient
    assert not limited.gone

    slack.inject("chat.postMessage", status=200, error="msg_too_long")
    refused = await poster.send(OPS, "hello")
    assert refused.error == "msg_too_long" and not refused.transient and not refused.gone
    assert await poster.post(OPS, "finally") is not None


async def test_edit_and_delete_report_what_slack_did(slack: FakeSlack, poster: SlackPoster) -> None:
    sent = await poster.send(OPS, "v1")
    assert sent.ts is not None
    assert await poster.update(OPS, sent.ts, "v2", [])
    message = slack.message(OPS, sent.ts)
    assert message is not None and message.text == "v2" and message.edited
    assert await poster.delete(OPS, sent.ts)
    assert slack.message(OPS, sent.ts) is None
    again = await poster.edit(OPS, sent.ts, "v3", [])
    assert again.ts == sent.ts and again.error == "message_not_found" and again.gone
    assert not await poster.delete(OPS, sent.ts)


async def test_retried_honours_retry_after_and_stops_at_success_or_a_lasting_refusal(
        slack: FakeSlack, poster: SlackPoster) -> None:
    slack.inject("chat.postMessage", times=2, status=429, retry_after=0)
    sent = await retried(lambda: poster.send(OPS, "eventually"), delays=(0.0, 0.0, 0.0))
    assert sent.ok and len(slack.calls_of("chat.postMessage")) == 3

    fault = slack.inject("chat.postMessage", times=10, status=429, retry_after=0)
    given_up = await retried(lambda: poster.send(OPS, "never"), delays=(0.0, 0.0))
    assert given_up.error == "ratelimited" and len(slack.calls_of("chat.postMessage")) == 3 + 3
    fault.times = 0

    lasting = await retried(lambda: poster.send("C0NOWHERE", "no"), delays=(0.0, 0.0))
    assert lasting.error == "channel_not_found" and len(slack.calls_of("chat.postMessage")) == 6 + 1

    nothing = await retried(_nothing_to_do, delays=(0.0,))
    assert nothing is None


async def _nothing_to_do() -> Sent | None:
    return None


async def test_ephemeral_falls_back_to_a_dm_only_where_the_person_would_not_see_it(
        slack: FakeSlack, poster: SlackPoster) -> None:
    slack.add_channel("C0PRIV", "private", private=True, members=[BOB])
    await poster.ephemeral(OPS, ALICE, "only you")
    assert slack.told(ALICE) == ["only you"] and slack.dms(ALICE) == []

    # not a member: Slack refuses the ephemeral; a DM says where it was about
    await poster.ephemeral("C0PRIV", ALICE, "about that", thread_ts="1700000000.000100")
    assert slack.told(ALICE) == ["only you"]
    assert slack.dms(ALICE) == ["About <https://slack.com/archives/C0PRIV/p1700000000000100|this thread>:"
                                "\nabout that"]

    # no channel (a click in App Home): straight to the DM, with the caller's heading
    await poster.ephemeral("", ALICE, "from home", about="Approval of deploy:")
    assert slack.dms(ALICE)[-1] == "Approval of deploy:\nfrom home"

    # any other refusal: nobody is DMed
    slack.inject("chat.postEphemeral", status=200, error="invalid_blocks")
    await poster.ephemeral(OPS, BOB, "lost")
    assert slack.dms(BOB) == [] and "lost" not in slack.told(BOB)


async def test_respond_answers_through_the_response_url_and_says_when_it_is_gone(
        slack: FakeSlack, poster: SlackPoster) -> None:
    url = slack.response_url(ReplyTarget(ALICE, OPS))
    assert await poster.respond(url, "working on it")
    assert slack.told(ALICE) == ["working on it"]
    assert slack.responses[-1]["response_type"] == "ephemeral"
    assert not await poster.respond(f"{slack.url}/hooks/expired", "lost")


async def test_permalink_of_a_message_and_none_for_a_missing_one(slack: FakeSlack, poster: SlackPoster) -> None:
    sent = await poster.send(OPS, "linked")
    assert sent.ts is not None
    assert await poster.permalink(OPS, sent.ts) == f"https://fake.slack.test/archives/{OPS}/p{sent.ts.replace('.', '')}"
    assert await poster.permalink(OPS, "1.000001") is None
