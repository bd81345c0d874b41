"""Button clicks and the reject modal: approve, reject (with an optional reason), cancel.

Slack cannot disable buttons, so every click is checked here and decided atomically by
the engine: a refused click gets an ephemeral explanation and changes nothing; of two
clicks at once, one is recorded and the other is told who was first.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.ports import Approval, ApprovalStatus, ApprovalStore, DecisionOutcome, DecisionResult
from agent.runner import Engine, ThreadStatus
from bot import messages as say
from bot.approval_view import reason_from, reject_modal
from bot.approvers import ApproverDirectory
from bot.notifier import Notifier
from bot.poster import SlackPoster, error_code
from bot.store import BotStore

log = structlog.get_logger(__name__)


def refusal_for(approval: Approval | None) -> str | None:
    """Why a click on this approval cannot be taken (pure); None while it is pending."""
    if approval is None:
        return say.APPROVAL_NOT_FOUND
    match approval.status:
        case ApprovalStatus.PENDING:
            return None
        case ApprovalStatus.EXPIRED:
            return say.APPROVAL_EXPIRED
        case ApprovalStatus.WITHDRAWN:
            return say.APPROVAL_WITHDRAWN
    return say.already_decided(approval.status.value, approval.decided_by)


def outcome_refusal(result: DecisionResult) -> str | None:
    match result.outcome:
        case DecisionOutcome.RECORDED:
            return None
        case DecisionOutcome.EXPIRED:
            return say.APPROVAL_EXPIRED
        case DecisionOutcome.NOT_FOUND:
            return say.APPROVAL_NOT_FOUND
    return refusal_for(result.approval) or say.APPROVAL_STALE


class Interactions:
    def __init__(self, *, engine: Engine, approvals: ApprovalStore, store: BotStore, poster: SlackPoster,
                 directory: ApproverDirectory, notifier: Notifier) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.notifier = notifier

    @property
    def client(self) -> AsyncWebClient:
        return self.poster.client

    async def _refusal(self, approval: Approval | None, user: str) -> str | None:
        refusal = refusal_for(approval)
        if refusal is not None or approval is None:
            return refusal
        if not await self._is_live(approval):
            return say.APPROVAL_STALE
        if not await self.directory.may_approve(approval.tool, approval.requested_by, user):
            return say.not_allowed(self.directory.who_may_approve(approval.tool, approval.requested_by))
        return None

    async def _is_live(self, approval: Approval) -> bool:
        """Its message still offers a decision: closed ones belong to a run that finished, was
        replanned or cancelled (the notifier closes them), or were decided already. No record
        yet means the message is being posted right now, so it is live."""
        record = await self.notifier.approval_record(approval.id)
        return record is None or not record.closed

    async def approve(self, user: str, approval_id: str, channel: str, thread_ts: str | None) -> None:
        approval = await self.approvals.get(approval_id)
        refusal = await self._refusal(approval, user)
        if refusal is None:
            result = await self.engine.decide(approval_id, approved=True, by=user)
            refusal = outcome_refusal(result)
            log.info("approval clicked", approval_id=approval_id, outcome=result.outcome.value)
        if refusal is not None:  # (a recorded decision updates its message through its event)
            await self.poster.ephemeral(channel, user, refusal, thread_ts)
            await self.notifier.refresh_approval(approval_id)

    async def open_reject(self, user: str, approval_id: str, trigger_id: str, channel: str,
                          thread_ts: str | None) -> None:
        approval = await self.approvals.get(approval_id)
        refusal = await self._refusal(approval, user)
        if refusal is not None or approval is None:
            await self.poster.ephemeral(channel, user, refusal or say.APPROVAL_NOT_FOUND, thread_ts)
            await self.notifier.refresh_approval(approval_id)
            return
        metadata = json.dumps({"approval_id": approval_id, "channel": channel, "thread_ts": thread_ts})
        try:
            await self.client.views_open(trigger_id=trigger_id, view=reject_modal(approval, metadata))
        except SlackApiError as exc:
            log.warning("views.open failed", error=error_code(exc))
            await self.poster.ephemeral(channel, user, say.SOMETHING_BROKE, thread_ts)

    async def submit_reject(self, user: str, view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        approval_id = str(meta.get("approval_id", ""))
        channel, thread_ts = meta.get("channel"), meta.get("thread_ts")
        approval = await self.approvals.get(approval_id)
        refusal = await self._refusal(approval, user)
        if refusal is None:
            result = await self.engine.decide(approval_id, approved=False, by=user, reason=reason_from(view))
            refusal = outcome_refusal(result)
            log.info("approval rejected", approval_id=approval_id, outcome=result.outcome.value)
        if refusal is not None:
            if channel:
                await self.poster.ephemeral(channel, user, refusal, thread_ts)
            await self.notifier.refresh_approval(approval_id)

    async def cancel(self, user: str, thread_key: str, channel: str, message_ts: str | None,
                     thread_ts: str | None) -> None:
        messages = await self.store.unfinished_status_messages(thread_key=thread_key)
        clicked = next((m for m in messages if m.ts == message_ts), None)
        if clicked is None or await self.engine.status(thread_key) is ThreadStatus.IDLE:
            await self.poster.ephemeral(channel, user, say.CANCEL_TOO_LATE, thread_ts)
            return
        if not await self.directory.may_cancel(clicked.requested_by, user):
            await self.poster.ephemeral(channel, user, say.CANCEL_NOT_ALLOWED, thread_ts)
            return
        self.notifier.note_cancel(thread_key, user)
        withdrawn = await self.engine.cancel(thread_key, by=say.user(user))
        log.info("run cancelled", thread_id=thread_key, withdrawn=len(withdrawn))
        for approval in withdrawn:
            await self.notifier.refresh_approval(approval.id)
        await self.notifier.cancel_queued(thread_key, clicked.ts)
