"""Cancel stops the request whose status message was clicked, and nothing else: not the run
of whoever asked next in the thread, not other people's queued follow-ups."""

from __future__ import annotations

from typing import Any

from bot.ground.action_ids import CANCEL_ACTION
from tests.bot.chat import ALICE, BOB, MALLORY, MEMORY, chat_with, finish, is_answer, running_bot, settle
from tests.fakes.slack_api import FakeSlack

M_HELD = {"nodes": [{"id": "m", "tool": "lookup", "args": {"key": "m", "gate": "g1"}}]}
A_HELD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "g2"}}]}
A_PLAN = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
B_PLAN = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}


def is_an_answer(args: dict[str, Any]) -> bool:
    return (args.get("metadata") or {}).get("event_type") == "dagbot_answer"


async def test_a_stale_cancel_does_not_stop_the_next_persons_run(slack: FakeSlack) -> None:
    replies = [M_HELD, finish("mallory's answer"), A_HELD, finish("alice's answer")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        mallory, alice = chat.person(MALLORY), chat.person(ALICE)
        thread = await mallory.runs("look up m")
        m_status = await thread.status_showing(":arrows_counterclockwise: `m`")
        await alice.replies(thread, "then look up a")  # queued behind mallory's run
        await thread.status_showing("*Queued*", index=1)

        # mallory's run ends, but Slack rate-limits her answer for a while: her status message,
        # not finished yet, still offers Cancel while alice's run has started
        slack.inject("chat.postMessage", times=2, retry_after=2, when=is_an_answer)
        app.log.gates["g1"].set()
        await slack.wait_for(lambda: app.log.count("lookup") == 2 or None, what="alice's run started")
        assert not thread.answers()
        await mallory.clicks("Cancel", m_status)
        await mallory.is_told("already finished")

        # alice's run was not touched: it answers
        app.log.gates["g2"].set()
        await thread.answer(1)
        await settle(app)
        a_status = await thread.status_message(1)
        assert not any("Cancelled" in version for version in a_status.history())
        answers = [m.content for m in thread.messages() if is_answer(m)]
        assert len(answers) == 2 and "mallory's answer" in answers[0] and "alice's answer" in answers[1]


async def test_cancelling_a_run_leaves_other_peoples_queued_requests(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [M_HELD, A_PLAN, finish("alice's answer")]) as app, \
            chat_with(slack, app) as chat:
        mallory, alice = chat.person(MALLORY), chat.person(ALICE)
        thread = await mallory.runs("look up m")
        m_status = await thread.status_showing(":arrows_counterclockwise: `m`")
        await alice.replies(thread, "then look up a")
        await thread.status_showing("*Queued*", index=1)
        await mallory.replies(thread, "and then mail it")
        m_follow_up = await thread.status_showing("*Queued*", index=2)

        # mallory cancels her run: her own follow-up goes with it, alice's request runs
        await mallory.clicks("Cancel", m_status)
        await slack.wait_for(lambda: "Cancelled before it started" in m_follow_up.content,
                             what="mallory's follow-up cancelled")
        await thread.status_showing(":no_entry_sign: *Cancelled* by <@U0MALLORY>")
        app.log.gates["g1"].set()
        answer = await thread.answer()
        await settle(app)
        assert "alice's answer" in answer.content
        assert [args["key"] for args in app.log.args_of("lookup")] == ["m", "a"]
        assert "Cancelled" not in (await thread.status_message(1)).content


async def test_a_stale_cancel_on_a_queued_request_drops_only_it(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [M_HELD, finish("mallory's answer")]) as app, \
            chat_with(slack, app) as chat:
        mallory, bob = chat.person(MALLORY), chat.person(BOB)
        thread = await mallory.runs("look up m")
        m_status = await thread.status_showing(":arrows_counterclockwise: `m`")
        await bob.replies(thread, "then look up b")
        queued = await thread.status_showing("*Queued*", index=1)

        # bob clicks a Cancel his client still shows on his request's message (it said
        # "Planning…" before it was changed to "Queued"): only his request is dropped
        stale = dict(m_status.button("Cancel"), _block_id="run_controls")
        assert stale["action_id"] == CANCEL_ACTION
        await chat.driver.send_payload(chat.driver.block_action(BOB, queued, stale))
        await slack.wait_for(lambda: "Cancelled before it started" in queued.content, what="bob's request dropped")

        app.log.gates["g1"].set()
        answer = await thread.answer()
        await settle(app)
        assert "mallory's answer" in answer.content
        assert "Cancelled" not in m_status.content
        assert app.log.args_of("lookup") == [{"key": "m"}]  # bob's request never ran
