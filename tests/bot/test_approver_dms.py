"""Approvers who may not see where an approval was asked get a DM from the app.

An approval asked in alice's DM with the app, her assistant pane, a group DM or a private
channel mentions its approvers where they are not members: Slack notifies nobody. So each
person who may decide gets one DM with the approval and its buttons; it follows the thread's
message (edits, the decision, expiry, withdrawal); a public channel's approvals DM nobody.
"""

from __future__ import annotations

import asyncio

import pytest

from agent.events import AwaitingApproval
from bot.access.approvers import deciders
from bot.ground.conversation_kinds import ConversationKind, ConversationKinds, kind_of
from bot.ground.features import SlackFeatures
from bot.ground.threads import ThreadRef
from bot.outbound.approval_dms import ApprovalDMs
from tests.bot.chat import (
    ALICE,
    BOB,
    CAROL,
    MALLORY,
    MEMORY,
    OPS,
    Chat,
    Thread,
    chat_with,
    finish,
    running_bot,
    settle,
)
from tests.fakes.slack_api import FakeSlack, Message

DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
SCALE = {"nodes": [{"id": "grow", "tool": "scale", "args": {"service": "web", "replicas": 4,
                                                              "token": "tok-123"}}]}
SRE = "S0SRE"
APPROVERS = {"deploy": [BOB, SRE], "scale": [BOB, SRE]}
"""Bob, and the SRE group: carol, alice (who asks) and the bot itself (a member, as happens)."""
GROUP_DM, PRIVATE = "C0GROUPDM", "C0SECRET"


def approver_dms(slack: FakeSlack, user: str) -> list[Message]:
    """The app's top-level messages in its DM with ``user`` about an approval."""
    channel = f"D{user[1:]}"
    return [m for m in slack.messages if m.channel == channel and m.is_from_bot and m.thread_ts is None
            and m.text.startswith("Approval needed")]


async def dm_for(slack: FakeSlack, user: str) -> Message:
    return await slack.wait_for(lambda: next(iter(approver_dms(slack, user)), None),
                                what=f"an approval DM to {user}; DMs: {slack.dms(user)}")


def setup(slack: FakeSlack) -> None:
    slack.add_usergroup(SRE, [CAROL, ALICE, slack.bot_user])
    slack.add_channel(GROUP_DM, "mpdm-alice--mallory--dagbot-1", mpim=True, members=[ALICE, MALLORY])
    slack.add_channel(PRIVATE, "secret-ops", private=True, members=[ALICE, MALLORY])


async def ask(chat: Chat, where: str, request: str) -> Thread:
    """Alice asks for ``request`` in ``where``: her assistant pane, her DM with the app, a group
    DM, a private channel or the public #ops."""
    alice = chat.person(ALICE)
    if where == "assistant":
        root = await chat.driver.open_assistant_thread(ALICE)
        thread = Thread(chat, root.channel, root.ts)
        await alice.says(request, channel=root.channel, thread=thread)
        return thread
    if where == "dm":
        message = await alice.says(request, channel=chat.slack.app_dm(ALICE))
        return Thread(chat, message.channel, message.ts)
    if where in (GROUP_DM, PRIVATE):
        return await alice.mentions_bot(request, channel=where)
    return await alice.runs(request, channel=where)


def key(slack: FakeSlack, thread: Thread) -> str:
    return ThreadRef(slack.team, thread.channel, thread.root_ts).key


