"""Standing approvals in memory, their grants and revocations audited in a
:class:`~infra.emulators.memory_stores.MemoryStore`'s trail (as :mod:`infra.storage.standing_store`
is over the SQL store); held to the same contract tests."""

from __future__ import annotations

import dataclasses

from agent.ports.audit import AuditEntry, AuditKind
from agent.ports.standing import StandingGrant
from infra.emulators.memory_stores import MemoryStore


class MemoryStandingApprovals:
    """StandingApprovals whose grants and revocations are audited in ``store``'s trail, in the
    same step (as the SQL store writes them in the same transaction)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._grants: dict[str, StandingGrant] = {}

    async def grant(self, grant: StandingGrant) -> None:
        if grant.id in self._grants:
            raise ValueError(f"a standing grant {grant.id} exists already")
        self._grants[grant.id] = grant
        self._store._append(AuditEntry(thread_id=grant.thread_id, kind=AuditKind.STANDING_GRANT,
                                       actor=grant.granted_by, detail=_detail(grant), at=grant.granted_at))

    async def covering(self, thread_id: str, tool: str, requester: str,
                       now: float) -> StandingGrant | None:
        live = [g for g in self._grants.values() if g.is_live(now)
                and (g.thread_id, g.tool, g.requester) == (thread_id, tool, requester)]
        return max(live, key=lambda g: g.granted_at, default=None)

    async def get(self, grant_id: str) -> StandingGrant | None:
        return self._grants.get(grant_id)

    async def revoke(self, grant_id: str, *, by: str, now: float,
                     why: str | None = None) -> StandingGrant | None:
        grant = self._grants.get(grant_id)
        if grant is None or not grant.is_live(now):
            return None
        revoked = self._grants[grant_id] = dataclasses.replace(grant, revoked_by=by, revoked_at=now)
        self._store._append(AuditEntry(thread_id=grant.thread_id, kind=AuditKind.STANDING_REVOKED, actor=by,
                                       detail={**_detail(revoked), "why": why}, at=now))
        return revoked

    async def live_for(self, user: str, now: float) -> list[StandingGrant]:
        mine = [g for g in self._grants.values() if g.is_live(now) and user in (g.granted_by, g.requester)]
        return sorted(mine, key=lambda g: g.granted_at, reverse=True)


def _detail(grant: StandingGrant) -> dict[str, object]:
    return {"grant_id": grant.id, "tool": grant.tool, "requester": grant.requester,
            "granted_by": grant.granted_by, "approval_id": grant.approval_id,
            "granted_at": grant.granted_at, "expires_at": grant.expires_at}
