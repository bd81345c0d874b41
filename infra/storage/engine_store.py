"""SQLAlchemy implementations of the engine's stores (agent.ports.stores).

Once-only guarantees come from the database, not from the caller: a decision is an
``UPDATE … WHERE status = 'pending'``; an execution is an ``INSERT`` on the approval's
primary key; a lease is an ``UPDATE … WHERE free or expired`` or an ``INSERT``.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update

from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.stores import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    DecisionOutcome,
    DecisionResult,
)
from infra.storage.db import ApprovalRow, AuditRow, utc
from infra.storage.db_priority import interactive_work
from infra.storage.journal_store import JournalTables
from infra.storage.thread_store import ThreadTables

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


class SqlStore(JournalTables, ThreadTables):
    """ApprovalStore and AuditLog here; ExecutionJournal and NodeResultStore
    (:mod:`infra.storage.journal_store`); RequestQueue, RunMarks and ThreadLease
    (:mod:`infra.storage.thread_store`): on one database."""

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

    @interactive_work
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

