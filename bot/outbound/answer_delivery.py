"""Putting a run's final answer in its thread, once, whatever became of its stream.

- Streamed and intact: the stream is stopped with the rest of the answer, the footer, the
  feedback buttons and the answer's metadata. If the rest does not fit in the streamed message,
  or Slack ended that message's stream (``message_not_in_streaming_state``, after a long wait),
  the message is stopped as it is and the rest follows in new messages, the last with the
  footer and the feedback buttons: no text is lost, none is shown twice.
- Streamed, but the final answer differs from what was streamed (the joiner fell back to
  another text), or the stream broke midway: the streamed message is replaced with the answer
  (``chat.update``), the messages it went on in are deleted; if Slack will not update it, it is
  deleted too and the answer posted anew.
- Not streamed: posted, as before streaming existed.
(A stream whose run replanned, or ended without an answer, is withdrawn by the notifier
before this: it never becomes the answer.)
A message Slack refuses only for its feedback buttons is sent again without them (logged once).
A post or update Slack refuses for now (rate limited, a server error) is made again, honouring
Retry-After (:func:`bot.ground.poster.retried`); what still fails is reported, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from bot.ground.blocks import Block, notification
from bot.ground.features import Feature, SlackFeatures
from bot.ground.mrkdwn import whole_parts
from bot.ground.poster import RETRY_DELAYS, Sent, SlackPoster, retried
from bot.ground.threads import ThreadRef
from bot.outbound.answer_stream import EXPIRED, AnswerStream
from bot.views import wording as say
from bot.views.answer_view import ANSWER_PART_CHARS, StreamedAnswer, markdown
from bot.views.reply_view import Reply

log = structlog.get_logger(__name__)


def _has_feedback(reply: Reply) -> bool:
    return any(b.get("type") == "context_actions" for b in reply.blocks)


def _plain(reply: Reply) -> Reply:
    return Reply(reply.text, [b for b in reply.blocks if b.get("type") != "context_actions"])


@dataclass(frozen=True)
class Delivered:
    ts: str | None = None
    """The answer's last message (the one with the feedback buttons); None when Slack refused
    its first message."""
    error: str | None = None
    """Why Slack refused a message of it, after the retries; None when all of it was posted."""


class AnswerDelivery:
    def __init__(self, poster: SlackPoster, features: SlackFeatures,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.poster = poster
        self.features = features
        self.retry_delays = retry_delays

    async def deliver(self, thread: ThreadRef, replies: list[Reply], stream: AnswerStream | None,
                      metadata: dict[str, Any], *, streamed: StreamedAnswer | None = None) -> Delivered:
        """Show the replies (the answer, or why there is none): the first carries ``metadata``.
        ``streamed``: the answer whole, to finish its ``stream`` with."""
        if not self.features.available(Feature.FEEDBACK):
            replies = [_plain(r) for r in replies]
            streamed = streamed and StreamedAnswer(streamed.body, _plain(Reply("", streamed.tail)).blocks)
        if stream is not None:
            await stream.settle()
            if stream.segments:
                delivered = await self._finish_stream(thread, stream, replies, streamed, metadata)
                if delivered is not None:
                    return delivered
        return await self._post_all(thread, replies, metadata)

    async def _post_all(self, thread: ThreadRef, replies: list[Reply], metadata: dict[str, Any] | None,
                        first: str | None = None) -> Delivered:
        """Post the replies (after ``first``, the message already showing the first of them)."""
        if first is None:
            sent = await self._post(thread, replies[0], metadata)
            if sent.ts is None:
                return Delivered(error=sent.error)
            first = sent.ts
        last, error = first, None
        for reply in replies[1:]:
            sent = await self._post(thread, reply, None)
            last, error = sent.ts or last, error or sent.error
        return Delivered(last, error)

    async def _finish_stream(self, thread: ThreadRef, stream: AnswerStream, replies: list[Reply],
                             streamed: StreamedAnswer | None, metadata: dict[str, Any]) -> Delivered | None:
        """End the streamed messages as the answer; None when they are gone and the replies
        are to be posted."""
        if streamed is not None and not stream.broken and streamed.body.startswith(stream.sent):
            delivered = await self._complete(thread, stream, streamed, metadata)
            if delivered is not None:
                return delivered
        await stream.abandon()
        first, *others = [segment.ts for segment in stream.segments]
        for ts in others:
            await self.poster.delete(thread.channel, ts)
        sent = await self._edit(thread, first, replies[0], metadata)
        if sent.ok:
            return await self._post_all(thread, replies, None, first=first)
        log.warning("could not put the answer in place of its stream; posting it anew",
                    thread_id=thread.key, error=sent.error)
        await self.poster.delete(thread.channel, first)
        return None

    async def _complete(self, thread: ThreadRef, stream: AnswerStream, streamed: StreamedAnswer,
                        metadata: dict[str, Any]) -> Delivered | None:
        """Add what the stream has not shown yet to the streamed messages and new ones after
        them; None when Slack refused the stream's end (the messages are then replaced)."""
        rest = streamed.body[len(stream.sent):]
        last = stream.segments[-1]
        fits = last.open and len(last.text) + len(rest) <= stream.part_chars
        error = await stream.finish(rest if fits else "", streamed.tail if fits else [], metadata)
        if error is None and fits:
            return Delivered(last.ts)
        if error is not None and error != EXPIRED:
            return None
        # the rest goes on in new messages (the first names the run if the stream's end could not)
        parts = whole_parts(rest, ANSWER_PART_CHARS) if rest.strip() else []
        tail = Reply(notification(say.ANSWER_ENDS), streamed.tail)
        continued = [Reply(notification(part), [markdown(part)]) for part in parts] or [tail]
        if parts:
            continued[-1] = Reply(continued[-1].text, continued[-1].blocks + streamed.tail)
        return await self._post_all(thread, continued, metadata if error else None)

    async def _post(self, thread: ThreadRef, reply: Reply, metadata: dict[str, Any] | None) -> Sent:
        async def post(blocks: list[Block]) -> Sent:
            return await retried(lambda: self.poster.send(
                thread.channel, reply.text, blocks, thread_ts=thread.root_ts, metadata=metadata),
                self.retry_delays)
        sent = await post(reply.blocks)
        if self._feedback_refused(sent, reply):
            sent = await post(_plain(reply).blocks)
        return sent

    async def _edit(self, thread: ThreadRef, ts: str, reply: Reply, metadata: dict[str, Any]) -> Sent:
        async def edit(blocks: list[Block]) -> Sent:
            return await retried(lambda: self.poster.edit(thread.channel, ts, reply.text, blocks,
                                                          metadata=metadata), self.retry_delays)
        sent = await edit(reply.blocks)
        if self._feedback_refused(sent, reply):
            sent = await edit(_plain(reply).blocks)
        return sent

    def _feedback_refused(self, sent: Sent, reply: Reply) -> bool:
        """Slack refused the blocks of a message with feedback buttons: from now on, none."""
        if sent.error != "invalid_blocks" or not _has_feedback(reply):
            return False
        self.features.refused(Feature.FEEDBACK, "invalid_blocks_with_feedback_buttons")
        return True
