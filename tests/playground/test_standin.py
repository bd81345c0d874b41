"""The playground's Slack (the emulated one) refuses what Slack refuses, with Slack's error codes,
over real HTTP with the real slack_sdk client; with rate limits on it answers 429 with a
Retry-After that holds; and the page is told of each change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from infra.playground.feed import Feed
from infra.playground.standin import Person, PlaygroundSlack
from tests.playground.conftest import ALICE_ON_THE_PAGE as ALICE
from tests.playground.conftest import page_of, small_slack


@pytest.fixture
async def standin() -> AsyncIterator[tuple[PlaygroundSlack, AsyncWebClient]]:
    slack = small_slack()
    async with page_of(slack) as (_, url):
        yield slack, AsyncWebClient(token=slack.token, base_url=f"{url}/api/")


async def refused(call: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as caught:
        await call
    response = caught.value.response
    return str(response["error"]), list((response.get("response_metadata") or {}).get("messages", []))


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_a_valid_post_and_edit_are_accepted(standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    posted = await client.chat_postMessage(channel="C0OPS", text="hi", blocks=[section("hi")])
    await client.chat_update(channel="C0OPS", ts=posted["ts"], text="edited", blocks=[section("edited")])
    message = slack.message("C0OPS", posted["ts"])
    assert message is not None and message.edited and message.blocks == [section("edited")]


@pytest.mark.parametrize(("blocks", "text", "error", "detail"), [
    ([section("x")] * 51, "t", "invalid_blocks", "no more than 50 items allowed [json-pointer:/blocks]"),
    ([], "x" * 40_001, "msg_too_long", None),
    ([section("x" * 3001)], "t", "invalid_blocks", "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "carousel"}], "t", "invalid_blocks", "unsupported type: carousel [json-pointer:/blocks/0/type]"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}}]}], "t",
     "invalid_blocks", "a button needs an action_id to be handled [json-pointer:/blocks/0/elements/0/action_id]"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "t", "invalid_blocks",
     "must be less than 151 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}], "t", "invalid_blocks",
     "must be one of ['plain_text'] [json-pointer:/blocks/0/text/type]"),
    ([section("a") | {"block_id": "b"}, section("b") | {"block_id": "b"}], "t", "invalid_blocks",
     "duplicate block_id: b [json-pointer:/blocks/1/block_id]"),
    ([], "", "no_text", None),
    ([{"type": "context_actions", "elements": [{"type": "button", "action_id": "x"}]}], "t", "invalid_blocks",
     "unsupported type: button [json-pointer:/blocks/0/elements/0/type]"),
    ([{"type": "context_actions", "elements": [{"type": "feedback_buttons", "action_id": "f",
                                                "positive_button": {"text": {"type": "plain_text", "text": "+"},
                                                                    "value": "up"}}]}], "t", "invalid_blocks",
     "must be an object with text and value [json-pointer:/blocks/0/elements/0/negative_button]"),
])
async def test_messages_slack_would_refuse(standin: tuple[PlaygroundSlack, AsyncWebClient], blocks: list[Any],
                                           text: str, error: str, detail: str | None) -> None:
    slack, client = standin
    code, messages = await refused(client.chat_postMessage(channel="C0OPS", text=text, blocks=blocks))
    assert code == error
    if detail:
        assert f"[ERROR] {detail}" in messages
    assert not slack.messages
    assert slack.refusals[-1]["error"] == error  # shown on the page


async def test_updates_slack_would_refuse(standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    typed = slack.post_as_user("C0OPS", ALICE.id, "hello", None)
    assert (await refused(client.chat_update(channel="C0OPS", ts=typed.ts, text="mine now")))[0] \
        == "cant_update_message"
    assert (await refused(client.chat_update(channel="C0OPS", ts="1.000001", text="x")))[0] == "message_not_found"
    assert (await refused(client.chat_postMessage(channel="C0NOPE", text="x")))[0] == "channel_not_found"
    assert (await refused(client.chat_postMessage(channel="C0OPS", text="x", thread_ts="1.1")))[0] \
        == "thread_not_found"
    assert typed.text == "hello" and not typed.edited


async def test_wrong_token_unknown_method_and_stale_trigger(standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    forged = AsyncWebClient(token="xoxb-forged", base_url=client.base_url)
    assert (await refused(forged.chat_postMessage(channel="C0OPS", text="x")))[0] == "invalid_auth"
    assert (await refused(client.api_call("chat.scheduleMessage")))[0] == "unknown_method"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Why?"}, "blocks": [section("x")]}
    assert (await refused(client.views_open(trigger_id="1.made-up", view=view)))[0] == "invalid_trigger_id"
    trigger = slack.new_trigger(ALICE.id)
    long_title = dict(view, title={"type": "plain_text", "text": "t" * 25})
    assert (await refused(client.views_open(trigger_id=trigger, view=long_title)))[0] == "invalid_arguments"
    trigger = slack.new_trigger(ALICE.id)
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert slack.modals[opened["view"]["id"]].user == ALICE.id
    assert (await refused(client.views_open(trigger_id=trigger, view=view)))[0] == "invalid_trigger_id"  # used once


async def test_rate_limits_answer_429_with_a_retry_after_that_holds(
        standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    slack.set_rate_limit(True)
    posted = await client.chat_postMessage(channel="C0OPS", text="first")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="C0OPS", ts=posted["ts"], text="again")
        await client.chat_update(channel="C0OPS", ts=posted["ts"], text="too soon")
    assert caught.value.response.status_code == 429 and caught.value.response["error"] == "ratelimited"
    wait = float(caught.value.response.headers["Retry-After"])
    assert wait >= 1
    assert slack.rate_limit.refused == 1

    patient = AsyncWebClient(token=slack.token, base_url=client.base_url,
                             retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    await patient.chat_update(channel="C0OPS", ts=posted["ts"], text="after waiting")
    # refused once more, then accepted: a retry before Retry-After had passed would be refused again
    assert slack.rate_limit.refused == 2
    assert slack.message("C0OPS", posted["ts"]).text == "after waiting"  # type: ignore[union-attr]
    slack.set_rate_limit(False)
    await client.chat_update(channel="C0OPS", ts=posted["ts"], text="free again")


async def test_the_page_waits_for_the_bot_to_listen_so_nothing_typed_is_lost() -> None:
    import asyncio

    import httpx

    slack = small_slack()
    async with page_of(slack, ready=False) as (web, url), httpx.AsyncClient(timeout=30) as http:
        auth = await AsyncWebClient(token=slack.token, base_url=f"{url}/api/").auth_test()
        assert auth["user_id"] == "U0BOT"  # the Web API answers at once: the bot needs it to start
        typed = asyncio.create_task(http.post(f"{url}/ui/send", json={
            "user": ALICE.id, "channel": "C0OPS", "text": "hello <@U0BOT>"}))
        await asyncio.sleep(0.3)
        assert not typed.done() and not slack.messages  # held, not delivered to a bot not yet listening
        web.ready.set()
        assert (await typed).json() == {"ok": True}
        assert [m.user for m in slack.messages] == [ALICE.id]


async def test_closing_the_feed_ends_every_page_stream() -> None:
    import asyncio

    feed = Feed()

    async def page() -> list[dict[str, Any]]:
        return [event async for event in feed.subscribe()]

    pages = [asyncio.create_task(page()) for _ in range(2)]
    await asyncio.sleep(0.05)
    feed.publish({"type": "message", "n": 1})
    feed.publish({"type": "mail", "n": 2})
    feed.close()
    # every event is numbered, so a page can tell which a state snapshot (feed.seq) already holds
    assert await asyncio.gather(*pages) == [[{"type": "message", "n": 1, "seq": 1},
                                             {"type": "mail", "n": 2, "seq": 2}]] * 2
    assert feed.subscribers == 0 and feed.seq == 2


def published(slack: PlaygroundSlack) -> list[dict[str, Any]]:
    """What the page is told from now on, in order (as the workspace's watchers are)."""
    events: list[dict[str, Any]] = []
    slack.watchers.append(events.append)
    return events


def markdown(text: str) -> dict[str, Any]:
    return {"type": "markdown", "text": text}


async def start_stream(client: AsyncWebClient, thread_ts: str, text: str | None = "Hel") -> str:
    started = await client.chat_startStream(channel="C0OPS", thread_ts=thread_ts, markdown_text=text,
                                            recipient_user_id=ALICE.id, recipient_team_id="T0")
    return str(started["ts"])


async def test_a_stream_grows_in_its_thread_then_stops_with_its_blocks(
        standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    asked = slack.post_as_user("C0OPS", ALICE.id, "hello <@U0BOT>", None)
    events = published(slack)
    ts = await start_stream(client, asked.ts)
    await client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="lo, **wor")
    await client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="ld**")
    streamed = slack.message("C0OPS", ts)
    assert streamed is not None and streamed.streaming and streamed.is_from_bot and streamed.thread_ts == asked.ts
    assert streamed.text == "Hello, **world**" and streamed.blocks == [markdown("Hello, **world**")]

    footer = [{"type": "context", "elements": [{"type": "mrkdwn", "text": ":stopwatch: 1s"}]}]
    stopped = await client.chat_stopStream(channel="C0OPS", ts=ts, markdown_text="!", blocks=footer)
    assert stopped["message"]["text"] == "Hello, **world**!"
    assert not streamed.streaming and not streamed.edited
    assert streamed.blocks == [markdown("Hello, **world**!"), *footer]
    # the page is shown each version, in order: streaming while it grows, then whole
    assert [(e["message"]["text"], e["message"]["streaming"]) for e in events] == [
        ("Hel", True), ("Hello, **wor", True), ("Hello, **world**", True), ("Hello, **world**!", False)]
    replies = await client.conversations_replies(channel="C0OPS", ts=asked.ts)
    assert [m["ts"] for m in replies["messages"]] == [asked.ts, ts]
    assert not slack.refusals


