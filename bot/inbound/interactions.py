"""Button clicks and the reject modal: approve, reject (with an optional reason), cancel.

Slack cannot disable buttons, so every click is checked here and decided atomically by
the engine: a refused click gets an ephemeral explanation and changes nothing; of two
clicks at once, one is recorded and the other is told who was first. A click in the App Home
tab is answered by a DM from the app naming the approval (an ephemeral in the approval's
thread would be unseen there, or refused if the clicker is not in that conversation).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.engine.engine import Engine, ThreadStatus
from agent.execution.approval_edits import argument_problems
from agent.execution.cancelling import CancelOutcome
from agent.ports.stores import Approval, ApprovalStatus, ApprovalStore, DecisionOutcome, DecisionResult
from agent.urgency import urgent
from bot.access.access import AccessDirectory, MembershipUnknown
from bot.ground.poster import SlackPoster, error_code
from bot.ground.threads import ThreadRef
from bot.outbound.approval_messages import ApprovalMessages
from bot.outbound.notifier import Notifier
from bot.store import StatusMessageRecords
from bot.views import wording as say
from bot.views.approval_view import reason_from, reject_modal
from bot.views.edit_view import EditTarget, TooLongToEdit, args_from, edit_modal, field_errors

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


def outcome_refusal(result: DecisionResult, user: str) -> str | None:
    """Why ``user``'s decision or edit changed nothing (None: it was recorded)."""
    match result.outcome:
        case DecisionOutcome.RECORDED:
            return None
        case DecisionOutcome.EXPIRED:
            return say.APPROVAL_EXPIRED
        case DecisionOutcome.NOT_FOUND:
            return say.APPROVAL_NOT_FOUND
        case DecisionOutcome.CHANGED:  # (by the clicker: they clicked a view from before their edit)
            mine = result.approval is not None and result.approval.edited_by == user
            return say.ARGS_CHANGED_BY_YOU if mine else say.ARGS_CHANGED
    return refusal_for(result.approval) or say.APPROVAL_STALE


