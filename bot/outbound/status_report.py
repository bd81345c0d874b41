"""``/agent status``: the caller's active runs and the approvals they may decide."""

from __future__ import annotations

from agent.engine.engine import Engine, ThreadStatus
from agent.ports.stores import Approval, ApprovalStore
from bot.access.access import AccessDirectory
from bot.ground.threads import ThreadRef
from bot.store import ApprovalMessageRecords, StatusMessageRecords, StatusReportStore
from bot.views.reply_view import ApprovalLine, Reply, RunLine, status_reply

STATE_NAMES = {ThreadStatus.RUNNING: "running", ThreadStatus.WAITING: "waiting for approval"}


async def active_runs(user: str, *, engine: Engine, store: StatusMessageRecords) -> list[RunLine]:
    """The person's runs that are queued or going on, with links to their threads."""
    runs: list[RunLine] = []
    for message in await store.unfinished_status_messages(requested_by=user):
        thread = ThreadRef.parse(message.thread_key)
        status = await engine.status(message.thread_key)
        if thread is None or (message.run_id and status is ThreadStatus.IDLE):
            continue  # finished while nobody watched (e.g. across a restart)
        state = "queued" if message.run_id is None else STATE_NAMES.get(status, "running")
        runs.append(RunLine(link=thread.link, request=message.request, state=state))
    return runs


async def decidable_approvals(user: str, *, approvals: ApprovalStore, store: ApprovalMessageRecords,
                              directory: AccessDirectory) -> list[tuple[Approval, ThreadRef]]:
    """The pending approvals of Slack threads that ``user`` may decide and that still wait for
    a decision: not those whose message was closed as no longer needed (their run finished or
    replanned without them), which no click can decide."""
    found = []
    for approval in await approvals.pending():
        thread = ThreadRef.parse(approval.thread_id)
        if thread is None or not await directory.lists_approval(approval.tool, approval.requested_by, user):
            continue
        message = await store.approval_message(approval.id)
        if message is not None and message.closed:
            continue
        found.append((approval, thread))
    return found


async def status_report(user: str, *, engine: Engine, approvals: ApprovalStore, store: StatusReportStore,
                        directory: AccessDirectory) -> Reply:
    runs = await active_runs(user, engine=engine, store=store)
    decidable = [ApprovalLine(link=thread.link, tool=approval.tool, node_id=approval.node_id,
                              requested_by=approval.requested_by)
                 for approval, thread in await decidable_approvals(user, approvals=approvals, store=store,
                                                                   directory=directory)]
    return status_reply(runs, decidable)
