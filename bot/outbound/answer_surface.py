"""A run's answer in its thread: streamed while the joiner writes it, then delivered once.

The joiner's text is streamed into the thread as it grows (:mod:`bot.outbound.answer_stream`);
a stream whose run replans, or ends without an answer (failed, cancelled), is withdrawn: its
message deleted, or edited to say it was withdrawn. When the run ends, its answer (or why there
is none) is delivered (:mod:`bot.outbound.answer_delivery`), unless the process the run began
in delivered it before it died. An answer Slack keeps refusing is said on the status message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from agent.events import AnswerDelta, AnswerReady, PlanReady, Replanning, RunEvent, RunFailed
from bot.ground.features import SlackFeatures
from bot.ground.poster import SlackPoster
from bot.outbound.answer_delivery import AnswerDelivery, Delivered
from bot.outbound.answer_stream import AnswerStream
from bot.outbound.surface import RunTracker, SessionStatusOf, no_session
from bot.store import AnswerLog, AnswerMessage
from bot.views.answer_view import StreamedAnswer, answer_messages, streamed_answer, withdrawn_answer
from bot.views.progress_view import Phase
from bot.views.reply_view import Reply, failure_replies

log = structlog.get_logger(__name__)

ANSWER_EVENT = "dagbot_answer"
"""The metadata event type of a run's first reply (its payload names the run)."""


class AnswerSurface:
    """:class:`~bot.outbound.surface.RunSurface`: the streamed answer and the delivered one."""

    def __init__(self, *, poster: SlackPoster, store: AnswerLog, features: SlackFeatures,
                 show_status: Callable[[RunTracker], None], answer_note: str = "",
                 stream_answers: bool = True, stream_interval: float = 1.0,
                 clock: Callable[[], float] = time.time,
                 session_status: SessionStatusOf = no_session) -> None:
        self.poster = poster
        self.store = store
        self.session_status = session_status
        self.features = features
        self.show_status = show_status
        """Shows a run's status message again (where an answer Slack refused is said)."""
        self.answer_note = answer_note
        self.stream_answers = stream_answers
        self.stream_interval = stream_interval
        self.clock = clock
        self.delivery = AnswerDelivery(poster, features)

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        if run is None:
            return
        match event:
            case AnswerDelta(text=text):
                self._stream(run, text)
            case Replanning():  # text streamed before the model called `replan` is no answer
                await self._withdraw(run)
            case PlanReady(added=(_, *_)):  # nor a draft whose values dagbot now computes
                await self._withdraw(run)
            case AnswerReady(answer=answer):
                note, run_id = self.answer_note, run.run_id
                await self._finish(run, answer_messages(answer, run.progress, note, run_id=run_id),
                                   answer=streamed_answer(answer, run.progress, note, run_id=run_id))
            case RunFailed(error=error):
                cancelled = run.progress.phase is Phase.CANCELLED
                await self._finish(run, [] if cancelled else failure_replies(error, run.progress))

    def _stream(self, run: RunTracker, text: str) -> None:
        if not self.stream_answers or run.adopted:
            return
        if run.stream is None:
            run.stream = AnswerStream(self.poster.client, run.thread, run.progress.requested_by,
                                      self.features, interval=self.stream_interval,
                                      people=run.progress.people(),
                                      session_status=lambda: self.session_status(run.thread, run.progress))
        run.stream.offer(text)

    async def _finish(self, run: RunTracker, replies: list[Reply], *,
                      answer: StreamedAnswer | None = None) -> None:
        """The run ended: its answer (``answer``) or the failure shown."""
        answered = answer is not None
        thread, mark = run.thread, {"run_id": run.run_id}
        if replies and run.adopted and await self.poster.thread_has(
                thread.channel, thread.root_ts, ANSWER_EVENT, mark):
            replies = []  # the process it began in answered, then died before recording that
        metadata = {"event_type": ANSWER_EVENT, "event_payload": mark}
        delivered = Delivered()
        if answered and replies:
            delivered = await self.delivery.deliver(thread, replies, run.stream, metadata, streamed=answer)
            if delivered.ts is not None:
                await self.store.save_answer(AnswerMessage(
                    run_id=run.run_id, thread_key=thread.key, channel=thread.channel, ts=delivered.ts,
                    requested_by=run.progress.requested_by, answered_at=self.clock()))
        else:
            await self._withdraw(run)  # e.g. cancelled while the answer was being written
            if replies:
                delivered = await self.delivery.deliver(thread, replies, None, metadata)
        if delivered.error is not None:  # the status message says so, for want of a better place
            log.error("Slack refused the run's reply, even after retries", thread_id=thread.key,
                      run_id=run.run_id, answered=answered, error=delivered.error)
            run.progress.undelivered = delivered.error
            self.show_status(run)

    async def _withdraw(self, run: RunTracker) -> None:
        """Take a streamed answer that will not be the answer out of the thread: the stream is
        stopped and its message deleted (if Slack will not delete it, it is edited to say it
        was withdrawn). Later deltas of the run start a new stream."""
        stream, run.stream = run.stream, None
        if stream is None:
            return
        await stream.settle()
        await stream.abandon()
        for segment in stream.segments:
            if not await self.poster.delete(run.thread.channel, segment.ts):
                text, blocks = withdrawn_answer()
                await self.poster.edit(run.thread.channel, segment.ts, text, blocks)
