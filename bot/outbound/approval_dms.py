"""Direct messages to the people who may decide on an approval asked where they may not see it.

An approval message mentions who may decide, but a mention in a conversation someone is not in
(a person's DM with the app, their assistant pane, a group DM, a private channel) notifies
nobody: without this, App Home would be their only way in. So when an approval is asked in a
conversation that is not a public channel (:mod:`bot.ground.conversation_kinds`), everyone who may
decide on it (user groups resolved as :class:`bot.access.access.AccessDirectory` resolves them; not
the requester, who is in that conversation; never the bot) gets one DM from the app: who asked,
where, a link to the approval message, and the message itself with its Approve/Reject/Edit
buttons, which the thread's listeners handle as they handle the thread's and App Home's. An
alert route's run (:mod:`bot.access.unattended`) has no person waiting on it, wherever it runs:
its approvers are DM'd in a public channel too.

Once per approval and person, across processes and restarts: each DM is claimed in the
:class:`bot.store.ApprovalDMRecords` before it is sent (a DM claimed by a process that died before
sending it is not sent again; App Home still lists the approval). The DMs follow the thread's
message (:class:`bot.outbound.approval_messages.ApprovalMessages` tells them): an edit shows there, and
once the approval is decided, expires, is withdrawn or is no longer needed their buttons give
way to the same final state. All of it runs in the background: a DM Slack refuses is logged
and never holds up or breaks the approval.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import partial

import structlog

from agent.ports.stores import Approval, ApprovalStore
from bot.access.access import AccessDirectory
from bot.access.unattended import unattended_route
from bot.ground.background_tasks import TaskSet
from bot.ground.blocks import Block
from bot.ground.conversation_kinds import ConversationKind, ConversationKinds
from bot.ground.poster import RETRY_DELAYS, SlackPoster, retried
from bot.ground.threads import ThreadRef
from bot.store import ApprovalDM, ApprovalDMStore
from bot.views import wording as say
from bot.views.approval_view import approver_dm

log = structlog.get_logger(__name__)

Render = Callable[[Approval, bool], tuple[str, list[Block]]]
"""An approval's message as its thread shows it (``True``: no longer needed)."""


class ApprovalDMs:
    def __init__(self, *, approvals: ApprovalStore, store: ApprovalDMStore, poster: SlackPoster,
                 directory: AccessDirectory, kinds: ConversationKinds, tasks: TaskSet, render: Render,
                 bot_user: Callable[[], Awaitable[str | None]],
                 clock: Callable[[], float] = time.time) -> None:
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.kinds = kinds
        self.tasks = tasks
        self.render = render
        self.bot_user = bot_user
        self.clock = clock
        self.retry_delays = RETRY_DELAYS
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        """Approval id → its DMs are being sent or updated (gone once nobody holds it)."""

    def _lock(self, approval_id: str) -> asyncio.Lock:
        return self._locks.setdefault(approval_id, asyncio.Lock())

    # ------------------------------------------------------------------ send

    def offer(self, approval_id: str, thread: ThreadRef, message_ts: str | None) -> None:
        """The approval's message was posted in ``thread`` (``message_ts``; None if Slack refused
        it): DM whoever may decide and may not see it there (in the background)."""
        self.tasks.spawn(self._logged(self.send(approval_id, thread, message_ts), approval_id),
                         name=f"approval-dms:{approval_id}")

    async def send(self, approval_id: str, thread: ThreadRef, message_ts: str | None) -> None:
        approval = await self.approvals.get(approval_id)
        if approval is None or not approval.is_pending:
            return
        unattended = unattended_route(approval.requested_by) is not None
        if not unattended and not self.directory.policy.approvers_for(approval.tool):
            return  # the requester decides, and sees the thread: nothing to ask Slack
        kind = await self.kinds.kind(thread.channel)
        if not kind.is_private and not unattended:  # (an alert's run: nobody watches its channel)
            return
        people = await self.directory.deciders(approval.tool, approval.requested_by)
        people -= {approval.requested_by, await self.bot_user()}
        if not people:
            return
        link = await self.poster.permalink(thread.channel, message_ts) if message_ts else None
        where = "assistant" if kind is ConversationKind.IM and await self.store.assistant_thread(thread.key) \
            else kind.value
        intro = say.approver_dm_intro(approval.requested_by, say.asked_in(where, thread.channel),
                                      link or thread.link)
        async with self._lock(approval_id):
            approval = await self.approvals.get(approval_id) or approval  # (an edit meanwhile)
            for user in sorted(people):
                if approval.is_pending and await self.store.claim_approval_dm(approval.id, user,
                                                                              self.clock()):
                    await self._send_one(approval, user, intro)
            await self._update(approval_id, sent=approval)

    async def _send_one(self, approval: Approval, user: str, intro: str) -> None:
        text, blocks = approver_dm(approval, intro, self.render(approval, False))
        sent = await retried(lambda: self.poster.send(user, text, blocks), self.retry_delays)
        if sent.ts is None or sent.channel is None:
            log.warning("could not DM an approver; App Home still lists the approval",
                        approval_id=approval.id, user=user, error=sent.error)
            return
        await self.store.save_approval_dm(ApprovalDM(approval_id=approval.id, user=user, channel=sent.channel,
                                                     ts=sent.ts, intro=intro))
        log.info("approver told by DM", approval_id=approval.id, user=user)

    # ---------------------------------------------------------------- update

    def follow(self, approval_id: str, *, stale: bool = False, edited: bool = False) -> None:
        """Show the approval's newest state in its DMs, as in its thread message (in the
        background): its final state (or ``stale``: no longer needed), or its ``edited``
        arguments while it is pending. A pending, unedited approval's DMs stay as they are."""
        self.tasks.spawn(self._logged(self._follow(approval_id, stale, edited), approval_id),
                         name=f"approval-dms-update:{approval_id}")

    async def _follow(self, approval_id: str, stale: bool, edited: bool) -> None:
        async with self._lock(approval_id):
            await self._update(approval_id, stale=stale, edited=edited)

    async def _update(self, approval_id: str, *, stale: bool = False, edited: bool = False,
                      sent: Approval | None = None) -> None:
        """(Holding the approval's lock.) ``sent``: the version the DMs were just sent with;
        they are updated only if the approval changed since (decided or edited meanwhile)."""
        dms = await self.store.open_approval_dms(approval_id)
        approval = await self.approvals.get(approval_id) if dms else None
        if approval is None:
            return
        final = stale or not approval.is_pending
        if sent is not None:
            edited = approval.edits != sent.edits
        if not final and not edited:
            return
        for dm in dms:
            text, blocks = approver_dm(approval, dm.intro, self.render(approval, stale))
            result = await retried(partial(self.poster.edit, dm.channel, dm.ts, text, blocks),
                                   self.retry_delays)
            if final and (result.ok or result.gone):  # (a DM that is gone shows no buttons either)
                await self.store.close_approval_dm(approval_id, dm.user)
            elif not result.ok:
                log.warning("could not update an approver's DM", approval_id=approval_id, user=dm.user,
                            error=result.error)

    @staticmethod
    async def _logged(work: Awaitable[None], approval_id: str) -> None:
        """DMs are a courtesy: whatever goes wrong with them is logged, the approval stands."""
        try:
            await work
        except Exception:
            log.exception("approver DMs failed", approval_id=approval_id)
