"""Scenarios: what a Slack conversation leaves in the audit trail, and its retention."""

from __future__ import annotations

import time

from agent.ports.audit import AuditEntry, AuditKind
from tests.bot.chat import ALICE, BOB, MEMORY, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack

DAY = 86_400.0
LOOKUP = {"thought": "read", "nodes": [{"id": "look", "tool": "lookup", "args": {"key": "k"}}]}
DEPLOY = {"thought": "ship", "nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}


async def test_a_request_its_plan_decision_and_red_call_are_recorded_with_who(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("shipped")], approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        thread = await alice.runs("deploy prod")
        await bob.approves(await thread.approval_for("deploy"))
        await thread.answer()
        trail = await app.services.store.audit_entries()
        assert [(e.kind.value, e.actor) for e in trail] == [
            ("request", ALICE), ("plan", "dagbot"), ("approval_requested", "dagbot"), ("decision", BOB),
            ("red_start", "dagbot"), ("red_outcome", "dagbot")]
        assert {e.thread_id for e in trail} == {f"slack:T0TEAM:C0OPS:{thread.root_ts}"}
        assert trail[0].detail["request"] == "deploy prod"
        assert trail[1].detail["plan"]["nodes"][0]["tool"] == "deploy"
        assert trail[3].detail["status"] == "approved" and trail[4].detail["approved_by"] == BOB
        assert trail[5].detail["outcome"] == "finished"
        assert [e.at for e in trail] == sorted(e.at for e in trail)


async def test_the_sweeper_prunes_rows_past_their_retention(slack: FakeSlack, sqlite_url: str) -> None:
    async with running_bot(slack, sqlite_url, [LOOKUP, finish("done")],
                           audit_retention_seconds=30 * DAY) as app, chat_with(slack, app) as chat:
        store = app.services.store
        await store.record(AuditEntry(thread_id="old-thread", kind=AuditKind.REQUEST, actor=ALICE,
                                      detail={"request": "long ago"}, at=time.time() - 31 * DAY))
        thread = await chat.person(ALICE).runs("look k up")
        await thread.answer()

        async def pruned() -> bool:
            return "old-thread" not in {e.thread_id for e in await store.audit_entries()}

        deadline = time.monotonic() + 30
        while not await pruned():  # the sweeper runs every 0.2 s here
            assert time.monotonic() < deadline, "the sweeper never pruned the old row"
            await slack.wait_for(lambda: True, within=0.2)
        assert [e.kind.value for e in await store.audit_entries()] == ["request", "plan"]
