"""The App Home tab: a person's active runs, the approvals they may decide (with working
Approve/Reject buttons), and their recent runs with links to the threads."""

from __future__ import annotations

import pytest

from bot.ground.threads import ThreadRef
from tests.bot.chat import (
    ALICE,
    BOB,
    CAROL,
    MALLORY,
    MEMORY,
    OPS,
    Chat,
    MovedClock,
    Thread,
    chat_with,
    finish,
    running_bot,
    settle,
)
from tests.fakes.slack_api import FakeSlack, render_text

DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
LOOK_UP_HELD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "hold"}}]}
LOOK_UP_B = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
NOTHING_WAITING = "No approvals are waiting for you."


def shown(view: dict[str, object] | None) -> str:
    assert view is not None
    return render_text("", view["blocks"])  # type: ignore[arg-type]


async def status_of(chat: Chat, user: str) -> str:
    """What ``/agent status`` tells ``user`` now."""
    told = len(chat.slack.told(user))
    await chat.driver.slash(user, OPS, "status")
    return await chat.slack.wait_for(lambda: next((t for t in chat.slack.told(user)[told:]
                                                   if "Your active runs" in t), None), what="the status reply")


async def test_home_shows_runs_and_the_approvals_a_person_may_decide(slack: FakeSlack) -> None:
    replies = [LOOK_UP_B, finish("b is 'value of b'"), DEPLOY, LOOK_UP_HELD, finish("deployed"),
               finish("a is done")]
    async with running_bot(slack, MEMORY, replies, approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, driver = chat.person(ALICE), chat.driver
        done = await alice.runs("look up b")
        await done.answer()
        deploy = await alice.runs("deploy prod")
        await deploy.approval_for("ship")
        held = await alice.runs("look up a slowly")
        await held.status_showing(":arrows_counterclockwise: `a`")

        # alice's Home: her runs going on, a recent one answered, with links; she may not approve
        await driver.home_opened(ALICE)
        home = shown(await slack.wait_for(lambda: slack.home(ALICE), what="alice's Home"))
        assert "look up a slowly" in home and "deploy prod" in home and "look up b" in home
        assert ThreadRef(slack.team, done.channel, done.root_ts).link in home
        assert ":white_check_mark: answered" in home
        assert NOTHING_WAITING in home

        # bob may approve the deploy: his Home shows it with the thread's buttons; mallory's does not
        await driver.home_opened(BOB)
        await driver.home_opened(MALLORY)
        bobs = await slack.wait_for(lambda: slack.home(BOB), what="bob's Home")
        assert "Approval needed" in shown(bobs) and "[Approve]" in shown(bobs) and "[Reject]" in shown(bobs)
        mallorys = await slack.wait_for(lambda: slack.home(MALLORY), what="mallory's Home")
        assert "Approval needed" not in shown(mallorys) and "[Approve]" not in shown(mallorys)

        # bob approves from his Home: the deploy runs, the thread shows it, his Home is refreshed
        published = len(slack.homes[BOB])
        assert (await driver.click_in_home(BOB, "Approve")).status_code == 200
        assert "deployed" in (await deploy.answer()).content
        assert app.log.count("deploy") == 1
        approval = (await deploy.approval_for("ship"))
        await slack.wait_for(lambda: "Approved by <@U0BOB>" in approval.content, what="the approval closed")
        await slack.wait_for(lambda: len(slack.homes[BOB]) > published
                             and "Approval needed" not in shown(slack.home(BOB)), what="bob's Home refreshed")

        # alice has had her Home open: it refreshes as her run ends
        app.log.gates["hold"].set()
        await held.answer()
        await slack.wait_for(lambda: "You have no active runs." in shown(slack.home(ALICE)),
                             what="alice's Home after her runs ended")
        recent = shown(slack.home(ALICE)).split("*Your recent runs*")[1]
        assert recent.index("look up a slowly") < recent.index("deploy prod") < recent.index("look up b")
        await settle(app)


async def test_every_approval_in_home_has_its_buttons(slack: FakeSlack) -> None:
    plan = {"nodes": [{"id": f"d{i}", "tool": "deploy", "args": {"target": f"env{i}"}} for i in range(8)]}
    async with running_bot(slack, MEMORY, [plan], approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("deploy everywhere")
        for i in range(8):
            await thread.approval_for(f"d{i}")
        await chat.driver.home_opened(BOB)
        view = await slack.wait_for(lambda: slack.home(BOB), what="bob's Home")

        # more blocks than a message may have, fewer than a view: all eight, each with its buttons
        blocks = view["blocks"]
        titled = [i for i in range(8) if f"(node `d{i}`)" in shown(view)]
        assert titled == list(range(8)) and 50 < len(blocks) <= 100
        assert len([b for b in blocks if b["type"] == "actions"]) == 8 and "not shown" not in shown(view)
        await app.engine.cancel(ThreadRef(slack.team, thread.channel, thread.root_ts).key, by="test")
        await settle(app)


async def test_a_request_shows_as_typed_in_home_and_status(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP_HELD, finish("ok")]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("check a &lt; b &amp; c")  # what Slack sends for "check a < b & c"
        await thread.status_showing(":arrows_counterclockwise: `a`")

        # the mrkdwn says "a &lt; b &amp; c" (Slack shows "a < b & c"), not "a &amp;lt; b &amp;amp; c"
        await chat.driver.home_opened(ALICE)
        home = shown(await slack.wait_for(lambda: slack.home(ALICE), what="alice's Home"))
        await chat.driver.slash(ALICE, OPS, "status")
        status = await alice.is_told("Your active runs")
        for text in (home, status):
            assert "|check a &lt; b &amp; c> — " in text and "&amp;lt;" not in text and "&amp;amp;" not in text
        app.log.gates["hold"].set()
        await thread.answer()
        await settle(app)


async def test_an_open_home_is_an_approvers_inbox(slack: FakeSlack) -> None:
    """A new approval appears, without a click, on the open Home of those who may decide it, and
    leaves it once someone else decides; the Homes of those who may not are left alone."""
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB, CAROL]}) \
            as app, chat_with(slack, app) as chat:
        await chat.driver.home_opened(BOB)
        await chat.driver.home_opened(MALLORY)
        assert NOTHING_WAITING in shown(await slack.wait_for(lambda: slack.home(BOB), what="bob's Home"))
        await slack.wait_for(lambda: slack.home(MALLORY), what="mallory's Home")
        await settle(app)
        bobs, mallorys = len(slack.homes[BOB]), len(slack.homes[MALLORY])

        # alice asks for a deploy: bob's Home is published anew, listing it with its buttons
        deploy = await chat.person(ALICE).runs("deploy prod")
        approval = await deploy.approval_for("ship")
        listed = await slack.wait_for(lambda: next((shown(v) for v in slack.homes[BOB][bobs:]
                                                    if "Approval needed" in shown(v)), None),
                                      what="bob's Home listing the deploy")
        assert "`deploy` (node `ship`)" in listed and '"target": "prod"' in listed and "[Approve]" in listed and "[Reject]" in listed

        # carol approves in the thread: bob's Home no longer lists it
        await chat.person(CAROL).approves(approval)
        assert "deployed" in (await deploy.answer()).content
        await slack.wait_for(lambda: "Approved by <@U0CAROL>" in approval.content, what="the approval closed")
        await slack.wait_for(lambda: NOTHING_WAITING in shown(slack.home(BOB)), what="bob's Home without it")
        await settle(app)
        assert NOTHING_WAITING in shown(slack.home(BOB))  # the last view published is the newest

        # mallory may not decide: her Home was not published again
        assert len(slack.homes[MALLORY]) == mallorys
        assert app.log.count("deploy") == 1


