"""Run events → Slack: the status message, approval messages and the final answer.

Events arrive on one queue from the engine's bus and are handed to one lane per
thread, so a thread's messages change in event order while threads proceed in
parallel. Status edits go through a :class:`MessageEditor` (coalesced, 429-aware);
approval messages are posted at once and updated once, when they reach a final state;
a post or update Slack still refuses after the client's own retries is tried again a few
times with backoff (a post in its lane, so the thread's later events find the message; an
update in the background, showing the newest state) and given up on with a warning.
A run whose status message was posted by an earlier process is rebuilt from the
engine's checkpointed state, so a restarted bot picks up where the old one stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog

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
from agent.ports import Approval, ApprovalStatus, ApprovalStore
from agent.runner import Engine
from bot.access import AccessDirectory
from bot.answer_delivery import AnswerDelivery
from bot.answer_stream import AnswerStream
from bot.answer_view import answer_messages, withdrawn_answer
from bot.approval_view import render_approval
from bot.assistant import AssistantPane
from bot.editor import MessageEditor
from bot.features import SlackFeatures
from bot.poster import Sent, SlackPoster
from bot.progress import Phase, RunProgress
from bot.reply_view import Reply, failure_replies
from bot.status_view import render_queued_cancelled, render_status
from bot.store import AnswerMessage, ApprovalMessage, BotStore, StatusMessage
from bot.tasks import TaskSet
from bot.threads import ThreadRef, is_slack_thread

log = structlog.get_logger(__name__)

LANE_IDLE_SECONDS = 30.0
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
"""Seconds before each retry of an approval message's post or update (at least Retry-After)."""


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


