"""Run events → Slack: each event handed to every surface that shows runs, in order.

Events arrive on one queue from the engine's bus and are handed to one lane per
thread, so a thread's messages change in event order while threads proceed in
parallel. For each event the notifier finds the run as this process shows it (a
:class:`~bot.outbound.surface.RunTracker`: its status message, bound or posted here, and its
progress), applies the event to the progress, then hands the event to each
:class:`~bot.outbound.surface.RunSurface` in turn; a surface that fails is logged, and the
others show the event all the same. The order :mod:`bot.app` gives them in: the status message
and the plan's tasks (a run's tasks end before its answer is posted), the assistant pane, agent
sessions, the answer, the approval messages (those a run leaves open go stale once its answer
is in), App Home. Once they have shown the run's end, its status message is marked finished:
after its answer was delivered, so a process that dies first leaves that to the next one.
A run whose status message was posted by an earlier process is rebuilt from the
engine's checkpointed state, so a restarted bot picks up where the old one stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence

import structlog

from agent.engine.engine import Engine
from agent.events import AwaitingApproval, RunEvent
from agent.ports.stores import ApprovalStore
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef, is_slack_thread
from bot.outbound.approval_messages import ApprovalMessages
from bot.outbound.coalesced_edits import MessageEditor
from bot.outbound.progress_surface import ProgressSurface
from bot.outbound.surface import RunSurface, RunTracker, ends_run
from bot.store import StatusMessage, StatusMessageRecords
from bot.views.progress_view import RunProgress
from bot.views.status_view import render_queued_cancelled, render_status

log = structlog.get_logger(__name__)

LANE_IDLE_SECONDS = 30.0


class Notifier:
    def __init__(
        self, *, engine: Engine, approvals: ApprovalStore, store: StatusMessageRecords, poster: SlackPoster,
        approval_messages: ApprovalMessages, surfaces: Sequence[RunSurface], tasks: TaskSet,
        progress: ProgressSurface | None = None, edit_interval: float = 1.0,
        clock: Callable[[], float] = time.time, mentionable: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.approval_messages = approval_messages
        """Asked which approvals a dead process left without a message."""
        self.surfaces = list(surfaces)
        """Every run event is handed to each, in this order (see the module's docstring)."""
        self.progress = progress
        """The status messages' surface (one of ``surfaces``), whose elapsed times tick."""
        self.tasks = tasks
        self.edit_interval = edit_interval
        self.clock = clock
        self.mentionable = mentionable
        """Users untrusted text may mention besides a run's own people (the policy's)."""
        self._lanes: dict[str, asyncio.Queue[RunEvent]] = {}
        self._lane_tasks = TaskSet()
        self._runs: dict[str, RunTracker] = {}
        """Run id → tracker, while the run is active in this process."""

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
        """Hand ``event`` to every surface, in order, with its run (None when no run here shows
        it); then, if it ended the run, let the run go."""
        try:
            run = await self._tracker(event)
        except Exception:  # the surfaces that need no run show the event all the same (a decision)
            log.exception("could not find the run of an event", thread_id=event.thread_id,
                          event_type=type(event).__name__)
            run = None
        if run is not None:
            run.progress.apply(event)
        for surface in self.surfaces:
            try:
                await surface.on_event(event, run)
            except Exception:
                log.exception("a surface could not show a run event", surface=type(surface).__name__,
                              thread_id=event.thread_id, event_type=type(event).__name__)
        if run is not None and ends_run(event):
            await self._ended(run)

    def tick(self) -> None:
        """Refresh the elapsed time of runs that are visibly working."""
        if self.progress is not None:
            self.progress.tick(list(self._runs.values()))

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

    async def _ended(self, run: RunTracker) -> None:
        """Every surface has shown the run's end: it is forgotten here, its status message is
        marked finished, and its last edit lands in the background."""
        self._runs.pop(run.run_id, None)
        await self.store.finish_status_message(run.message.id)
        self.tasks.spawn(run.editor.settled(), name=f"settle:{run.message.ts}")

    def streams_stopped(self, thread_key: str, stopped: Collection[str]) -> None:
        """Slack stopped these streamed messages (their ``ts``) of the thread when someone clicked
        its agent session's stop button: the runs streaming into them stop streaming there."""
        for run in list(self._runs.values()):
            if run.thread.key == thread_key:
                run.slack_stopped(stopped)

    # --------------------------------------------------------------- cancel

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
