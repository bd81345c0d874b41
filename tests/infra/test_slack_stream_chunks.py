"""The emulated Slack's streamed chunks: it keeps what a stream's ``chunks`` say (Markdown, the
plan's title, each task whole) and shows a plan-mode stream as one plan block; it refuses what
Slack refuses (unknown chunks, tasks without id, title or status, a bad status, a display mode
it does not know, too much Markdown) and ends idle streams as Slack does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack

ALICE = "U0ALICE"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user(ALICE, "alice")
        yield fake


async def refused(call: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as caught:
        await call
    response = caught.value.response
    return str(response["error"]), list((response.get("response_metadata") or {}).get("messages", []))


def task(tid: str, status: str, **more: Any) -> dict[str, Any]:
    return {"type": "task_update", "id": tid, "title": f"{tid}: lookup", "status": status, **more}


async def start(slack: FakeSlack, client: AsyncWebClient, **args: Any) -> str:
    asked = slack.post_as_user("C0OPS", ALICE, "look things up")
    started = await client.chat_startStream(channel="C0OPS", thread_ts=asked.ts, recipient_user_id=ALICE,
                                            recipient_team_id=slack.team, **args)
    return str(started["ts"])


async def test_a_plan_stream_keeps_its_tasks_and_shows_them_in_one_plan_block(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    ts = await start(slack, client, task_display_mode="plan", chunks=[
        {"type": "plan_update", "title": "Plan: 2 steps"}, task("a", "in_progress"), task("b", "pending")])
    await client.chat_appendStream(channel="C0OPS", ts=ts, chunks=[
        task("a", "complete", output="value of a", details="0.1s"),
        task("b", "pending", details="waiting for approval",
             sources=[{"type": "url", "url": "https://slack.com/archives/C0OPS/p1", "text": "Approval message"}])])
    message = slack.message("C0OPS", ts)
    assert message is not None and message.streaming and message.task_display_mode == "plan"
    [plan] = message.blocks
    assert plan["type"] == "plan" and plan["title"] == "Plan: 2 steps"
    assert [(t["task_id"], t["status"]) for t in plan["tasks"]] == [("a", "complete"), ("b", "pending")]
    assert plan["tasks"][0]["output"]["type"] == "rich_text" and "sources" in plan["tasks"][1]
    assert "[complete] a: lookup — 0.1s — value of a" in message.content
    assert "Approval message <https://slack.com/archives/C0OPS/p1>" in message.content

    feedback = [{"type": "context_actions", "elements": [{
        "type": "feedback_buttons", "action_id": "answer_feedback",
        "positive_button": {"text": {"type": "plain_text", "text": "👍"}, "value": "up:r"},
        "negative_button": {"text": {"type": "plain_text", "text": "👎"}, "value": "down:r"}}]}]
    await client.chat_stopStream(channel="C0OPS", ts=ts, blocks=feedback, chunks=[
        task("b", "complete"), {"type": "plan_update", "title": "Plan: 2 steps — done"},
        {"type": "markdown_text", "text": "Both done."}])
    assert not message.streaming and [c["type"] for c in message.chunks][-3:] == [
        "task_update", "plan_update", "markdown_text"]
    assert [b["type"] for b in message.blocks] == ["plan", "markdown", "context_actions"]
    assert message.blocks[0]["title"] == "Plan: 2 steps — done" and message.text == "Both done."
    assert message.feedback() is not None and not slack.refusals


async def test_a_timeline_stream_shows_a_card_per_task(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    ts = await start(slack, client, chunks=[task("a", "in_progress"), {"type": "markdown_text", "text": "Looking."}])
    message = slack.message("C0OPS", ts)
    assert message is not None and message.task_display_mode == "timeline"
    assert [b["type"] for b in message.blocks] == ["task_card", "markdown"]


@pytest.mark.parametrize(("chunk", "pointer"), [
    ({"type": "thinking", "text": "hm"}, "/chunks/0/type"),
    ({"type": "task_update", "title": "t", "status": "pending"}, "/chunks/0/id"),
    ({"type": "task_update", "id": "a", "status": "pending"}, "/chunks/0/title"),
    ({"type": "task_update", "id": "a", "title": "t"}, "/chunks/0/status"),
    ({"type": "task_update", "id": "a", "title": "t", "status": "done"}, "/chunks/0/status"),
    ({"type": "task_update", "id": "a", "title": "t", "status": "error", "output": "x" * 257}, "/chunks/0/output"),
    ({"type": "task_update", "id": "a", "title": "t", "status": "error", "sources": [{"url": "u"}]},
     "/chunks/0/sources"),
    ({"type": "plan_update"}, "/chunks/0/title"),
    ({"type": "markdown_text", "text": ""}, "/chunks/0/text"),
])
async def test_malformed_chunks_are_refused(slack: FakeSlack, chunk: dict[str, Any], pointer: str) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    asked = slack.post_as_user("C0OPS", ALICE, "hello")
    args = {"channel": "C0OPS", "thread_ts": asked.ts, "recipient_user_id": ALICE, "recipient_team_id": slack.team,
            "task_display_mode": "plan"}
    error, lines = await refused(client.chat_startStream(**args, chunks=[chunk]))
    assert error == "invalid_chunks" and any(f"[json-pointer:{pointer}]" in line for line in lines)
    ts = await start(slack, client, markdown_text="Hi")
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, chunks=[chunk])))[0] == "invalid_chunks"
    assert (await refused(client.chat_stopStream(channel="C0OPS", ts=ts, chunks=[chunk])))[0] == "invalid_chunks"
    message = slack.message("C0OPS", ts)
    assert message is not None and message.streaming and message.chunks == []  # refused calls change nothing


async def test_streams_slack_would_refuse(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    asked = slack.post_as_user("C0OPS", ALICE, "hello")
    args = {"channel": "C0OPS", "thread_ts": asked.ts, "recipient_user_id": ALICE, "recipient_team_id": slack.team}
    error, lines = await refused(client.chat_startStream(**args, task_display_mode="grid"))
    assert error == "invalid_arguments" and "[json-pointer:/task_display_mode]" in lines[0]

    ts = await start(slack, client, markdown_text="x" * 11_000)
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="y" * 1_001)))[0] \
        == "msg_too_long"  # 12,000 characters of Markdown in all
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, chunks=[
        {"type": "markdown_text", "text": "y" * 1_001}])))[0] == "msg_too_long"
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts)))[0] == "invalid_arguments"
    await client.chat_appendStream(channel="C0OPS", ts=ts, markdown_text="y" * 1_000)

    slack.inject("chat.appendStream", status=200, error="msg_too_long")  # as a test makes Slack say it
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, chunks=[task("a", "pending")])))[0] \
        == "msg_too_long"
    [expired] = slack.expire_streams()  # Slack ends a stream left idle
    assert expired.ts == ts and not expired.streaming and len(expired.text) == 12_000
    assert (await refused(client.chat_appendStream(channel="C0OPS", ts=ts, chunks=[task("a", "pending")])))[0] \
        == "message_not_in_streaming_state"
    assert (await refused(client.chat_stopStream(channel="C0OPS", ts=ts)))[0] == "message_not_in_streaming_state"
