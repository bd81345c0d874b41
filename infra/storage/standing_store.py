"""Standing approvals in the ``standing_approvals`` table (:class:`agent.ports.standing.StandingApprovals`).

A grant and its ``standing_grant`` audit row, a revocation and its ``standing_revoked`` row,
are written in one transaction. A revocation is an ``UPDATE … WHERE`` the grant is still live,
so of two at once one ends it and the other finds it ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update

from agent.ports.audit import AuditKind
from agent.ports.standing import StandingGrant
from infra.storage.db import AuditRow, StandingApprovalRow, utc
from infra.storage.db_priority import interactive_work
from infra.storage.store_base import SqlTables


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _grant(row: StandingApprovalRow) -> StandingGrant:
    return StandingGrant(
        id=row.id, thread_id=row.thread_id, tool=row.tool, requester=row.requester,
        granted_by=row.granted_by, granted_at=row.granted_at.timestamp(),
        expires_at=row.expires_at.timestamp(), approval_id=row.approval_id,
        revoked_by=row.revoked_by, revoked_at=_ts(row.revoked_at))


def _detail(grant: StandingGrant) -> dict[str, object]:
    return {"grant_id": grant.id, "tool": grant.tool, "requester": grant.requester,
            "granted_by": grant.granted_by, "approval_id": grant.approval_id,
            "granted_at": grant.granted_at, "expires_at": grant.expires_at}


class SqlStandingApprovals(SqlTables):
    @interactive_work  # (a click waits on it)
    async def grant(self, grant: StandingGrant) -> None:
        async with self.session.begin() as s:
            s.add(StandingApprovalRow(
                id=grant.id, thread_id=grant.thread_id, tool=grant.tool, requester=grant.requester,
                granted_by=grant.granted_by, granted_at=utc(grant.granted_at),
                expires_at=utc(grant.expires_at), approval_id=grant.approval_id))
            s.add(AuditRow(at=utc(grant.granted_at), thread_id=grant.thread_id, actor=grant.granted_by,
                           kind=AuditKind.STANDING_GRANT.value, detail=_detail(grant)))

    async def covering(self, thread_id: str, tool: str, requester: str,
                       now: float) -> StandingGrant | None:
        query = (select(StandingApprovalRow)
                 .where(StandingApprovalRow.thread_id == thread_id, StandingApprovalRow.tool == tool,
                        StandingApprovalRow.requester == requester, StandingApprovalRow.revoked_at.is_(None),
                        StandingApprovalRow.expires_at > utc(now))
                 .order_by(StandingApprovalRow.granted_at.desc()).limit(1))
        async with self.session() as s:
            row = (await s.execute(query)).scalar_one_or_none()
        return _grant(row) if row is not None else None

    async def get(self, grant_id: str) -> StandingGrant | None:
        async with self.session() as s:
            row = await s.get(StandingApprovalRow, grant_id)
        return _grant(row) if row is not None else None

    @interactive_work
    async def revoke(self, grant_id: str, *, by: str, now: float,
                     why: str | None = None) -> StandingGrant | None:
        async with self.session.begin() as s:
            row = (await s.execute(
                update(StandingApprovalRow)
                .where(StandingApprovalRow.id == grant_id, StandingApprovalRow.revoked_at.is_(None),
                       StandingApprovalRow.expires_at > utc(now))
                .values(revoked_by=by, revoked_at=utc(now))
                .returning(StandingApprovalRow)
            )).scalar_one_or_none()
            if row is None:
                return None
            grant = _grant(row)
            s.add(AuditRow(at=utc(now), thread_id=grant.thread_id, actor=by,
                           kind=AuditKind.STANDING_REVOKED.value, detail={**_detail(grant), "why": why}))
        return grant

    async def live_for(self, user: str, now: float) -> list[StandingGrant]:
        query = (select(StandingApprovalRow)
                 .where(or_(StandingApprovalRow.granted_by == user, StandingApprovalRow.requester == user),
                        StandingApprovalRow.revoked_at.is_(None), StandingApprovalRow.expires_at > utc(now))
                 .order_by(StandingApprovalRow.granted_at.desc()))
        async with self.session() as s:
            return [_grant(row) for row in (await s.execute(query)).scalars().all()]
