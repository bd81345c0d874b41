"""The engine's front door: start runs, record decisions, resume parked or crashed threads.

One runner per thread at a time: an in-process lock plus a cross-process lease. A
runner whose graph parks in ``wait`` re-checks for decisions after it lets go of the
lease (the lost-wakeup rule, design.md §3): a decision recorded before that re-check
is seen by it, and one recorded after finds the thread free and resumes it itself.

Processes sharing a database tell each other of decisions and cancels through
:class:`ThreadSignals`, so the process running a thread reacts at once wherever the click
landed. A drive that holds the lease and finds the thread stopped mid-run takes it over:
its runner died (or lapsed its lease), and only the lease holder may run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter, defaultdict
from enum import StrEnum
from typing import Any

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from agent.context import EngineContext
from agent.events import DecisionRecorded, LeaseTakenOver
from agent.graph import new_run_input
from agent.ports import (
    Approval,
    ApprovalStatus,
    DecisionResult,
    NoSignals,
    RequestQueue,
    Signal,
    ThreadLease,
    ThreadSignals,
)
from agent.red_calls import start_approved

log = structlog.get_logger(__name__)


class ThreadStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    WAITING = "waiting"
    """Parked: only approvals remain."""


RESUME: Command[str] = Command(resume="decided")
"""What a parked thread is resumed with; the scheduler reads the decisions themselves."""
RECOVERY_OVERLAP = 10.0
"""Seconds each recovery pass looks back before the previous one (see recover_lapsed)."""
RECOVERY_BACKOFF = (5.0, 300.0)
"""A thread the pass took over that lapses again (its run keeps failing) is retried after a
delay doubling from the first figure up to the second, not at every pass."""
DECIDED_SCAN_SECONDS = 5.0
"""The recovery pass looks for lapsed leases every time (one query), and for decided threads
and orphaned queued requests no more often than this (the rare case of a process dying
between recording a decision or a follow-up and acting on it)."""
NEXT_QUEUED = object()
"""A drive's payload: the thread's oldest queued request, if the thread is idle."""


class LeaseLost(RuntimeError):
    """Another runner may hold the thread now: this one stops rather than run beside it."""


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
        *,
        holder: str | None = None,
        lease_ttl_seconds: float = 30.0,
        signals: ThreadSignals | None = None,
    ) -> None:
        self.graph = graph
        self.ctx = ctx
        self.leases = leases
        self.queue = queue
        self.signals = signals or NoSignals()
        self.signals.subscribe(self.on_signal)
        self.holder = holder or uuid.uuid4().hex
        self.lease_ttl = lease_ttl_seconds
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._claims: Counter[str] = Counter()
        """Thread id → drives of this process that are on it or about to be (claimed before
        they are spawned, so a twin request sees the thread busy at once)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._recovered_at: float | None = None
        """When the last recovery pass looked for decided threads."""
        self._scanned_at: float | None = None
        """When the last full recovery pass ran (decided threads, queued requests)."""
        self._retries: dict[str, tuple[int, float]] = {}
        """Lapsed thread the pass took over → (how many times, when it may try again)."""

    @staticmethod
    def config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}

    # ------------------------------------------------------------- public API

    async def ask(self, thread_id: str, request: str, requested_by: str | None = None) -> None:
        """Run a request until it finishes or parks waiting for approvals."""
        self._claims[thread_id] += 1
        await self._drive(thread_id, new_run_input(request, requested_by))

    async def submit(
        self, thread_id: str, request: str, requested_by: str | None = None, *, key: str | None = None
    ) -> Submission:
        """Queue a request durably, then start it in the background, or leave it queued if
        the thread has a run going here or in another process, or earlier requests are queued.

        Once this returns, the request is not lost: if this process dies before its run is
        under way, the recovery pass of any process starts it. ``key`` (at most 32
        characters) makes a redelivery of a request still queued or running a no-op."""
        busy = (await self.status(thread_id) is not ThreadStatus.IDLE
                or await self.queue.has_queued(thread_id)
                # the checkpoint may not show yet a run another process has just started
                or not await self.leases.acquire(thread_id, self.holder, self.lease_ttl))
        if busy or self._claims[thread_id]:  # (the claim check: a twin submit got here first)
            await self.queue.push(thread_id, request, requested_by, key)
            await self._run_queued(thread_id)  # in case the thread's runner ended meanwhile
            return Submission.QUEUED
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

    def wake(self, thread_id: str) -> None:
        """Something changed for the thread: tell its runner, or resume it if parked."""
        if self._claims[thread_id]:
            self.ctx.wakeups.wake(thread_id)
        else:
            self._start(thread_id, RESUME)

    def on_signal(self, thread_id: str, signal: Signal) -> None:
        """Another process recorded something for a thread: if a drive of this process is on
        it, that runner reacts now (the sender resumes the thread itself when nobody holds it)."""
        if not self._claims[thread_id]:
            return
        if signal is Signal.CANCEL:
            self.ctx.cancelled.add(thread_id)
        self.ctx.wakeups.wake(thread_id)

    def wake_all(self) -> None:
        """Every runner of this process re-reads its approvals (signals may have been missed:
        the listener reconnected)."""
        for thread_id in list(self._claims):
            self.ctx.wakeups.wake(thread_id)

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
        self._recovered_at = self._scanned_at = self.ctx.clock()  # where recover_lapsed() takes over
        held = await self.leases.held_threads()
        since = self.ctx.clock() - self.ctx.settings.approval_ttl_seconds
        decided = await self.ctx.approvals.threads_decided_since(since)
        threads = list(dict.fromkeys([*held, *decided]))
        for thread_id in threads:
            self._spawn(self.resume(thread_id, lapsed=thread_id in held))
        for thread_id in await self.queue.queued_threads():
            if thread_id not in threads:  # a resumed thread runs its queue when it ends
                self._spawn(self._run_queued(thread_id))
        return threads

    async def recover_lapsed(self) -> list[str]:
        """The recovery pass a running process repeats: resume threads whose lease lapsed
        (their runner died, or failed in a live process), parked threads decided since the
        previous pass that no runner took up, and queued requests no runner will drain.
        Returns the thread ids it resumed.

        Cheap when there is nothing to do (one small query; three every DECIDED_SCAN_SECONDS).
        It skips threads a drive of this process is on and never waits for a lease, so a
        thread whose runner is alive (here or elsewhere) is left to that runner; one whose run
        fails at every take-over is retried less and less often (RECOVERY_BACKOFF)."""
        now = self.ctx.clock()
        lapsed = await self.leases.lapsed_threads()
        decided: list[str] = []
        full = self._scanned_at is None or now - self._scanned_at >= DECIDED_SCAN_SECONDS
        if full:
            # Overlapping windows: a decision is stamped before it commits, and by the clock of
            # the process that recorded it. Seeing one twice is harmless (nothing new: no run).
            since = (self._recovered_at or now - self.ctx.settings.approval_ttl_seconds) - RECOVERY_OVERLAP
            decided = await self.ctx.approvals.threads_decided_since(since)
            self._recovered_at = self._scanned_at = now
        for settled in self._retries.keys() - set(lapsed):  # it recovered, or is elsewhere now
            del self._retries[settled]
        due = [t for t in lapsed if self._retries.get(t, (0, now))[1] <= now]
        threads = [t for t in dict.fromkeys([*due, *decided]) if not self._claims[t]]
        for thread_id in threads:
            if thread_id in lapsed:
                tries = self._retries.get(thread_id, (0, now))[0] + 1
                self._retries[thread_id] = (tries, now + min(
                    RECOVERY_BACKOFF[0] * 2 ** (tries - 1), RECOVERY_BACKOFF[1]))
            self._spawn(self.resume(thread_id, wait_for_lease=False, lapsed=thread_id in lapsed))
        for thread_id in await self.queue.queued_threads() if full else []:
            if thread_id not in threads:  # (_run_queued skips threads this process drives)
                self._spawn(self._run_queued(thread_id))
        return threads

    async def cancel(self, thread_id: str, by: str) -> list[Approval]:
        """Stop the thread's run: nothing more is dispatched, pending approvals withdrawn."""
        await self.queue.clear(thread_id)
        self.ctx.cancelled.add(thread_id)
        withdrawn = await self.ctx.approvals.withdraw(thread_id, f"run cancelled by {by}")
        await self._wake_everywhere(thread_id, Signal.CANCEL)
        return withdrawn

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

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -------------------------------------------------------------- internals

    def _start(self, thread_id: str, payload: Any) -> None:
        """Claim the thread, then drive it in the background."""
        self._claims[thread_id] += 1
        self._spawn(self._drive(thread_id, payload))

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
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

    async def _has_news(self, thread_id: str, parked: list[str] | None) -> bool:
        """Parked on these approvals, and something it waits for has changed."""
        return await self._news(thread_id, parked) is not None

    async def _news(self, thread_id: str, parked: list[str] | None) -> list[Approval] | None:
        """What changed for a thread parked on these approvals: the approvals decided (or
        expired, withdrawn) since; None when nothing did or it is not parked."""
        if parked is None:
            return None
        news: list[Approval] = []
        vanished = False
        now = self.ctx.clock()
        for approval_id in parked:
            approval = await self.ctx.approvals.get(approval_id)
            if approval is None:
                vanished = True  # the scheduler will ask again
            elif not approval.is_pending or approval.expires_at <= now:
                news.append(approval)
        return news if news or vanished or thread_id in self.ctx.cancelled else None

    async def _drive(self, thread_id: str, payload: Any, wait_for_lease: bool = False) -> None:
        """Run the thread under its lease; the caller has claimed it (one claim per drive).

        ``RESUME`` resumes it only if it is parked and something it waits for changed, and
        ``NEXT_QUEUED`` starts its oldest queued request only if it is idle: both checked once
        the lease is held, since another runner may have moved the thread meanwhile (a
        request left queued is started by whichever runner has the thread when its run
        ends). Either payload takes over a thread found
        stopped mid-run (see _drive_leased)."""
        parked: list[str] | None = None
        settled = False
        """It ran to an end or a park (not stopped, not failed): look again after release."""
        try:
            async with self._locks[thread_id]:
                if not await self._acquire(thread_id, wait_for_lease):
                    log.info("thread runs elsewhere", thread_id=thread_id)
                    return
                lapse = True
                try:
                    parked, settled = await self._drive_leased(thread_id, payload)
                    lapse = False
                except LeaseLost:
                    log.warning("lost the thread lease; stopped this runner", thread_id=thread_id)
                finally:
                    if lapse:  # stopped or failed mid-run: leave the lease lapsed, not free, so
                        # recover() in the next process finds the thread and resumes it
                        await self.leases.renew(thread_id, self.holder, 0)
                    else:
                        await self.leases.release(thread_id, self.holder)
        finally:
            self._claims[thread_id] -= 1
            if not self._claims[thread_id]:
                del self._claims[thread_id]
                self.ctx.cancelled.discard(thread_id)
        if not settled:
            return
        # The lost-wakeup re-check, after the lease is released: a decision or a queued request
        # that arrived while this runner held the thread was left for it to pick up.
        if await self._has_news(thread_id, parked):
            self._start(thread_id, RESUME)
        elif parked is None:
            await self._run_queued(thread_id)

    async def _drive_leased(self, thread_id: str, payload: Any) -> tuple[list[str] | None, bool]:
        """The part of a drive that holds the lease. Returns the approvals the thread is
        parked on (None: not parked) and whether to look for news and queued work after."""
        if payload is NEXT_QUEUED or payload is RESUME:
            snapshot = await self.graph.aget_state(self.config(thread_id))
            if stopped_at(snapshot) and "wait" not in stopped_at(snapshot):
                # Stopped mid-run, and this drive holds the lease: its runner died or left
                # the lease lapsed. Take it over (the journal keeps red calls once).
                await self.ctx.events.publish(LeaseTakenOver(
                    thread_id=thread_id, run_id=str(snapshot.values.get("run_id") or "")))
                return await self._run_until_settled(thread_id, None), True
        if payload is NEXT_QUEUED:
            if stopped_at(snapshot):
                return None, False  # parked: it drains the queue when its run ends
            while (request := await self.queue.peek(thread_id)) is not None:
                if snapshot.values.get("queued_key") != request.key:
                    break
                await self.queue.remove(request.id)  # its run began before a crash: done
            if request is None:
                return None, False
            await self.queue.mark_started(request.id)
            parked = await self._run_until_settled(
                thread_id, new_run_input(request.text, request.requested_by, request.key))
            await self.queue.remove(request.id)
            return parked, True
        if payload is RESUME:
            parked = list(snapshot.values.get("pending_approvals", [])) if stopped_at(snapshot) else None
            news = await self._news(thread_id, parked)
            if news is None:
                return parked, True
            return await self._run_until_settled(thread_id, payload, news), True
        return await self._run_until_settled(thread_id, payload), True

    async def _run_queued(self, thread_id: str) -> None:
        """Start the thread's oldest queued request, unless a drive of this process is on the
        thread (it drains the queue when it ends) or nothing is queued."""
        if self._claims[thread_id] or not await self.queue.has_queued(thread_id):
            return
        if await self.status(thread_id) is not ThreadStatus.IDLE:
            return  # whoever runs it (or takes it over) drains the queue when its run ends
        self._start(thread_id, NEXT_QUEUED)

    async def _acquire(self, thread_id: str, wait: bool) -> bool:
        deadline = self.ctx.clock() + (self.lease_ttl + 1 if wait else 0)
        while True:
            if await self.leases.acquire(thread_id, self.holder, self.lease_ttl):
                return True
            if self.ctx.clock() >= deadline:
                return False
            await asyncio.sleep(min(1.0, self.lease_ttl / 4))

    async def _run_until_settled(
        self, thread_id: str, payload: Any, decided: list[Approval] | None = None
    ) -> list[str] | None:
        """Invoke until the thread ends or parks with nothing new. Returns the approvals it
        is parked on (None when it ended), read from the run's own output.

        ``decided``: approvals that woke a parked thread. The approved calls among them start
        at once, before the graph resumes (loading the checkpoint, stepping through ``wait``
        and into the scheduler takes a dozen database round trips, which a busy bot makes
        slow); the scheduler then finds their results saved. The journal keeps each once."""
        run = asyncio.current_task()
        assert run is not None
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(thread_id, run, lost))
        try:
            approved = [a for a in decided or [] if a.status is ApprovalStatus.APPROVED and a.run_id]
            if approved and thread_id not in self.ctx.cancelled:
                started = await asyncio.gather(*(start_approved(self.ctx, a) for a in approved),
                                               return_exceptions=True)
                for failure in (s for s in started if isinstance(s, Exception)):
                    # the scheduler runs (or re-asks for) the node as it would without a head start
                    log.warning("could not start an approved call early", thread_id=thread_id,
                                exc_info=failure)
            values = await self.graph.ainvoke(payload, self.config(thread_id), context=self.ctx)
            while await self._has_news(thread_id, parked_on(values)):
                values = await self.graph.ainvoke(RESUME, self.config(thread_id), context=self.ctx)
            return parked_on(values)
        except asyncio.CancelledError:
            if lost.is_set():
                run.uncancel()
                raise LeaseLost(thread_id) from None
            raise
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if lost.is_set() and run.cancelling():  # lost just as the graph returned
                run.uncancel()
                raise LeaseLost(thread_id)

    async def _renew(self, thread_id: str, run: asyncio.Task[Any], lost: asyncio.Event) -> None:
        """Keep the lease while the thread runs. If it cannot be kept (taken over, or the
        database unreachable until it lapsed), stop the run: two runners must never share
        a thread."""
        renewed_at = self.ctx.clock()
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            try:
                async with asyncio.timeout(self.lease_ttl / 3):  # a hung database is no renewal
                    renewed: bool | None = await self.leases.renew(thread_id, self.holder, self.lease_ttl)
            except Exception:
                log.warning("could not renew the thread lease", thread_id=thread_id, exc_info=True)
                renewed = None  # try again, unless the lease is about to lapse
            if renewed:
                renewed_at = self.ctx.clock()
            elif renewed is False or self.ctx.clock() - renewed_at >= self.lease_ttl * 2 / 3:
                lost.set()
                run.cancel()
                return


def parked_on(values: Any) -> list[str] | None:
    """From ``ainvoke``'s output: the approvals the thread waits for, or None if it ended."""
    if not isinstance(values, dict) or not values.get("__interrupt__"):
        return None
    return list(values.get("pending_approvals") or [])


def stopped_at(snapshot: StateSnapshot) -> tuple[str, ...]:
    """The nodes a thread's graph stopped before: () once its run has ended; ``wait`` while it
    is parked; others if its runner stopped mid-run.

    Not ``snapshot.next``, which leaves out tasks that finished: a runner that died after a
    step's writes were saved but before its checkpoint was (checkpoints are written in the
    background) leaves a thread whose ``next`` is empty though its run is not over."""
    return tuple(task.name for task in snapshot.tasks)
