"""Typed run events: what a front end (terminal, Slack) renders while a run goes on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    thread_id: str
    run_id: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class Planning(RunEvent):
    request: str
    replan: int = 0


@dataclass(frozen=True, kw_only=True)
class PlanRepairing(RunEvent):
    """The planner's plan was invalid: it is asked once more, told what was wrong."""

    problems: list[str]


@dataclass(frozen=True, kw_only=True)
class PlanReady(RunEvent):
    plan: dict[str, Any]
    """The validated plan, in the public JSON format (docs/plan-format.md)."""
    mends: tuple[str, ...] = ()
    """The mends that corrected the model's draft, by name (:mod:`agent.plan.mends.pipeline`)."""
    added: tuple[str, ...] = ()
    """Nodes dagbot added to the plan that ran (:mod:`agent.engine.computed_values`): the plan's
    other nodes stay as they were shown, with their states."""


@dataclass(frozen=True, kw_only=True)
class NodeProposed(RunEvent):
    """A node of the plan the planner is still writing (streamed): complete, not yet validated
    with the rest of the plan. It may start before the plan is complete (see NodeStarted)."""

    node_id: str
    label: str


@dataclass(frozen=True, kw_only=True)
class NodeStarted(RunEvent):
    node_id: str
    label: str


@dataclass(frozen=True, kw_only=True)
class NodeFinished(RunEvent):
    node_id: str
    preview: str


@dataclass(frozen=True, kw_only=True)
class NodeFailed(RunEvent):
    node_id: str
    error: str


@dataclass(frozen=True, kw_only=True)
class NodeRejected(RunEvent):
    """A red node will not run: its approval was rejected, expired or withdrawn."""

    node_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class NodeSkipped(RunEvent):
    node_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PackageAttempt(RunEvent):
    node_id: str
    attempt: int
    max_attempts: int
    error_gist: str | None = None
    """None when the attempt is starting; the error's one-line gist when it failed."""
    mended_by: str | None = None
    """The runtime mend that wrote this attempt's code, by name (no model call was needed)."""


@dataclass(frozen=True, kw_only=True)
class ToolRetrying(RunEvent):
    """A green tool call failed with an error the tool marks as transient; it is tried again."""

    node_id: str
    attempt: int
    """The attempt that failed (1-based)."""
    max_attempts: int
    error_gist: str
    delay_s: float


@dataclass(frozen=True, kw_only=True)
class ResultReused(RunEvent):
    """A green node made the same call (tool and arguments) as one this thread made shortly
    before, and took that result instead of calling again."""

    node_id: str
    tool: str
    age_s: float
    """How long ago the reused result was produced."""


@dataclass(frozen=True, kw_only=True)
class AwaitingApproval(RunEvent):
    approval_id: str
    node_id: str
    tool: str
    args: dict[str, Any]
    why: str
    requested_by: str | None
    expires_at: float
    note: str | None = None
    """Set when the bot asks again, e.g. because an earlier call's outcome is unknown."""


@dataclass(frozen=True, kw_only=True)
class DecisionRecorded(RunEvent):
    approval_id: str
    node_id: str
    status: str
    decided_by: str | None
    reason: str | None = None
    requested_at: float | None = None
    """When the approval was asked for (None where unknown, and for a call a standing grant
    approved: nobody was asked)."""
    standing_grant: str | None = None
    """The standing grant ("Approve for this thread") that approved the call, if one did."""


@dataclass(frozen=True, kw_only=True)
class LeaseTakenOver(RunEvent):
    """This runner took over a thread whose run was under way when its lease lapsed (its
    runner died or stopped) and is resuming it."""


@dataclass(frozen=True, kw_only=True)
class Waiting(RunEvent):
    """Nothing can run until a pending approval is decided; the run is parked durably."""

    pending: list[str]


@dataclass(frozen=True, kw_only=True)
class Replanning(RunEvent):
    feedback: str
    replan: int


@dataclass(frozen=True, kw_only=True)
class AnswerDelta(RunEvent):
    """The joiner is writing its answer: the text so far (growing; streamed models only).
    A preview: :class:`AnswerReady` that follows carries the answer that counts, and a
    :class:`Replanning` that follows instead means the text was not the answer."""

    text: str


@dataclass(frozen=True, kw_only=True)
class AnswerReady(RunEvent):
    answer: str
    duration_s: float
    nodes_run: int
    tokens: int


@dataclass(frozen=True, kw_only=True)
class RunCancelled(RunEvent):
    """The run was cancelled (:meth:`agent.engine.engine.Engine.cancel`), and its scheduler has
    seen it: nothing more is dispatched, its nodes are stopped, and the :class:`RunFailed` that
    follows ends it."""

    by: str | None
    """Who cancelled it, as the front end named them to the engine (None: not known in this
    process, e.g. the cancel was made in another one)."""


@dataclass(frozen=True, kw_only=True)
class RunFailed(RunEvent):
    error: str


class EventSink(Protocol):
    async def publish(self, event: RunEvent) -> None: ...


class NullSink:
    async def publish(self, event: RunEvent) -> None:
        return None


class EventBus:
    """Fan-out of run events to subscribers, per thread or for all threads."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str | None, asyncio.Queue[RunEvent]]] = []

    async def publish(self, event: RunEvent) -> None:
        for thread_id, queue in list(self._subscribers):
            if thread_id is None or thread_id == event.thread_id:
                queue.put_nowait(event)

    async def subscribe(self, thread_id: str | None = None) -> AsyncIterator[RunEvent]:
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        entry = (thread_id, queue)
        self._subscribers.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(entry)

    def open(self, thread_id: str | None = None) -> asyncio.Queue[RunEvent]:
        """Subscribe without an iterator; close with :meth:`close`."""
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        self._subscribers.append((thread_id, queue))
        return queue

    def close(self, queue: asyncio.Queue[RunEvent]) -> None:
        self._subscribers = [(t, q) for t, q in self._subscribers if q is not queue]