@pytest.mark.parametrize(("where", "said"), [
    ("assistant", "in their assistant pane with me"),
    ("dm", "in their direct messages with me"),
    (GROUP_DM, "in a group DM"),
    (PRIVATE, f"in <#{PRIVATE}>, a private channel"),
])
async def test_each_approver_gets_one_dm_with_the_approval_and_its_buttons(
        slack: FakeSlack, where: str, said: str) -> None:
    setup(slack)
    async with running_bot(slack, MEMORY, [DEPLOY], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, where, "deploy prod")
        approval = await thread.approval_for("ship")
        bobs, carols = await dm_for(slack, BOB), await dm_for(slack, CAROL)
        await settle(app)

        # bob and carol (of the SRE group): one DM each; not alice, who asked there, nor the bot
        assert [len(approver_dms(slack, u)) for u in (BOB, CAROL, ALICE, MALLORY)] == [1, 1, 0, 0]
        assert not any(m.channel == f"D{slack.bot_user[1:]}" for m in slack.messages)
        link = f"https://fake.slack.test/archives/{thread.channel}/p{approval.ts.replace('.', '')}"
        for dm in (bobs, carols):
            assert dm.text == "Approval needed: deploy (ship), asked by <@U0ALICE>"
            assert f"<@U0ALICE> asked for this {said}, where you may not see it (<{link}" in dm.content
            assert "`deploy` (node `ship`)" in dm.content and '"target": "prod"' in dm.content
            assert [b["text"]["text"] for b in dm.buttons()] == [
                "Approve", "Approve for this thread", "Reject", "Edit"]
            assert dm.buttons() == approval.buttons()  # the thread's (and App Home's) buttons
        assert len(slack.calls_of("chat.getPermalink")) == 1
        await app.engine.cancel(key(slack, thread), by="test")
        await settle(app)


async def test_only_approvals_in_conversations_approvers_may_not_see_are_dmed(
        slack: FakeSlack) -> None:
    """#ops is public: its approvers see the approval and are notified by its mention. The
    private channel's are DMed; what kind a channel is, Slack is asked once."""
    setup(slack)
    replies = [DEPLOY, DEPLOY, DEPLOY]
    async with running_bot(slack, MEMORY, replies, approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        public = await ask(chat, OPS, "deploy prod")
        await public.approval_for("ship")
        await settle(app)
        assert approver_dms(slack, BOB) == [] and approver_dms(slack, CAROL) == []

        private = await ask(chat, PRIVATE, "deploy prod")
        await private.approval_for("ship")
        await dm_for(slack, BOB)
        again = await ask(chat, PRIVATE, "deploy prod again")
        await again.approval_for("ship")
        await slack.wait_for(lambda: len(approver_dms(slack, BOB)) == 2, what="bob's second DM")
        await settle(app)
        assert [len(approver_dms(slack, u)) for u in (BOB, CAROL)] == [2, 2]
        asked = [c.args["channel"] for c in slack.calls_of("conversations.info")]
        assert sorted(asked) == [OPS, PRIVATE]
        for thread in (public, private, again):
            await app.engine.cancel(key(slack, thread), by="test")
        await settle(app)


async def test_a_replayed_approval_dms_nobody_twice_in_any_process(slack: FakeSlack, database_url: str) -> None:
    """The approval's event again, twice at once, and in another process (a replica or a
    restart, with nothing in memory): each approver still has the one DM."""
    setup(slack)
    async with running_bot(slack, database_url, [DEPLOY], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, "assistant", "deploy prod")
        approval = await thread.approval_for("ship")
        await dm_for(slack, BOB)
        await dm_for(slack, CAROL)
        await settle(app)

        pending = (await app.services.store.pending())[0]
        event = AwaitingApproval(
            thread_id=pending.thread_id, run_id=pending.run_id, at=pending.requested_at, approval_id=pending.id,
            node_id=pending.node_id, tool=pending.tool, args=pending.args, why=pending.why,
            requested_by=pending.requested_by, expires_at=pending.expires_at)
        ref = ThreadRef.parse(pending.thread_id)
        assert ref is not None
        await asyncio.gather(app.bot.notifier.handle(event), app.bot.notifier.handle(event))
        bot = app.bot
        assert bot.approval_dms is not None
        elsewhere = ApprovalDMs(approvals=bot.approvals, store=bot.store, poster=bot.poster,
                                directory=bot.directory, kinds=ConversationKinds(bot.client, SlackFeatures()),
                                tasks=bot.tasks, render=bot.approval_dms.render, bot_user=bot.approval_dms.bot_user)
        await asyncio.gather(elsewhere.send(pending.id, ref, approval.ts), elsewhere.send(pending.id, ref, approval.ts))
        await settle(app)

        assert [len(approver_dms(slack, u)) for u in (BOB, CAROL)] == [1, 1]
        assert len([m for m in thread.approvals()]) == 1
        await app.engine.cancel(key(slack, thread), by="test")
        await settle(app)


async def test_a_decision_in_a_dm_decides_and_every_copy_shows_it(slack: FakeSlack) -> None:
    setup(slack)
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, "assistant", "deploy prod")
        approval = await thread.approval_for("ship")
        bobs, carols = await dm_for(slack, BOB), await dm_for(slack, CAROL)

        # bob approves in his DM: the deploy runs once; the thread and both DMs say he approved
        await chat.person(BOB).approves(bobs)
        assert "deployed" in (await thread.answer()).content
        for message in (approval, bobs, carols):
            await slack.wait_for(lambda m=message: "Approved by <@U0BOB>" in m.content  # type: ignore[misc]
                                 and m.buttons() == [], what="the approval closed everywhere")
        assert "<@U0ALICE> asked for this in their assistant pane" in carols.content  # (its intro stays)

        # carol's client still shows her buttons: her click changes nothing, and she is told so there
        await chat.person(CAROL).approves(carols)
        told = await chat.person(CAROL).is_told("already approved by <@U0BOB>")
        assert told and slack.ephemerals[-1].channel == carols.channel
        await settle(app)
        assert app.log.count("deploy") == 1