@pytest.mark.parametrize("ending", ["withdrawn", "expired", "stale"])
async def test_an_open_home_drops_an_approval_nobody_decided(slack: FakeSlack, ending: str) -> None:
    """Cancelled (withdrawn), expired, or no longer needed (its run replanned or ended without
    it): the approval leaves the Home of those who have it open, and ``/agent status`` too."""
    clock = MovedClock()
    async with running_bot(slack, MEMORY, [DEPLOY, finish("nothing deployed")], approvers={"deploy": [BOB]},
                           engine_clock=clock) as app, chat_with(slack, app) as chat:
        await chat.driver.home_opened(BOB)
        await slack.wait_for(lambda: slack.home(BOB), what="bob's Home")
        deploy = await chat.person(ALICE).runs("deploy prod")
        approval = await deploy.approval_for("ship")
        await slack.wait_for(lambda: "Approval needed" in shown(slack.home(BOB)), what="bob's Home listing it")
        assert "(node `ship`)" in await status_of(chat, BOB)

        match ending:
            case "withdrawn":
                await chat.person(ALICE).cancels(deploy)
            case "expired":  # a day and more passes: the sweeper expires it
                clock.ahead = 2 * 86_400
            case "stale":  # as when its run replans or ends without it
                await app.bot.approval_messages.refresh(approval.button("Approve")["value"], stale=True)
        await slack.wait_for(lambda: approval.buttons() == [], what=f"the approval message closed ({ending})")
        await slack.wait_for(lambda: NOTHING_WAITING in shown(slack.home(BOB)), what="bob's Home without it")
        await settle(app)
        assert NOTHING_WAITING in shown(slack.home(BOB))
        assert "(node `ship`)" not in await status_of(chat, BOB)
        assert app.log.count("deploy") == 0


