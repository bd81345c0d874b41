"""Standing approvals: "Approve for this thread", a grant that approves later calls of one red
tool in one thread, asked for by one requester, until it expires or is revoked.

A grant is given by a click on an approval (the front end checks that the policy offers it
for the tool and lets the clicker give it); the engine (:mod:`agent.execution.standing`)
looks one up each time a red node asks for approval, and, when one covers the call, decides
the approval by it through the approval store, exactly as a click would: the execution
journal, the audit trail and the once-only decision are those of every approval.

The decision's ``reason`` names the grant (:func:`granting_reason`, :func:`covering_reason`),
so an approval says, durably, that it gave or used a standing approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from agent.ports.stores import Approval, ApprovalStatus


@dataclass(frozen=True)
class StandingGrant:
    id: str
    thread_id: str
    tool: str
    requester: str
    """Whose calls it approves (the person who asked for the run)."""
    granted_by: str
    granted_at: float
    expires_at: float
    approval_id: str
    """The approval whose "Approve for this thread" click gave it."""
    revoked_by: str | None = None
    revoked_at: float | None = None

    def is_live(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def covers(self, approval: Approval) -> bool:
        """Whether it approves this call (same thread, tool and requester)."""
        return (approval.thread_id, approval.tool, approval.requested_by) == \
            (self.thread_id, self.tool, self.requester)


class StandingApprovals(Protocol):
    """Durable standing grants. ``infra`` keeps them in a table, auditing each grant and
    revocation in the same transaction."""

    async def grant(self, grant: StandingGrant) -> None:
        """Keep a new grant (audited as ``standing_grant``)."""

    async def covering(self, thread_id: str, tool: str, requester: str,
                       now: float) -> StandingGrant | None:
        """The newest grant live at ``now`` that approves ``requester``'s calls of ``tool`` in
        ``thread_id``, if any."""

    async def get(self, grant_id: str) -> StandingGrant | None: ...

    async def revoke(self, grant_id: str, *, by: str, now: float,
                     why: str | None = None) -> StandingGrant | None:
        """End a live grant (audited as ``standing_revoked``); None when there is no such grant
        or it had ended already (revoked or expired)."""

    async def live_for(self, user: str, now: float) -> list[StandingGrant]:
        """The grants live at ``now`` that ``user`` gave or whose calls they approve, newest first."""


class NoStandingApprovals:
    """No grants are kept (the terminal; tests that do not need them): every call asks."""

    async def grant(self, grant: StandingGrant) -> None:
        raise NotImplementedError("standing approvals are not kept here")

    async def covering(self, thread_id: str, tool: str, requester: str,
                       now: float) -> StandingGrant | None:
        return None

    async def get(self, grant_id: str) -> StandingGrant | None:
        return None

    async def revoke(self, grant_id: str, *, by: str, now: float,
                     why: str | None = None) -> StandingGrant | None:
        return None

    async def live_for(self, user: str, now: float) -> list[StandingGrant]:
        return []


_GRANTING = "approved for this thread: standing approval "
_COVERING = "approved by standing approval "
_REASON = re.compile(rf"^(?:({re.escape(_GRANTING)})|{re.escape(_COVERING)})([0-9a-f]{{1,32}})$")


def granting_reason(grant_id: str) -> str:
    """The ``reason`` of the approval whose click gave the grant."""
    return f"{_GRANTING}{grant_id}"


def covering_reason(grant_id: str) -> str:
    """The ``reason`` of an approval the grant decided."""
    return f"{_COVERING}{grant_id}"


@dataclass(frozen=True)
class StandingDecision:
    """What an approved approval's reason says about a standing grant."""

    grant_id: str
    granted_here: bool
    """True: this approval's click gave the grant; False: the grant approved it."""


def standing_decision(approval: Approval) -> StandingDecision | None:
    """The standing grant an approved approval gave or was approved by (None: neither)."""
    if approval.status is not ApprovalStatus.APPROVED or not approval.reason:
        return None
    found = _REASON.match(approval.reason)
    return StandingDecision(found[2], granted_here=bool(found[1])) if found else None
