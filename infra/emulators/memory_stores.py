"""The engine's stores in memory: every port of :mod:`agent.ports.stores` (approvals, the
red-call journal, node results, the audit log), the ownership ports of
:mod:`agent.ports.ownership` but signals (a request queue, run marks, leases with a TTL) and
standing approvals (:mod:`agent.ports.standing`, in :mod:`infra.emulators.memory_standing`), in plain
dicts and lists.

What procrastinate's ``testing.InMemoryConnector`` is to its PostgreSQL connector: the engine's
logic tested, benchmarked or played with without a database. The semantics are those of the SQL
stores (:mod:`infra.storage.engine_store`, :mod:`infra.storage.journal_store`,
:mod:`infra.storage.thread_store`, :mod:`infra.storage.standing_store`), and
``tests/infra/test_store_contract.py`` runs the same tests on both so that they cannot drift:

- once-only comes from the store: a method checks and changes in one step, with no ``await``
  in between, so no other task of the event loop runs in the middle (one event loop, one
  process: what SQLite serves too);
- a value is stored as JSON and read back as a copy, as a JSON column keeps it: a caller that
  changes what it stored or read changes nothing here, and what no JSON column takes (a
  set, an object, and NaN or Infinity, which PostgreSQL refuses) is refused at once.

:class:`MemoryStore` is what :class:`infra.storage.engine_store.SqlStore` is: one object for the
approvals, the audit log, the node results, the queue, the marks and the leases, with the same
extra readers (``audit_entries``, ``get_execution``, ``red_changes``, ``result_bytes``).
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.ownership import QueuedRequest
from agent.ports.stores import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    DecisionOutcome,
    DecisionResult,
    Execution,
    ExecutionStatus,
    NodeResult,
)
from infra.storage.journal_store import ExecutionJournalView

Clock = Callable[[], float]


def _json(value: Any) -> Any:
    """``value`` as a JSON column gives it back (a deep copy); what none takes is refused."""
    return json.loads(json.dumps(value, allow_nan=False))


@dataclass
class _Execution:
    thread_id: str
    node_id: str
    status: ExecutionStatus
    output: Any = None
    error: str | None = None


@dataclass
class _Lease:
    """A thread's lease row, which also carries its run marks (as ``thread_leases`` does)."""

    holder: str | None
    expires_at: float
    cancel_requested: bool = False
    takeovers: int = 0


@dataclass
class _Queued:
    id: int
    thread_id: str
    text: str
    requested_by: str | None
    key: str
    started: bool = False