async def test_an_approval_whose_message_never_posted_leaves_open_homes_once_decided(
        slack: FakeSlack) -> None:
    """Slack refused the approval's message: App Home is where approvers find it, and once
    one of them decides there, it leaves the other approvers' open Homes too."""
    refused = slack.inject("chat.postMessage", status=200, error="channel_not_found",
                           when=lambda args: str(args.get("text", "")).startswith("Approval needed"))
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB, CAROL]}) \
            as app, chat_with(slack, app) as chat:
        for approver in (BOB, CAROL):
            await chat.driver.home_opened(approver)
            await slack.wait_for(lambda a=approver: slack.home(a), what="an approver's Home")  # type: ignore[misc]
        deploy = await chat.person(ALICE).runs("deploy prod")
        for approver in (BOB, CAROL):
            await slack.wait_for(lambda a=approver: "Approval needed" in shown(slack.home(a)),  # type: ignore[misc]
                                 what="the approval on an approver's Home")
        assert refused.times == 0 and deploy.approvals() == []

        assert (await chat.driver.click_in_home(BOB, "Approve")).status_code == 200
        assert "deployed" in (await deploy.answer()).content
        await slack.wait_for(lambda: NOTHING_WAITING in shown(slack.home(CAROL)), what="carol's Home without it")
        await settle(app)
        assert NOTHING_WAITING in shown(slack.home(CAROL)) and NOTHING_WAITING in shown(slack.home(BOB))
        assert app.log.count("deploy") == 1


async def test_a_click_in_home_on_a_decided_approval_changes_nothing(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB, MALLORY]}) \
            as app, chat_with(slack, app) as chat:
        deploy = await chat.person(ALICE).runs("deploy prod")
        approval = await deploy.approval_for("ship")
        await chat.driver.home_opened(BOB)
        seen = await slack.wait_for(lambda: slack.home(BOB), what="bob's Home")
        await chat.person(MALLORY).approves(approval)  # mallory was quicker, in the thread
        await deploy.answer()
        # bob clicks in the Home he was looking at (his refreshed one no longer offers it): he is
        # told by a DM from the app (the Messages tab beside Home), naming the approval
        assert (await chat.driver.click_in_home(BOB, "Approve", view=seen)).status_code == 200
        told = await chat.person(BOB).gets_dm("already approved by <@U0MALLORY>")
        link = ThreadRef(slack.team, deploy.channel, deploy.root_ts).link
        assert told.startswith(f"About the approval of `deploy` (node `ship`) in <{link}|this thread>:")
        await settle(app)
        assert app.log.count("deploy") == 1 and slack.told(BOB) == []