class Notifier:
    def __init__(
        self, *, engine: Engine, approvals: ApprovalStore, store: BotStore, poster: SlackPoster,
        directory: AccessDirectory, tasks: TaskSet, edit_interval: float = 1.0,
        clock: Callable[[], float] = time.time, answer_note: str = "",
        features: SlackFeatures | None = None, pane: AssistantPane | None = None,
        stream_answers: bool = True, stream_interval: float = 1.0,
        on_run_end: Callable[[str | None], None] = lambda requester: None,
    ) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.tasks = tasks
        self.edit_interval = edit_interval
        self.clock = clock
        self.answer_note = answer_note
        self.features = features or SlackFeatures()
        self.pane = pane
        """Statuses and titles of threads in Slack's assistant pane (None: not shown)."""
        self.stream_answers = stream_answers
        self.stream_interval = stream_interval
        self.on_run_end = on_run_end
        """Told who asked for each run that ends (the App Home refreshes)."""
        self.delivery = AnswerDelivery(poster, self.features)
        self._lanes: dict[str, asyncio.Queue[RunEvent]] = {}
        self._lane_tasks = TaskSet()
        self._runs: dict[str, RunTracker] = {}
        """Run id → tracker, while the run is active in this process."""
        self._cancelled_by: dict[str, str] = {}
        self._records: dict[str, ApprovalMessage] = {}
        """Approval messages this process posted or read (the database has them all)."""
        self._closed: set[str] = set()
        """Approval ids whose message already shows a final state (this process)."""
        self._approval_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._retrying: dict[str, bool] = {}
        """Approval id → its update is retried in the background (and whether as stale)."""
        self.retry_delays = RETRY_DELAYS

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
        missing = []
        for approval in await self.approvals.pending():
            if approval.requested_at > self.clock() - older_than or not approval.run_id \
                    or await self.approval_record(approval.id) is not None:
                continue
            missing.append(approval.id)
            self._route(AwaitingApproval(
                thread_id=approval.thread_id, run_id=approval.run_id, at=approval.requested_at,
                approval_id=approval.id, node_id=approval.node_id, tool=approval.tool, args=approval.args,
                why=approval.why, requested_by=approval.requested_by, expires_at=approval.expires_at,
                note=approval.note))
        if missing:
            log.warning("posting approval messages a dead process did not post", approvals=missing)
        return missing

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
                              event=type(event).__name__)

    # ------------------------------------------------------------- events

    async def handle(self, event: RunEvent) -> None:
        if isinstance(event, DecisionRecorded):
            await self.refresh_approval(event.approval_id)
        tracker = await self._tracker(event)
        if tracker is None:
            return
        if isinstance(event, AnswerDelta):
            self._stream(tracker, event.text)
            return
        tracker.progress.apply(event)
        self._show(tracker)
        if self.pane is not None:
            await self.pane.show(tracker.thread, tracker.progress, event)
        match event:
            case Replanning():  # text streamed before the model called `replan` is no answer
                await self._withdraw_stream(tracker)
            case Planning(replan=replan) if replan:
                await self._refresh_open_approvals(tracker.thread.key, stale=True)  # the old plan's
            case AwaitingApproval():
                await self._post_approval(tracker, event)
            case NodeRejected():
                await self._refresh_open_approvals(tracker.thread.key)
            case AnswerReady(answer=answer):
                await self._finish(tracker, answer_messages(answer, tracker.progress, self.answer_note,
                                                            run_id=tracker.run_id), answered=True)
            case RunFailed(error=error):
                cancelled = tracker.progress.phase is Phase.CANCELLED
                await self._finish(tracker, [] if cancelled else failure_replies(error, tracker.progress))

    def _stream(self, tracker: RunTracker, text: str) -> None:
        if not self.stream_answers or tracker.adopted:
            return
        if tracker.stream is None:
            tracker.stream = AnswerStream(self.poster.client, tracker.thread, tracker.progress.requested_by,
                                          self.features, interval=self.stream_interval)
        tracker.stream.offer(text)

    def _show(self, tracker: RunTracker) -> None:
        text, blocks = render_status(tracker.progress, self.clock(), tracker.thread.key)
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
                                       started_at=message.created_at)
            else:
                adopted = True
                progress = await self._rebuild(thread.key)
                message = await self._post_status(thread, progress, event.run_id)
                if message is None:
                    return None
        progress.cancelled_by = self._cancelled_by.get(thread.key)
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
        return RunProgress.from_state(values, awaiting)

    async def _post_status(
        self, thread: ThreadRef, progress: RunProgress, run_id: str
    ) -> StatusMessage | None:
        text, blocks = render_status(progress, self.clock(), thread.key)
        ts = await self.poster.post(thread.channel, text, blocks, thread_ts=thread.root_ts)
        if ts is None:
            return None
        return await self.store.add_status_message(
            thread.key, thread.channel, ts, progress.request, progress.requested_by, self.clock(),
            run_id=run_id,
        )

    async def _finish(self, tracker: RunTracker, replies: list[Reply], *, answered: bool = False) -> None:
        self._runs.pop(tracker.run_id, None)
        self._cancelled_by.pop(tracker.thread.key, None)
        thread, mark = tracker.thread, {"run_id": tracker.run_id}
        if replies and tracker.adopted and await self.poster.thread_has(
                thread.channel, thread.root_ts, ANSWER_EVENT, mark):
            replies = []  # the process it began in answered, then died before recording that
        metadata = {"event_type": ANSWER_EVENT, "event_payload": mark}
        if answered and replies:
            last = await self.delivery.deliver(thread, replies, tracker.stream, metadata)
            if last is not None:
                await self.store.save_answer(AnswerMessage(
                    run_id=tracker.run_id, thread_key=thread.key, channel=thread.channel, ts=last,
                    requested_by=tracker.progress.requested_by, answered_at=self.clock()))
        else:
            await self._withdraw_stream(tracker)  # e.g. cancelled while the answer was being written
            for n, reply in enumerate(replies):
                await self.poster.post(thread.channel, reply.text, reply.blocks, thread_ts=thread.root_ts,
                                       metadata=metadata if n == 0 else None)
        self.on_run_end(tracker.progress.requested_by)
        await self.store.finish_status_message(tracker.message.id)
        await self._refresh_open_approvals(tracker.thread.key, stale=True)
        self._forget_closed(tracker.thread.key)
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
        if stream.ts is not None and not await self.poster.delete(tracker.thread.channel, stream.ts):
            text, blocks = withdrawn_answer()
            await self.poster.edit(tracker.thread.channel, stream.ts, text, blocks)

    def _forget_closed(self, thread_key: str) -> None:
        """Closed approval messages need no memory: the database says they are closed."""
        for approval_id, record in list(self._records.items()):
            if record.thread_key == thread_key and record.closed:
                del self._records[approval_id]
                self._closed.discard(approval_id)

    # ----------------------------------------------------------- approvals

    async def approval_record(self, approval_id: str) -> ApprovalMessage | None:
        record = self._records.get(approval_id)
        if record is None:
            record = await self.store.approval_message(approval_id)
            if record is not None:
                self._records[approval_id] = record
        return record

    async def _post_approval(self, tracker: RunTracker, event: AwaitingApproval) -> None:
        if await self.approval_record(event.approval_id) is not None:
            return
        approval = Approval(  # the event carries all the message shows: no database read
            id=event.approval_id, thread_id=event.thread_id, plan_id="", node_id=event.node_id,
            tool=event.tool, args=event.args, args_digest="", why=event.why, status=ApprovalStatus.PENDING,
            requested_by=event.requested_by, requested_at=event.at, expires_at=event.expires_at,
            note=event.note,
        )
        text, blocks = render_approval(approval, self.directory.who_may_approve(approval.tool,
                                                                                approval.requested_by),
                                       secret=self.secret_args(approval.tool))
        # Retried in the lane, so this thread's later events (the decision, the end of the run)
        # find the message. Given up on, the approval still waits (``/agent status`` lists it)
        # until it expires or the run is cancelled.
        thread = tracker.thread
        sent = await self.poster.send(thread.channel, text, blocks, thread_ts=thread.root_ts)
        for delay in self.retry_delays:
            if not sent.transient:
                break
            await asyncio.sleep(max(delay, sent.retry_after or 0.0))
            sent = await self.poster.send(thread.channel, text, blocks, thread_ts=thread.root_ts)
        if sent.ts is None:
            log.warning("giving up on posting an approval message", approval_id=approval.id, error=sent.error)
            return
        record = ApprovalMessage(approval_id=approval.id, thread_key=thread.key, channel=thread.channel,
                                 ts=sent.ts)
        self._records[approval.id] = record
        await self.store.save_approval_message(record)

    def secret_args(self, tool: str) -> frozenset[str]:
        """Arguments of the tool never shown in Slack (the registry says which)."""
        registry = self.engine.ctx.registry
        return registry.get(tool).secret_args() if tool in registry else frozenset()

    async def show_edit(self, approval: Approval) -> bool:
        """Show a pending approval's edited arguments (and new buttons) in its message. False
        when Slack refused the update (the edit stands; the next update shows it)."""
        async with self._approval_locks[approval.id]:
            record = await self.approval_record(approval.id)
            if record is None or record.closed or approval.id in self._closed:
                return True
            text, blocks = render_approval(
                approval, self.directory.who_may_approve(approval.tool, approval.requested_by),
                secret=self.secret_args(approval.tool))
            sent = await self.poster.edit(record.channel, record.ts, text, blocks)
            return sent.ok

    async def refresh_approval(self, approval_id: str, *, stale: bool = False) -> None:
        """Show an approval's final state in its message (once); pending ones stay as they are
        unless ``stale`` (their run finished without them). Only an update Slack accepted
        closes the message; a refused one is retried in the background (bounded)."""
        sent = await self._close_approval(approval_id, stale=stale)
        if sent is None:
            return
        if not sent.transient:
            log.warning("could not update an approval message", approval_id=approval_id, error=sent.error)
        elif approval_id in self._retrying:
            self._retrying[approval_id] |= stale  # the running retries pick it up
        else:
            self._retrying[approval_id] = stale
            self.tasks.spawn(self._retry_close(approval_id, sent), name=f"approval-update:{approval_id}")

    async def _retry_close(self, approval_id: str, sent: Sent) -> None:
        try:
            for delay in self.retry_delays:
                await asyncio.sleep(max(delay, sent.retry_after or 0.0))
                again = await self._close_approval(approval_id, stale=self._retrying[approval_id])
                if again is None:
                    return
                sent = again
                if not sent.transient:
                    break
            log.warning("giving up on updating an approval message; its buttons stay until the "
                        "run's next event", approval_id=approval_id, error=sent.error)
        finally:
            self._retrying.pop(approval_id, None)

    async def _close_approval(self, approval_id: str, *, stale: bool) -> Sent | None:
        """Update the message to its final state. None when done (or nothing to do); else
        Slack's refusal, and the message still counts as open."""
        if approval_id in self._closed:
            return None
        async with self._approval_locks[approval_id]:  # a click and its event may race here
            if approval_id in self._closed:
                return None
            record = await self.approval_record(approval_id)
            if record is None or record.closed:
                return None
            approval = await self.approvals.get(approval_id)
            if approval is None or (approval.is_pending and not stale):
                return None
            text, blocks = render_approval(
                approval, self.directory.who_may_approve(approval.tool, approval.requested_by), stale=stale,
                secret=self.secret_args(approval.tool))
            sent = await self.poster.edit(record.channel, record.ts, text, blocks)
            if not sent.ok and not sent.gone:  # (a message that is gone shows no buttons either)
                return sent
            self._closed.add(approval_id)
            self._records[approval_id] = replace(record, closed=True)
            await self.store.close_approval_message(approval_id)
        self._approval_locks.pop(approval_id, None)  # closed for good: later callers return at once
        return None

    async def _refresh_open_approvals(self, thread_key: str, *, stale: bool = False) -> None:
        for record in await self.store.open_approval_messages(thread_key):
            await self.refresh_approval(record.approval_id, stale=stale)

    # --------------------------------------------------------------- cancel

    def note_cancel(self, thread_key: str, user: str) -> None:
        """Remember who cancelled, so the run's last event shows "Cancelled by …"."""
        self._cancelled_by[thread_key] = user
        for tracker in self._runs.values():
            if tracker.thread.key == thread_key:
                tracker.progress.cancelled_by = user

    async def cancel_queued(self, thread_key: str, running_ts: str) -> None:
        """Requests that waited behind the cancelled run (``running_ts`` is its status message,
        which may not be bound to the run yet) are dropped with it."""
        for message in await self.store.unfinished_status_messages(thread_key=thread_key):
            if message.run_id is None and message.ts != running_ts:
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