async def test_a_rejection_with_a_reason_in_a_dm_and_a_withdrawal_reach_every_copy(
        slack: FakeSlack) -> None:
    setup(slack)
    async with running_bot(slack, MEMORY, [DEPLOY, finish("not deployed"), DEPLOY],
                           approvers=APPROVERS) as app, chat_with(slack, app) as chat:
        thread = await ask(chat, "dm", "deploy prod")
        approval = await thread.approval_for("ship")
        carols = await dm_for(slack, CAROL)
        await chat.person(CAROL).rejects(carols, "not on a Friday")
        await thread.answer()
        for message in (approval, carols, await dm_for(slack, BOB)):
            await slack.wait_for(lambda m=message: "Rejected by <@U0CAROL>: not on a Friday" in m.content  # type: ignore[misc]
                                 and m.buttons() == [], what="the rejection everywhere")

        # asked again in the group DM, then alice cancels: the DMs say it was withdrawn
        other = await ask(chat, GROUP_DM, "deploy prod")
        await other.approval_for("ship")
        await slack.wait_for(lambda: len(approver_dms(slack, BOB)) == 2, what="bob's second DM")
        await chat.person(ALICE).cancels(other)
        second = approver_dms(slack, BOB)[1]
        await slack.wait_for(lambda: "withdrawn" in second.content.lower() and second.buttons() == [],
                             what="the DM showing the withdrawal")
        await settle(app)
        assert app.log.count("deploy") == 0


async def test_secret_arguments_are_masked_in_the_dm_as_in_the_thread(slack: FakeSlack) -> None:
    setup(slack)
    async with running_bot(slack, MEMORY, [SCALE, finish("scaled")], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, "assistant", "scale web to 4")
        approval = await thread.approval_for("grow")
        bobs = await dm_for(slack, BOB)
        assert "•••• (secret)" in bobs.content and "tok-123" not in str(bobs.blocks) + bobs.text
        assert [b for b in bobs.blocks[1:] if b["type"] == "section"] == \
            [b for b in approval.blocks if b["type"] == "section"]

        # an edit from the thread shows in the DMs (still masked), and approving there runs it
        view = await chat.person(BOB).opens_edit(approval)
        await chat.person(BOB).submits_edit(view, {"replicas": "6"})
        carols = await dm_for(slack, CAROL)
        await slack.wait_for(lambda: '"replicas": 6' in carols.content, what="the edit in carol's DM")
        assert "tok-123" not in str(carols.versions)
        await chat.person(CAROL).approves(carols)
        await thread.answer()
        await settle(app)
        assert app.log.args_of("scale") == [{"service": "web", "replicas": 6, "token": "tok-123"}]
        assert all("tok-123" not in str(m.versions) for m in slack.messages if m.is_from_bot)