class MemoryStore:
    """ApprovalStore, AuditLog, NodeResultStore, RequestQueue, RunMarks and ThreadLease in
    memory; its :attr:`journal` is the ExecutionJournal. ``clock``: what ``time.time()`` is
    to the SQL stores (the time of a request, a lease, a withdrawal)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self._approvals: dict[str, Approval] = {}
        """By id, in the order they were requested (a dict keeps it: the SQL ``seq``)."""
        self._audit: list[AuditEntry] = []
        self._executions: dict[str, _Execution] = {}
        self._results: dict[tuple[str, str], dict[str, NodeResult]] = {}
        self._queue: dict[int, _Queued] = {}
        self._queue_ids = 0
        self._leases: dict[str, _Lease] = {}
        self.journal = ExecutionJournalView(self)

    # ------------------------------------------------------------- approvals

    async def request(self, req: ApprovalRequest) -> Approval:
        now = self.clock()
        latest = self._latest(req.thread_id, req.plan_id, req.node_id)
        if (latest is not None and latest.is_pending and latest.args_digest == req.args_digest
                and req.note is None):
            return _copy(latest)
        approval = Approval(
            id=uuid.uuid4().hex, thread_id=req.thread_id, plan_id=req.plan_id, node_id=req.node_id,
            tool=req.tool, args=_json(req.args), args_digest=req.args_digest, why=req.why,
            status=ApprovalStatus.PENDING, requested_by=req.requested_by, requested_at=now,
            expires_at=now + req.ttl_seconds, note=req.note, run_id=req.run_id)
        self._approvals[approval.id] = approval
        return _copy(approval)

    def _latest(self, thread_id: str, plan_id: str, node_id: str) -> Approval | None:
        return next((a for a in reversed(self._approvals.values())
                     if (a.thread_id, a.plan_id, a.node_id) == (thread_id, plan_id, node_id)), None)

    async def latest_for_node(self, thread_id: str, plan_id: str, node_id: str) -> Approval | None:
        latest = self._latest(thread_id, plan_id, node_id)
        return _copy(latest) if latest is not None else None

    async def get(self, approval_id: str) -> Approval | None:
        approval = self._approvals.get(approval_id)
        return _copy(approval) if approval is not None else None

    def _open(self, approval_id: str, now: float, edits: int | None) -> Approval | None:
        """The approval, if a decision or an edit may change it now."""
        approval = self._approvals.get(approval_id)
        if approval is None or not approval.is_pending or approval.expires_at <= now:
            return None
        if edits is not None and approval.edits != edits:
            return None
        return approval

    async def decide(
        self, approval_id: str, *, approved: bool, by: str, reason: str | None = None,
        now: float | None = None, edits: int | None = None,
    ) -> DecisionResult:
        now = self.clock() if now is None else now
        approval = self._open(approval_id, now, edits)
        if approval is None:
            return self._not_decided(approval_id, now, edits)
        status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
        decided = self._close(approval, status, reason, now, decided_by=by)
        return DecisionResult(DecisionOutcome.RECORDED, _copy(decided), changed=True)

    async def edit(
        self, approval_id: str, *, args: dict[str, Any], by: str, edits: int, now: float | None = None,
    ) -> DecisionResult:
        now = self.clock() if now is None else now
        approval = self._open(approval_id, now, edits)
        if approval is None:
            return self._not_decided(approval_id, now, edits)
        edited = dataclasses.replace(approval, edited_args=_json(args), edited_by=by, edited_at=now,
                                     edits=edits + 1)
        self._approvals[approval_id] = edited
        return DecisionResult(DecisionOutcome.RECORDED, _copy(edited), changed=True)

    def _not_decided(self, approval_id: str, now: float, edits: int | None) -> DecisionResult:
        """Why a decision or an edit changed nothing (as the SQL store tells it)."""
        approval = self._approvals.get(approval_id)
        if approval is None:
            return DecisionResult(DecisionOutcome.NOT_FOUND, None)
        if approval.is_pending and approval.expires_at > now and edits is not None \
                and approval.edits != edits:
            return DecisionResult(DecisionOutcome.CHANGED, _copy(approval))
        if approval.is_pending:  # pending but past its expiry: the thread's overdue ones expire
            thread = approval.thread_id
            expired = self._close_pending(lambda a: a.expires_at <= now and a.thread_id == thread,
                                          ApprovalStatus.EXPIRED, "expired", now)
            mine = next(a for a in expired if a.id == approval_id)
            return DecisionResult(DecisionOutcome.EXPIRED, mine, changed=True)
        if approval.status is ApprovalStatus.EXPIRED:
            return DecisionResult(DecisionOutcome.EXPIRED, _copy(approval))
        return DecisionResult(DecisionOutcome.ALREADY_DECIDED, _copy(approval))

    def _close(self, approval: Approval, status: ApprovalStatus, reason: str | None, now: float,
               decided_by: str | None = None) -> Approval:
        """Decide, expire or withdraw a pending approval, with its audit entry (one step)."""
        closed = dataclasses.replace(approval, status=status, decided_at=now, reason=reason,
                                     decided_by=decided_by if decided_by is not None else approval.decided_by)
        self._approvals[approval.id] = closed
        actor = closed.decided_by if status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED) else SYSTEM
        self._append(AuditEntry(
            thread_id=closed.thread_id, kind=AuditKind.DECISION, actor=actor, run_id=closed.run_id, at=now,
            detail={"approval_id": closed.id, "node_id": closed.node_id, "tool": closed.tool,
                    "status": status.value, "reason": reason, "edited_by": closed.edited_by,
                    "edits": closed.edits}))
        return closed

    def _close_pending(self, chosen: Callable[[Approval], bool], status: ApprovalStatus,
                       reason: str, now: float) -> list[Approval]:
        pending = [a for a in self._approvals.values() if a.is_pending and chosen(a)]
        return [_copy(self._close(a, status, reason, now)) for a in pending]

    async def expire_overdue(self, now: float, thread_id: str | None = None) -> list[Approval]:
        return self._close_pending(
            lambda a: a.expires_at <= now and thread_id in (None, a.thread_id),
            ApprovalStatus.EXPIRED, "expired", now)

    async def withdraw(self, thread_id: str, reason: str) -> list[Approval]:
        return self._close_pending(lambda a: a.thread_id == thread_id, ApprovalStatus.WITHDRAWN, reason,
                                   self.clock())

    async def pending(self, thread_id: str | None = None) -> list[Approval]:
        return [_copy(a) for a in self._approvals.values()
                if a.is_pending and thread_id in (None, a.thread_id)]

    async def threads_decided_since(self, since: float) -> list[str]:
        return list(dict.fromkeys(a.thread_id for a in self._approvals.values()
                                  if not a.is_pending and a.decided_at is not None and a.decided_at >= since))

    # ------------------------------------------------------------------ audit

    def _append(self, entry: AuditEntry) -> None:
        self._audit.append(dataclasses.replace(entry, detail=_json(entry.detail)))

    async def record(self, entry: AuditEntry) -> None:
        self._append(entry)

    async def prune(self, before: float) -> int:
        kept = [e for e in self._audit if e.at >= before]
        pruned, self._audit = len(self._audit) - len(kept), kept
        return pruned

    async def audit_entries(self, *, since: float | None = None, until: float | None = None,
                            thread_id: str | None = None) -> list[AuditEntry]:
        """The trail, oldest first (in the order it was written)."""
        return [dataclasses.replace(e, detail=_json(e.detail)) for e in self._audit
                if (since is None or e.at >= since) and (until is None or e.at < until)
                and thread_id in (None, e.thread_id)]

    # ----------------------------------------------------- execution journal

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        if approval_id in self._executions:
            return False
        self._executions[approval_id] = _Execution(thread_id, node_id, ExecutionStatus.STARTED)
        return True

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None:
        execution = self._executions.get(approval_id)
        if execution is not None:
            execution.output = _json(output)
            execution.status = ExecutionStatus.FINISHED if ok else ExecutionStatus.FAILED
            execution.error = error

    async def get_execution(self, approval_id: str) -> Execution | None:
        found = self._executions.get(approval_id)
        if found is None:
            return None
        return Execution(approval_id, found.status, output=_json(found.output), error=found.error)

    async def mark_unknown(self, approval_id: str) -> None:
        execution = self._executions.get(approval_id)
        if execution is not None and execution.status is ExecutionStatus.STARTED:
            execution.status = ExecutionStatus.UNKNOWN

    async def red_changes(self, thread_id: str) -> int:
        mine = [e for e in self._executions.values() if e.thread_id == thread_id]
        return len(mine) + sum(e.status is not ExecutionStatus.STARTED for e in mine)

    # ---------------------------------------------------------- node results

    async def save(self, thread_id: str, plan_id: str, *results: NodeResult) -> None:
        stored = [dataclasses.replace(r, output=_json(r.output), attempt_log=_json(r.attempt_log))
                  for r in results]  # (all or none: a value no JSON column takes stores nothing)
        self._results.setdefault((thread_id, plan_id), {}).update((r.node_id, r) for r in stored)

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]:
        return {node: dataclasses.replace(r, output=_json(r.output), attempt_log=_json(r.attempt_log))
                for node, r in self._results.get((thread_id, plan_id), {}).items()}

    async def result_bytes(self, thread_id: str) -> int:
        """JSON size of every node output stored for a thread (the artifact store's share)."""
        return sum(len(json.dumps(r.output, ensure_ascii=False, default=str))
                   for (thread, _), results in self._results.items() if thread == thread_id
                   for r in results.values())

    # -------------------------------------------------------- queued requests

    async def push(self, thread_id: str, text: str, requested_by: str | None, key: str | None = None) -> bool:
        key = key or uuid.uuid4().hex
        if any(q.key == key for q in self._queue.values()):
            return False  # a redelivery of a request queued already
        self._queue_ids += 1
        self._queue[self._queue_ids] = _Queued(self._queue_ids, thread_id, text, requested_by, key)
        return True

    def _queued(self, thread_id: str) -> list[_Queued]:
        return [q for q in self._queue.values() if q.thread_id == thread_id]

    async def peek(self, thread_id: str) -> QueuedRequest | None:
        oldest = next(iter(self._queued(thread_id)), None)
        if oldest is None:
            return None
        return QueuedRequest(oldest.id, oldest.thread_id, oldest.text, oldest.requested_by, oldest.key,
                             started=oldest.started)

    async def mark_started(self, request_id: int) -> None:
        if request_id in self._queue:
            self._queue[request_id].started = True

    async def remove(self, request_id: int) -> None:
        self._queue.pop(request_id, None)

    async def has_queued(self, thread_id: str) -> bool:
        return bool(self._queued(thread_id))

    async def clear(self, thread_id: str) -> int:
        dropped = self._queued(thread_id)
        for queued in dropped:
            del self._queue[queued.id]
        return len(dropped)

    async def drop_waiting(self, thread_id: str, key: str) -> bool:
        return bool(self._drop_waiting(thread_id, lambda q: q.key == key))

    async def drop_waiting_of(self, thread_id: str, requested_by: str) -> list[str]:
        return self._drop_waiting(thread_id, lambda q: q.requested_by == requested_by)

    def _drop_waiting(self, thread_id: str, chosen: Callable[[_Queued], bool]) -> list[str]:
        dropped = [q for q in self._queued(thread_id) if not q.started and chosen(q)]
        for queued in dropped:
            del self._queue[queued.id]
        return [q.key for q in dropped]

    async def queued_threads(self) -> list[str]:
        return list(dict.fromkeys(q.thread_id for q in self._queue.values()))

    # ------------------------------------------------------------- run marks
    # (on the lease: a thread that never ran has none, and no run to mark)

    async def request_cancel(self, thread_id: str) -> None:
        if thread_id in self._leases:
            self._leases[thread_id].cancel_requested = True

    async def cancel_requested(self, thread_id: str) -> bool:
        lease = self._leases.get(thread_id)
        return lease is not None and lease.cancel_requested

    async def count_takeover(self, thread_id: str) -> int:
        lease = self._leases.get(thread_id)
        if lease is None:
            return 0
        lease.takeovers += 1
        return lease.takeovers

    async def start_run(self, thread_id: str) -> None:
        if thread_id in self._leases:
            self._leases[thread_id].cancel_requested = False
            self._leases[thread_id].takeovers = 0

    # ---------------------------------------------------------------- leases

    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        now = self.clock()
        lease = self._leases.get(thread_id)
        if lease is None:
            self._leases[thread_id] = _Lease(holder, now + ttl_seconds)
            return True
        if lease.holder is None or lease.holder == holder or lease.expires_at < now:  # free, mine or lapsed
            lease.holder, lease.expires_at = holder, now + ttl_seconds
            return True
        return False

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        lease = self._leases.get(thread_id)
        if lease is None or lease.holder != holder:
            return False
        lease.expires_at = self.clock() + ttl_seconds
        return True

    async def release(self, thread_id: str, holder: str) -> None:
        lease = self._leases.get(thread_id)
        if lease is not None and lease.holder == holder:
            lease.holder = None

    def subscribe_lost(self, handler: Callable[[list[str]], None]) -> None:
        """Never called: a lease here expires, and its runner, renewing it, stops before."""

    async def held_threads(self) -> list[str]:
        return [thread for thread, lease in self._leases.items() if lease.holder is not None]

    async def lapsed_threads(self) -> list[str]:
        now = self.clock()
        return [thread for thread, lease in self._leases.items()
                if lease.holder is not None and lease.expires_at < now]


def _copy(approval: Approval) -> Approval:
    """What a reader gets: its own arguments (a JSON column gives each reader a new dict)."""
    return dataclasses.replace(approval, args=_json(approval.args), edited_args=_json(approval.edited_args))
