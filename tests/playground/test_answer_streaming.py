"""An example's answer streams into its thread as in Slack: the demo model writes it a few words
at a time, the real bot streams it (chat.startStream, chat.appendStream, chat.stopStream) and
the emulated Slack shows it growing, then whole with its footer and feedback buttons."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from infra.playground.app import Playground
from infra.playground.demo.examples import by_key
from tests.playground.conftest import Channel, Person, text_of

pytestmark = pytest.mark.timeout(120)

STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


def stream_calls(playground: Playground) -> list[tuple[str, dict[str, Any]]]:
    """The answer's stream calls the bot made, in order, each with its arguments and
    ``_response`` (not those of the plan's stream, in plan display mode)."""
    calls = [call for call in playground.slack.calls if call.method in STREAM_METHODS]
    plans = {call.answer.get("ts") for call in calls if call.args.get("task_display_mode") == "plan"}
    return [(call.method, {**call.args, "_response": call.answer}) for call in calls
            if call.answer.get("ts") not in plans and call.args.get("ts") not in plans]


def record_shown(playground: Playground) -> list[dict[str, Any]]:
    """Every message the page is shown (each version of each), in order."""
    shown: list[dict[str, Any]] = []

    def showing(event: dict[str, Any]) -> None:
        if event.get("type") == "message":
            shown.append(event["message"])

    playground.slack.watchers.append(showing)
    return shown


async def test_the_answer_streams_in_then_stops_with_its_footer(
        playground: Playground, alice: Person, channel: Channel) -> None:
    shown = record_shown(playground)
    await alice.send(f"/agent {by_key('parallel').request}")
    root = await channel.root_for("How are our services doing")
    answer = await channel.answer_in(root)

    streamed = stream_calls(playground)
    methods = [method for method, _ in streamed]
    assert methods[0] == "chat.startStream" and methods[-1] == "chat.stopStream", methods
    assert methods.count("chat.startStream") == methods.count("chat.stopStream") == 1
    assert methods.count("chat.appendStream") >= 1, "the answer came whole, not streamed"
    assert all(args["_response"]["ok"] for _, args in streamed)
    start, *_, stop = (args for _, args in streamed)
    assert start["thread_ts"] == root.ts and start["recipient_user_id"] == alice.user
    assert {args["ts"] for _, args in streamed[1:]} == {start["_response"]["ts"]} == {answer.ts}

    # the pieces, in order, are the answer's Markdown; the stop adds the footer and the buttons
    written = "".join(str(args.get("markdown_text") or "") for _, args in streamed)
    assert answer.blocks[0] == {"type": "markdown", "text": written}
    assert "checkout: **degraded**" in written and "INC-142" in written
    assert ":stopwatch:" in text_of(answer) and any(b["type"] == "context_actions" for b in stop["blocks"])
    assert not answer.streaming and not answer.edited
    assert not [m for m in channel.thread(root.ts) if m.is_from_bot and "degraded" in text_of(m) and m is not answer]
    assert not playground.slack.refusals

    # the page saw it grow while streaming, then stopped
    versions = [m for m in shown if m["ts"] == answer.ts]
    growing = [m["text"] for m in versions if m["streaming"]]
    assert len(growing) >= 2 and all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(growing))
    assert not versions[-1]["streaming"] and versions[-1]["text"] == written
