"""What the graph's nodes need from outside, passed as LangGraph's runtime context."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.language_models import BaseChatModel

from agent.events import EventSink, NullSink
from agent.execution.redaction import Redactor
from agent.execution.result_cache import ResultCache
from agent.model.prompt_budget import DEFAULT_PROMPT_CHARS
from agent.plan.limits import PlanLimits
from agent.ports.sandbox import PackageRunner, SandboxLimits
from agent.ports.standing import NoStandingApprovals, StandingApprovals
from agent.ports.stores import (
    AllowAll,
    ApprovalStore,
    AuditLog,
    ExecutionJournal,
    NodeResultStore,
    NullAudit,
    ToolAccess,
)
from agent.tools.registry import RetryPolicy, ToolRegistry


class ProvisionalRun(Protocol):
    """The nodes a run started while its plan streamed (a provisional
    :class:`~agent.execution.scheduler.PlanExecutor`), until the scheduler takes them over."""

    async def settle(self) -> None:
        """Wait until its finished nodes are saved."""

    def finished(self) -> dict[str, dict[str, Any]]:
        """The nodes it has done so far, by id, each result as the thread's state keeps it."""

    def abandon(self) -> None:
        """Stop its calls: nothing will take them over."""


PlanOutput = Literal["tool_call", "json_schema"]


@dataclass(frozen=True)
class EngineSettings:
    max_replans: int = 2
    """Joiner-requested replans per request (DAGBOT_MAX_REPLANS)."""
    approval_ttl_seconds: float = 24 * 3600
    """Pending approvals expire (count as rejected) after this (DAGBOT_APPROVAL_TTL)."""
    standing_approval_ttl_seconds: float = 3600.0
    """A standing approval ("Approve for this thread") ends this long after it was given,
    unless revoked before (DAGBOT_STANDING_APPROVAL_TTL)."""
    node_timeout_seconds: float = 300.0
    """A single tool node running longer than this fails."""
    decision_poll_seconds: float = 1.0
    """How often a running plan looks for decisions recorded by other processes."""
    inline_output_bytes: int = 4_000
    """Outputs larger than this stay in the result store; state keeps a preview."""
    preview_chars: int = 1_500
    stream_planner: bool = True
    """Stream the planner's reply and start each green node once it is complete and valid on
    its own, before the rest of the plan has arrived (DAGBOT_STREAM_PLANNER)."""
    plan_output: PlanOutput = "tool_call"
    """How the planner's reply is asked for: a forced ``plan`` tool call, or the
    reply's text held to the plan's JSON schema by the server (DAGBOT_PLAN_OUTPUT)."""
    prompt_chars: int = DEFAULT_PROMPT_CHARS
    """Most characters of the planner's and the joiner's prompt, system prompt included: the
    oldest earlier runs of the thread, then the length of results, give way to stay within it
    (agent.model.prompt_budget; DAGBOT_PROMPT_CHARS)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """For green tools registered without a policy of their own (DAGBOT_TOOL_ATTEMPTS)."""
    result_cache_seconds: float = 30.0
    """An identical green call (tool and arguments) in the same thread within this many seconds
    reuses the earlier result; 0 turns this off (DAGBOT_RESULT_CACHE_TTL)."""
    file_shapes: bool = False
    """Show the planner the shape of the CSV and JSON files a request names (columns and first
    row, keys and types; agent.engine.named_file_shapes; DAGBOT_FILE_SHAPES). Off: they helped
    the local 1.5B model on bench.quality's dev set and cost it holdout requests."""
    plan_limits: PlanLimits = field(default_factory=PlanLimits)
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)


class Wakeups:
    """In-process signal that something changed for a thread (a decision, a cancel)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, thread_id: str) -> asyncio.Event:
        return self._events.setdefault(thread_id, asyncio.Event())

    def wake(self, thread_id: str) -> None:
        self.event(thread_id).set()

    def forget(self, thread_id: str) -> None:
        """No run of the thread is left in this process: its event goes (the next run reads
        what changed from the database when it starts)."""
        self._events.pop(thread_id, None)


class InFlight:
    """A set of ids that can be waited on until it is empty."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._empty = asyncio.Event()
        self._empty.set()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: str) -> None:
        self._ids.add(item)
        self._empty.clear()

    def discard(self, item: str) -> None:
        self._ids.discard(item)
        if not self._ids:
            self._empty.set()

    async def emptied(self) -> None:
        await self._empty.wait()


@dataclass
class EngineState:
    """What the engine keeps while it runs, in this process: changed by the engine alone."""

    wakeups: Wakeups = field(default_factory=Wakeups)
    cancelled: dict[str, str | None] = field(default_factory=dict)
    """Threads whose run was cancelled, each with who cancelled it (None: not known here, the
    cancel was heard of from another process): nothing more is dispatched for them, and the
    run's :class:`~agent.events.RunCancelled` names who."""
    red_in_flight: InFlight = field(default_factory=InFlight)
    """Approvals whose red call is running in this process (a shutdown lets them finish)."""
    result_cache: ResultCache = field(default_factory=ResultCache)
    early_starts: dict[tuple[str, str], ProvisionalRun] = field(default_factory=dict)
    """(thread, run) → the nodes started while the planner streamed its plan (running or done),
    until the scheduler takes them over (agent.execution.early_start)."""
    stream_refused: str | None = None
    """Why the model would not stream (the planner's or the joiner's reply): set once, then
    neither is streamed again."""


@dataclass(frozen=True)
class EngineContext:
    """What the graph's nodes are given: the engine's dependencies, fixed when it is built, and
    its :class:`EngineState`."""

    llm: BaseChatModel
    registry: ToolRegistry
    approvals: ApprovalStore
    executions: ExecutionJournal
    results: NodeResultStore
    packages: PackageRunner | None = None
    """None: package nodes fail with a message saying how to enable a sandbox."""
    events: EventSink = field(default_factory=NullSink)
    settings: EngineSettings = field(default_factory=EngineSettings)
    clock: Callable[[], float] = time.time
    audit: AuditLog = field(default_factory=NullAudit)
    """The append-only audit trail (infra writes it to the database)."""
    access: ToolAccess = field(default_factory=AllowAll)
    """Which tools each request may use (the Slack bot puts its access policy here)."""
    standing: StandingApprovals = field(default_factory=NoStandingApprovals)
    """Standing approvals ("Approve for this thread"): a red call one covers is approved by it
    (the Slack bot puts here the grants its access policy still allows)."""
    redactor: Redactor = field(default_factory=Redactor)
    """The secrets the engine was configured with (the model's API key, credentials in its
    URL): masked in any error text that leaves the engine (:func:`agent.execution.redaction.scrub_error`)."""
    state: EngineState = field(default_factory=EngineState)
