"""Cancelling a run: which run a cancel stops, and how it is stopped everywhere.

A cancel marks the thread cancelled for this process's runner, records a cancel mark its
runner finds even if the signal is lost (another process, a restart), withdraws the run's
pending approvals and wakes the runner, wherever it is. With a request's key, only what that
request started is stopped (:meth:`RunCancels.cancel`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from agent.engine.thread_runner import stopped_at, thread_config
from agent.execution.cancelling import Cancelled, CancelOutcome
from agent.execution.context import EngineContext
from agent.ports.ownership import RequestQueue, RunMarks, Signal
from agent.ports.stores import Approval


class RunCancels:
    def __init__(self, graph: CompiledStateGraph[Any, Any, Any, Any], ctx: EngineContext,
                 queue: RequestQueue, marks: RunMarks,
                 wake_everywhere: Callable[[str, Signal], Awaitable[None]]) -> None:
        self.graph = graph
        self.ctx = ctx
        self.queue = queue
        self.marks = marks
        self.wake_everywhere = wake_everywhere
        """Wakes the thread's runner, in this process or (by a signal) in another."""

    async def cancel(self, thread_id: str, by: str | None, *, request_key: str | None = None) -> Cancelled:
        """Stop a run: nothing more is dispatched, its pending approvals are withdrawn, and the
        run's :class:`~agent.events.RunCancelled` names ``by`` (who cancelled it, as the front
        end names people; None: nobody in particular). A runner in another process hears of the
        cancel without who made it: its RunCancelled names nobody.

        Without ``request_key``: the thread's run, whichever it is, and every queued request.
        With it, only what that request (its ``submit`` key) started: its run, if the thread's
        current run is that request's, together with the same requester's requests queued
        behind it (asked after it, they may depend on it; other people's stay and run); or,
        if the request still waits in the queue, just it. Otherwise it is too late: its run
        is over, and nothing changes."""
        if request_key is None:
            await self.queue.clear(thread_id)
            return Cancelled(CancelOutcome.STOPPED, await self._stop(thread_id, by))
        if await self.queue.drop_waiting(thread_id, request_key):
            return Cancelled(CancelOutcome.DEQUEUED, dropped=(request_key,))
        current = await self._current_request(thread_id)
        if current is None or current[0] != request_key:
            return Cancelled(CancelOutcome.TOO_LATE)
        # The follow-ups go first: once the run stops, the next queued request starts.
        requester = current[1]
        dropped = tuple(await self.queue.drop_waiting_of(thread_id, requester)) if requester else ()
        # Still that request's run? (It may have ended meanwhile, and the next one begun.)
        current = await self._current_request(thread_id)
        if current is None or current[0] != request_key:
            return Cancelled(CancelOutcome.TOO_LATE, dropped=dropped)
        return Cancelled(CancelOutcome.STOPPED, await self._stop(thread_id, by), dropped)

    async def _stop(self, thread_id: str, by: str | None) -> tuple[Approval, ...]:
        self.ctx.state.cancelled[thread_id] = by  # no await since the run was identified
        await self.marks.request_cancel(thread_id)  # found by its runner if the signal is lost
        withdrawn = await self.ctx.approvals.withdraw(
            thread_id, f"run cancelled by {by}" if by else "run cancelled")
        await self.wake_everywhere(thread_id, Signal.CANCEL)
        return tuple(withdrawn)

    async def _current_request(self, thread_id: str) -> tuple[str | None, str | None] | None:
        """The key and requester of the request whose run the thread is on; None when no run
        is under way. A run that is starting may not show in the checkpoint yet, but its
        request stays at the head of the queue, marked started, until the run parks or ends."""
        head = await self.queue.peek(thread_id)
        if head is not None and head.started:
            return head.key, head.requested_by
        snapshot = await self.graph.aget_state(thread_config(thread_id))
        if not stopped_at(snapshot):
            return None
        return snapshot.values.get("queued_key"), snapshot.values.get("requested_by")
