"""Scenarios: a group's resolution ends its thread's alert session: what waits to start is
withdrawn, what runs goes on, and nothing new starts until it fires again (docs/alerts.md)."""

from __future__ import annotations

from tests.bot.chat import BOB, MEMORY, chat_with, finish, running_bot, settle
from tests.bot.test_alert_hook import DEPLOY, LOOK_UP, alert, hook, notification, opened_thread, post
from tests.fakes.slack_api import FakeSlack

DEPLOY_FAILED = '{}:{alertname="DeployFailed"}'


def deploy_failed(*instances: str, status: str = "firing") -> dict[str, object]:
    return notification(*(alert(i, name="DeployFailed", status=status) for i in instances),
                        group_key=DEPLOY_FAILED)


async def test_resolved_withdraws_the_waiting_run_and_lets_the_running_one_finish(slack: FakeSlack) -> None:
    replies = [DEPLOY, finish("redeployed")]
    async with running_bot(slack, MEMORY, replies, alerts=hook(), approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, deploy_failed("host1:9100")), "DeployFailed")
        approval = await thread.approval_for("deploy")  # the first run waits for Bob

        # a second alert joins: its follow-up run queues behind the first
        grown = await post(app, deploy_failed("host1:9100", "host2:9100"))
        assert grown.json()["outcome"] == "followed_up"
        queued = await thread.status_showing("Queued", index=1)

        # every alert resolves: the waiting run is withdrawn, the running one is not touched
        resolved = await post(app, deploy_failed("host1:9100", "host2:9100", status="resolved"))
        assert resolved.json()["outcome"] == "resolved"
        note = await thread.bot_says("Resolved")
        assert "I start nothing more for it unless it fires again" in note.content
        assert "1 investigation still waiting to start was withdrawn" in note.content
        await slack.wait_for(lambda: "Cancelled before it started" in queued.content, what="the queued run withdrawn")
        assert app.log.count("deploy") == 0

        await chat.person(BOB).approves(approval)
        assert "redeployed" in (await thread.answer()).content
        await settle(app)
        assert len(app.llm.calls) == 2  # the first run's planner and joiner: the withdrawn run never planned
        assert len(thread.answers()) == 1


async def test_after_resolved_only_firing_again_starts_a_run(slack: FakeSlack) -> None:
    replies = [LOOK_UP, finish("first look"), LOOK_UP, finish("second look")]
    async with running_bot(slack, MEMORY, replies, alerts=hook()) as app, chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, notification(alert())))
        await thread.answer()
        resolved = await post(app, notification(alert(status="resolved")))
        assert resolved.json()["outcome"] == "resolved"
        note = await thread.bot_says("Resolved")
        assert "withdrawn" not in note.content  # nothing was waiting
        await settle(app)
        calls = len(app.llm.calls)

        # a late repeat of the resolution, and a notification with no firing alert: nothing starts
        assert (await post(app, notification(alert(status="resolved")))).json()["outcome"] == "unchanged"
        await settle(app)
        assert len(app.llm.calls) == calls and len(thread.status_messages()) == 1

        again = await post(app, notification(alert()))
        assert again.json()["outcome"] == "followed_up"
        await thread.bot_says("Firing again")
        assert "second look" in (await thread.answer(1)).content  # (the same alerts: a run of its own)
