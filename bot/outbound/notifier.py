"""Run events → Slack: the status message, approval messages and the final answer.

Events arrive on one queue from the engine's bus and are handed to one lane per
thread, so a thread's messages change in event order while threads proceed in
parallel. Status edits go through a :class:`MessageEditor` (coalesced, 429-aware);
approval messages are posted at once and closed once, when they reach a final state, by
:class:`~bot.outbound.approval_messages.ApprovalMessages`; answers are streamed and delivered
by :mod:`bot.outbound.answer_stream` and :mod:`bot.outbound.answer_delivery`. Where Slack
streams, the plan's nodes are shown as tasks in a streamed message of their own
(:mod:`bot.outbound.plan_stream`) and the status message keeps its heading and Cancel;
elsewhere, or once the stream is refused, the status message lists the nodes.
A run whose status message was posted by an earlier process is rebuilt from the
engine's checkpointed state, so a restarted bot picks up where the old one stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from agent.engine.engine import Engine
from agent.events import (
    AnswerDelta,
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    NodeRejected,
    Planning,
    Replanning,
    RunEvent,
    RunFailed,
)
from agent.ports.stores import ApprovalStore
from bot.ground.background_tasks import TaskSet
from bot.ground.features import SlackFeatures
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef, is_slack_thread, permalink
from bot.outbound.agent_sessions import AgentSessions
from bot.outbound.answer_delivery import AnswerDelivery, Delivered
from bot.outbound.answer_stream import AnswerStream
from bot.outbound.approval_messages import ApprovalMessages
from bot.outbound.assistant import AssistantPane
from bot.outbound.coalesced_edits import MessageEditor
from bot.outbound.plan_stream import AppendPacer, PlanStream
from bot.store import AnswerMessage, BotStore, StatusMessage
from bot.views.answer_view import StreamedAnswer, answer_messages, streamed_answer, withdrawn_answer
from bot.views.progress_view import Phase, RunProgress
from bot.views.reply_view import Reply, failure_replies
from bot.views.status_view import render_queued_cancelled, render_status

log = structlog.get_logger(__name__)

LANE_IDLE_SECONDS = 30.0

ANSWER_EVENT = "dagbot_answer"
"""The metadata event type of a run's first reply (its payload names the run)."""


@dataclass
class RunTracker:
    run_id: str
    thread: ThreadRef
    message: StatusMessage
    progress: RunProgress
    editor: MessageEditor
    adopted: bool = False
    """The run began in another process (which may have died after answering it)."""
    stream: AnswerStream | None = None
    """The answer, streamed into the thread while the joiner writes it."""
    plan: PlanStream | None = None
    """The plan's nodes as tasks, streamed into the thread while the run goes on."""
    links: dict[str, str] = field(default_factory=dict)
    """Node id → its approval message (shown with the node's task while it waits)."""