async def test_streams_slack_would_refuse(standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    asked = slack.post_as_user("C0OPS", ALICE.id, "hello", None)
    start = {"channel": "C0OPS", "thread_ts": asked.ts, "recipient_user_id": ALICE.id, "recipient_team_id": "T0"}
    # a stream answers someone, in a thread: outside DMs it names them
    assert (await refused(client.api_call("chat.startStream", json={**start, "thread_ts": None})))[0] \
        == "invalid_thread_ts"
    assert (await refused(client.chat_startStream(**{**start, "thread_ts": "1.000001"})))[0] == "invalid_thread_ts"
    assert (await refused(client.chat_startStream(**{**start, "recipient_user_id": None})))[0] \
        == "invalid_arguments"
    assert (await refused(client.chat_startStream(**{**start, "recipient_team_id": "T0ELSE"})))[0] \
        == "team_not_found"
    assert (await refused(client.chat_startStream(**{**start, "channel": "C0NOPE"})))[0] == "channel_not_found"
    too_long = "x" * 12_001
    assert (await refused(client.chat_startStream(**start, markdown_text=too_long)))[0] == "msg_too_long"
    assert not slack.messages[1:]  # nothing started

    ts = await start_stream(client, asked.ts)
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text=too_long)))[0] \
        == "msg_too_long"
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="")))[0] \
        == "invalid_arguments"
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts="1.000001", markdown_text="x")))[0] \
        == "message_not_found"
    assert (await refused(client.chat_update(channel="C0OPS", ts=ts, text="now")))[0] == "streaming_state_conflict"
    assert (await refused(client.chat_stopStream(channel="C0OPS", ts=ts, blocks=[{"type": "carousel"}])))[0] \
        == "invalid_blocks"
    streamed = slack.message("C0OPS", ts)
    assert streamed is not None and streamed.streaming and streamed.text == "Hel"  # refused calls change nothing

    await client.chat_stopStream(channel="C0OPS", ts=ts)
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="lo")))[0] \
        == "message_not_in_streaming_state"
    assert (await refused(client.chat_stopStream(channel="C0OPS", ts=ts)))[0] == "message_not_in_streaming_state"
    posted = await client.chat_postMessage(channel="C0OPS", thread_ts=asked.ts, text="whole")
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=posted["ts"], markdown_text="x")))[0] \
        == "message_not_in_streaming_state"
    assert streamed.text == "Hel" and not streamed.streaming
    await client.chat_update(channel="C0OPS", ts=ts, text="Hello")  # stopped, it may be edited
    assert [(r["method"], r["error"]) for r in slack.refusals] == [  # each shown on the page
        ("chat.startStream", "invalid_thread_ts"), ("chat.startStream", "invalid_thread_ts"),
        ("chat.startStream", "invalid_arguments"), ("chat.startStream", "team_not_found"),
        ("chat.startStream", "channel_not_found"), ("chat.startStream", "msg_too_long"),
        ("chat.appendStream", "msg_too_long"), ("chat.appendStream", "invalid_arguments"),
        ("chat.appendStream", "message_not_found"), ("chat.update", "streaming_state_conflict"),
        ("chat.stopStream", "invalid_blocks"), ("chat.appendStream", "message_not_in_streaming_state"),
        ("chat.stopStream", "message_not_in_streaming_state"), ("chat.appendStream", "message_not_in_streaming_state")]


