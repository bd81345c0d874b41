"""SQLAlchemy implementations of the engine's stores (agent.ports).

Once-only guarantees come from the database, not from the caller: a decision is an
``UPDATE … WHERE status = 'pending'``; an execution is an ``INSERT`` on the approval's
primary key; a lease is an ``UPDATE … WHERE free or expired`` or an ``INSERT``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agent.audit import SYSTEM, AuditEntry, AuditKind
from agent.ownership_ports import QueuedRequest
from agent.ports import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    DecisionOutcome,
    DecisionResult,
    Execution,
    ExecutionStatus,
    NodeResult,
    NodeStatus,
)
from infra.db import ApprovalRow, AuditRow, ExecutionRow, NodeResultRow, QueuedRequestRow, ThreadLeaseRow, utc

PENDING = ApprovalStatus.PENDING.value


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _approval(row: ApprovalRow) -> Approval:
    return Approval(
        id=row.id, thread_id=row.thread_id, plan_id=row.plan_id, node_id=row.node_id,
        tool=row.tool, args=row.args, args_digest=row.args_digest, why=row.why,
        status=ApprovalStatus(row.status), requested_by=row.requested_by,
        requested_at=row.requested_at.timestamp(), expires_at=row.expires_at.timestamp(),
        decided_by=row.decided_by, decided_at=_ts(row.decided_at), reason=row.reason,
        note=row.note, run_id=row.run_id or "", edited_args=row.edited_args, edited_by=row.edited_by,
        edited_at=_ts(row.edited_at), edits=row.edits or 0,
    )


def _decision_row(approval: Approval, at: float) -> AuditRow:
    """The audit row of a decision, written in the same transaction as the decision."""
    actor = approval.decided_by if approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED) \
        else SYSTEM
    return AuditRow(at=utc(at), thread_id=approval.thread_id, run_id=approval.run_id or None, actor=actor,
                    kind=AuditKind.DECISION.value, detail={
                        "approval_id": approval.id, "node_id": approval.node_id, "tool": approval.tool,
                        "status": approval.status.value, "reason": approval.reason,
                        "edited_by": approval.edited_by, "edits": approval.edits})


class SqlStore:
    """ApprovalStore, AuditLog, ExecutionJournal, NodeResultStore, RequestQueue and ThreadLease
    on one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    def _insert(self) -> Any:
        """The dialect's INSERT, which has ON CONFLICT."""
        return sqlite_insert if self.engine.dialect.name == "sqlite" else postgres_insert

    # ------------------------------------------------------------- approvals

    async def request(self, req: ApprovalRequest) -> Approval:
        now = time.time()
        async with self.session.begin() as s:
            latest = await self._latest(s, req.thread_id, req.plan_id, req.node_id)
            if (latest is not None and latest.status == PENDING
                    and latest.args_digest == req.args_digest and req.note is None):
                return _approval(latest)
            row = ApprovalRow(
                id=uuid.uuid4().hex, thread_id=req.thread_id, plan_id=req.plan_id, run_id=req.run_id,
                node_id=req.node_id, tool=req.tool, args=req.args, args_digest=req.args_digest,
                why=req.why, note=req.note, status=PENDING, requested_by=req.requested_by,
                requested_at=utc(now), expires_at=utc(now + req.ttl_seconds),
            )
            s.add(row)
        return _approval(row)

    async def _latest(self, s: Any, thread_id: str, plan_id: str, node_id: str) -> ApprovalRow | None:
        result = await s.execute(
            select(ApprovalRow)
            .where(ApprovalRow.thread_id == thread_id, ApprovalRow.plan_id == plan_id,
                   ApprovalRow.node_id == node_id)
            .order_by(ApprovalRow.seq.desc()).limit(1)
        )
        row: ApprovalRow | None = result.scalar_one_or_none()
        return row

    async def latest_for_node(self, thread_id: str, plan_id: str, node_id: str) -> Approval | None:
        async with self.session() as s:
            row = await self._latest(s, thread_id, plan_id, node_id)
            return _approval(row) if row else None

    async def get(self, approval_id: str) -> Approval | None:
        async with self.session() as s:
            row = (await s.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id))
                   ).scalar_one_or_none()
            return _approval(row) if row else None

    async def decide(
        self, approval_id: str, *, approved: bool, by: str, reason: str | None = None,
        now: float | None = None, edits: int | None = None,
    ) -> DecisionResult:
        now = time.time() if now is None else now
        status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
        condition = [ApprovalRow.id == approval_id, ApprovalRow.status == PENDING,
                     ApprovalRow.expires_at > utc(now)]
        if edits is not None:  # approve what the clicker saw, or nothing
            condition.append(ApprovalRow.edits == edits)
        async with self.session.begin() as s:
            decided = (await s.execute(
                update(ApprovalRow).where(*condition)
                .values(status=status.value, decided_by=by, decided_at=utc(now), reason=reason)
                .returning(ApprovalRow)
            )).scalar_one_or_none()
            if decided is not None:
                approval = _approval(decided)
                s.add(_decision_row(approval, now))
                return DecisionResult(DecisionOutcome.RECORDED, approval, changed=True)
        return await self._not_decided(approval_id, now, edits)

    async def edit(
        self, approval_id: str, *, args: dict[str, Any], by: str, edits: int, now: float | None = None,
    ) -> DecisionResult:
        now = time.time() if now is None else now
        async with self.session.begin() as s:
            edited = (await s.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.status == PENDING,
                       ApprovalRow.expires_at > utc(now), ApprovalRow.edits == edits)
                .values(edited_args=args, edited_by=by, edited_at=utc(now), edits=edits + 1)
                .returning(ApprovalRow)
            )).scalar_one_or_none()
            if edited is not None:
                return DecisionResult(DecisionOutcome.RECORDED, _approval(edited), changed=True)
        return await self._not_decided(approval_id, now, edits)

    async def _not_decided(self, approval_id: str, now: float, edits: int | None) -> DecisionResult:
        """Why a decision or an edit changed nothing."""
        approval = await self.get(approval_id)
        if approval is None:
            return DecisionResult(DecisionOutcome.NOT_FOUND, None)
        if approval.is_pending and approval.expires_at > now and edits is not None \
                and approval.edits != edits:
            return DecisionResult(DecisionOutcome.CHANGED, approval)
        if approval.is_pending:  # pending but past its expiry
            expired = await self.expire_overdue(now, approval.thread_id)
            mine = next((a for a in expired if a.id == approval_id), None)
            return DecisionResult(DecisionOutcome.EXPIRED, mine or await self.get(approval_id),
                                  changed=mine is not None)
        if approval.status is ApprovalStatus.EXPIRED:
            return DecisionResult(DecisionOutcome.EXPIRED, approval)
        return DecisionResult(DecisionOutcome.ALREADY_DECIDED, approval)

    async def _close_pending(self, condition: Any, status: ApprovalStatus,
                             reason: str | None, now: float) -> list[Approval]:
        async with self.session.begin() as s:
            rows = (await s.execute(
                select(ApprovalRow).where(ApprovalRow.status == PENDING, condition)
            )).scalars().all()
            closed = []
            for row in rows:
                result = await s.execute(
                    update(ApprovalRow).where(ApprovalRow.seq == row.seq, ApprovalRow.status == PENDING)
                    .values(status=status.value, decided_at=utc(now), reason=reason)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    row.status, row.decided_at, row.reason = status.value, utc(now), reason
                    closed.append(_approval(row))
                    s.add(_decision_row(closed[-1], now))
            return closed

    async def expire_overdue(self, now: float, thread_id: str | None = None) -> list[Approval]:
        condition = ApprovalRow.expires_at <= utc(now)
        if thread_id is not None:
            condition = and_(condition, ApprovalRow.thread_id == thread_id)
        return await self._close_pending(condition, ApprovalStatus.EXPIRED, "expired", now)

    async def withdraw(self, thread_id: str, reason: str) -> list[Approval]:
        return await self._close_pending(
            ApprovalRow.thread_id == thread_id, ApprovalStatus.WITHDRAWN, reason, time.time()
        )

    async def pending(self, thread_id: str | None = None) -> list[Approval]:
        query = select(ApprovalRow).where(ApprovalRow.status == PENDING).order_by(ApprovalRow.seq)
        if thread_id is not None:
            query = query.where(ApprovalRow.thread_id == thread_id)
        async with self.session() as s:
            return [_approval(r) for r in (await s.execute(query)).scalars().all()]

    async def threads_decided_since(self, since: float) -> list[str]:
        query = (select(ApprovalRow.thread_id).distinct()
                 .where(ApprovalRow.status != PENDING, ApprovalRow.decided_at >= utc(since)))
        async with self.session() as s:
            return list((await s.execute(query)).scalars().all())

    # ------------------------------------------------------------------ audit

    async def record(self, entry: AuditEntry) -> None:
        async with self.session.begin() as s:
            s.add(AuditRow(at=utc(entry.at), thread_id=entry.thread_id, run_id=entry.run_id or None,
                           actor=entry.actor, kind=entry.kind.value, detail=entry.detail))

    async def prune(self, before: float) -> int:
        async with self.session.begin() as s:
            pruned = await s.execute(delete(AuditRow).where(AuditRow.at < utc(before)))
            return int(pruned.rowcount)  # type: ignore[attr-defined]

    async def audit_entries(self, *, since: float | None = None, until: float | None = None,
                            thread_id: str | None = None) -> list[AuditEntry]:
        """The trail, oldest first (in the order it was written)."""
        query = select(AuditRow).order_by(AuditRow.id)
        if since is not None:
            query = query.where(AuditRow.at >= utc(since))
        if until is not None:
            query = query.where(AuditRow.at < utc(until))
        if thread_id is not None:
            query = query.where(AuditRow.thread_id == thread_id)
        async with self.session() as s:
            rows = (await s.execute(query)).scalars().all()
        return [AuditEntry(thread_id=r.thread_id, kind=AuditKind(r.kind), actor=r.actor, detail=r.detail,
                           run_id=r.run_id or "", at=r.at.timestamp()) for r in rows]

    # ----------------------------------------------------- execution journal

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        try:
            async with self.session.begin() as s:
                s.add(ExecutionRow(approval_id=approval_id, thread_id=thread_id, node_id=node_id,
                                   status=ExecutionStatus.STARTED.value, started_at=utc(time.time())))
        except IntegrityError:
            return False
        return True

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None:
        status = ExecutionStatus.FINISHED if ok else ExecutionStatus.FAILED
        async with self.session.begin() as s:
            await s.execute(
                update(ExecutionRow).where(ExecutionRow.approval_id == approval_id)
                .values(status=status.value, output=output, error=error,
                        finished_at=utc(time.time()))
            )

    async def get_execution(self, approval_id: str) -> Execution | None:
        async with self.session() as s:
            row = await s.get(ExecutionRow, approval_id)
            if row is None:
                return None
            return Execution(approval_id=row.approval_id, status=ExecutionStatus(row.status),
                             output=row.output, error=row.error)

    async def mark_unknown(self, approval_id: str) -> None:
        async with self.session.begin() as s:
            await s.execute(
                update(ExecutionRow)
                .where(ExecutionRow.approval_id == approval_id,
                       ExecutionRow.status == ExecutionStatus.STARTED.value)
                .values(status=ExecutionStatus.UNKNOWN.value)
            )

    async def red_changes(self, thread_id: str) -> int:
        ended = case((ExecutionRow.status != ExecutionStatus.STARTED.value, 1), else_=0)
        async with self.session() as s:
            begun, finished = (await s.execute(
                select(func.count(), func.coalesce(func.sum(ended), 0))
                .where(ExecutionRow.thread_id == thread_id))).one()
        return int(begun) + int(finished)

    # ---------------------------------------------------------- node results

    async def save(self, thread_id: str, plan_id: str, result: NodeResult) -> None:
        values = {
            "thread_id": thread_id, "plan_id": plan_id, "node_id": result.node_id,
            "status": result.status.value, "output": result.output, "error": result.error,
            "started_at": result.started_at, "finished_at": result.finished_at,
            "attempts": result.attempts, "attempt_log": result.attempt_log,
        }
        insert = self._insert()
        statement = insert(NodeResultRow).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["thread_id", "plan_id", "node_id"],
            set_={k: statement.excluded[k] for k in values if k not in ("thread_id", "plan_id", "node_id")},
        )
        async with self.session.begin() as s:
            await s.execute(statement)

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]:
        async with self.session() as s:
            rows = (await s.execute(select(NodeResultRow).where(
                NodeResultRow.thread_id == thread_id, NodeResultRow.plan_id == plan_id
            ))).scalars().all()
        return {r.node_id: NodeResult(
            node_id=r.node_id, status=NodeStatus(r.status), output=r.output, error=r.error,
            started_at=r.started_at, finished_at=r.finished_at, attempts=r.attempts,
            attempt_log=r.attempt_log,
        ) for r in rows}

    async def result_bytes(self, thread_id: str) -> int:
        """JSON size of every node output stored for a thread (the artifact store's share)."""
        async with self.session() as s:
            rows = (await s.execute(
                select(NodeResultRow.output).where(NodeResultRow.thread_id == thread_id)
            )).scalars().all()
        return sum(len(json.dumps(output, ensure_ascii=False, default=str)) for output in rows)

    # -------------------------------------------------------- queued requests

    async def push(self, thread_id: str, text: str, requested_by: str | None, key: str | None = None) -> bool:
        async with self.session.begin() as s:
            if key is not None and (await s.execute(
                select(QueuedRequestRow.id).where(QueuedRequestRow.key == key).limit(1)
            )).first() is not None:
                return False
            s.add(QueuedRequestRow(thread_id=thread_id, text=text, requested_by=requested_by,
                                   queued_at=utc(time.time()), key=key or uuid.uuid4().hex))
            return True

    async def peek(self, thread_id: str) -> QueuedRequest | None:
        async with self.session() as s:
            row = (await s.execute(
                select(QueuedRequestRow).where(QueuedRequestRow.thread_id == thread_id)
                .order_by(QueuedRequestRow.id).limit(1)
            )).scalar_one_or_none()
        if row is None:
            return None
        return QueuedRequest(row.id, row.thread_id, row.text, row.requested_by, row.key or f"id-{row.id}",
                             started=row.started_at is not None)

    async def mark_started(self, request_id: int) -> None:
        async with self.session.begin() as s:
            await s.execute(update(QueuedRequestRow).where(QueuedRequestRow.id == request_id)
                            .values(started_at=utc(time.time())))

    async def remove(self, request_id: int) -> None:
        async with self.session.begin() as s:
            await s.execute(delete(QueuedRequestRow).where(QueuedRequestRow.id == request_id))

    async def has_queued(self, thread_id: str) -> bool:
        async with self.session() as s:
            found = await s.execute(select(QueuedRequestRow.id)
                                    .where(QueuedRequestRow.thread_id == thread_id).limit(1))
            return found.first() is not None

    async def clear(self, thread_id: str) -> int:
        async with self.session.begin() as s:
            dropped = await s.execute(delete(QueuedRequestRow).where(QueuedRequestRow.thread_id == thread_id))
            return int(dropped.rowcount)  # type: ignore[attr-defined]

    async def drop_waiting(self, thread_id: str, key: str) -> bool:
        return bool(await self._drop_waiting(thread_id, QueuedRequestRow.key == key))

    async def drop_waiting_of(self, thread_id: str, requested_by: str) -> list[str]:
        return await self._drop_waiting(thread_id, QueuedRequestRow.requested_by == requested_by)

    async def _drop_waiting(self, thread_id: str, condition: Any) -> list[str]:
        """Delete the thread's waiting requests that meet ``condition`` (one statement: a runner
        that marks one started meanwhile keeps it); returns their keys."""
        async with self.session.begin() as s:
            dropped = await s.execute(
                delete(QueuedRequestRow)
                .where(QueuedRequestRow.thread_id == thread_id, QueuedRequestRow.started_at.is_(None),
                       condition)
                .returning(QueuedRequestRow.id, QueuedRequestRow.key))
            return [key or f"id-{request_id}" for request_id, key in dropped.all()]

    async def queued_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(select(QueuedRequestRow.thread_id).distinct())
            return [r for (r,) in rows.all()]

    # ------------------------------------------------------------- run marks
    # (on the lease row: a thread that never ran has none, and no run to mark)

    async def request_cancel(self, thread_id: str) -> None:
        await self._mark_run(thread_id, cancel_requested_at=utc(time.time()))

    async def cancel_requested(self, thread_id: str) -> bool:
        async with self.session() as s:
            at = await s.scalar(select(ThreadLeaseRow.cancel_requested_at)
                                .where(ThreadLeaseRow.thread_id == thread_id))
        return at is not None

    async def count_takeover(self, thread_id: str) -> int:
        async with self.session.begin() as s:
            count = await s.scalar(
                update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == thread_id)
                .values(takeovers=ThreadLeaseRow.takeovers + 1).returning(ThreadLeaseRow.takeovers))
        return int(count or 0)

    async def start_run(self, thread_id: str) -> None:
        await self._mark_run(thread_id, cancel_requested_at=None, takeovers=0)

    async def _mark_run(self, thread_id: str, **values: Any) -> None:
        async with self.session.begin() as s:
            await s.execute(update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == thread_id)
                            .values(**values))

    # ---------------------------------------------------------------- leases

    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        now = time.time()
        insert = self._insert()
        statement = insert(ThreadLeaseRow).values(
            thread_id=thread_id, holder=holder, expires_at=utc(now + ttl_seconds))
        upsert = statement.on_conflict_do_update(  # one statement: new, free, mine or lapsed
            index_elements=["thread_id"],
            set_={"holder": holder, "expires_at": utc(now + ttl_seconds)},
            where=or_(ThreadLeaseRow.holder.is_(None), ThreadLeaseRow.holder == holder,
                      ThreadLeaseRow.expires_at < utc(now)),
        ).returning(ThreadLeaseRow.thread_id)
        async with self.session.begin() as s:
            return (await s.execute(upsert)).first() is not None

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        async with self.session.begin() as s:
            result = await s.execute(
                update(ThreadLeaseRow)
                .where(ThreadLeaseRow.thread_id == thread_id, ThreadLeaseRow.holder == holder)
                .values(expires_at=utc(time.time() + ttl_seconds))
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self, thread_id: str, holder: str) -> None:
        async with self.session.begin() as s:
            await s.execute(
                update(ThreadLeaseRow)
                .where(ThreadLeaseRow.thread_id == thread_id, ThreadLeaseRow.holder == holder)
                .values(holder=None)
            )

    def subscribe_lost(self, handler: Callable[[list[str]], None]) -> None:
        """Never called: a lease here expires, and its runner, renewing it, stops before."""

    async def held_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(
                select(ThreadLeaseRow.thread_id).where(ThreadLeaseRow.holder.is_not(None))
            )
            return [r for (r,) in rows.all()]

    async def lapsed_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(  # lapsed as acquire() sees it: by this process's clock
                select(ThreadLeaseRow.thread_id).where(ThreadLeaseRow.holder.is_not(None),
                                                       ThreadLeaseRow.expires_at < utc(time.time()))
            )
            return [r for (r,) in rows.all()]


class ExecutionJournalView:
    """Adapts :class:`SqlStore` to the ExecutionJournal port (whose ``get`` is by approval)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        return await self._store.begin(approval_id, thread_id, node_id)

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None:
        await self._store.finish(approval_id, ok=ok, output=output, error=error)

    async def get(self, approval_id: str) -> Execution | None:
        return await self._store.get_execution(approval_id)

    async def mark_unknown(self, approval_id: str) -> None:
        await self._store.mark_unknown(approval_id)

    async def changes(self, thread_id: str) -> int:
        return await self._store.red_changes(thread_id)