async def test_a_dm_slack_refuses_leaves_the_approval_working(slack: FakeSlack) -> None:
    setup(slack)
    slack.inject("chat.postMessage", status=200, error="channel_not_found", times=10,
                 when=lambda args: args.get("channel") == BOB)
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, "assistant", "deploy prod")
        approval = await thread.approval_for("ship")
        carols = await dm_for(slack, CAROL)  # carol's DM goes out all the same
        await settle(app)
        assert approver_dms(slack, BOB) == []
        await chat.person(BOB).approves(approval)
        assert "deployed" in (await thread.answer()).content
        await slack.wait_for(lambda: "Approved by <@U0BOB>" in carols.content, what="carol's DM closed")


async def test_operators_can_turn_the_dms_off(slack: FakeSlack) -> None:
    setup(slack)
    async with running_bot(slack, MEMORY, [DEPLOY], approvers=APPROVERS, approver_dms=False) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, "assistant", "deploy prod")
        await thread.approval_for("ship")
        await settle(app)
        assert approver_dms(slack, BOB) == [] and approver_dms(slack, CAROL) == []
        assert slack.calls_of("conversations.info") == []
        await app.engine.cancel(key(slack, thread), by="test")
        await settle(app)


# ------------------------------------------------------------------ pure parts


def test_who_decides_is_who_may_approve_with_groups_resolved() -> None:
    members = {SRE: frozenset({CAROL, ALICE})}
    assert deciders((BOB, SRE), ALICE, members) == {BOB, CAROL, ALICE}
    assert deciders((BOB, "S0UNLISTED"), ALICE, members) == {BOB}
    assert deciders((), ALICE, members) == {ALICE}  # nobody named: the requester decides
    assert deciders((), None, members) == frozenset()


def test_the_kind_of_a_conversation_is_what_slack_says() -> None:
    assert kind_of({"id": "D1", "is_im": True}) is ConversationKind.IM
    assert kind_of({"id": "C1", "is_mpim": True, "is_private": True}) is ConversationKind.MPIM
    assert kind_of({"id": "C2", "is_channel": True, "is_private": True}) is ConversationKind.PRIVATE
    assert kind_of({"id": "G3", "is_group": True}) is ConversationKind.PRIVATE  # (before 2021)
    assert kind_of({"id": "C4", "is_channel": True, "is_private": False}) is ConversationKind.PUBLIC
    assert [k.is_private for k in ConversationKind] == [False, True, True, True, False]


async def test_without_the_read_scopes_only_what_the_ids_say_is_known(slack: FakeSlack) -> None:
    """conversations.info refused for want of a scope: asked once, then ids alone decide (a
    ``D…`` or ``G…`` conversation is private; a ``C…`` one may be public, so nobody is DMed)."""
    from slack_sdk.web.async_client import AsyncWebClient

    slack.inject("conversations.info", status=200, error="missing_scope", times=1)
    kinds = ConversationKinds(AsyncWebClient(token=slack.token, base_url=slack.base_url), SlackFeatures())
    assert await kinds.kind(PRIVATE) is ConversationKind.UNKNOWN
    assert await kinds.kind("G0OLD") is ConversationKind.PRIVATE
    assert await kinds.kind("D0ALICE") is ConversationKind.IM
    assert len(slack.calls_of("conversations.info")) == 1


async def test_dms_of_an_approval_whose_thread_message_never_posted_close_once_it_is_no_longer_needed(
        slack: FakeSlack) -> None:
    setup(slack)
    slack.inject("chat.postMessage", status=200, error="channel_not_found", times=10,
                 when=lambda args: args.get("channel") == PRIVATE
                 and str(args.get("text", "")).startswith("Approval needed"))
    async with running_bot(slack, MEMORY, [DEPLOY, finish("nothing deployed")], approvers=APPROVERS) as app, \
            chat_with(slack, app) as chat:
        thread = await ask(chat, PRIVATE, "deploy prod")
        bobs = await dm_for(slack, BOB)  # the DMs are all the approval has
        assert not [m for m in slack.messages if m.channel == PRIVATE and m.text.startswith("Approval needed")]
        # its run ends or replans without it: the bot closes what the thread has open
        await app.bot.approval_messages.refresh_open(key(slack, thread), stale=True)
        await slack.wait_for(lambda: bobs.buttons() == [] and "no longer needed" in bobs.content.lower(),
                             what="bob's DM closed as no longer needed")
        await settle(app)
        assert app.log.count("deploy") == 0
