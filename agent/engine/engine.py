"""The engine's front door: start runs, record decisions, resume parked or crashed threads.

One runner per thread at a time: an in-process lock plus a cross-process lease. A
runner whose graph parks in ``wait`` re-checks for decisions after it lets go of the
lease (the lost-wakeup rule): a decision recorded before that re-check is seen by it, and
one recorded after finds the thread free and resumes it itself.

Processes sharing a database tell each other of decisions and cancels through
:class:`ThreadSignals`, so the process running a thread reacts at once wherever the click
landed. A drive that holds the lease and finds the thread stopped mid-run takes it over:
its runner died (or lapsed its lease), and only the lease holder may run it.

The engine keeps track of which threads a drive of this process is on (its claims), starts
drives and does the re-check; the part of a drive that holds the lease is
:class:`~agent.engine.thread_runner.ThreadRunner`, and which threads the recovery passes resume is
decided by :class:`~agent.engine.recovery.Recovery`; which run a cancel stops, by
:class:`~agent.engine.run_cancels.RunCancels`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from agent.answer.record import AnswerRecorder
from agent.engine.graph import new_run_input
from agent.engine.recovery import Recovery
from agent.engine.run_cancels import RunCancels
from agent.engine.thread_runner import NEXT_QUEUED, RESUME, ThreadRunner, stopped_at, thread_config
from agent.events import DecisionRecorded
from agent.execution.approval_edits import edit_approval
from agent.execution.cancelling import Cancelled
from agent.execution.context import EngineContext, EngineSettings
from agent.execution.storable import storable
from agent.ports.ownership import (
    NoSignals,
    RequestQueue,
    RunMarks,
    Signal,
    ThreadLease,
    ThreadSignals,
)
from agent.ports.standing import StandingApprovals
from agent.ports.stores import Approval, DecisionResult, ToolAccess
from agent.tools.registry import ToolRegistry
from agent.urgency import in_background

log = structlog.get_logger(__name__)


class ThreadStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    WAITING = "waiting"
    """Parked: only approvals remain."""


RED_GRACE_SECONDS = 10.0
"""How long a shutdown waits for red calls under way (within the usual 30 s a platform gives a
stopping process)."""


class Submission(StrEnum):
    STARTED = "started"
    QUEUED = "queued"


class Engine:
    def __init__(
        self,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        ctx: EngineContext,
        leases: ThreadLease,
        queue: RequestQueue,
        marks: RunMarks,
        *,
        holder: str | None = None,
        lease_ttl_seconds: float = 30.0,
        signals: ThreadSignals | None = None,
        scope: Callable[[str], bool] | None = None,
    ) -> None:
        """``ctx``: everything its runs need, the front end's part included (its access policy,
        its view of standing approvals): fixed here, never changed after (a front end reads
        what it needs back through the read-only properties below). ``scope``: the threads the
        recovery passes may resume or drain (default: all). A database may hold other front
        ends' threads (another Slack workspace's)."""
        self.graph = graph
        if not isinstance(ctx.events, AnswerRecorder):  # which runs answered (agent.engine.run_end)
            ctx = dataclasses.replace(ctx, events=AnswerRecorder(ctx.events, ctx.results))
        self.ctx = ctx
        self.leases = leases
        self.queue = queue
        self.marks = marks
        self.signals = signals or NoSignals()
        self.signals.subscribe(self.on_signal)
        self.holder = holder or uuid.uuid4().hex
        self.lease_ttl = lease_ttl_seconds
        self._runner = ThreadRunner(graph, ctx, leases, queue, marks, self.holder,
                                    lease_ttl_seconds)
        leases.subscribe_lost(self._runner.stop_lost)
        """Runs each drive under the thread's lease."""
        self._claims: Counter[str] = Counter()
        """Thread id → drives of this process that are on it or about to be (claimed before
        they are spawned, so a twin request sees the thread busy at once)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.scope = scope or (lambda thread_id: True)
        self._recovery = Recovery(ctx, leases, self.scope)
        """Which threads the recovery passes resume, and what the passes remember."""
        self._cancels = RunCancels(graph, ctx, queue, marks, self._wake_everywhere)

    # ----------------------------------------------- what it was built with (read-only)

    @property
    def registry(self) -> ToolRegistry:
        """The tools its runs may use: which are red, their arguments, which are secret."""
        return self.ctx.registry

    @property
    def settings(self) -> EngineSettings:
        return self.ctx.settings

    @property
    def access(self) -> ToolAccess:
        """Which tools each request may use (the front end's policy it was built with)."""
        return self.ctx.access

    @property
    def standing(self) -> StandingApprovals:
        """The standing approvals ("Approve for this thread") its runs consult, as the front end
        it was built with filters them."""
        return self.ctx.standing

    @staticmethod
    def config(thread_id: str) -> RunnableConfig:
        return thread_config(thread_id)

    # ------------------------------------------------------------- public API

    async def ask(self, thread_id: str, request: str, requested_by: str | None = None) -> None:
        """Run a request until it finishes or parks waiting for approvals."""
        self._claims[thread_id] += 1
        await self._drive(thread_id, new_run_input(storable(request), requested_by))

    async def submit(
        self, thread_id: str, request: str, requested_by: str | None = None, *, key: str | None = None,
        new_thread: bool = False,
    ) -> Submission:
        """Queue a request durably, then start it in the background, or leave it queued if
        the thread has a run going here or in another process, or earlier requests are queued.

        Once this returns, the request is not lost: if this process dies before its run is
        under way, the recovery pass of any process starts it. ``key`` (at most 32
        characters) makes a redelivery of a request still queued or running a no-op.
        ``new_thread``: the caller has just made the thread (no run can have been there, and
        only a redelivery of this request can be queued): its checkpoint is not read."""
        request = storable(request)  # (no NUL character: the stores refuse it)
        if new_thread and not self._claims[thread_id]:
            return await self._claim_and_queue(thread_id, request, requested_by, key)
        busy = (await self.status(thread_id) is not ThreadStatus.IDLE
                or await self.queue.has_queued(thread_id)
                # the checkpoint may not show yet a run another process has just started
                or not await self.leases.acquire(thread_id, self.holder, self.lease_ttl))
        if busy or self._claims[thread_id]:  # (the claim check: a twin submit got here first)
            await self.queue.push(thread_id, request, requested_by, key)
            await self._run_queued(thread_id)  # in case the thread's runner ended meanwhile
            return Submission.QUEUED
        return await self._claim_and_queue(thread_id, request, requested_by, key)

    async def _claim_and_queue(self, thread_id: str, request: str, requested_by: str | None,
                               key: str | None) -> Submission:
        """Claim the thread, queue the request, then drive it. For a thread just made this is
        all (one statement: what a Slack acknowledgement waits for; the drive takes the lease)."""
        self._claims[thread_id] += 1  # before the next await: twin submits see the thread busy
        try:
            pushed = await self.queue.push(thread_id, request, requested_by, key)
        except BaseException:
            await self._give_up_claim(thread_id)
            raise
        if not pushed:  # a redelivery of a request that is queued already
            await self._give_up_claim(thread_id)
            await self._run_queued(thread_id)
            return Submission.QUEUED
        self._spawn(self._drive(thread_id, NEXT_QUEUED))
        return Submission.STARTED

    async def _give_up_claim(self, thread_id: str) -> None:
        self._claims[thread_id] -= 1
        if not self._claims[thread_id]:
            del self._claims[thread_id]
        await self.leases.release(thread_id, self.holder)

    async def decide(
        self, approval_id: str, *, approved: bool, by: str, reason: str | None = None,
        edits: int | None = None,
    ) -> DecisionResult:
        """Record a decision (once only) and wake its thread. ``edits``: the version of the
        arguments the decider saw (edited since: nothing is decided)."""
        result = await self.ctx.approvals.decide(
            approval_id, approved=approved, by=by, reason=reason, now=self.ctx.clock(), edits=edits
        )
        if result.changed and result.approval is not None:
            # Also when this click found the approval overdue and expired it before the
            # sweeper did: the parked thread must hear of it.
            await self._wake_everywhere(result.approval.thread_id)
            await self._announce(result.approval)
        return result

    async def edit(self, approval_id: str, args: dict[str, Any], *, by: str, edits: int) -> DecisionResult:
        """Replace the arguments of a pending approval (at version ``edits``), audited as ``by``'s
        edit (:func:`agent.execution.approval_edits.edit_approval`; ToolArgumentError when they do
        not fit the tool)."""
        return await edit_approval(self.ctx, approval_id, args, by=by, edits=edits)

    async def prune_audit(self, before: float) -> int:
        """Drop the audit trail's entries older than ``before``; returns how many."""
        return await self.ctx.audit.prune(before)

    def wake(self, thread_id: str) -> None:
        """Something changed for the thread: tell its runner, or resume it if parked."""
        if self._claims[thread_id]:
            self.ctx.state.wakeups.wake(thread_id)
        else:
            self._start(thread_id, RESUME)

    def on_signal(self, thread_id: str, signal: Signal) -> None:
        """Another process recorded something for a thread: if a drive of this process is on
        it, that runner reacts now (the sender resumes the thread itself when nobody holds it)."""
        if not self._claims[thread_id]:
            return
        if signal is Signal.CANCEL:  # (who cancelled is not told: it stays unknown here)
            self.ctx.state.cancelled.setdefault(thread_id, None)
        self.ctx.state.wakeups.wake(thread_id)

    def wake_all(self) -> None:
        """Every runner of this process re-reads its approvals (signals may have been missed:
        the listener reconnected)."""
        for thread_id in list(self._claims):
            self.ctx.state.wakeups.wake(thread_id)

    async def _wake_everywhere(self, thread_id: str, signal: Signal = Signal.WAKE) -> None:
        claimed_here = bool(self._claims[thread_id])
        self.wake(thread_id)
        if not claimed_here:  # its runner may be in another process
            try:
                await self.signals.send(thread_id, signal)
            except Exception:  # the runner's own poll still finds the change, only later
                log.warning("could not signal the other processes", thread_id=thread_id,
                            signal=signal.value, exc_info=True)

    async def resume(self, thread_id: str, *, wait_for_lease: bool = True, lapsed: bool = False) -> None:
        """Continue a thread from its last checkpoint (after a crash or a restart).

        A no-op when a drive of this process is on the thread: that runner sees decisions and
        queued requests itself, and a second drive would only run the graph again after it.
        ``wait_for_lease``: if another runner holds the lease, wait for it to lapse (at
        start-up, the lease of the process this one replaces); without it, leave the thread
        to that runner (the periodic pass, which comes back). ``lapsed``: its lease was left
        marked by a runner that died, to be cleared even if the thread turns out idle."""
        if self._claims[thread_id]:
            return
        snapshot = await self.graph.aget_state(self.config(thread_id))
        if not stopped_at(snapshot):  # idle: start what is queued
            if lapsed and not self._claims[thread_id]:
                # its runner died before the run's first checkpoint: the drive starts the
                # request (still queued) and clears the lease
                self._start(thread_id, NEXT_QUEUED)
            else:
                await self._run_queued(thread_id)
            return
        if self._claims[thread_id]:  # a drive started while the checkpoint was read
            return
        self._claims[thread_id] += 1
        # Stopped mid-run: the drive takes the thread over once it holds the lease.
        await self._drive(thread_id, RESUME,
                          wait_for_lease=wait_for_lease and "wait" not in stopped_at(snapshot))

    async def recover(self) -> list[str]:
        """Resume every thread whose runner died mid-run, and every parked thread whose
        approvals were decided or expired while no process was there to resume it (the
        process died between a decision and its resume). Returns the thread ids."""
        found = await self._recovery.at_start()
        for thread_id in found.threads:
            self._spawn(self.resume(thread_id, lapsed=thread_id in found.lapsed))
        for thread_id in filter(self.scope, await self.queue.queued_threads()):
            if thread_id not in found.threads:  # a resumed thread runs its queue when it ends
                self._spawn(self._run_queued(thread_id))
        return found.threads

    async def recover_lapsed(self) -> list[str]:
        """The recovery pass a running process repeats: resume threads whose lease lapsed
        (their runner died, or failed in a live process), parked threads decided since the
        previous pass that no runner took up, and queued requests no runner will drain.
        Returns the thread ids it resumed.

        Cheap when there is nothing to do (one small query; three every DECIDED_SCAN_SECONDS,
        :mod:`agent.engine.recovery`). It skips threads a drive of this process is on and never waits
        for a lease, so a thread whose runner is alive (here or elsewhere) is left to that
        runner; one whose run fails at every take-over is retried less and less often
        (RECOVERY_BACKOFF), and after RECOVERY_TAKEOVERS (by any process) its run is ended as
        failed (:class:`~agent.engine.thread_runner.ThreadRunner`)."""
        found = await self._recovery.lapsed_pass(lambda thread_id: bool(self._claims[thread_id]))
        for thread_id in found.threads:
            self._spawn(self.resume(thread_id, wait_for_lease=False, lapsed=thread_id in found.lapsed))
        for thread_id in filter(self.scope, await self.queue.queued_threads()) if found.scan_queues else []:
            if thread_id not in found.threads:  # (_run_queued skips threads this process drives)
                self._spawn(self._run_queued(thread_id))
        return found.threads

    async def cancel(self, thread_id: str, by: str | None, *, request_key: str | None = None) -> Cancelled:
        """Stop a run (:meth:`agent.engine.run_cancels.RunCancels.cancel` says which, and how)."""
        return await self._cancels.cancel(thread_id, by, request_key=request_key)

    async def withdraw_waiting(self, thread_id: str, requested_by: str) -> list[str]:
        """Drop ``requested_by``'s requests still waiting in the thread's queue (never the one
        whose run is under way, which goes on); their keys."""
        return await self.queue.drop_waiting_of(thread_id, requested_by)

    async def sweep_expired(self) -> list[Approval]:
        """Expire overdue approvals everywhere and wake their threads."""
        expired = await self.ctx.approvals.expire_overdue(self.ctx.clock())
        for approval in expired:
            await self._announce(approval)
            await self._wake_everywhere(approval.thread_id)
        return expired

    async def status(self, thread_id: str) -> ThreadStatus:
        if self._claims[thread_id]:
            return ThreadStatus.RUNNING
        stopped = stopped_at(await self.graph.aget_state(self.config(thread_id)))
        if not stopped:
            return ThreadStatus.IDLE
        return ThreadStatus.WAITING if "wait" in stopped else ThreadStatus.RUNNING

    async def state(self, thread_id: str) -> dict[str, Any]:
        return dict((await self.graph.aget_state(self.config(thread_id))).values)

    async def state_bytes(self, thread_id: str) -> int:
        """Size of the thread's current checkpointed state, as the checkpointer stores it."""
        snapshot = await self.graph.aget_state(self.config(thread_id))
        checkpointer = self.graph.checkpointer
        if not isinstance(checkpointer, BaseCheckpointSaver):
            raise RuntimeError("the graph has no checkpointer")
        _, data = checkpointer.serde.dumps_typed(dict(snapshot.values))
        return len(data)

    async def idle(self) -> None:
        """Wait until no background work of this engine is left (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, red_grace_seconds: float = RED_GRACE_SECONDS) -> None:
        """Stop every drive of this process. A red call under way is given up to
        ``red_grace_seconds`` to finish first: cut off, its outcome would be unknown, and a
        person asked again (every rolling deploy would do that to whatever was deploying)."""
        if self.ctx.state.red_in_flight:
            log.info("letting red calls under way finish", calls=len(self.ctx.state.red_in_flight))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ctx.state.red_in_flight.emptied(), red_grace_seconds)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -------------------------------------------------------------- internals

    def _start(self, thread_id: str, payload: Any) -> None:
        """Claim the thread, then drive it in the background."""
        self._claims[thread_id] += 1
        self._spawn(self._drive(thread_id, payload))

    def _spawn(self, work: Any) -> None:
        # A run is background work, even when a person's click or request started it: that
        # urgency (agent.urgency) ends with what they wait for (queued, decided, head start).
        task: asyncio.Task[None] = asyncio.create_task(work, context=in_background())
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("engine task failed", exc_info=task.exception())

    async def _announce(self, approval: Approval) -> None:
        run_id = approval.run_id or (await self.state(approval.thread_id)).get("run_id", "")
        await self.ctx.events.publish(DecisionRecorded(
            thread_id=approval.thread_id, run_id=run_id,
            approval_id=approval.id, node_id=approval.node_id, status=approval.status.value,
            decided_by=approval.decided_by, reason=approval.reason, requested_at=approval.requested_at,
        ))

    async def _drive(self, thread_id: str, payload: Any, wait_for_lease: bool = False) -> None:
        """Run the thread under its lease (:meth:`ThreadRunner.drive`, which says what
        ``payload`` does); the caller has claimed it (one claim per drive)."""
        try:
            parked, settled = await self._runner.drive(thread_id, payload, wait_for_lease)
        finally:
            self._claims[thread_id] -= 1
            if not self._claims[thread_id]:  # no drive of the thread left in this process
                del self._claims[thread_id]
                self.ctx.state.cancelled.pop(thread_id, None)
                self.ctx.state.wakeups.forget(thread_id)
                self.ctx.state.result_cache.release(thread_id)
        if not settled:
            return
        self._spawn(self._runner.prune(thread_id))  # (off the answer's path)
        # The lost-wakeup re-check, after the lease is released: a decision or a queued request
        # that arrived while this runner held the thread was left for it to pick up.
        if await self._runner.has_news(thread_id, parked):
            self._start(thread_id, RESUME)
        elif parked is None:
            await self._run_queued(thread_id)

    async def _run_queued(self, thread_id: str) -> None:
        """Start the thread's oldest queued request, unless a drive of this process is on the
        thread (it drains the queue when it ends) or nothing is queued."""
        if self._claims[thread_id] or not await self.queue.has_queued(thread_id):
            return
        if await self.status(thread_id) is not ThreadStatus.IDLE:
            return  # whoever runs it (or takes it over) drains the queue when its run ends
        self._start(thread_id, NEXT_QUEUED)
