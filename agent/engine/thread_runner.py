"""Running a thread's graph under its lease: the part of a drive (:mod:`agent.engine.engine`) that
holds the thread.

A drive takes the thread's in-process lock, then its cross-process lease, and runs the graph
until the run ends or parks in ``wait`` with nothing new to resume it with. While it runs, the
lease is renewed in the background; if it cannot be kept (another runner took the thread, or
the database stayed unreachable until it lapsed), the run is stopped (:class:`LeaseLost`):
two runners must never share a thread. A run that ends or parks gives the lease back; one
that stopped leaves it lapsed, so the recovery pass of some process resumes it. A run that
raised anything else is ended as failed, and the user told (:mod:`agent.engine.run_end`, the error
boundary); only if even that fails (say the database is unreachable) is its lease left lapsed.

What a drive does once it holds the lease depends on its payload: a new run's input;
:data:`RESUME`, to resume a parked thread if something it waits for changed; or
:data:`NEXT_QUEUED`, to start the thread's oldest queued request if it is idle. Either of
the last two takes over a thread found stopped mid-run: its runner died or left its lease
lapsed, and only the lease holder may run it; one taken over RECOVERY_TAKEOVERS times
already, by any process, is ended as failed instead (its run keeps failing, or keeps taking
its process down with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable
from typing import Any

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from agent.engine.graph import new_run_input
from agent.engine.recovery import RECOVERY_TAKEOVERS
from agent.engine.run_end import GAVE_UP, end_run, internal_error
from agent.events import LeaseTakenOver
from agent.execution.context import EngineContext
from agent.execution.red_calls import start_approved
from agent.ports.ownership import RequestQueue, RunMarks, ThreadLease
from agent.ports.stores import Approval, ApprovalStatus
from agent.urgency import urgent

log = structlog.get_logger(__name__)

RESUME: Command[str] = Command(resume="decided")
"""What a parked thread is resumed with; the scheduler reads the decisions themselves."""
NEXT_QUEUED = object()
"""A drive's payload: the thread's oldest queued request, if the thread is idle."""


class LeaseLost(RuntimeError):
    """Another runner may hold the thread now: this one stops rather than run beside it."""


def thread_config(thread_id: str) -> RunnableConfig:
    """The graph's config for a thread (its checkpoints are the thread's)."""
    return {"configurable": {"thread_id": thread_id}}


class ThreadRunner:
    """Drives threads of one engine, each under its lease, one drive per thread at a time."""

    def __init__(
        self,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        ctx: EngineContext,
        leases: ThreadLease,
        queue: RequestQueue,
        marks: RunMarks,
        holder: str,
        lease_ttl: float,
    ) -> None:
        self.graph = graph
        self.ctx = ctx
        self.leases = leases
        self.queue = queue
        self.marks = marks
        self.holder = holder
        self.lease_ttl = lease_ttl
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        """Thread → the lock of its drives here; it lives while a drive holds or awaits it."""
        self._stoppers: dict[str, Callable[[], None]] = {}
        """Thread → how to stop its run here at once (its hold on the thread was lost)."""

    async def drive(
        self, thread_id: str, payload: Any, wait_for_lease: bool
    ) -> tuple[list[str] | None, bool]:
        """Run the thread under its lease, with ``payload`` (see the module's docstring).

        Returns the approvals the thread is parked on (None: not parked) and whether the
        caller is to look for news and queued work once the lease is released: the lost-wakeup
        re-check, since a decision or a queued request that arrived while this drive held the
        thread was left for it to pick up. Not when the drive did not get the lease, stopped,
        failed and could not end its run, or had no queued request to start.
        ``wait_for_lease``: if another runner holds the lease, wait for it to lapse rather than
        leave the thread to that runner."""
        async with self._locks.setdefault(thread_id, asyncio.Lock()):
            if not await self._acquire(thread_id, wait_for_lease):
                log.info("thread runs elsewhere", thread_id=thread_id)
                return None, False
            parked: list[str] | None = None
            settled = False
            lapse = True
            try:
                parked, settled = await self._drive_leased(thread_id, payload)
                lapse = False
            except LeaseLost:
                log.warning("lost the thread lease; stopped this runner", thread_id=thread_id)
            except Exception as exc:  # the error boundary (agent.engine.run_end)
                log.error("run failed unexpectedly", thread_id=thread_id, exc_info=exc)
                if await self._end_failed(thread_id, exc):
                    parked, settled, lapse = None, True, False
            finally:
                if lapse:  # stopped or failed mid-run: leave the lease lapsed, not free, so
                    # recover() in the next process finds the thread and resumes it
                    await self.leases.renew(thread_id, self.holder, 0)
                else:
                    await self.leases.release(thread_id, self.holder)
            return parked, settled

    async def prune(self, thread_id: str) -> None:
        """Keep only the thread's latest checkpoints (one per namespace, with their writes):
        a run resumes from them, and nothing reads the older ones, of which each request
        leaves about nine, each holding the whole state (a long thread's would grow with the
        square of its requests). A saver that cannot prune keeps them all."""
        checkpointer = self.graph.checkpointer
        if not isinstance(checkpointer, BaseCheckpointSaver):
            return
        try:
            await checkpointer.aprune([thread_id], strategy="keep_latest")
        except NotImplementedError:
            return
        except Exception as exc:  # a concurrent prune of the thread, the database away: next time
            log.warning("could not prune the thread's checkpoints", thread_id=thread_id, error=repr(exc))

    async def has_news(self, thread_id: str, parked: list[str] | None) -> bool:
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
        return news if news or vanished or thread_id in self.ctx.state.cancelled else None

    async def _end_failed(self, thread_id: str, exc: Exception) -> bool:
        """End the thread's run, which raised ``exc``, as failed (:func:`end_run`). False when
        no run was under way (idle, or parked: the exception came before the run moved on) or
        it could not be ended: then the lease stays lapsed and the recovery pass comes back."""
        config = thread_config(thread_id)
        try:
            if not await self.leases.renew(thread_id, self.holder, self.lease_ttl):
                return False  # another runner may hold the thread now: it is theirs
            snapshot = await self.graph.aget_state(config)
            if "wait" in stopped_at(snapshot):
                return False
            return await end_run(self.graph, self.ctx, config, snapshot, internal_error(exc))
        except Exception:
            log.error("could not end the failed run; the recovery pass will come back to it",
                      thread_id=thread_id, exc_info=True)
            return False

    async def _drive_leased(self, thread_id: str, payload: Any) -> tuple[list[str] | None, bool]:
        """The part of a drive that holds the lease. Returns the approvals the thread is
        parked on (None: not parked) and whether to look for news and queued work after."""
        if payload is NEXT_QUEUED or payload is RESUME:
            # A resume is mostly a decision someone just clicked: what it reads before the
            # approved call starts is urgent work (agent.urgency).
            with urgent() if payload is RESUME else contextlib.nullcontext():
                snapshot = await self.graph.aget_state(thread_config(thread_id))
            if stopped_at(snapshot) and "wait" not in stopped_at(snapshot):
                # Stopped mid-run, and this drive holds the lease: its runner died or left
                # the lease lapsed. Take it over (the journal keeps red calls once), unless
                # that has been done too often: then end the run (if this raises, the error
                # boundary has a go).
                if (tries := await self.marks.count_takeover(thread_id)) > RECOVERY_TAKEOVERS:
                    await end_run(self.graph, self.ctx, thread_config(thread_id), snapshot,
                                  GAVE_UP.format(tries=tries - 1))
                    return None, True
                await self.ctx.events.publish(LeaseTakenOver(
                    thread_id=thread_id, run_id=str(snapshot.values.get("run_id") or "")))
                await self.heed_cancel(thread_id)
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
            await self.marks.start_run(thread_id)
            parked = await self._run_until_settled(
                thread_id, new_run_input(request.text, request.requested_by, request.key))
            await self.queue.remove(request.id)
            return parked, True
        if payload is RESUME:
            parked = list(snapshot.values.get("pending_approvals", [])) if stopped_at(snapshot) else None
            with urgent():
                news = await self._news(thread_id, parked)
                if news is None:
                    return parked, True
                await self.heed_cancel(thread_id)
            return await self._run_until_settled(thread_id, payload, news), True
        await self.marks.start_run(thread_id)  # a new run's input
        return await self._run_until_settled(thread_id, payload), True

    async def _head_start(self, thread_id: str, decided: list[Approval]) -> None:
        """Start the approved calls among ``decided`` before the graph resumes (see
        :meth:`_run_until_settled`)."""
        approved = [a for a in decided if a.status is ApprovalStatus.APPROVED and a.run_id]
        if not approved or thread_id in self.ctx.state.cancelled:
            return
        with urgent():  # what the approver waits for: the call starting
            started = await asyncio.gather(*(start_approved(self.ctx, a) for a in approved),
                                           return_exceptions=True)
        for failure in (s for s in started if isinstance(s, Exception)):
            # the scheduler runs (or re-asks for) the node as it would without a head start
            log.warning("could not start an approved call early", thread_id=thread_id,
                        exc_info=failure)

    async def _urgent_news(self, thread_id: str, parked: list[str] | None) -> list[Approval] | None:
        with urgent():  # a click may be waiting on it
            return await self._news(thread_id, parked)

    async def heed_cancel(self, thread_id: str) -> None:
        """The thread's run was cancelled and this process may not have heard (the signal
        was lost, or the run is taken over from the replica that heard): stop it here too."""
        if thread_id not in self.ctx.state.cancelled and await self.marks.cancel_requested(thread_id):
            log.info("found the run cancelled", thread_id=thread_id)
            self.ctx.state.cancelled.setdefault(thread_id, None)
            self.ctx.state.wakeups.wake(thread_id)

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

        def stop() -> None:
            lost.set()
            run.cancel()

        self._stoppers[thread_id] = stop
        renewer = asyncio.create_task(self._renew(thread_id, run, lost))
        try:
            await self._head_start(thread_id, decided or [])
            values = await self.graph.ainvoke(payload, thread_config(thread_id), context=self.ctx)
            # Decided while this drive parked the thread (its runner had the wake-up, but the
            # graph had left the scheduler): resumed here, with the same head start.
            while (news := await self._urgent_news(thread_id, parked_on(values))) is not None:
                await self._head_start(thread_id, news)
                values = await self.graph.ainvoke(RESUME, thread_config(thread_id), context=self.ctx)
            return parked_on(values)
        except asyncio.CancelledError:
            if lost.is_set():
                run.uncancel()
                raise LeaseLost(thread_id) from None
            raise
        finally:
            self._stoppers.pop(thread_id, None)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if lost.is_set() and run.cancelling():  # lost just as the graph returned
                run.uncancel()
                raise LeaseLost(thread_id)

    def stop_lost(self, thread_ids: list[str]) -> None:
        """This process lost its hold on these threads (:meth:`ThreadLease.subscribe_lost`):
        their runs here stop now, not at their next renewal."""
        for thread_id in thread_ids:
            if (stop := self._stoppers.get(thread_id)) is not None:
                stop()

    async def _renew(self, thread_id: str, run: asyncio.Task[Any], lost: asyncio.Event) -> None:
        """Keep the lease while the thread runs. If it cannot be kept (taken over, or the
        database unreachable until it lapsed), stop the run: two runners must never share
        a thread. Each time, also look for a cancel this process did not hear of."""
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
                try:
                    await self.heed_cancel(thread_id)
                except Exception:  # only a fallback: the next round looks again
                    log.warning("could not look for a cancel", thread_id=thread_id, exc_info=True)
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
