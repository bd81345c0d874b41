"""Putting a run's final answer in its thread, once, whatever became of its stream.

- Streamed and intact: the stream is stopped with the rest of the answer, the footer, the
  feedback buttons and the answer's metadata.
- Streamed, but the final answer differs from what was streamed (the joiner fell back to
  another text), is too long for one message, or the stream broke midway: the streamed
  message is replaced with the answer (``chat.update``); if Slack will not, it is deleted
  and the answer posted anew.
- Not streamed: posted, as before streaming existed.
(A stream whose run replanned, or ended without an answer, is withdrawn by the notifier
before this: it never becomes the answer.)
A message Slack refuses only for its feedback buttons is sent again without them (logged once).
A post or update Slack refuses for now (rate limited, a server error) is made again, honouring
Retry-After (:func:`bot.poster.retried`); what still fails is reported, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from bot.answer_stream import AnswerStream
from bot.blocks import Block
from bot.features import Feature, SlackFeatures
from bot.poster import RETRY_DELAYS, Sent, SlackPoster, retried
from bot.reply_view import Reply
from bot.threads import ThreadRef

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
                      metadata: dict[str, Any]) -> Delivered:
        """Show the replies (the answer, or why there is none): the first carries ``metadata``."""
        if not self.features.available(Feature.FEEDBACK):
            replies = [_plain(r) for r in replies]
        first: str | None = None
        if stream is not None:
            await stream.settle()
            if stream.ts is not None:
                first = await self._finish_stream(thread, stream, replies, metadata)
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
                             metadata: dict[str, Any]) -> str | None:
        assert stream.ts is not None
        reply = replies[0]
        body = str(reply.blocks[0].get("text") or "")
        if len(replies) == 1 and body.startswith(stream.sent) \
                and await stream.finish(body[len(stream.sent):], reply.blocks[1:], metadata):
            return stream.ts
        await stream.abandon()
        sent = await self._edit(thread, stream.ts, reply, metadata)
        if sent.ok:
            return stream.ts
        log.warning("could not put the answer in place of its stream; posting it anew",
                    thread_id=thread.key, error=sent.error)
        await self.poster.delete(thread.channel, stream.ts)
        return None

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