class Interactions:
    def __init__(self, *, engine: Engine, approvals: ApprovalStore, store: StatusMessageRecords,
                 poster: SlackPoster, directory: AccessDirectory, notifier: Notifier,
                 approval_messages: ApprovalMessages) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.notifier = notifier
        self.approval_messages = approval_messages

    @property
    def client(self) -> AsyncWebClient:
        return self.poster.client

    async def refusal(self, approval: Approval | None, user: str) -> str | None:
        """Why ``user`` may not decide on this approval now (None: they may): it is not pending,
        its message is closed, or the policy does not let them."""
        refusal = refusal_for(approval)
        if refusal is not None or approval is None:
            return refusal
        if not await self._is_live(approval):
            return say.APPROVAL_STALE
        try:
            allowed = await self.directory.may_approve(approval.tool, approval.requested_by, user)
        except MembershipUnknown:
            return say.GROUP_UNCHECKED
        if not allowed:
            return say.not_allowed(self.directory.who_may_approve(approval.tool, approval.requested_by))
        return None

    async def _is_live(self, approval: Approval) -> bool:
        """Its message still offers a decision: closed ones belong to a run that finished, was
        replanned or cancelled (:class:`ApprovalMessages` closes them), or were decided
        already. No record yet means the message is being posted right now, so it is live."""
        record = await self.approval_messages.record(approval.id)
        return record is None or not record.closed

    async def tell(self, user: str, text: str, approval: Approval | None, channel: str | None,
                   thread_ts: str | None) -> None:
        """Tell the clicker privately: where they clicked, or, for a click in the App Home tab
        (no channel) or where Slack says they would not see it, by a DM naming the approval."""
        thread = ThreadRef.parse(approval.thread_id) if approval is not None else None
        about = say.about_approval(approval.tool, approval.node_id, thread.link) \
            if approval is not None and thread is not None else None
        await self.poster.ephemeral(channel or "", user, text, thread_ts, about=about)

    @asynccontextmanager
    async def reported(self, work: str, user: str, approval_id: str, channel: str | None,
                       thread_ts: str | None) -> AsyncIterator[None]:
        """A click's work that fails unexpectedly (a bug, a value the database refuses) is logged
        and the clicker told privately, instead of dying unseen with its background task."""
        try:
            yield
        except Exception:
            log.exception("could not handle a click", work=work, approval_id=approval_id)
            try:
                await self.tell(user, say.CLICK_FAILED, await self.approvals.get(approval_id), channel,
                                 thread_ts)
            except Exception:
                log.warning("could not tell the clicker either", approval_id=approval_id, exc_info=True)

    async def _decidable(self, user: str, approval_id: str, channel: str, thread_ts: str | None
                         ) -> Approval | None:
        """The approval, when ``user`` may decide on it now; otherwise the clicker is told why
        and the approval's message refreshed (None)."""
        approval = await self.approvals.get(approval_id)
        refusal = await self.refusal(approval, user)
        if refusal is not None or approval is None:
            await self.tell(user, refusal or say.APPROVAL_NOT_FOUND, approval, channel, thread_ts)
            await self.approval_messages.refresh(approval_id)
            return None
        return approval

    async def approve(self, user: str, approval_id: str, channel: str, thread_ts: str | None,
                      edits: int | None = None) -> None:
        """``edits``: the version of the arguments the clicked message showed (approving runs
        exactly those; if they were edited since, nothing is decided)."""
        async with self.reported("approve", user, approval_id, channel, thread_ts):
            with urgent():  # the approver waits for the call to start (agent.urgency)
                await self._approve(user, approval_id, channel, thread_ts, edits)

    async def _approve(self, user: str, approval_id: str, channel: str, thread_ts: str | None,
                       edits: int | None) -> None:
        approval = await self.approvals.get(approval_id)
        refusal = await self.refusal(approval, user)
        if refusal is None:
            result = await self.engine.decide(approval_id, approved=True, by=user, edits=edits)
            refusal = outcome_refusal(result, user)
            log.info("approval clicked", approval_id=approval_id, outcome=result.outcome.value)
        if refusal is not None:  # (a recorded decision updates its message through its event)
            await self.tell(user, refusal, approval, channel, thread_ts)
            await self.approval_messages.refresh(approval_id)

    async def open_reject(self, user: str, approval_id: str, trigger_id: str, channel: str,
                          thread_ts: str | None) -> None:
        approval = await self._decidable(user, approval_id, channel, thread_ts)
        if approval is None:
            return
        metadata = json.dumps({"approval_id": approval_id, "channel": channel, "thread_ts": thread_ts})
        try:
            await self.client.views_open(trigger_id=trigger_id, view=reject_modal(approval, metadata))
        except SlackApiError as exc:
            log.warning("views.open failed", error=error_code(exc))
            await self.tell(user, say.SOMETHING_BROKE, approval, channel, thread_ts)

    async def submit_reject(self, user: str, view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        approval_id = str(meta.get("approval_id", ""))
        channel, thread_ts = meta.get("channel"), meta.get("thread_ts")
        async with self.reported("reject", user, approval_id, channel, thread_ts):
            await self._reject(user, view, approval_id, channel, thread_ts)

    async def _reject(self, user: str, view: dict[str, Any], approval_id: str, channel: str | None,
                      thread_ts: str | None) -> None:
        approval = await self.approvals.get(approval_id)
        refusal = await self.refusal(approval, user)
        if refusal is None:
            result = await self.engine.decide(approval_id, approved=False, by=user, reason=reason_from(view))
            refusal = outcome_refusal(result, user)
            log.info("approval rejected", approval_id=approval_id, outcome=result.outcome.value)
        if refusal is not None:
            await self.tell(user, refusal, approval, channel, thread_ts)
            await self.approval_messages.refresh(approval_id)

    # ------------------------------------------------------------------ edit

    def _target(self, tool: str) -> EditTarget:
        spec = self.engine.registry.get(tool)
        return EditTarget(schema=spec.json_schema(), secret=spec.secret_args())

    async def open_edit(self, user: str, approval_id: str, trigger_id: str, channel: str,
                        thread_ts: str | None) -> None:
        """Edit clicked: the modal opens for those who may decide, while the approval is pending."""
        approval = await self._decidable(user, approval_id, channel, thread_ts)
        if approval is None:
            return
        metadata = json.dumps({"approval_id": approval_id, "channel": channel, "thread_ts": thread_ts,
                               "edits": approval.edits})
        try:
            view = edit_modal(approval, self._target(approval.tool), metadata)
        except TooLongToEdit:
            await self.tell(user, say.TOO_LONG_TO_EDIT, approval, channel, thread_ts)
            return
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed", error=error_code(exc))
            await self.tell(user, say.SOMETHING_BROKE, approval, channel, thread_ts)

    async def submit_edit(self, user: str, view: dict[str, Any], answered: asyncio.Event) -> dict[str, str]:
        """The Edit modal was submitted. Returns problems by field (the modal stays open and
        shows them) or nothing; a refusal is told privately. ``answered``: Slack has had its
        answer already, so problems can only be told privately too."""
        meta = json.loads(view.get("private_metadata") or "{}")
        approval_id, edits = str(meta.get("approval_id", "")), int(meta.get("edits", 0))
        channel, thread_ts = meta.get("channel"), meta.get("thread_ts")
        async with self.reported("edit", user, approval_id, channel, thread_ts):
            return await self._edit(user, view, answered, approval_id, edits, channel, thread_ts)
        return {}

    async def _edit(self, user: str, view: dict[str, Any], answered: asyncio.Event, approval_id: str,
                    edits: int, channel: str | None, thread_ts: str | None) -> dict[str, str]:
        approval = await self.approvals.get(approval_id)
        refusal = await self.refusal(approval, user)
        if refusal is None and approval is not None:
            target = self._target(approval.tool)
            args, errors = args_from(view, approval, target)
            if not errors:
                problems = argument_problems(self.engine.registry, approval.tool, args)
                errors = field_errors(problems, target)
            if errors:
                if answered.is_set():
                    await self.tell(user, say.edit_not_saved(list(errors.values())), approval, channel,
                                     thread_ts)
                return errors
            result = await self.engine.edit(approval_id, args, by=user, edits=edits)
            log.info("approval edited", approval_id=approval_id, outcome=result.outcome.value)
            refusal = outcome_refusal(result, user)
            if refusal is None and result.approval is not None:
                await self.approval_messages.show_edit(result.approval)
        if refusal is not None:
            await self.tell(user, refusal, approval, channel, thread_ts)
        return {}

    async def cancel(self, user: str, thread_key: str, channel: str, message_ts: str | None,
                     thread_ts: str | None) -> None:
        """Cancel clicked on a status message: it stops that message's request and nothing else
        (a stale message's click must not stop the run of whoever asked next). A message from
        before requests had keys stops the thread's run, as it always did."""
        messages = await self.store.unfinished_status_messages(thread_key=thread_key)
        clicked = next((m for m in messages if m.ts == message_ts), None)
        if clicked is None or (clicked.request_key is None
                               and await self.engine.status(thread_key) is ThreadStatus.IDLE):
            await self.poster.ephemeral(channel, user, say.CANCEL_TOO_LATE, thread_ts)
            return
        try:
            allowed = await self.directory.may_cancel(clicked.requested_by, user)
        except MembershipUnknown:
            await self.poster.ephemeral(channel, user, say.GROUP_UNCHECKED, thread_ts)
            return
        if not allowed:
            await self.poster.ephemeral(channel, user, say.CANCEL_NOT_ALLOWED, thread_ts)
            return
        # (the run's RunCancelled names ``user``: its status message says who cancelled it)
        result = await self.engine.cancel(thread_key, by=user, request_key=clicked.request_key)
        log.info("cancel clicked", thread_id=thread_key, outcome=result.outcome.value,
                 withdrawn=len(result.withdrawn), dropped=len(result.dropped))
        for approval in result.withdrawn:
            await self.approval_messages.refresh(approval.id)
        unfinished = await self.store.unfinished_status_messages(thread_key=thread_key)
        if clicked.request_key is None:  # everything queued was dropped
            dropped = [m for m in unfinished if m.run_id is None and m.ts != clicked.ts]
        else:
            dropped = [m for m in unfinished if m.request_key is not None and m.request_key in result.dropped]
        await self.notifier.cancel_queued(dropped)
        if result.outcome is CancelOutcome.TOO_LATE:
            await self.poster.ephemeral(channel, user, say.CANCEL_TOO_LATE, thread_ts)
