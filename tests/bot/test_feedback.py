"""👍/👎 on answers: stored with the run (who, when, which plan), one vote per person and
answer, shown by `dagbot audit` and counted in /metrics; clicks on anything else count nothing."""

from __future__ import annotations

import json

from infra.operations.metrics import Metrics
from tests.bot.chat import ALICE, BOB, MALLORY, MEMORY, chat_with, finish, running_bot, settle
from tests.bot.test_operations import scrape_until
from tests.fakes.slack_api import FakeSlack
from tests.infra.test_audit import dagbot_audit

LOOK_UP_A = {"thought": "read", "nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}


async def test_votes_are_stored_replaced_audited_and_counted(slack: FakeSlack, sqlite_url: str) -> None:
    metrics = Metrics("r1")
    async with running_bot(slack, sqlite_url, [LOOK_UP_A, finish("a is 'value of a'")],
                           metrics=metrics) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a")
        answer = await thread.answer()
        await settle(app)

        # alice likes it, then changes her mind; bob likes it
        for user, vote in ((ALICE, "up"), (ALICE, "down"), (BOB, "up")):
            assert (await chat.driver.feedback(user, answer, vote)).status_code == 200
            await settle(app)
        await chat.person(BOB).is_told("Thanks for the 👍")
        await chat.person(ALICE).is_told("Thanks for the 👎")

        scraped = await scrape_until(app.url, "dagbot_answer_feedback", 1, vote="down")
        assert scraped.value("dagbot_answer_feedback", vote="up") == 1  # alice's first vote was replaced
        trail = await app.services.store.audit_entries()
        plan_id = next(e.detail["plan_id"] for e in trail if e.kind.value == "plan")
        run_id = trail[0].run_id
        votes = [(e.actor, e.detail["vote"], e.detail["replaced"]) for e in trail if e.kind.value == "feedback"]
        assert votes == [(ALICE, "up", None), (ALICE, "down", "up"), (BOB, "up", None)]
        assert {(e.run_id, e.detail["plan_id"]) for e in trail if e.kind.value == "feedback"} == {(run_id, plan_id)}

    exported = dagbot_audit(sqlite_url, "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    feedback = [(r["actor"], r["detail"]["vote"], r["run"]) for r in rows if r["kind"] == "feedback"]
    assert feedback == [(ALICE, "up", run_id), (ALICE, "down", run_id), (BOB, "up", run_id)]


async def test_only_clicks_on_a_real_answer_count(slack: FakeSlack, sqlite_url: str) -> None:
    metrics = Metrics("r1")
    async with running_bot(slack, sqlite_url, [LOOK_UP_A, finish("the answer")], metrics=metrics) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a")
        answer = await thread.answer()
        status = await thread.status_message()
        await settle(app)
        driver = chat.driver
        element = answer.feedback()
        assert element is not None
        run_value = element["positive_button"]["value"]

        # mallory replays the answer's button from another message, and sends made-up values
        forged = [(status, run_value), (answer, "up:not-a-run"), (answer, "sideways:" + run_value.split(":")[1])]
        for message, value in forged:
            payload = driver.block_action(MALLORY, message, {"action_id": element["action_id"],
                                                             "value": value, "text": {"type": "plain_text",
                                                                                      "text": "👍"}})
            assert (await driver.send_payload(payload)).status_code == 200
        await settle(app)
        await chat.person(MALLORY).is_told("does not belong to one of my answers")
        assert len([t for t in slack.told(MALLORY) if "does not belong" in t]) == 3
        assert not [e for e in await app.services.store.audit_entries() if e.kind.value == "feedback"]
        scraped = await scrape_until(app.url, "dagbot_answer_feedback", 0, vote="up")
        assert scraped.value("dagbot_answer_feedback", vote="down") == 0


async def test_where_slack_refuses_feedback_buttons_answers_are_posted_without_them(
        slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=200, error="invalid_blocks", times=1,
                 when=lambda args: any(b.get("type") == "context_actions" for b in args.get("blocks") or []))
    replies = [LOOK_UP_A, finish("first"), LOOK_UP_A, finish("second")]
    async with running_bot(slack, MEMORY, replies) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a")
        first = await thread.answer()
        assert "first" in first.content and first.feedback() is None
        await alice.replies(thread, "again")
        second = await thread.answer(1)
        assert "second" in second.content and second.feedback() is None  # not tried again
        posts = [c for c in slack.calls_of("chat.postMessage")
                 if any(b.get("type") == "context_actions" for b in c.args.get("blocks") or [])]
        assert len(posts) == 1
