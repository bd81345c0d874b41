"""Scenarios: who may decide, and clicks that must change nothing (or happen once)."""

from __future__ import annotations

import asyncio

from tests.bot.chat import ALICE, BOB, CAROL, MALLORY, MEMORY, MovedClock, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack

DEPLOY = {"thought": "one red step", "nodes": [
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship it"},
    {"id": "check", "tool": "lookup", "args": {"key": "health"}},
]}


async def test_only_configured_approvers_may_decide(slack: FakeSlack) -> None:
    slack.add_usergroup("S0SRE", [BOB])
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"deploy": ["S0SRE"]}) as app, chat_with(slack, app) as chat:
        alice, bob, mallory = chat.person(ALICE), chat.person(BOB), chat.person(MALLORY)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        assert "May approve: <!subteam^S0SRE>" in approval.content

        # mallory (and alice, who asked but is not in the group) are refused; nothing changes
        await mallory.approves(approval)
        await mallory.is_told("only <!subteam^S0SRE> may decide")
        await alice.approves(approval)
        await alice.is_told("only <!subteam^S0SRE> may decide")
        assert len(approval.versions) == 1 and app.log.count("deploy") == 0

        # bob, a member of the group, approves
        await bob.approves(approval)
        await thread.answer()
        assert app.log.count("deploy") == 1
        assert "Approved by <@U0BOB>" in approval.content


async def test_a_group_slack_will_not_list_for_a_moment_locks_nobody_out(slack: FakeSlack) -> None:
    slack.add_usergroup("S0SRE", [BOB])
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"deploy": ["S0SRE"]}) as app, chat_with(slack, app) as chat:
        bob = chat.person(BOB)
        thread = await chat.person(ALICE).runs("deploy prod")
        approval = await thread.approval_for("deploy")

        # Slack rate-limits the group's listing past the client's retries: bob is told to try
        # again (not that he may not decide), and nothing changes
        burst = slack.inject("usergroups.users.list", times=3, retry_after=0)
        await bob.approves(approval)
        told = await bob.is_told("couldn't check the approver group")
        assert "may decide" not in told and burst.times == 0
        assert len(approval.versions) == 1 and app.log.count("deploy") == 0

        # the failure was not remembered: his next click asks Slack again, and counts
        await bob.approves(approval)
        await thread.answer()
        assert app.log.count("deploy") == 1 and "Approved by <@U0BOB>" in approval.content
        assert not any("may decide" in text for text in slack.told(BOB))


async def test_a_double_click_runs_the_tool_once(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")]) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")

        await asyncio.gather(alice.approves(approval), alice.approves(approval))

        await thread.answer()
        await alice.is_told("already approved by <@U0ALICE>")
        assert app.log.count("deploy") == 1
        assert sum("Approved by" in v for v in approval.history()) == 1


async def test_two_approvers_at_once_run_the_tool_once(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"*": [BOB, CAROL]}) as app, chat_with(slack, app) as chat:
        alice, bob, carol = chat.person(ALICE), chat.person(BOB), chat.person(CAROL)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")

        await asyncio.gather(bob.approves(approval), carol.approves(approval))

        await thread.answer()
        assert app.log.count("deploy") == 1
        told = [t for user in (BOB, CAROL) for t in slack.told(user) if "already approved" in t]
        assert len(told) == 1  # the slower one learns who was first
        winner = BOB if "<@U0BOB>" in told[0] else CAROL
        assert f"Approved by <@{winner}>" in approval.content


async def test_a_click_after_expiry_is_refused(slack: FakeSlack) -> None:
    clock = MovedClock()
    async with running_bot(slack, MEMORY, [DEPLOY, finish("nothing deployed")], engine_clock=clock) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        await thread.status_showing(":white_check_mark: `check`")

        # a day and more passes: the sweeper expires the approval and updates its message
        clock.ahead = 2 * 86_400
        await slack.wait_for(lambda: "Expired" in approval.content, what="approval shows it expired")
        assert approval.buttons() == []

        # a late click is refused politely; the run finishes without the red node
        await alice.approves(approval)
        await alice.is_told("expired before anyone decided")
        answer = await thread.answer()
        assert "did not run: the approval request expired" in answer.content
        assert app.log.count("deploy") == 0


