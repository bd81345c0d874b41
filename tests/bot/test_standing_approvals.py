"""Scenarios: "Approve for this thread" — a standing approval of one red tool's later calls in
one thread by one requester; until it expires or is revoked, audited, durable, and only where
the access policy offers it."""

from __future__ import annotations

from typing import Any

from agent.ports.audit import AuditEntry, AuditKind
from agent.ports.stores import ExecutionStatus
from bot.access.policy import parse_policy
from bot.ground.action_ids import APPROVE_FOR_THREAD_ACTION
from bot.ground.threads import ThreadRef
from bot.views.progress_view import STANDING_DECISION
from bot.views.standing_view import APPROVE_FOR_THREAD_BUTTON
from infra.storage.journal_store import ExecutionJournalView
from tests.bot.chat import (
    ALICE,
    BOB,
    MALLORY,
    MEMORY,
    Chat,
    MovedClock,
    RunningBot,
    Thread,
    chat_with,
    finish,
    running_bot,
    settle,
)
from tests.fakes.slack_api import FakeSlack, Message, render_text

SCALE_WEB = {"nodes": [{"id": "grow", "tool": "scale", "args": {"service": "web", "replicas": 3}}]}


def deploy(target: str) -> dict[str, Any]:
    return {"nodes": [{"id": f"ship_{target}", "tool": "deploy", "args": {"target": target}}]}


def labels(message: Message) -> list[str]:
    return [button["text"]["text"] for button in message.buttons()]


def approval_id(message: Message) -> str:
    return str(message.button("Approve")["value"])


async def trail(app: RunningBot) -> list[AuditEntry]:
    return await app.services.store.audit_entries()


async def grant_for_thread(chat: Chat, thread: Thread, node_id: str, who: str = ALICE) -> Message:
    """``who`` clicks "Approve for this thread" on the node's approval; the run answers."""
    approval = await thread.approval_for(node_id)
    assert APPROVE_FOR_THREAD_BUTTON in labels(approval)
    answers = len(thread.answers())
    await chat.person(who).clicks(APPROVE_FOR_THREAD_BUTTON, approval)
    await thread.answer(answers)
    await chat.slack.wait_for(lambda: f"Approved for this thread by <@{who}>" in approval.content,
                              what="the approval saying it was approved for the thread")
    assert approval.buttons() == []
    return approval


async def asks_again(thread: Thread, node_id: str, who: Any) -> None:
    """A call that must ask: its approval message comes, ``who`` approves it, the run answers."""
    answers = len(thread.answers())
    await who.approves(await thread.approval_for(node_id))
    await thread.answer(answers)