async def test_the_bot_deletes_only_its_own_messages(standin: tuple[PlaygroundSlack, AsyncWebClient]) -> None:
    slack, client = standin
    asked = slack.post_as_user("C0OPS", ALICE.id, "hello", None)
    ts = await start_stream(client, asked.ts)
    await client.chat_stopStream(channel="C0OPS", ts=ts)
    events = published(slack)
    assert (await client.chat_delete(channel="C0OPS", ts=ts))["ts"] == ts  # a withdrawn draft
    assert slack.message("C0OPS", ts) is None and [m.ts for m in slack.messages] == [asked.ts]
    assert events == [{"type": "message_deleted", "channel": "C0OPS", "ts": ts}]

    assert (await refused(client.chat_delete(channel="C0OPS", ts=asked.ts)))[0] == "cant_delete_message"
    assert (await refused(client.chat_delete(channel="C0OPS", ts=ts)))[0] == "message_not_found"
    assert (await refused(client.chat_delete(channel="C0NOPE", ts=asked.ts)))[0] == "channel_not_found"
    assert slack.message("C0OPS", asked.ts) is asked
    assert [r["error"] for r in slack.refusals] == ["cant_delete_message", "message_not_found",
                                                    "channel_not_found"]


async def test_each_person_has_an_agent_conversation_whose_stop_button_says_what_it_cannot_stop() -> None:
    bob = Person("U0BOB", "bob", "someone else")
    slack = PlaygroundSlack(people=[ALICE, bob], bot=Person("U0BOT", "dagbot", "bot"), channels={"C0OPS": "ops"},
                            team="T0", bot_id="B0")
    async with page_of(slack) as (_, url), httpx.AsyncClient(base_url=url) as http:
        state = (await http.get("/ui/state")).json()
        assert state["dms"] == [{"id": "D0ALICE", "user": ALICE.id}, {"id": "D0BOB", "user": bob.id}]
        assert state["sessions"] == []
        # a person writes in their own conversation with the app only
        sent = await http.post("/ui/send", json={"user": bob.id, "channel": "D0ALICE", "text": "hi"})
        assert sent.json() == {"ok": False, "error": "That is someone else's conversation with dagbot."}
        root = slack.post_as_user("D0ALICE", ALICE.id, "look up a")

        stop = {"user": ALICE.id, "channel": "D0ALICE", "thread_ts": root.ts}
        assert (await http.post("/ui/stop", json=stop)).json() == {
            "ok": False, "error": "That conversation has no agent session."}
        client = AsyncWebClient(token=slack.token, base_url=f"{url}/api/")
        await client.agents_sessions_setStatus(channel_id="D0ALICE", thread_ts=root.ts, status="suspended",
                                               title="look up a")
        state = (await http.get("/ui/state")).json()
        assert state["sessions"] == [{"channel": "D0ALICE", "thread_ts": root.ts, "status": "suspended",
                                      "title": "look up a"}]
        assert (await http.post("/ui/stop", json=stop)).json() == {
            "ok": False, "error": "dagbot is not working on it any more: there is nothing to stop."}
        assert (await http.post("/ui/stop", json={**stop, "user": "U0MALLORY"})).json()["ok"] is False
