"""``/agent status``: the caller's active runs and the approvals they may decide."""

from __future__ import annotations

from agent.ports import ApprovalStore
from agent.runner import Engine, ThreadStatus
from bot.access import AccessDirectory
from bot.reply_view import ApprovalLine, Reply, RunLine, status_reply
from bot.store import BotStore
from bot.threads import ThreadRef

STATE_NAMES = {ThreadStatus.RUNNING: "running", ThreadStatus.WAITING: "waiting for approval"}


async def active_runs(user: str, *, engine: Engine, store: BotStore) -> list[RunLine]:
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


async def status_report(user: str, *, engine: Engine, approvals: ApprovalStore, store: BotStore,
                        directory: AccessDirectory) -> Reply:
    runs = await active_runs(user, engine=engine, store=store)
    decidable: list[ApprovalLine] = []
    for approval in await approvals.pending():
        thread = ThreadRef.parse(approval.thread_id)
        if thread is None or not await directory.lists_approval(approval.tool, approval.requested_by, user):
            continue
        decidable.append(ApprovalLine(link=thread.link, tool=approval.tool, node_id=approval.node_id,
                                      requested_by=approval.requested_by))
    return status_reply(runs, decidable)
