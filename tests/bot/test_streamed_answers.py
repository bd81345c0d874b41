"""Answers stream into the thread as the joiner writes them (chat.startStream / appendStream /
stopStream), rendered as Markdown, and fall back to one message wherever streaming is not
available or breaks: the final answer is shown once, whatever happened to its stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.answer.facts import INTRO as FACTS_INTRO
from bot.outbound.answer_surface import ANSWER_EVENT
from bot.views.answer_view import ANSWER_PART_CHARS, MARKDOWN_LIMIT
from infra.emulators.openai_wire import ModelReply
from tests.bot.chat import ALICE, MEMORY, OPS, RunningBot, Thread, chat_with, finish, running_bot, settle
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, Message

LOOK_UP_A = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
ANSWER = ("The value of **a** is `value of a`.\n\n```\nprint('code stays whole')\n```\n"
          "- one\n- two\n\nThat is all.")


@asynccontextmanager
async def streaming_bot(slack: FakeSlack, database_url: str, fake: FakeOpenAI,
                        **config: Any) -> AsyncIterator[RunningBot]:
    model = ChatOpenAI(model="fake", base_url=fake.url, api_key=SecretStr("unused"), max_retries=0)
    async with running_bot(slack, database_url, [], model=model, stream_interval_seconds=0.05,
                           **config) as app:
        yield app


def streamed(thread: Thread) -> Message | None:
    return next((m for m in thread.messages() if m.is_from_bot and (m.streaming or m.appended)), None)


def answer_calls(slack: FakeSlack, thread: Thread) -> list[str]:
    """The Web API methods that touched the answer, in order."""
    names = ("chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update", "chat.delete")
    return [c.method for c in slack.calls if c.method in names and c.status == 200
            and c.args.get("channel") == thread.channel
            and (c.method != "chat.update" or any(b.get("type") == "markdown" for b in c.args.get("blocks") or []))]


async def test_the_answer_streams_into_the_thread_and_ends_with_its_footer_and_feedback(
        slack: FakeSlack) -> None:
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)], piece=6, hold_at="- two") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")

            # mid-answer: part of it is in the thread, streaming, for alice; no footer yet
            message = await slack.wait_for(
                lambda: (m := streamed(thread)) and "- one" in m.text and m, what="the streamed answer")
            assert message.streaming and ANSWER.startswith(message.text) and len(message.text) < len(ANSWER)
            assert thread.answers() == []
            start = slack.calls_of("chat.startStream")[0].args
            assert (start["recipient_user_id"], start["recipient_team_id"]) == (ALICE, slack.team)
            assert start["thread_ts"] == thread.root_ts

            fake.release.set()
            answer = await thread.answer()
            assert answer is message and not answer.streaming  # the same message, finished in place
            assert answer.text == ANSWER and len(answer.appended) > 2
            assert answer.blocks[0] == {"type": "markdown", "text": ANSWER}
            assert ":stopwatch:" in answer.content and answer.feedback() is not None
            assert answer.metadata is not None and answer.metadata["event_type"] == ANSWER_EVENT
            calls = answer_calls(slack, thread)
            assert calls[0] == "chat.startStream" and calls[-1] == "chat.stopStream"
            assert set(calls[1:-1]) == {"chat.appendStream"}
            await settle(app)
            assert len([m for m in thread.messages() if m.is_from_bot and "value of a" in m.content]) == 1


async def test_where_streaming_is_unavailable_the_answer_is_posted_whole_and_not_streamed_again(
        slack: FakeSlack) -> None:
    slack.stream_error = "missing_scope"
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER), LOOK_UP_A, finish("again")]) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            alice = chat.person(ALICE)
            thread = await alice.runs("look up a")
            answer = await thread.answer()
            assert answer.blocks[0] == {"type": "markdown", "text": ANSWER} and not answer.appended
            assert answer.feedback() is not None

            # the app cannot stream: it does not try again (and says so once in its log)
            await alice.replies(thread, "once more")
            assert "again" in (await thread.answer(1)).content
            assert len(slack.calls_of("chat.startStream")) == 1
            assert "chat.appendStream" not in {c.method for c in slack.calls}


async def test_streaming_switched_off_posts_answers_whole(slack: FakeSlack) -> None:
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)]) as fake:
        async with streaming_bot(slack, MEMORY, fake, stream_answers=False) as app, \
                chat_with(slack, app) as chat:
            answer = await (await chat.person(ALICE).runs("look up a")).answer()
            assert answer.text == ANSWER and slack.calls_of("chat.startStream") == []


async def test_a_stream_that_breaks_midway_is_replaced_by_the_whole_answer_once(
        slack: FakeSlack) -> None:
    # Slack refuses the appends for a reason more text will not help (a stream Slack ended, or
    # one too long, goes on in a new message instead: tests/bot/test_long_streams.py)
    slack.inject("chat.appendStream", status=200, error="internal_error", times=100)
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)], piece=6) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            answer = await thread.answer()
            await settle(app)
            assert answer.text == ANSWER and answer.blocks[0]["text"] == ANSWER
            assert answer.appended and len(answer.appended[0]) < len(ANSWER)  # it had begun streaming
            assert answer.metadata is not None and answer.metadata["event_payload"]["run_id"]
            assert answer_calls(slack, thread) == ["chat.startStream", "chat.appendStream", "chat.stopStream",
                                                   "chat.update"]
            assert len(thread.answers()) == 1


async def test_an_answer_that_differs_from_its_stream_replaces_it(slack: FakeSlack) -> None:
    # the model's stream breaks midway: the joiner falls back to listing the results, which is
    # what the thread must end up showing
    with FakeOpenAI([LOOK_UP_A, finish("A streamed draft that will not count.")], piece=5,
                    break_at="not count") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            answer = await thread.answer()
            await settle(app)
            assert answer.appended and "streamed draft" in "".join(answer.appended)
            assert "streamed draft" not in answer.content
            assert answer.text.startswith(FACTS_INTRO)
            assert answer_calls(slack, thread)[-2:] == ["chat.stopStream", "chat.update"]
            assert len(thread.answers()) == 1


async def test_a_streamed_answer_that_misstates_a_step_is_replaced_by_dagbots_own(
        slack: FakeSlack) -> None:
    """Streamed answers are held to the results before they are final (issue 43): the model
    streams a step that failed as done, with content no step read; the thread ends with
    dagbot's own reply, which says the step failed."""
    broken = {"nodes": [{"id": "admins", "tool": "broken", "args": {"key": "admins"}}]}
    invented = '- admins: done → {"path": "admins.txt", "content": "alice, bob, carol"}'
    with FakeOpenAI([broken, finish(invented)], piece=5) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("who are the admins?")
            answer = await thread.answer()
            await settle(app)
            assert answer.text.startswith(FACTS_INTRO[:-1])
            assert "`admins` (broken): failed" in answer.text
            assert "alice, bob" not in answer.content and "admins: done" not in answer.content
            assert len(thread.answers()) == 1


