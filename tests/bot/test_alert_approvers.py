"""Scenarios: an alert's run has no person waiting on it, so its red steps go to the approvers the
policy or the route names: mentioned in the thread and DM'd, and nothing red runs by itself (nor
later, by a standing approval: none is offered)."""

from __future__ import annotations

from bot.inbound.alerts.routes import parse_alert_routes
from tests.bot.chat import ALICE, BOB, CAROL, MEMORY, Chat, chat_with, finish, running_bot
from tests.bot.test_alert_hook import DEPLOY, alert, hook, notification, opened_thread, post
from tests.fakes.slack_api import FakeSlack, Message

ROUTES = parse_alert_routes(f"""
routes:
  - name: deploys
    match_re: {{alertname: "Deploy.*"}}
    channel: C0OPS
    request: "Fix {{alertname}}"
    read_only: false
    approvers: [{BOB}, S0ONCALL]
""")
FAILED = notification(alert(name="DeployFailed"), group_key='{}:{alertname="DeployFailed"}')


async def dm_to(chat: Chat, user: str, text: str) -> Message:
    """The app's DM to ``user`` that says ``text`` (its blocks too: the approval's buttons)."""
    return await chat.slack.wait_for(lambda: next(
        (m for m in chat.slack.messages if m.channel == f"D{user[1:]}" and m.is_from_bot and text in m.content),
        None), what=f"a DM to {user} saying {text!r}")


async def test_the_routes_approvers_are_mentioned_in_the_thread_and_dmd_and_decide(slack: FakeSlack) -> None:
    slack.add_usergroup("S0ONCALL", [CAROL])
    async with running_bot(slack, MEMORY, [DEPLOY, finish("redeployed")], alerts=hook(routes=ROUTES)) as app, \
            chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, FAILED), "DeployFailed")
        approval = await thread.approval_for("deploy")
        assert "Requested by the alert route `deploys`" in approval.content
        assert f"May approve: <@{BOB}>, <!subteam^S0ONCALL>" in approval.content  # mentioned: Slack pings them
        # no standing approval: the route's later runs in this thread would run it unseen
        assert [b["text"]["text"] for b in approval.buttons()] == ["Approve", "Reject", "Edit"]

        # each approver (the group's members too) gets one DM, with the buttons, in a public channel too
        for person in (BOB, CAROL):
            dm = await dm_to(chat, person, "no person is waiting on it")
            assert "the alert route `deploys` started a run" in dm.content and "Approve" in dm.content
        assert slack.dms(ALICE) == []
        assert app.log.count("deploy") == 0  # nothing red runs by itself

        await chat.person(ALICE).approves(approval)  # not an approver: refused
        await chat.person(ALICE).is_told("may decide on this approval")
        await chat.person(CAROL).approves(await dm_to(chat, CAROL, "no person is waiting on it"))  # from her DM
        assert "redeployed" in (await thread.answer()).content
        assert [args["target"] for args in app.log.args_of("deploy")] == ["prod"]
        bobs = await dm_to(chat, BOB, "no person is waiting on it")
        await slack.wait_for(lambda: f"Approved by <@{CAROL}>" in bobs.content, what="Bob's DM closed")


async def test_the_policys_approvers_of_a_tool_come_before_the_routes(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY], alerts=hook(routes=ROUTES), approvers={"deploy": [ALICE]}) \
            as app, chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, FAILED), "DeployFailed")
        approval = await thread.approval_for("deploy")
        assert f"May approve: <@{ALICE}>" in approval.content and BOB not in approval.content
        await dm_to(chat, ALICE, "no person is waiting on it")
        await chat.person(BOB).approves(approval)
        await chat.person(BOB).is_told("may decide on this approval")
        assert slack.dms(BOB) == [] and app.log.count("deploy") == 0
