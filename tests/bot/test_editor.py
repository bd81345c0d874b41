"""The status editor coalesces edits and rides out 429s with the newest content."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.app import web_client
from bot.config import BotConfig
from bot.outbound.coalesced_edits import MessageEditor
from tests.fakes.slack_api import FakeSlack


def section(text: str) -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


async def test_many_shows_become_few_edits_ending_with_the_newest(slack: FakeSlack) -> None:
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url))
    ts = (await client.chat_postMessage(channel="C0OPS", text="start"))["ts"]
    editor = MessageEditor(client, "C0OPS", ts, interval=0.3)
    for i in range(20):
        editor.show(f"v{i}", section(f"v{i}"))
        await asyncio.sleep(0.01)
    await editor.settled()
    message = slack.message("C0OPS", ts)
    assert message is not None and message.content == "v19"
    assert 1 <= len(slack.calls_of("chat.update")) <= 3


async def test_rate_limits_delay_but_do_not_lose_the_final_content(slack: FakeSlack) -> None:
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url, rate_limit_retries=0))
    ts = (await client.chat_postMessage(channel="C0OPS", text="start"))["ts"]
    slack.inject("chat.update", times=2, retry_after=0)
    editor = MessageEditor(client, "C0OPS", ts, interval=0.05)
    editor.show("first", section("first"))
    await asyncio.sleep(0.01)
    editor.show("final", section("final"))
    await editor.settled()
    message = slack.message("C0OPS", ts)
    assert message is not None and message.content == "final"
    assert [c.status for c in slack.calls_of("chat.update")] == [429, 429, 200]


async def test_a_deleted_message_stops_the_editor(slack: FakeSlack) -> None:
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url))
    editor = MessageEditor(client, "C0OPS", "1.000000", interval=0.05)
    editor.show("x", section("x"))
    await editor.settled()
    assert len(slack.calls_of("chat.update")) == 1



class _ClosedSessionClient(AsyncWebClient):
    """What aiohttp raises for a request on a session closed under it (the client's retry of a
    dropped connection, at shutdown)."""

    async def chat_update(self, **kwargs: Any) -> AsyncSlackResponse:
        raise RuntimeError("Session is closed")


async def test_an_edit_after_the_slack_session_closed_ends_quietly() -> None:
    """The flusher ends; it leaves no task whose exception nobody retrieves (collected, such a
    task logs a traceback, at any moment)."""
    editor = MessageEditor(_ClosedSessionClient(token="xoxb-test"), "C0OPS", "1.000000", interval=0.05)
    editor.show("late", section("late"))
    await editor.settled()
    flusher = editor._flusher
    assert flusher is not None and flusher.done() and flusher.exception() is None
    assert editor.edits == 0
