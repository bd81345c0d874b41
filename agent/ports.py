"""The small typed interfaces through which the engine reaches the outside world.

``infra`` implements the stores with SQLAlchemy, ``sandbox`` implements
:class:`Sandbox` and :class:`PackageRunner`; tests use the real ones or fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from agent.audit import AuditEntry
from agent.events import RunEvent

# ---------------------------------------------------------------- approvals


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    """The run was cancelled or replanned while the approval waited."""


@dataclass(frozen=True)
class ApprovalRequest:
    thread_id: str
    plan_id: str
    node_id: str
    tool: str
    args: dict[str, Any]
    args_digest: str
    why: str
    requested_by: str | None
    ttl_seconds: float
    note: str | None = None
    run_id: str = ""


@dataclass(frozen=True)
class Approval:
    id: str
    thread_id: str
    plan_id: str
    node_id: str
    tool: str
    args: dict[str, Any]
    args_digest: str
    why: str
    status: ApprovalStatus
    requested_by: str | None
    requested_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = None
    note: str | None = None
    run_id: str = ""
    """The run that asked (empty for approvals recorded before dagbot kept it)."""
    edited_args: dict[str, Any] | None = None
    """Set when an approver edited the arguments before deciding: these are what runs."""
    edited_by: str | None = None
    edited_at: float | None = None
    edits: int = 0
    """How many times the arguments were edited (an Approve click names the version it saw)."""

    @property
    def is_pending(self) -> bool:
        return self.status is ApprovalStatus.PENDING

    @property
    def approved_args(self) -> dict[str, Any]:
        """The arguments an approval lets run: the edited ones, if it was edited."""
        return self.edited_args if self.edited_args is not None else self.args


class DecisionOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_DECIDED = "already_decided"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    CHANGED = "changed"
    """The arguments were edited since the clicker saw them: nothing was decided."""


@dataclass(frozen=True)
class DecisionResult:
    outcome: DecisionOutcome
    approval: Approval | None
    changed: bool = False
    """This call changed the approval: recorded the decision, or found it overdue and
    expired it (the sweeper had not yet)."""


class ApprovalStore(Protocol):
    """Durable approval requests and their decisions. Decisions are atomic and once-only."""

    async def request(self, req: ApprovalRequest) -> Approval:
        """Create a pending approval (the newest one for its node wins)."""

    async def latest_for_node(self, thread_id: str, plan_id: str, node_id: str) -> Approval | None:
        ...

    async def get(self, approval_id: str) -> Approval | None: ...

    async def decide(
        self, approval_id: str, *, approved: bool, by: str, reason: str | None = None,
        now: float | None = None, edits: int | None = None,
    ) -> DecisionResult:
        """Move a pending approval to approved/rejected; anything else is refused. ``edits``:
        the version of the arguments the decider saw; if they were edited since, CHANGED."""

    async def edit(
        self, approval_id: str, *, args: dict[str, Any], by: str, edits: int, now: float | None = None,
    ) -> DecisionResult:
        """Replace a pending approval's arguments (what will run if it is approved), if they
        are still at version ``edits``; the original ones are kept beside them."""

    async def expire_overdue(self, now: float, thread_id: str | None = None) -> list[Approval]:
        ...

    async def withdraw(self, thread_id: str, reason: str) -> list[Approval]:
        """Withdraw every pending approval of a thread (cancel)."""

    async def pending(self, thread_id: str | None = None) -> list[Approval]: ...

    async def threads_decided_since(self, since: float) -> list[str]:
        """Threads with an approval decided, expired or withdrawn at or after ``since``."""


# --------------------------------------------------------- execution journal


class ExecutionStatus(StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """The process stopped between 'started' and 'finished': the outcome is unknown."""


@dataclass(frozen=True)
class Execution:
    approval_id: str
    status: ExecutionStatus
    output: Any = None
    error: str | None = None


class ExecutionJournal(Protocol):
    """At-most-once execution of red tools, keyed by the approval that allowed them."""

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        """Record 'started'; False when an execution for this approval exists already."""

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None: ...

    async def get(self, approval_id: str) -> Execution | None: ...

    async def mark_unknown(self, approval_id: str) -> None: ...


# ------------------------------------------------------------- node results


class NodeStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class NodeResult:
    node_id: str
    status: NodeStatus
    output: Any = None
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 1
    attempt_log: list[dict[str, Any]] | None = None
    """Package nodes: one record per sandbox attempt (attempt, code, error gist or None)."""


class NodeResultStore(Protocol):
    """Per-node durability: a finished node's result survives a crash of its run."""

    async def save(self, thread_id: str, plan_id: str, result: NodeResult) -> None: ...

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]: ...


class ThreadLease(Protocol):
    """One runner per thread at a time, across processes."""

    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool: ...

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool: ...

    async def release(self, thread_id: str, holder: str) -> None: ...

    async def held_threads(self) -> list[str]:
        """Threads whose lease is still held (a runner is on them, or died on them)."""

    async def lapsed_threads(self) -> list[str]:
        """Threads whose lease is held but lapsed: their runner died, or failed and left it."""