@pytest.mark.parametrize("deletable", [True, False], ids=["deleted", "edited"])
async def test_a_draft_streamed_before_the_model_calls_replan_is_withdrawn(
        slack: FakeSlack, deletable: bool) -> None:
    if not deletable:
        slack.inject("chat.delete", status=200, error="cant_delete_message", times=100)
    draft = ModelReply(text="A draft that will not count.",
                       calls=ModelReply.call("replan", {"feedback": "look up a again"}).calls)
    with FakeOpenAI([LOOK_UP_A, draft, LOOK_UP_A, finish(ANSWER)], piece=5, hold_at="not count") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            shown = await slack.wait_for(
                lambda: (m := streamed(thread)) and "will not" in m.text and m, what="the streamed draft")
            assert shown.streaming

            fake.release.set()  # the model goes on: it calls `replan`
            answer = await thread.answer()
            await settle(app)
            assert answer.ts != shown.ts and answer.text == ANSWER and len(thread.answers()) == 1
            drafts = [m for m in thread.messages() if m.is_from_bot and "draft" in m.content]
            if deletable:
                assert slack.message(thread.channel, shown.ts) is None and drafts == []
            else:  # Slack kept it: it says it was withdrawn, and no longer shows the draft
                withdrawn = slack.message(thread.channel, shown.ts)
                assert withdrawn is not None and drafts == [withdrawn]
                assert "withdrawn" in withdrawn.content and "will not" not in withdrawn.content
                assert not withdrawn.streaming and withdrawn.feedback() is None
            # the draft's stream was stopped and withdrawn before the new plan's answer streamed
            calls = answer_calls(slack, thread)
            withdrawn_at = calls.index("chat.delete")
            assert calls[:withdrawn_at][-1] == "chat.stopStream"
            assert calls[withdrawn_at + 1:].count("chat.startStream") == 1
            assert ANSWER.startswith(slack.calls_of("chat.startStream")[-1].args["markdown_text"])


async def test_a_draft_stating_a_value_no_result_holds_is_withdrawn_while_dagbot_computes_it(
        slack: FakeSlack) -> None:
    draft = "The values add up to 1,234."
    with FakeOpenAI([LOOK_UP_A, finish(draft), finish(ANSWER)], piece=5) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("add up the values of a")
            answer = await thread.answer()
            await settle(app)
            assert answer.text == ANSWER and len(thread.answers()) == 1  # (its failed try at the value is no step to tell)
            assert [m for m in thread.messages() if m.is_from_bot and "1,234" in m.content] == []
            calls = answer_calls(slack, thread)
            withdrawn_at = calls.index("chat.delete")
            assert calls[:withdrawn_at].count("chat.startStream") == 1 and calls[withdrawn_at - 1] == "chat.stopStream"
            assert calls[withdrawn_at + 1:].count("chat.startStream") == 1


async def test_a_long_answer_is_split_at_slacks_limits_without_breaking_code_blocks(
        slack: FakeSlack) -> None:
    code = "\n".join(f"line_{i} = {i} * 2  # some commentary to make it long" for i in range(400))
    long = "Intro paragraph.\n\n```python\n" + code + "\n```\n\nAnd the end."
    assert len(long) > ANSWER_PART_CHARS
    async with running_bot(slack, MEMORY, [LOOK_UP_A, finish(long)]) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a")
        await thread.answer()
        await settle(app)
        parts = [m for m in thread.messages() if m.is_from_bot and m.blocks
                 and m.blocks[0].get("type") == "markdown"]
        assert len(parts) >= 2
        texts = [m.blocks[0]["text"] for m in parts]
        assert all(len(t) <= MARKDOWN_LIMIT and t.count("```") % 2 == 0 for t in texts)
        assert [m.feedback() is not None for m in parts] == [False] * (len(parts) - 1) + [True]
        assert parts[0].metadata is not None  # the first part names the run
        rebuilt = "".join(t.replace("```python\n", "").replace("```", "") for t in texts)
        assert all(f"line_{i} = {i} * 2" in rebuilt for i in range(400))


async def test_answers_are_not_streamed_where_the_model_does_not_stream(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP_A, finish(ANSWER)]) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a")
        assert (await thread.answer()).text == ANSWER
        await asyncio.sleep(0)
        assert slack.calls_of("chat.startStream") == [] and thread.channel == OPS
