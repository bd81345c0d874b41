"""The engine's standing approvals as the access policy allows them now.

A grant was allowed when it was given; the policy may have changed since (dagbot restarted
with a new policy file). The engine asks :meth:`PolicedGrants.covering` before a grant
approves a call: a grant of a tool the policy now marks never standing, or given by someone
who may no longer give it, approves nothing, and the call asks as any other would.
"""

from __future__ import annotations

from agent.ports.standing import StandingApprovals, StandingGrant
from bot.access.access import AccessDirectory, MembershipUnknown


class PolicedGrants:
    """:class:`agent.ports.standing.StandingApprovals`: the kept grants, filtered by the policy."""

    def __init__(self, grants: StandingApprovals, directory: AccessDirectory) -> None:
        self.grants = grants
        self.directory = directory

    async def grant(self, grant: StandingGrant) -> None:
        await self.grants.grant(grant)

    async def covering(self, thread_id: str, tool: str, requester: str,
                       now: float) -> StandingGrant | None:
        grant = await self.grants.covering(thread_id, tool, requester, now)
        if grant is None:
            return None
        try:
            allowed = await self.directory.may_grant_standing(tool, requester, grant.granted_by)
        except MembershipUnknown:  # (unknown is no: the call asks)
            return None
        return grant if allowed else None

    async def get(self, grant_id: str) -> StandingGrant | None:
        return await self.grants.get(grant_id)

    async def revoke(self, grant_id: str, *, by: str, now: float,
                     why: str | None = None) -> StandingGrant | None:
        return await self.grants.revoke(grant_id, by=by, now=now, why=why)

    async def live_for(self, user: str, now: float) -> list[StandingGrant]:
        return await self.grants.live_for(user, now)