async def test_an_edit_saved_from_home_is_shown_there_and_approved_as_edited(slack: FakeSlack) -> None:
    """Edit from Home, then Approve from Home: the saved edit republishes the open Homes of those
    who may decide (the editor's too), whose Approve then names the edited version and runs it.
    An Approve from the view shown before one's own edit says so, rather than "someone edited"."""
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB, CAROL]}) \
            as app, chat_with(slack, app) as chat:
        deploy = await chat.person(ALICE).runs("deploy prod")
        approval = await deploy.approval_for("ship")
        for approver in (BOB, CAROL):
            await chat.driver.home_opened(approver)
            await slack.wait_for(lambda a=approver: slack.home(a), what="an approver's Home")  # type: ignore[misc]
        before_edit = slack.home(BOB)
        assert before_edit is not None and "[Approve]" in shown(before_edit)

        opened = len(slack.views)
        await chat.driver.click_in_home(BOB, "Edit")
        modal = await slack.wait_for(lambda: slack.views[opened] if len(slack.views) > opened else None,
                                     what="the edit modal")
        await chat.person(BOB).submits_edit(modal, {"target": "qa"})
        await slack.wait_for(lambda: "Edited by <@U0BOB>" in approval.content, what="the edit in the thread")
        for approver in (BOB, CAROL):
            await slack.wait_for(lambda a=approver: "Edited by <@U0BOB>" in shown(slack.home(a)),  # type: ignore[misc]
                                 what="the edit on an approver's open Home")

        # bob clicks Approve in the view from before his edit: nothing runs, and he is told it was his edit
        await chat.driver.click_in_home(BOB, "Approve", view=before_edit)
        refusal = await chat.person(BOB).gets_dm("You edited these arguments after this was shown to you")
        assert "Someone edited" not in refusal
        await settle(app)
        assert app.log.count("deploy") == 0

        # Approve in the Home he now sees runs the edited arguments
        await chat.driver.click_in_home(BOB, "Approve")
        assert "deployed" in (await deploy.answer()).content
        assert app.log.args_of("deploy") == [{"target": "qa", "note": ""}]


async def test_a_refused_click_in_home_reaches_an_approver_outside_the_thread(slack: FakeSlack) -> None:
    """The approval waits in alice's assistant pane (her DM with the app, which nobody else is
    in): bob's refused click in his Home is told to him by DM, not lost in a conversation he
    cannot see (where Slack would refuse an ephemeral to him: user_not_in_channel)."""
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB, CAROL]}) \
            as app, chat_with(slack, app) as chat:
        root = await chat.driver.open_assistant_thread(ALICE)
        pane = Thread(chat, root.channel, root.ts)
        await chat.person(ALICE).says("deploy prod", channel=root.channel, thread=pane)
        await pane.approval_for("ship")
        for approver in (BOB, CAROL):
            await chat.driver.home_opened(approver)
            await slack.wait_for(lambda a=approver: slack.home(a), what="an approver's Home")  # type: ignore[misc]
        bobs = slack.home(BOB)
        assert bobs is not None and "[Approve]" in shown(bobs)

        await chat.driver.click_in_home(CAROL, "Approve")
        assert "deployed" in (await pane.answer()).content
        await chat.driver.click_in_home(BOB, "Approve", view=bobs)  # the view he still looks at
        await chat.person(BOB).gets_dm("This approval was already approved by <@U0CAROL>")
        await settle(app)
        assert app.log.count("deploy") == 1
        assert not any(e.user == BOB for e in slack.ephemerals)


async def test_without_the_home_tab_the_bot_carries_on(slack: FakeSlack) -> None:
    slack.home_error = "not_allowed_token_type"
    async with running_bot(slack, MEMORY, [LOOK_UP_B, finish("b")]) as app, chat_with(slack, app) as chat:
        for _ in range(2):
            assert (await chat.driver.home_opened(ALICE)).status_code == 200
            await settle(app)
        assert len(slack.calls_of("views.publish")) == 1  # refused once, not tried again
        assert "b" in (await (await chat.person(ALICE).runs("look up b")).answer()).content


async def test_who_has_home_in_view_is_forgotten_once_it_is_stale() -> None:
    """A process sees every person of a workspace open Home over time: it keeps only those who
    did within ``fresh_seconds`` (memory stays bounded by recent viewers, not by the workspace)."""
    from typing import Any, cast

    from bot.ground.background_tasks import TaskSet
    from bot.ground.features import Feature, SlackFeatures
    from bot.outbound.home import AppHome

    features = SlackFeatures()
    features.refused(Feature.HOME, "not_allowed_token_type")  # nothing published: no Slack needed
    now = [1_000.0]
    home = AppHome(engine=cast(Any, None), approvals=cast(Any, None), store=cast(Any, None),
                   poster=cast(Any, None), directory=cast(Any, None), features=features, tasks=TaskSet(),
                   clock=lambda: now[0], fresh_seconds=60.0)
    await home.opened(ALICE)
    now[0] += 30
    await home.opened(BOB)
    assert set(home._viewers) == {ALICE, BOB}
    now[0] += 31  # alice's view is stale, bob's is not
    await home.opened(CAROL)
    assert set(home._viewers) == {BOB, CAROL} and set(home._publishing) <= {BOB, CAROL}
