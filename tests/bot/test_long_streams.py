"""Long and slow answers: an answer longer than one message streams on in new messages, and so
does one Slack will not take more of (``msg_too_long``) or whose stream Slack ended after a
while (``message_not_in_streaming_state``). No text is lost or shown twice; the last message
ends with the footer and Slack's feedback buttons, whose clicks are recorded as ever."""

from __future__ import annotations

from bot.outbound.answer_surface import ANSWER_EVENT
from bot.views.answer_view import ANSWER_PART_CHARS, MARKDOWN_LIMIT
from tests.bot.chat import ALICE, MEMORY, Thread, chat_with, finish, settle
from tests.bot.test_streamed_answers import ANSWER, LOOK_UP_A, streamed, streaming_bot
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, Message

LONG = "\n\n".join(f"Paragraph {i}: " + "words and more words " * 40 for i in range(30)).strip()


def answer_parts(thread: Thread) -> list[Message]:
    """The bot's messages holding the answer's Markdown, in order."""
    return [m for m in thread.messages() if m.is_from_bot and m.blocks and m.blocks[0].get("type") == "markdown"]


def shown(parts: list[Message]) -> str:
    return "".join(m.blocks[0]["text"] for m in parts)


def assert_one_whole_answer(parts: list[Message]) -> None:
    assert not any(m.streaming for m in parts)
    assert [m.feedback() is not None for m in parts] == [False] * (len(parts) - 1) + [True]
    assert ":stopwatch:" in parts[-1].content and not any(":stopwatch:" in m.content for m in parts[:-1])
    named = [m for m in parts if m.metadata and m.metadata["event_type"] == ANSWER_EVENT]
    assert len(named) == 1  # one of them names the run (a restarted bot finds it answered)


async def test_an_answer_longer_than_a_message_streams_on_in_new_messages(slack: FakeSlack) -> None:
    assert len(LONG) > 2 * ANSWER_PART_CHARS
    with FakeOpenAI([LOOK_UP_A, finish(LONG)], piece=400) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            answer = await thread.answer()
            await settle(app)
            parts = answer_parts(thread)
            assert len(parts) >= 3 and parts[-1] is answer
            assert all(m.appended for m in parts[:-1])  # streamed (the rest, once complete, may be posted)
            assert all(len(m.blocks[0]["text"]) <= ANSWER_PART_CHARS < MARKDOWN_LIMIT for m in parts)
            assert shown(parts) == LONG
            assert_one_whole_answer(parts)
            assert not {c.args.get("ts") for c in slack.calls_of("chat.update")} & {m.ts for m in parts}


async def test_an_append_refused_as_too_long_goes_on_in_a_new_message(slack: FakeSlack) -> None:
    slack.inject("chat.appendStream", status=200, error="msg_too_long", times=1)
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)], piece=6) as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            await thread.answer()
            await settle(app)
            parts = answer_parts(thread)
            assert len(parts) == 2 and shown(parts) == ANSWER
            assert_one_whole_answer(parts)


async def test_a_stream_slack_ended_goes_on_in_a_new_message(slack: FakeSlack) -> None:
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)], piece=6, hold_at="- two") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            alice = chat.person(ALICE)
            thread = await alice.runs("look up a")
            first = await slack.wait_for(lambda: (m := streamed(thread)) and "- one" in m.text and m,
                                         what="the streamed answer, midway")
            assert slack.expire_streams() == [first]  # the model is slow: Slack ends the stream
            held = first.text

            fake.release.set()
            answer = await thread.answer()
            await settle(app)
            parts = answer_parts(thread)
            assert parts[0] is first and first.text == held and answer is parts[-1] and len(parts) >= 2
            assert shown(parts) == ANSWER
            assert_one_whole_answer(parts)
            assert (await chat.driver.feedback(ALICE, answer, "up")).status_code == 200
            await alice.is_told("Thanks for the 👍")


async def test_a_stream_slack_ended_just_before_its_end_is_finished_in_a_new_message(
        slack: FakeSlack) -> None:
    with FakeOpenAI([LOOK_UP_A, finish(ANSWER)], piece=6, hold_at="That is all.") as fake:
        async with streaming_bot(slack, MEMORY, fake) as app, chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            first = await slack.wait_for(lambda: (m := streamed(thread)) and "That is" in m.text and m,
                                         what="all but the last word streamed")
            slack.expire_streams()
            fake.release.set()
            answer = await thread.answer()
            await settle(app)
            parts = answer_parts(thread)
            assert parts == [first, answer] and shown(parts) == ANSWER
            assert_one_whole_answer(parts)
