"""Scenario: "Approve all" on a run with several pending approvals decides those the clicker may
approve, each checked against its own approvers; the rest stay pending and the clicker is told."""

from __future__ import annotations

from agent.ports.audit import AuditKind
from bot.views.standing_view import APPROVE_ALL_BUTTON
from tests.bot.chat import ALICE, BOB, MEMORY, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack, Message

PLAN = {"nodes": [
    {"id": "ship_prod", "tool": "deploy", "args": {"target": "prod"}},
    {"id": "ship_qa", "tool": "deploy", "args": {"target": "qa"}},
    {"id": "grow", "tool": "scale", "args": {"service": "web", "replicas": 3}},
]}


def offers_approve_all(status: Message) -> bool:
    return any(button["text"]["text"] == APPROVE_ALL_BUTTON for button in status.buttons())


async def test_approve_all_approves_what_the_clicker_may_and_leaves_the_rest(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [PLAN, finish("all done")], approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        thread = await alice.runs("deploy prod and qa, scale web")
        for node in ("ship_prod", "ship_qa", "grow"):
            await thread.approval_for(node)
        status = await thread.status_message()
        await slack.wait_for(lambda: offers_approve_all(status), what="Approve all on the status message")

        # alice may approve scale (she asked for it), not the deploys (bob approves those)
        await alice.clicks(APPROVE_ALL_BUTTON, status)
        told = await alice.is_told("Not approved by you, still waiting")
        assert told.startswith("Approved 1.")
        assert "`deploy` (node `ship_prod`): only <@U0BOB> may approve it" in told
        assert "`deploy` (node `ship_qa`)" in told and "grow" not in told
        grow = await thread.approval_for("grow")
        await slack.wait_for(lambda: "Approved by <@U0ALICE>" in grow.content, what="scale approved")
        await slack.wait_for(lambda: app.log.count("scale") == 1, what="scale run")
        assert app.log.count("deploy") == 0
        for node in ("ship_prod", "ship_qa"):
            assert (await thread.approval_for(node)).buttons()  # still waiting

        # bob's click approves both deploys together; the run ends
        await slack.wait_for(lambda: offers_approve_all(status), what="Approve all for the two deploys")
        await bob.clicks(APPROVE_ALL_BUTTON, status)
        assert "all done" in (await thread.answer()).content
        assert app.log.count("deploy") == 2 and app.log.count("scale") == 1
        decisions = [(e.actor, e.detail["node_id"]) for e in await app.services.store.audit_entries()
                     if e.kind is AuditKind.DECISION]
        assert sorted(decisions) == [(ALICE, "grow"), (BOB, "ship_prod"), (BOB, "ship_qa")]
        await thread.status_showing(":white_check_mark: *Done*")
        assert not offers_approve_all(status) and "Not approved" not in "".join(slack.told(BOB))
        await settle(app)