class Notifier:
    def __init__(
        self, *, engine: Engine, approvals: ApprovalStore, store: BotStore, poster: SlackPoster,
        approval_messages: ApprovalMessages, tasks: TaskSet, edit_interval: float = 1.0,
        clock: Callable[[], float] = time.time, answer_note: str = "",
        features: SlackFeatures | None = None, pane: AssistantPane | None = None,
        sessions: AgentSessions | None = None,
        stream_answers: bool = True, stream_interval: float = 1.0, stream_plan: bool = True,
        on_run_end: Callable[[str | None], None] = lambda requester: None,
        mentionable: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.approval_messages = approval_messages
        self.tasks = tasks
        self.edit_interval = edit_interval
        self.clock = clock
        self.answer_note = answer_note
        self.features = features or SlackFeatures()
        self.pane = pane
        """Statuses and titles of threads in Slack's assistant pane (None: not shown)."""
        self.sessions = sessions
        """The agent session statuses of agent conversations' threads (None: not set)."""
        self.stream_answers = stream_answers
        self.stream_interval = stream_interval
        self.stream_plan = stream_plan
        self.plan_pacer = AppendPacer()
        """Paces the appends of all the plans streaming at once (Slack's tier)."""
        self.on_run_end = on_run_end
        """Told who asked for each run that ends (the App Home refreshes)."""
        self.mentionable = mentionable
        """Users untrusted text may mention besides a run's own people (the policy's)."""
        self.delivery = AnswerDelivery(poster, self.features)
        self._lanes: dict[str, asyncio.Queue[RunEvent]] = {}
        self._lane_tasks = TaskSet()
        self._runs: dict[str, RunTracker] = {}
        """Run id → tracker, while the run is active in this process."""
        self._cancelled_by: dict[int, str] = {}
        """Status message id → who cancelled its run."""

    # ------------------------------------------------------------- routing

    async def consume(self, queue: asyncio.Queue[RunEvent]) -> None:
        while True:
            self._route(await queue.get())

    def _route(self, event: RunEvent) -> None:
        if not is_slack_thread(event.thread_id):
            return
        lane = self._lanes.get(event.thread_id)
        if lane is None:
            lane = self._lanes[event.thread_id] = asyncio.Queue()
            self._lane_tasks.spawn(self._drain(event.thread_id, lane), name=f"lane:{event.thread_id}")
        lane.put_nowait(event)

    async def post_missing_approvals(self, older_than: float) -> list[str]:
        """Post the message of every pending approval asked for over ``older_than`` seconds ago
        that has none: the process that asked died before posting it, and the thread, parked
        on it, would otherwise wait for a click nobody can make. Returns their ids."""
        missing = [approval for approval in await self.approval_messages.unposted(older_than, self.clock())
                   if self.engine.scope(approval.thread_id)]  # other front ends' threads are theirs
        for approval in missing:
            self._route(AwaitingApproval(
                thread_id=approval.thread_id, run_id=approval.run_id, at=approval.requested_at,
                approval_id=approval.id, node_id=approval.node_id, tool=approval.tool, args=approval.args,
                why=approval.why, requested_by=approval.requested_by, expires_at=approval.expires_at,
                note=approval.note))
        if missing:
            log.warning("posting approval messages a dead process did not post",
                        approvals=[approval.id for approval in missing])
        return [approval.id for approval in missing]

    async def _drain(self, thread_key: str, lane: asyncio.Queue[RunEvent]) -> None:
        while True:
            try:
                event = await asyncio.wait_for(lane.get(), LANE_IDLE_SECONDS)
            except TimeoutError:
                if lane.empty():  # no await between this check and the removal
                    del self._lanes[thread_key]
                    return
                continue
            try:
                await self.handle(event)
            except Exception:
                log.exception("could not show a run event", thread_id=thread_key,
                              event_type=type(event).__name__)

    # ------------------------------------------------------------- events

    async def handle(self, event: RunEvent) -> None:
        if isinstance(event, DecisionRecorded):
            await self.approval_messages.refresh(event.approval_id)
        tracker = await self._tracker(event)
        if tracker is None:
            return
        if isinstance(event, AnswerDelta):
            self._stream(tracker, event.text)
            return
        tracker.progress.apply(event)
        self._show_plan(tracker)
        self._show(tracker)
        if self.pane is not None:
            await self.pane.show(tracker.thread, tracker.progress, event)
        if self.sessions is not None:
            self.sessions.show(tracker.thread, tracker.progress)
        match event:
            case Replanning():  # text streamed before the model called `replan` is no answer
                await self._withdraw_stream(tracker)
            case Planning(replan=replan) if replan:
                await self.approval_messages.refresh_open(tracker.thread.key, stale=True)  # the old plan's
            case AwaitingApproval():
                await self.approval_messages.post(tracker.thread, event)
                record = await self.approval_messages.record(event.approval_id)
                if record is not None:
                    tracker.links[event.node_id] = permalink(record.channel, record.ts)
                    self._show_plan(tracker)
            case NodeRejected():
                await self.approval_messages.refresh_open(tracker.thread.key)
            case AnswerReady(answer=answer):
                await self._finish(tracker, answer_messages(answer, tracker.progress, self.answer_note,
                                                            run_id=tracker.run_id),
                                   answer=streamed_answer(answer, tracker.progress, self.answer_note,
                                                          run_id=tracker.run_id))
            case RunFailed(error=error):
                cancelled = tracker.progress.phase is Phase.CANCELLED
                await self._finish(tracker, [] if cancelled else failure_replies(error, tracker.progress))

    def _stream(self, tracker: RunTracker, text: str) -> None:
        if not self.stream_answers or tracker.adopted:
            return
        if tracker.stream is None:
            tracker.stream = AnswerStream(self.poster.client, tracker.thread, tracker.progress.requested_by,
                                          self.features, interval=self.stream_interval,
                                          people=tracker.progress.people())
        tracker.stream.offer(text)

    def _show_plan(self, tracker: RunTracker) -> None:
        """Offer the run to its plan stream (started with the run's first node, where Slack
        streams and the run began in this process)."""
        if tracker.plan is None and (not self.stream_plan or tracker.adopted or not tracker.progress.nodes):
            return
        if tracker.plan is None:
            tracker.plan = PlanStream(self.poster.client, tracker.thread, tracker.progress.requested_by,
                                      self.features, interval=self.stream_interval, pacer=self.plan_pacer,
                                      on_fallback=lambda: self._show(tracker))
        tracker.plan.show(tracker.progress, tracker.links)

    def _show(self, tracker: RunTracker) -> None:
        lines = tracker.plan is None or not tracker.plan.live
        text, blocks = render_status(tracker.progress, self.clock(), tracker.thread.key, node_lines=lines)
        tracker.editor.show(text, blocks)

    def tick(self) -> None:
        """Refresh the elapsed time of runs that are visibly working."""
        for tracker in list(self._runs.values()):
            if tracker.progress.phase in (Phase.PLANNING, Phase.RUNNING, Phase.REPLANNING):
                self._show(tracker)

    async def _tracker(self, event: RunEvent) -> RunTracker | None:
        tracker = self._runs.get(event.run_id)
        if tracker is not None:
            return tracker
        thread = ThreadRef.parse(event.thread_id)
        if thread is None:
            return None
        message = await self.store.status_message_for_run(thread.key, event.run_id)
        if message is not None and message.finished:
            return None  # e.g. a late expiry of an approval the run no longer needed
        adopted = message is not None
        if message is not None:  # posted by an earlier process: rebuild the view
            progress = await self._rebuild(thread.key)
        else:
            message = await self.store.bind_status_message(thread.key, event.run_id)
            if message is not None:
                progress = RunProgress(request=message.request, requested_by=message.requested_by,
                                       started_at=message.created_at, mentionable=self.mentionable)
            else:
                adopted = True
                progress = await self._rebuild(thread.key)
                message = await self._post_status(thread, progress, event.run_id)
                if message is None:
                    return None
        progress.cancelled_by = self._cancelled_by.get(message.id)
        editor = MessageEditor(self.poster.client, message.channel, message.ts,
                               interval=self.edit_interval)
        tracker = self._runs[event.run_id] = RunTracker(event.run_id, thread, message, progress, editor,
                                                        adopted)
        return tracker

    async def _rebuild(self, thread_key: str) -> RunProgress:
        values = await self.engine.state(thread_key)
        awaiting = set()
        for approval_id in values.get("pending_approvals") or []:
            approval = await self.approvals.get(approval_id)
            if approval is not None and approval.is_pending:
                awaiting.add(approval.node_id)
        progress = RunProgress.from_state(values, awaiting)
        progress.mentionable = self.mentionable
        return progress

    async def _post_status(
        self, thread: ThreadRef, progress: RunProgress, run_id: str
    ) -> StatusMessage | None:
        text, blocks = render_status(progress, self.clock(), thread.key)
        ts = await self.poster.post(thread.channel, text, blocks, thread_ts=thread.root_ts)
        if ts is None:
            return None
        key = (await self.engine.state(thread.key)).get("queued_key")
        return await self.store.add_status_message(
            thread.key, thread.channel, ts, progress.request, progress.requested_by, self.clock(),
            run_id=run_id, request_key=key,
        )

    async def _finish(self, tracker: RunTracker, replies: list[Reply], *,
                      answer: StreamedAnswer | None = None) -> None:
        """The run ended: its plan stream stopped, then its answer (``answer``) or the failure
        shown, the status message finished."""
        answered = answer is not None
        self._runs.pop(tracker.run_id, None)
        self._cancelled_by.pop(tracker.message.id, None)
        thread, mark = tracker.thread, {"run_id": tracker.run_id}
        if replies and tracker.adopted and await self.poster.thread_has(
                thread.channel, thread.root_ts, ANSWER_EVENT, mark):
            replies = []  # the process it began in answered, then died before recording that
        metadata = {"event_type": ANSWER_EVENT, "event_payload": mark}
        if tracker.plan is not None:  # the tasks' final states, before the answer
            await tracker.plan.finish(tracker.progress, tracker.links)
        delivered = Delivered()
        if answered and replies:
            delivered = await self.delivery.deliver(thread, replies, tracker.stream, metadata,
                                                    streamed=answer)
            if delivered.ts is not None:
                await self.store.save_answer(AnswerMessage(
                    run_id=tracker.run_id, thread_key=thread.key, channel=thread.channel, ts=delivered.ts,
                    requested_by=tracker.progress.requested_by, answered_at=self.clock()))
        else:
            await self._withdraw_stream(tracker)  # e.g. cancelled while the answer was being written
            if replies:
                delivered = await self.delivery.deliver(thread, replies, None, metadata)
        if delivered.error is not None:  # the status message says so, for want of a better place
            log.error("Slack refused the run's reply, even after retries", thread_id=thread.key,
                      run_id=tracker.run_id, answered=answered, error=delivered.error)
            tracker.progress.undelivered = delivered.error
            self._show(tracker)
        self.on_run_end(tracker.progress.requested_by)
        await self.store.finish_status_message(tracker.message.id)
        await self.approval_messages.refresh_open(tracker.thread.key, stale=True)
        self.approval_messages.forget_closed(tracker.thread.key)
        self.tasks.spawn(tracker.editor.settled(), name=f"settle:{tracker.message.ts}")

    async def _withdraw_stream(self, tracker: RunTracker) -> None:
        """Take a streamed answer that will not be the answer out of the thread: the stream is
        stopped and its message deleted (if Slack will not delete it, it is edited to say it
        was withdrawn). Later deltas of the run start a new stream."""
        stream, tracker.stream = tracker.stream, None
        if stream is None:
            return
        await stream.settle()
        await stream.abandon()
        for segment in stream.segments:
            if not await self.poster.delete(tracker.thread.channel, segment.ts):
                text, blocks = withdrawn_answer()
                await self.poster.edit(tracker.thread.channel, segment.ts, text, blocks)

    # --------------------------------------------------------------- cancel

    def note_cancel(self, message: StatusMessage, user: str | None) -> None:
        """Remember who cancelled the run of this status message, so its last event shows
        "Cancelled by …" (None: the cancel changed nothing, forget it)."""
        if user is None:
            self._cancelled_by.pop(message.id, None)
        else:
            self._cancelled_by[message.id] = user
        for tracker in self._runs.values():
            if tracker.message.id == message.id:
                tracker.progress.cancelled_by = user

    async def cancel_queued(self, messages: list[StatusMessage]) -> None:
        """These requests were dropped from the queue before their run started."""
        for message in messages:
            text, blocks = render_queued_cancelled()
            await self.poster.update(message.channel, message.ts, text, blocks)
            await self.store.finish_status_message(message.id)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop handling events; let pending status edits land (bounded), then stop them."""
        await self._lane_tasks.close(grace_seconds=0)
        trackers = list(self._runs.values())
        if trackers:
            await asyncio.wait([asyncio.ensure_future(t.editor.settled()) for t in trackers],
                               timeout=grace_seconds)
        for tracker in trackers:
            tracker.editor.close()
            if tracker.plan is not None:
                tracker.plan.close()
