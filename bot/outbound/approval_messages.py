"""Approval messages in Slack threads: posted once when a run asks for a decision, updated
when its arguments are edited, and closed (buttons gone, final state shown) once.

A message is posted in its thread's lane (see :mod:`bot.outbound.notifier`), retried a few times with
backoff when Slack refuses it, so the thread's later events find it. Closing happens when the
approval is decided, expires or is withdrawn, or goes stale (its run finished or replanned
without it); an update Slack still refuses after the client's own retries is retried in the
background (bounded), showing the newest state, and given up on with a warning. A click and
its event may race to close the same message: a per-approval lock makes one of them do it.

Which messages exist is in the store (:class:`bot.store.ApprovalMessageRecords`); this process
remembers the ones it posted or read, and which it closed, until their thread's run ends.
``on_change`` is told of each approval whose message was posted or closed, so the App Home of
those who may decide on it can follow (it lists the approvals whose message is still open), and
of each edit. Where the approval was asked in a conversation its deciders may not see, ``dms``
sends them a DM each once it is posted, and updates those DMs as the message is updated
(:mod:`bot.outbound.approval_dms`).

As a :class:`~bot.outbound.surface.RunSurface` (:meth:`ApprovalMessages.on_event`), it follows
the run events: a request for approval is posted (and linked from the plan's task), a decision
closes its message, a replan or the end of the run closes the messages it left open (stale).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import structlog

from agent.events import AwaitingApproval, DecisionRecorded, NodeRejected, Planning, RunEvent
from agent.ports.stores import Approval, ApprovalStatus, ApprovalStore
from agent.tools.registry import ToolRegistry
from bot.access.access import AccessDirectory
from bot.ground.background_tasks import TaskSet
from bot.ground.blocks import Block
from bot.ground.poster import RETRY_DELAYS, Sent, SlackPoster, retried
from bot.ground.threads import ThreadRef, permalink
from bot.outbound.approval_dms import ApprovalDMs
from bot.outbound.surface import RunTracker, ends_run
from bot.store import ApprovalMessage, ApprovalMessageStore
from bot.views.approval_view import render_approval

log = structlog.get_logger(__name__)

class ApprovalMessages:
    def __init__(self, *, approvals: ApprovalStore, store: ApprovalMessageStore, poster: SlackPoster,
                 directory: AccessDirectory, registry: ToolRegistry, tasks: TaskSet,
                 on_change: Callable[[Approval], None] = lambda approval: None,
                 dms: ApprovalDMs | None = None) -> None:
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.registry = registry
        self.tasks = tasks
        self.on_change = on_change
        """Told of an approval whose message was just posted (or given up on: the approval
        waits all the same) or closed; also when closing it is first tried and Slack refuses,
        as a decision stands whatever its message shows. Must not block (it spawns)."""
        self.dms = dms
        """DMs to deciders who may not see the message (None: none are sent)."""
        self.retry_delays = RETRY_DELAYS
        self._records: dict[str, ApprovalMessage] = {}
        """Approval messages this process posted or read (the database has them all)."""
        self._closed: set[str] = set()
        """Approval ids whose message already shows a final state (this process)."""
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._retrying: dict[str, bool] = {}
        """Approval id → its update is retried in the background (and whether as stale)."""

    async def record(self, approval_id: str) -> ApprovalMessage | None:
        """The approval's message, if one was posted (by any process)."""
        record = self._records.get(approval_id)
        if record is None:
            record = await self.store.approval_message(approval_id)
            if record is not None:
                self._records[approval_id] = record
        return record

    def secret_args(self, tool: str) -> frozenset[str]:
        """Arguments of the tool never shown in Slack (the registry says which)."""
        return self.registry.secret_args(tool)

    def render(self, approval: Approval, *, stale: bool = False) -> tuple[str, list[Block]]:
        """The approval's message (its buttons while pending, "Approve for this thread" among them
        where the policy offers it; ``secret`` arguments masked)."""
        return render_approval(approval, self.directory.who_may_approve(approval.tool, approval.requested_by),
                               stale=stale, secret=self.secret_args(approval.tool),
                               standing=self.directory.offers_standing(approval.tool, approval.requested_by))

    async def unposted(self, older_than: float, now: float) -> list[Approval]:
        """Pending approvals of runs, asked for over ``older_than`` seconds before ``now``, that
        have no message (the process that asked died before posting it)."""
        missing = []
        for approval in await self.approvals.pending():
            if approval.requested_at > now - older_than or not approval.run_id \
                    or await self.record(approval.id) is not None:
                continue
            missing.append(approval)
        return missing

    # ---------------------------------------------------------------- events

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        if isinstance(event, DecisionRecorded):  # (its run may be over: the message shows it all the same)
            await self.refresh(event.approval_id)
        if run is None:
            return
        match event:
            case Planning(replan=replan) if replan:
                await self.refresh_open(run.thread.key, stale=True)  # the old plan's
            case AwaitingApproval():
                await self.post(run.thread, event)
                record = await self.record(event.approval_id)
                if record is not None:
                    run.link(event.node_id, permalink(record.channel, record.ts))
            case NodeRejected():
                await self.refresh_open(run.thread.key)
            case _ if ends_run(event):
                await self.refresh_open(run.thread.key, stale=True)
                self.forget_closed(run.thread.key)

    # ------------------------------------------------------------------ post

    async def post(self, thread: ThreadRef, event: AwaitingApproval) -> None:
        """Post the approval's message in its thread, unless it has one; then DM its deciders
        if they may not see it there (again for a message posted before: whoever has had a DM
        is not sent another, and one a dead process never sent is sent now)."""
        record = await self.record(event.approval_id)
        if record is not None:
            if self.dms is not None:
                self.dms.offer(event.approval_id, thread, record.ts)
            return
        approval = Approval(  # the event carries all the message shows: no database read
            id=event.approval_id, thread_id=event.thread_id, plan_id="", node_id=event.node_id,
            tool=event.tool, args=event.args, args_digest="", why=event.why, status=ApprovalStatus.PENDING,
            requested_by=event.requested_by, requested_at=event.at, expires_at=event.expires_at,
            note=event.note,
        )
        text, blocks = self.render(approval)
        # Retried in the lane, so this thread's later events (the decision, the end of the run)
        # find the message. Given up on, the approval still waits (``/agent status`` lists it)
        # until it expires or the run is cancelled.
        sent = await retried(lambda: self.poster.send(thread.channel, text, blocks, thread_ts=thread.root_ts),
                             self.retry_delays)
        if sent.ts is None:
            log.warning("giving up on posting an approval message", approval_id=approval.id, error=sent.error)
        else:
            record = ApprovalMessage(approval_id=approval.id, thread_key=thread.key, channel=thread.channel,
                                     ts=sent.ts)
            self._records[approval.id] = record
            await self.store.save_approval_message(record)
        self.on_change(approval)
        if self.dms is not None:
            self.dms.offer(approval.id, thread, sent.ts)

    # ---------------------------------------------------------------- update

    async def show_edit(self, approval: Approval) -> bool:
        """Show a pending approval's edited arguments (and new buttons) in its message, and tell
        ``on_change`` (the App Homes that list it show the old version's buttons, which an
        Approve would be refused for). False when Slack refused the update (the edit stands;
        the next update shows it)."""
        try:
            async with self._locks[approval.id]:
                record = await self.record(approval.id)
                if record is None or record.closed or approval.id in self._closed:
                    return True
                text, blocks = self.render(approval)
                sent = await self.poster.edit(record.channel, record.ts, text, blocks)
                return sent.ok
        finally:
            self.on_change(approval)
            if self.dms is not None:
                self.dms.follow(approval.id, edited=True)

    async def refresh(self, approval_id: str, *, stale: bool = False) -> None:
        """Show an approval's final state in its message (once); pending ones stay as they are
        unless ``stale`` (their run finished without them). Only an update Slack accepted
        closes the message; a refused one is retried in the background (bounded)."""
        if self.dms is not None:
            self.dms.follow(approval_id, stale=stale)
        sent = await self._close(approval_id, stale=stale)
        if sent is None:
            return
        if not sent.transient:
            log.warning("could not update an approval message", approval_id=approval_id, error=sent.error)
        elif approval_id in self._retrying:
            self._retrying[approval_id] |= stale  # the running retries pick it up
        else:
            self._retrying[approval_id] = stale
            self.tasks.spawn(self._retry_close(approval_id, sent), name=f"approval-update:{approval_id}")

    async def refresh_open(self, thread_key: str, *, stale: bool = False) -> None:
        """:meth:`refresh` every approval of the thread whose message, or one of whose DMs,
        is still open."""
        approvals = [record.approval_id for record in await self.store.open_approval_messages(thread_key)]
        if self.dms is not None:  # (a DM may be all an approval has: its thread post failed)
            dmed = await self.store.approvals_with_open_dms(thread_key)
            approvals += [approval_id for approval_id in dmed if approval_id not in approvals]
        for approval_id in approvals:
            await self.refresh(approval_id, stale=stale)

    async def _retry_close(self, approval_id: str, sent: Sent) -> None:
        """Retry an update Slack refused for now (its first attempt made): ends when one is
        accepted, the message needs no update any more, or the retries run out."""
        try:
            if not self.retry_delays:
                return
            first, *rest = self.retry_delays
            await asyncio.sleep(max(first, sent.retry_after or 0.0))
            last = await retried(lambda: self._close(approval_id, stale=self._retrying[approval_id]), rest)
            if last is not None and not last.ok:
                log.warning("giving up on updating an approval message; its buttons stay until the "
                            "run's next event", approval_id=approval_id, error=last.error)
        finally:
            self._retrying.pop(approval_id, None)

    async def _close(self, approval_id: str, *, stale: bool) -> Sent | None:
        """Update the message to its final state. None when done (or nothing to do); else
        Slack's refusal, and the message still counts as open."""
        if approval_id in self._closed:
            return None
        async with self._locks[approval_id]:  # a click and its event may race here
            if approval_id in self._closed:
                return None
            record = await self.record(approval_id)
            if record is not None and record.closed:
                return None
            approval = await self.approvals.get(approval_id)
            if approval is None or (approval.is_pending and not stale):
                return None
            if record is None:  # never posted: nothing to update, but App Home lists it
                if not approval.is_pending:
                    self._closed.add(approval_id)
                self.on_change(approval)
                return None
            text, blocks = self.render(approval, stale=stale)
            sent = await self.poster.edit(record.channel, record.ts, text, blocks)
            closed = sent.ok or sent.gone  # (a message that is gone shows no buttons either)
            if closed:
                self._closed.add(approval_id)
                self._records[approval_id] = replace(record, closed=True)
                await self.store.close_approval_message(approval_id)
            if closed or approval_id not in self._retrying:  # (not for each refused retry)
                self.on_change(approval)
            if not closed:
                return sent
        self._locks.pop(approval_id, None)  # closed for good: later callers return at once
        return None

    def forget_closed(self, thread_key: str) -> None:
        """Closed approval messages need no memory: the database says they are closed."""
        for approval_id, record in list(self._records.items()):
            if record.thread_key == thread_key and record.closed:
                del self._records[approval_id]
                self._closed.discard(approval_id)
