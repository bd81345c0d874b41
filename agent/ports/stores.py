"""The small typed interfaces through which the engine reaches its stores and policies:
approvals, the red-call journal, node results, the audit log, tool access.

``infra`` implements them with SQLAlchemy, ``bot`` the access policy; tests use the real
ones or fakes. Thread ownership is in :mod:`agent.ports.ownership`, the sandbox in
:mod:`agent.ports.sandbox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from agent.ports.audit import AuditEntry

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

    async def changes(self, thread_id: str) -> int:
        """How many times a red call of this thread has begun or ended, on any replica: a
        result read while this count stood still is still current."""


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

    async def save(self, thread_id: str, plan_id: str, *results: NodeResult) -> None:
        """Keep ``results`` (one transaction), replacing those kept of the same nodes."""

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]: ...


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
