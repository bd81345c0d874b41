"""bot.outbound.answer_stream and bot.outbound.answer_delivery on their own: the answer streamed into
a thread of the emulated Slack and delivered once, through a real AsyncWebClient (no engine, no
database)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.blocks import Block
from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.outbound.answer_delivery import AnswerDelivery, Delivered
from bot.outbound.answer_stream import AnswerStream
from bot.views.answer_view import StreamedAnswer, feedback_block, markdown
from bot.views.reply_view import Reply
from tests.bot.chat import ALICE, OPS
from tests.fakes.slack_api import FakeSlack, Message

FOOTER: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": "took 1s"}]}
TAIL: list[Block] = [FOOTER, feedback_block("run-1")]
META = {"event_type": "dagbot_answer", "event_payload": {"run_id": "run-1"}}
NO_WAIT = (0.0, 0.0, 0.0)


@dataclass
class Setup:
    slack: FakeSlack
    thread: ThreadRef
    features: SlackFeatures
    poster: SlackPoster
    delivery: AnswerDelivery

    def stream(self, part_chars: int = 11_500) -> AnswerStream:
        return AnswerStream(self.poster.client, self.thread, ALICE, self.features, interval=0.01,
                            part_chars=part_chars)

    def replies(self) -> list[Message]:
        return [m for m in self.slack.thread(OPS, self.thread.root_ts) if m.is_from_bot]


@pytest.fixture
def setup(slack: FakeSlack) -> Setup:
    root = slack.post_as_user(OPS, ALICE, "what is up?")
    features = SlackFeatures()
    poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
    return Setup(slack, ThreadRef(slack.team, OPS, root.ts), features, poster,
                 AnswerDelivery(poster, features, retry_delays=NO_WAIT))


def answer_replies(body: str) -> list[Reply]:
    return [Reply(body, [markdown(body), *TAIL])]


def markdown_of(message: Message) -> str:
    return "".join(b["text"] for b in message.blocks if b.get("type") == "markdown")


async def streamed(setup: Setup, stream: AnswerStream, text: str) -> None:
    """Offer the answer word by word, as the joiner writes it, until Slack shows what may be sent."""
    words = text.split(" ")
    for count in range(1, len(words) + 1):
        stream.offer(" ".join(words[:count]))
    held_back = text[:text.rfind(" ") + 1]  # (the last word may still change)
    await setup.slack.wait_for(lambda: stream.sent == held_back or None, within=10,
                               what=f"the stream to show {held_back!r}; it shows {stream.sent!r}")


async def test_a_streamed_answer_is_finished_in_place_with_its_footer_feedback_and_metadata(setup: Setup) -> None:
    body = "The service is up and serving requests."
    stream = setup.stream()
    await streamed(setup, stream, body)
    assert [m.streaming for m in setup.replies()] == [True]

    delivered = await setup.delivery.deliver(setup.thread, answer_replies(body), stream, META,
                                             streamed=StreamedAnswer(body, TAIL))

    (message,) = setup.replies()
    assert delivered == Delivered(ts=message.ts)
    assert not message.streaming and message.text == body  # the held-back last word came with the end
    assert message.blocks[-2:] == TAIL and message.metadata == META
    assert not setup.slack.calls_of("chat.postMessage") and not setup.slack.calls_of("chat.update")


async def test_a_long_answer_streams_over_several_messages_that_add_up_to_it_once(setup: Setup) -> None:
    body = " ".join(f"word{n:02d}" for n in range(30)) + "."
    stream = setup.stream(part_chars=40)
    await streamed(setup, stream, body)

    delivered = await setup.delivery.deliver(setup.thread, answer_replies(body), stream, META,
                                             streamed=StreamedAnswer(body, TAIL))

    messages = setup.replies()
    assert len(messages) >= 5 and all(len(m.text) <= 40 for m in messages)
    assert "".join(m.text for m in messages) == body  # nothing lost, nothing twice
    assert not any(m.streaming for m in messages)
    assert delivered.ts == messages[-1].ts and delivered.error is None
    assert [m.blocks[-1] == TAIL[-1] for m in messages] == [False] * (len(messages) - 1) + [True]


async def test_a_stream_slack_ended_goes_on_in_a_new_message_that_names_the_run(setup: Setup) -> None:
    body = "First the streamed part, then the rest."
    stream = setup.stream()
    await streamed(setup, stream, body)
    (first,) = setup.slack.expire_streams()  # a long approval wait: Slack ended the stream

    delivered = await setup.delivery.deliver(setup.thread, answer_replies(body), stream, META,
                                             streamed=StreamedAnswer(body, TAIL))

    old, new = setup.replies()
    assert old.ts == first.ts and old.text == "First the streamed part, then the "
    assert markdown_of(new) == "rest." and new.blocks[-2:] == TAIL
    assert new.metadata == META  # the streamed message could not take it
    assert delivered == Delivered(ts=new.ts)


async def test_a_final_answer_unlike_the_stream_replaces_it_and_drops_its_other_messages(setup: Setup) -> None:
    stream = setup.stream(part_chars=20)
    await streamed(setup, stream, "a draft that the joiner will not keep at all")
    assert len(stream.segments) >= 2
    final = "Something else entirely."

    delivered = await setup.delivery.deliver(setup.thread, answer_replies(final), stream, META,
                                             streamed=StreamedAnswer(final, TAIL))

    (message,) = setup.replies()
    assert message.ts == stream.segments[0].ts and delivered == Delivered(ts=message.ts)
    assert markdown_of(message) == final and message.blocks[-2:] == TAIL and message.metadata == META
    assert not message.streaming
    assert len(setup.slack.calls_of("chat.delete")) == len(stream.segments) - 1


async def test_where_streaming_is_unavailable_the_answer_is_posted_whole_and_streaming_stays_off(
        setup: Setup) -> None:
    setup.slack.stream_error = "missing_scope"
    body = "Posted in one go."
    stream = setup.stream()
    stream.offer(body + " more")
    await setup.slack.wait_for(lambda: stream.broken or None, within=10, what="the stream to break")
    assert not setup.features.available(Feature.STREAMING)
    assert not setup.stream().usable  # the next run does not even try

    delivered = await setup.delivery.deliver(setup.thread, answer_replies(body), stream, META,
                                             streamed=StreamedAnswer(body, TAIL))

    (message,) = setup.replies()
    assert delivered == Delivered(ts=message.ts)
    assert markdown_of(message) == body and message.metadata == META


async def test_feedback_buttons_slack_refuses_are_dropped_for_good_and_the_answer_still_posted(
        setup: Setup) -> None:
    setup.slack.inject("chat.postMessage", status=200, error="invalid_blocks",
                       when=lambda args: "context_actions" in str(args.get("blocks")))
    replies = [Reply("part one", [markdown("part one")]), Reply("part two", [markdown("part two"), *TAIL])]

    delivered = await setup.delivery.deliver(setup.thread, replies, None, META)

    one, two = setup.replies()
    assert (markdown_of(one), markdown_of(two)) == ("part one", "part two")
    assert one.metadata == META and two.metadata is None
    assert two.blocks[-1] == FOOTER  # the footer stays, the buttons go
    assert delivered == Delivered(ts=two.ts)
    assert not setup.features.available(Feature.FEEDBACK)
    await setup.delivery.deliver(setup.thread, answer_replies("again"), None, META)
    assert "context_actions" not in str(setup.slack.calls_of("chat.postMessage")[-1].args)


async def test_posts_slack_refuses_for_now_are_retried_and_a_lasting_refusal_is_reported(setup: Setup) -> None:
    setup.slack.inject("chat.postMessage", times=2, status=429, retry_after=0)
    delivered = await setup.delivery.deliver(setup.thread, answer_replies("after a wait"), None, META)
    (message,) = setup.replies()
    assert delivered == Delivered(ts=message.ts) and len(setup.slack.calls_of("chat.postMessage")) == 3

    setup.slack.inject("chat.postMessage", times=10, status=200, error="msg_too_long",
                       when=lambda args: "second" in str(args.get("text")))
    replies = [Reply("first", [markdown("first")]), Reply("second", [markdown("second")])]
    delivered = await setup.delivery.deliver(setup.thread, replies, None, META)
    first = setup.replies()[-1]
    assert delivered == Delivered(ts=first.ts, error="msg_too_long")  # told, not dropped silently

    setup.slack.inject("chat.postMessage", times=10, status=200, error="channel_not_found")
    assert await setup.delivery.deliver(setup.thread, replies, None, META) == Delivered(error="channel_not_found")