async def test_a_click_after_cancel_is_refused(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        await thread.status_showing(":white_check_mark: `check`")

        # alice cancels the run: its approval is withdrawn, the status says who cancelled
        await alice.cancels(thread)
        await slack.wait_for(lambda: "Withdrawn: run cancelled by <@U0ALICE>" in approval.content,
                             what="approval withdrawn")
        await thread.status_showing(":no_entry_sign: *Cancelled* by <@U0ALICE>")

        # the old Approve button does nothing but explain
        await alice.approves(approval)
        await alice.is_told("withdrawn")
        await asyncio.sleep(0.5)
        assert app.log.count("deploy") == 0
        assert thread.answers() == []


async def test_an_unauthorized_reject_opens_no_modal(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"deploy": [BOB]}) as app, chat_with(slack, app) as chat:
        alice, bob, mallory = chat.person(ALICE), chat.person(BOB), chat.person(MALLORY)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")

        # mallory clicks Reject: she is told who may decide, and no modal opens
        await mallory.clicks("Reject", approval)
        await mallory.is_told("only <@U0BOB> may decide")
        await app.bot.tasks.idle()
        assert slack.calls_of("views.open") == [] and slack.views == []

        # the approval is still pending, its message unchanged: bob can still approve it
        pending = await app.services.store.get(approval.button("Approve")["value"])
        assert pending is not None and pending.is_pending
        assert len(approval.versions) == 1 and [b["text"]["text"] for b in approval.buttons()] == [
            "Approve", "Approve for this thread", "Reject", "Edit"]
        await bob.approves(approval)
        await thread.answer()
        assert app.log.count("deploy") == 1


async def test_a_click_on_a_stale_approval_is_refused(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        approval_id = approval.button("Approve")["value"]
        await thread.status_showing(":white_check_mark: `check`")

        # the bot closes the message as no longer needed, as it does when a run finishes or replans
        # without an approval it asked for (the engine cannot get there by itself while it waits)
        await app.bot.approval_messages.refresh(approval_id, stale=True)
        assert "No longer needed" in approval.content and approval.buttons() == []

        # a client that has not seen the update still shows the buttons: both clicks are refused
        await alice.approves(approval)
        await alice.is_told("no longer needed: its run finished or changed its plan")
        await alice.clicks("Reject", approval)
        await slack.wait_for(lambda: sum("no longer needed" in t for t in slack.told(ALICE)) == 2,
                             what="the second refusal")
        await app.bot.tasks.idle()

        # nothing was decided or run, no modal opened, and the message was not edited again
        still = await app.services.store.get(approval_id)
        assert still is not None and still.is_pending
        assert slack.views == [] and app.log.count("deploy") == 0 and thread.answers() == []
        assert len(approval.versions) == 2


async def test_someone_not_in_the_channel_is_told_by_dm(slack: FakeSlack) -> None:
    """Mallory reads a public channel she has not joined and clicks there: Slack refuses an
    ephemeral to a non-member (user_not_in_channel), so she is told by a DM from the app,
    naming what it is about, rather than not at all."""
    slack.add_channel("C0PUBLIC", "deploys", members=[ALICE, BOB])
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"deploy": [BOB]}) as app, chat_with(slack, app) as chat:
        mallory = chat.person(MALLORY)
        thread = await chat.person(ALICE).runs("deploy prod", channel="C0PUBLIC")
        approval = await thread.approval_for("deploy")

        await mallory.approves(approval)
        told = await mallory.gets_dm("only <@U0BOB> may decide")
        assert told.startswith("About the approval of `deploy` (node `deploy`) in "
                               "<https://slack.com/archives/C0PUBLIC/p")
        await mallory.cancels(thread)
        told = await mallory.gets_dm("only the person who asked")
        assert told.startswith("About <https://slack.com/archives/C0PUBLIC/p")
        assert slack.told(MALLORY) == [] and len(slack.calls_of("chat.postEphemeral")) == 2
        assert len(approval.versions) == 1 and app.log.count("deploy") == 0

        # a member is told where she clicked, as always
        await chat.person(ALICE).approves(approval)
        await chat.person(ALICE).is_told("only <@U0BOB> may decide")
        assert slack.dms(ALICE) == []
        await chat.person(BOB).approves(approval)
        await thread.answer()
