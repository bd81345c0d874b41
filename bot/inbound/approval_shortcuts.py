"""Clicks that decide more than one call: "Approve for this thread", "Approve all", and Revoke.

Each decision goes through :meth:`agent.engine.engine.Engine.decide`, the durable, once-only
path of a plain Approve, and each approval is checked as a plain Approve checks it
(:meth:`bot.inbound.interactions.Interactions.refusal`): pending, its message still open, the clicker
among its approvers. Beyond that:

- **Approve for this thread** also needs the policy to offer it for the tool and let the
  clicker give it (:meth:`bot.access.access.AccessDirectory.may_grant_standing`), so a forged click for
  a tool marked never standing decides nothing. The grant is kept first, then the approval
  decided naming it; if the decision is not recorded (someone was first, an edit since), the
  grant is revoked at once.
- **Approve all** (on a run's status message) approves each of that run's pending approvals the
  clicker may approve; the others stay pending, and the clicker is told which, privately.
- **Revoke** (App Home) ends a live grant, for whoever gave it or whose calls it approves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog

from agent.engine.engine import Engine
from agent.ports.standing import StandingApprovals, StandingGrant, granting_reason
from agent.ports.stores import Approval, ApprovalStore
from agent.urgency import urgent
from bot.access.access import AccessDirectory, MembershipUnknown
from bot.ground.poster import SlackPoster
from bot.inbound.interactions import Interactions, outcome_refusal
from bot.outbound.approval_messages import ApprovalMessages
from bot.store import StatusMessageRecords
from bot.views import standing_view as view
from bot.views import wording as say

log = structlog.get_logger(__name__)


class ApprovalShortcuts:
    def __init__(self, *, engine: Engine, approvals: ApprovalStore, grants: StandingApprovals,
                 store: StatusMessageRecords, poster: SlackPoster, directory: AccessDirectory,
                 interactions: Interactions, approval_messages: ApprovalMessages,
                 clock: Callable[[], float]) -> None:
        self.engine = engine
        self.approvals = approvals
        self.grants = grants
        self.store = store
        self.poster = poster
        self.directory = directory
        self.interactions = interactions
        self.approval_messages = approval_messages
        self.clock = clock

    # ------------------------------------------------------ approve for this thread

    async def approve_for_thread(self, user: str, approval_id: str, channel: str, thread_ts: str | None,
                                 edits: int | None = None) -> None:
        """Approve this call and give a standing approval of the tool's later calls in the
        thread by the same requester (``edits``: the version of the arguments the click saw)."""
        async with self.interactions.reported("approve-for-thread", user, approval_id, channel, thread_ts):
            with urgent():
                approval = await self.approvals.get(approval_id)
                refusal = await self._grant_refusal(approval, user)
                if refusal is None and approval is not None:
                    refusal = await self._grant_and_approve(approval, user, edits)
                if refusal is not None:
                    await self.interactions.tell(user, refusal, approval, channel, thread_ts)
                    await self.approval_messages.refresh(approval_id)

    async def _grant_refusal(self, approval: Approval | None, user: str) -> str | None:
        refusal = await self.interactions.refusal(approval, user)
        if refusal is not None or approval is None:
            return refusal
        if not self.directory.offers_standing(approval.tool, approval.requested_by):
            return view.never_standing(approval.tool)
        try:
            allowed = await self.directory.may_grant_standing(approval.tool, approval.requested_by, user)
        except MembershipUnknown:
            return say.GROUP_UNCHECKED
        return None if allowed else view.may_not_grant(approval.tool)

    async def _grant_and_approve(self, approval: Approval, user: str, edits: int | None) -> str | None:
        """Keep the grant, then decide the approval naming it; None when both are recorded."""
        assert approval.requested_by is not None  # (offers_standing said so)
        now = self.clock()
        grant = StandingGrant(
            id=uuid.uuid4().hex, thread_id=approval.thread_id, tool=approval.tool,
            requester=approval.requested_by, granted_by=user, granted_at=now,
            expires_at=now + self.engine.settings.standing_approval_ttl_seconds,
            approval_id=approval.id)
        await self.grants.grant(grant)  # first: a later call gated meanwhile finds it
        result = await self.engine.decide(approval.id, approved=True, by=user,
                                          reason=granting_reason(grant.id), edits=edits)
        log.info("approved for the thread", approval_id=approval.id, grant_id=grant.id,
                 outcome=result.outcome.value)
        refusal = outcome_refusal(result, user)
        if refusal is not None:
            why = f"the approval it was given on was not decided ({result.outcome.value})"
            await self.grants.revoke(grant.id, by=user, now=self.clock(), why=why)
        return refusal

    # ---------------------------------------------------------------- approve all

    async def approve_all(self, user: str, thread_key: str, channel: str, message_ts: str | None,
                          thread_ts: str | None) -> None:
        """"Approve all" on a status message: every pending approval of its run that ``user`` may
        approve is approved (each as its own Approve would be); they are told of the rest."""
        async with self.interactions.reported("approve-all", user, "", channel, thread_ts):
            with urgent():
                left, approved = await self._approve_all(user, thread_key, message_ts)
            if left:
                await self.poster.ephemeral(channel, user, view.approve_all_left(left, approved), thread_ts)
            elif not approved:
                await self.poster.ephemeral(channel, user, view.NOTHING_TO_APPROVE, thread_ts)

    async def _approve_all(self, user: str, thread_key: str, message_ts: str | None
                           ) -> tuple[list[tuple[Approval, str]], int]:
        """The approvals left pending (each with why) and how many were approved."""
        messages = await self.store.unfinished_status_messages(thread_key=thread_key)
        clicked = next((m for m in messages if m.ts == message_ts), None)
        if clicked is None or clicked.run_id is None:
            return [], 0
        left: list[tuple[Approval, str]] = []
        approved = 0
        for approval in await self.approvals.pending(thread_key):
            record = await self.approval_messages.record(approval.id)
            if approval.run_id != clicked.run_id or (record is not None and record.closed):
                continue  # another run's, or no longer needed (its run replanned without it)
            refusal = await self._approve_one(approval, user)
            if refusal is None:
                approved += 1
            else:
                left.append((approval, refusal))
                await self.approval_messages.refresh(approval.id)
        return left, approved

    async def _approve_one(self, approval: Approval, user: str) -> str | None:
        """Approve as a plain Approve of its current arguments would; why not (None: approved)."""
        try:
            allowed = await self.directory.may_approve(approval.tool, approval.requested_by, user)
        except MembershipUnknown:
            return "I couldn't check its approver group with Slack just now"
        if not allowed:
            who = self.directory.who_may_approve(approval.tool, approval.requested_by)
            return f"only {who} may approve it"
        refusal = await self.interactions.refusal(approval, user)
        if refusal is None:
            result = await self.engine.decide(approval.id, approved=True, by=user, edits=approval.edits)
            log.info("approved with approve all", approval_id=approval.id, outcome=result.outcome.value)
            refusal = outcome_refusal(result, user)
        return refusal

    # -------------------------------------------------------------------- revoke

    async def revoke(self, user: str, grant_id: str) -> None:
        """Revoke clicked in App Home: the grant ends if ``user`` gave it or it approves their
        calls; otherwise they are told why, by DM (the App Home's Messages tab)."""
        grant = await self.grants.get(grant_id)
        if grant is None or not grant.is_live(self.clock()):
            await self.poster.ephemeral("", user, view.GRANT_ENDED)
            return
        if user not in (grant.granted_by, grant.requester):
            await self.poster.ephemeral("", user, view.REVOKE_NOT_ALLOWED)
            return
        revoked = await self.grants.revoke(grant_id, by=user, now=self.clock(), why="revoked in App Home")
        log.info("standing approval revoked", grant_id=grant_id, revoked=revoked is not None)
        if revoked is None:
            await self.poster.ephemeral("", user, view.GRANT_ENDED)