async def test_a_grant_covers_later_calls_of_its_tool_thread_and_requester_only(slack: FakeSlack) -> None:
    replies = [deploy("prod"), finish("deployed prod"), deploy("staging"), finish("deployed staging"),
               SCALE_WEB, finish("scaled"), deploy("dev"), finish("deployed dev"),
               deploy("qa"), finish("deployed qa")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        thread = await alice.runs("deploy prod")
        first = await grant_for_thread(chat, thread, "ship_prod")

        # alice's next deploy in the thread runs without asking, shown as the grant's doing
        await alice.replies(thread, "now staging")
        assert "deployed staging" in (await thread.answer(1)).content
        assert thread.approvals() == [first]
        assert app.log.args_of("deploy") == [{"target": "prod", "note": ""}, {"target": "staging", "note": ""}]
        await thread.status_showing(f"{STANDING_DECISION} by <@U0ALICE>", index=1)

        # ...and is journalled and audited as the grant's: requested, decided by it, then run
        entries = await trail(app)
        granted = next(e for e in entries if e.kind is AuditKind.STANDING_GRANT)
        assert granted.actor == ALICE and granted.detail["approval_id"] == approval_id(first)
        assert granted.detail["tool"] == "deploy" and granted.detail["requester"] == ALICE
        kinds = [(e.kind.value, e.detail.get("node_id")) for e in entries if e.detail.get("node_id") == "ship_staging"]
        assert kinds == [("approval_requested", "ship_staging"), ("decision", "ship_staging"),
                         ("standing_approval", "ship_staging"), ("red_start", "ship_staging"),
                         ("red_outcome", "ship_staging")]
        used = next(e for e in entries if e.kind is AuditKind.STANDING_APPROVAL)
        assert used.detail["grant_id"] == granted.detail["grant_id"] and used.detail["args"] == {
            "target": "staging", "note": ""}
        journal = await ExecutionJournalView(app.services.store).get(used.detail["approval_id"])
        assert journal is not None and journal.status is ExecutionStatus.FINISHED
        decision = next(e for e in entries if e.kind is AuditKind.DECISION and e.detail["node_id"] == "ship_staging")
        assert decision.actor == ALICE and granted.detail["grant_id"] in decision.detail["reason"]

        # another tool, another requester, another thread: each asks
        await alice.replies(thread, "scale web to 3")
        await asks_again(thread, "grow", alice)
        await bob.replies(thread, "deploy dev")
        await asks_again(thread, "ship_dev", bob)
        other = await alice.runs("deploy qa")
        await asks_again(other, "ship_qa", alice)
        assert len(thread.approvals()) == 3 and len(other.approvals()) == 1
        assert [e.kind for e in await trail(app)].count(AuditKind.STANDING_APPROVAL) == 1
        await settle(app)


async def test_a_grant_asks_again_once_its_ttl_has_passed(slack: FakeSlack) -> None:
    replies = [deploy("prod"), finish("deployed prod"), deploy("staging"), finish("deployed staging")]
    clock = MovedClock()
    async with running_bot(slack, MEMORY, replies, engine_clock=clock) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await grant_for_thread(chat, thread, "ship_prod")

        # the engine's clock moves past the grant's TTL (an hour by default)
        clock.ahead = app.engine.settings.standing_approval_ttl_seconds + 60
        await alice.replies(thread, "now staging")
        await asks_again(thread, "ship_staging", alice)
        assert app.log.count("deploy") == 2 and len(thread.approvals()) == 2
        assert AuditKind.STANDING_APPROVAL not in [e.kind for e in await trail(app)]
        await settle(app)


async def test_a_grant_revoked_from_app_home_asks_again(slack: FakeSlack, database_url: str) -> None:
    replies = [deploy("prod"), finish("deployed prod"), deploy("staging"), finish("deployed staging")]
    async with running_bot(slack, database_url, replies) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await grant_for_thread(chat, thread, "ship_prod")

        # alice's Home lists the grant, with a link to the thread and Revoke
        await chat.driver.home_opened(ALICE)
        home = await slack.wait_for(lambda: (view := slack.home(ALICE)) and "Standing approvals" in
                                    render_text("", view["blocks"]) and view, what="alice's Home with the grant")
        shown = render_text("", home["blocks"])
        assert "`deploy` calls <@U0ALICE> asks for in" in shown and "[Revoke]" in shown
        assert ThreadRef(slack.team, thread.channel, thread.root_ts).link in shown

        # mallory, who neither gave it nor is covered by it, cannot revoke it (a forged click)
        assert (await chat.driver.click_in_home(MALLORY, "Revoke", "standing:", view=home)).status_code == 200
        await chat.person(MALLORY).gets_dm("only whoever gave this standing approval")
        assert not [e for e in await trail(app) if e.kind is AuditKind.STANDING_REVOKED]

        # she revokes it: Home no longer lists it, and the next deploy asks
        published = len(slack.homes[ALICE])
        assert (await chat.driver.click_in_home(ALICE, "Revoke", "standing:")).status_code == 200
        await slack.wait_for(lambda: len(slack.homes[ALICE]) > published and "Standing approvals" not in
                             render_text("", slack.home(ALICE)["blocks"]), what="alice's Home without it")
        revoked = [e for e in await trail(app) if e.kind is AuditKind.STANDING_REVOKED]
        assert [(e.actor, e.detail["tool"]) for e in revoked] == [(ALICE, "deploy")]
        await alice.replies(thread, "now staging")
        await asks_again(thread, "ship_staging", alice)
        assert app.log.count("deploy") == 2
        await settle(app)


async def test_never_standing_tools_do_not_offer_it_and_a_forged_click_is_refused(slack: FakeSlack) -> None:
    policy = parse_policy("tools:\n  deploy:\n    standing: false\n  scale:\n    standing_granters: [U0BOB]\n")
    plan = {"nodes": [deploy("prod")["nodes"][0], SCALE_WEB["nodes"][0]]}
    replies = [plan, finish("done"), deploy("staging"), finish("deployed staging")]
    async with running_bot(slack, MEMORY, replies, policy=policy) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod and scale web")
        ship, grow = await thread.approval_for("ship_prod"), await thread.approval_for("grow")
        assert APPROVE_FOR_THREAD_BUTTON not in labels(ship)
        assert APPROVE_FOR_THREAD_BUTTON in labels(grow)  # offered; bob alone may give it

        # a click Slack never showed, for deploy: refused, and nothing is decided
        forged = dict(ship.button("Approve"), action_id=APPROVE_FOR_THREAD_ACTION, text={
            "type": "plain_text", "text": APPROVE_FOR_THREAD_BUTTON})
        response = await chat.driver.send_payload(chat.driver.block_action(ALICE, ship, forged))
        assert response.status_code == 200
        await alice.is_told("`deploy` can't be approved for a whole thread")
        # alice may approve scale (she asked) but not give a standing approval of it
        await alice.clicks(APPROVE_FOR_THREAD_BUTTON, grow)
        await alice.is_told("doesn't let you approve `scale` for the whole thread")
        assert app.log.calls == [] and "Approved" not in ship.content + grow.content
        assert not [e for e in await trail(app) if e.kind is AuditKind.STANDING_GRANT]

        # approved one by one, they run; a later deploy still asks
        await alice.approves(ship)
        await alice.approves(grow)
        await thread.answer()
        await alice.replies(thread, "now staging")
        await asks_again(thread, "ship_staging", alice)
        assert app.log.count("deploy") == 2 and app.log.count("scale") == 1
        await settle(app)


async def test_a_grant_survives_a_restart_of_the_bot(slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [deploy("prod"), finish("deployed prod")]) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("deploy prod")
        first = await grant_for_thread(chat, thread, "ship_prod")
        await settle(app)
    # ...the bot stops; a new one starts on the same database

    async with running_bot(slack, database_url, [deploy("staging"), finish("deployed staging")],
                           holder="new-process") as app, chat_with(slack, app) as chat:
        await chat.person(ALICE).replies(thread, "now staging")
        assert "deployed staging" in (await thread.answer(1)).content
        assert thread.approvals() == [first] and app.log.args_of("deploy") == [{"target": "staging", "note": ""}]
        assert [e.kind for e in await trail(app)].count(AuditKind.STANDING_APPROVAL) == 1
        await settle(app)