class Signal(StrEnum):
    WAKE = "wake"
    """A decision was recorded (or an approval expired): the runner re-reads the approvals."""
    CANCEL = "cancel"
    """The run was cancelled: the runner stops it, in-flight nodes included."""


SignalHandler = Callable[[str, Signal], None]
"""Receives (thread id, signal) from another process sharing the database."""


class ThreadSignals(Protocol):
    """Tells the other processes sharing the database that something changed for a thread,
    so the one running it reacts at once instead of at its next poll."""

    async def send(self, thread_id: str, signal: Signal) -> None: ...

    def subscribe(self, handler: SignalHandler) -> None:
        """Call ``handler`` for every signal another process sends."""


class NoSignals:
    """One process (SQLite): nobody else to tell."""

    async def send(self, thread_id: str, signal: Signal) -> None:
        return None

    def subscribe(self, handler: SignalHandler) -> None:
        return None


@dataclass(frozen=True)
class QueuedRequest:
    id: int
    thread_id: str
    text: str
    requested_by: str | None
    key: str
    """Unique for ever (ids may be reused): the run started from it records it."""


class RequestQueue(Protocol):
    """Requests waiting for their run: durable, shared by processes. Every request goes through
    it, so one accepted by a process that dies before its run is under way still runs."""

    async def push(self, thread_id: str, text: str, requested_by: str | None, key: str | None = None) -> bool:
        """Queue a request under ``key`` (a fresh one if None). False: a request with that key
        is queued already (a redelivery), and nothing was added."""

    async def peek(self, thread_id: str) -> QueuedRequest | None:
        """The thread's oldest queued request, left in the queue."""

    async def mark_started(self, request_id: int) -> None:
        """Its run is starting: no longer counted as waiting (it stays until ``remove``)."""

    async def remove(self, request_id: int) -> None:
        """Take a request out of the queue once its run is recorded (or was, before a crash)."""

    async def has_queued(self, thread_id: str) -> bool: ...

    async def clear(self, thread_id: str) -> int:
        """Drop every queued request of the thread (cancel); returns how many."""

    async def queued_threads(self) -> list[str]: ...


# -------------------------------------------------------------------- audit


class AuditLog(Protocol):
    """The append-only audit trail. Only :meth:`prune` removes rows (retention)."""

    async def record(self, entry: AuditEntry) -> None: ...

    async def prune(self, before: float) -> int:
        """Remove entries older than ``before``; returns how many."""


class NullAudit:
    """No trail (tests and tools that do not need one)."""

    async def record(self, entry: AuditEntry) -> None:
        return None

    async def prune(self, before: float) -> int:
        return 0


# ------------------------------------------------------------------- access


class ToolAccess(Protocol):
    """Which tools a request may use: the front end's policy (who asks, where). The planner
    sees only the tools allowed; a plan naming another is refused by validation."""

    async def refused_tools(
        self, thread_id: str, requester: str | None, tools: Sequence[str]
    ) -> dict[str, str]:
        """Of ``tools``, those the requester may not use in this thread, each with why (a
        sentence the requester can act on)."""


class AllowAll:
    """No policy: every tool for everyone."""

    async def refused_tools(
        self, thread_id: str, requester: str | None, tools: Sequence[str]
    ) -> dict[str, str]:
        return {}


# ------------------------------------------------------------------ sandbox


@dataclass(frozen=True)
class SandboxLimits:
    wall_seconds: float = 30.0
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 64
    output_bytes: int = 256_000
    """Cap for stdout, stderr and the JSON result, each."""
    tool_calls: int = 20
    tool_timeout_seconds: float = 30.0


class ToolGateway(Protocol):
    """What package code may call: green tools only, arguments validated, budgeted."""

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        """Run a green tool; raises ToolNotAllowed / ToolArgumentError / ToolError."""


@dataclass(frozen=True)
class SandboxResult:
    ok: bool
    result: Any = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0


class Sandbox(Protocol):
    """Runs one package script, isolated. Never in-process, never unsandboxed."""

    name: str

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult: ...


@dataclass(frozen=True)
class PackageAttemptRecord:
    attempt: int
    code: str
    error: str | None


@dataclass(frozen=True)
class PackageOutcome:
    ok: bool
    output: Any = None
    error: str | None = None
    attempts: list[PackageAttemptRecord] = field(default_factory=list)


EmitFn = Callable[[RunEvent], Awaitable[None]]


@dataclass(frozen=True)
class PackageJob:
    thread_id: str
    run_id: str
    node_id: str
    goal: str
    code: str
    inputs: dict[str, Any]


class PackageRunner(Protocol):
    """Runs a package node: sandbox attempts, healed by reflexion (see sandbox/)."""

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome: ...
