"""Scenarios: Slack's platform rules — signatures, no 404s, rate limits, slash command replies."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.bot.chat import (
    ALICE,
    BOB,
    MEMORY,
    OPS,
    SIGNING_SECRET,
    Thread,
    chat_with,
    finish,
    running_bot,
    settle,
)
from tests.fakes.slack_api import FakeSlack

LOOK_UPS = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                      {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
                      {"id": "c", "tool": "lookup", "args": {"key": "${b}"}}]}
DEPLOY = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}


async def test_forged_and_stale_requests_get_401(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, []) as app, chat_with(slack, app) as chat:
        fields = chat.driver.slash_fields(ALICE, OPS, "deploy prod")
        forged = await chat.driver.send_form(fields, signature="v0=" + "0" * 64)
        stale = await chat.driver.send_form(fields, timestamp=int(time.time()) - 10 * 60)
        assert (forged.status_code, stale.status_code) == (401, 401)
        assert slack.calls_of("chat.postMessage") == [] and app.llm.calls == []


async def test_no_request_gets_a_404(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, []) as app, chat_with(slack, app) as chat:
        driver = chat.driver
        reaction = {"type": "reaction_added", "user": BOB, "reaction": "eyes",
                    "item": {"type": "message", "channel": OPS, "ts": "1.000001"}, "event_ts": "1.000002"}
        unknown_action = {"type": "block_actions", "user": {"id": BOB}, "team": {"id": slack.team},
                          "trigger_id": driver.new_trigger(), "api_app_id": "A0DAGBOT", "token": "t",
                          "actions": [{"action_id": "something_else", "block_id": "x", "type": "button",
                                       "value": "1", "action_ts": "1"}]}
        challenge = {"type": "url_verification", "challenge": "c-123", "token": "t"}
        responses = [
            await driver.event(reaction),
            await driver.send_payload(unknown_action),
            await driver.send(json.dumps(challenge), "application/json"),
            await driver.slash(BOB, OPS, "anything", command="/other"),
        ]
        assert [r.status_code for r in responses] == [200, 200, 200, 200]
        assert responses[2].json() == {"challenge": "c-123"}
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{app.url}/healthz")).status_code == 200


async def test_help_and_status_replies_are_ephemeral(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY], approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob, driver = chat.person(ALICE), chat.person(BOB), chat.driver

        usage = await driver.slash(ALICE, OPS, "help")
        assert usage.json()["response_type"] == "ephemeral" and "/agent <request>" in usage.text
        assert "`/agent every weekday at 09:00 <request>`" in usage.text and "`/agent schedules`" in usage.text

        thread = await alice.runs("deploy prod")
        await thread.approval_for("deploy")
        await thread.status_showing("*Waiting for approval*")

        await driver.slash(ALICE, OPS, "status")
        told = await alice.is_told("Your active runs")
        assert "deploy prod" in told and "waiting for approval" in told and "No approvals are waiting" in told
        await driver.slash(BOB, OPS, "status")
        told = await bob.is_told("Approvals you can decide")
        assert "`deploy` (node `deploy`)" in told and "You have no active runs" in told


async def test_a_channel_without_the_bot_gets_an_explanation(slack: FakeSlack) -> None:
    slack.add_channel("C0ELSEWHERE", "elsewhere", bot_is_member=False)
    async with running_bot(slack, MEMORY, []) as app, chat_with(slack, app) as chat:
        response = await chat.driver.slash(ALICE, "C0ELSEWHERE", "deploy prod")
        assert response.status_code == 200
        await chat.person(ALICE).is_told("Invite me with `/invite @dagbot`")
        assert app.llm.calls == []


async def test_progress_converges_through_a_429_storm(slack: FakeSlack) -> None:
    slack.inject("chat.update", times=6, retry_after=1)
    async with running_bot(slack, MEMORY, [LOOK_UPS, finish("all looked up")],
                           rate_limit_retries=1) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a, b and c")
        await thread.answer()

        status = await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `a`",
                                             ":white_check_mark: `b`", ":white_check_mark: `c`")
        assert status.buttons() == []
        limited = [c for c in slack.calls_of("chat.update") if c.status == 429]
        assert len(limited) == 6


async def test_secrets_stay_out_of_slack_and_the_logs(
    slack: FakeSlack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    async with running_bot(slack, MEMORY, [DEPLOY, finish("done")]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await alice.approves(await thread.approval_for("deploy"))
        await thread.answer()
        assert "xoxb" not in repr(app.bot.config) and SIGNING_SECRET not in repr(app.bot.config)
    seen = json.dumps([c.args for c in slack.calls]) + capsys.readouterr().out + caplog.text
    assert slack.token not in seen and SIGNING_SECRET not in seen



async def test_the_slash_command_is_answered_in_time_however_slow_slack_is(
        slack: FakeSlack) -> None:
    slack.latency["chat.postMessage"] = 2.0  # Slack takes two seconds for every post
    async with running_bot(slack, MEMORY, [LOOK_UPS, finish("all looked up")]) as app, \
            chat_with(slack, app) as chat:
        response = await chat.driver.slash(ALICE, OPS, "look up a, b and c")
        answered = time.monotonic()
        assert response.status_code == 200

        root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot), None),
                                    what="the root message")
        thread = Thread(chat, OPS, root.ts)
        await thread.status_message()
        await thread.answer()

        # the answer did not wait for the status message (Slack would have given up at 3 s)
        root_post, status_post = slack.calls_of("chat.postMessage")[:2]
        assert root_post.args.get("thread_ts") is None and status_post.args.get("thread_ts") == root.ts
        assert answered < status_post.at


async def test_a_run_that_cannot_post_its_status_tells_the_requester(slack: FakeSlack) -> None:
    # Slack keeps rate-limiting the bot's posts in threads, past the client's own retries
    storm = slack.inject("chat.postMessage", times=1000, when=lambda args: bool(args.get("thread_ts")))
    async with running_bot(slack, MEMORY, [LOOK_UPS, finish("all looked up")],
                           rate_limit_retries=1) as app, chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)

        # /agent: the root message is posted, the status message is not; alice is told, nothing runs
        response = await chat.driver.slash(ALICE, OPS, "look up a, b and c")
        assert response.status_code == 200
        told = await alice.is_told("couldn't start that run")
        assert "rate-limiting me" in told and "`ratelimited`" in told
        assert len(slack.responses) == 1 and slack.responses[0]["response_type"] == "ephemeral"

        # a mention: bob is told ephemerally, in the thread he started (alice, through her
        # command's response_url, where she typed it)
        thread = await bob.mentions_bot("look up a, b and c")
        await bob.is_told("couldn't start that run")
        assert [(e.user, e.thread_ts) for e in slack.ephemerals] == [(ALICE, None), (BOB, thread.root_ts)]

        await settle(app)
        assert app.llm.calls == [] and app.log.calls == [] and thread.status_messages() == []

        # once Slack lets the bot post again, a reply in the thread starts the run
        storm.times = 0
        await bob.replies(thread, "look up a, b and c")
        assert "all looked up" in (await thread.answer()).content


async def test_an_approval_update_converges_through_a_429_storm(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], rate_limit_retries=1) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")

        # Slack rate-limits every edit of the approval message for a while, past the client's retries
        storm = slack.inject("chat.update", times=4, when=lambda args: args.get("ts") == approval.ts)
        await alice.approves(approval)
        await thread.answer()

        # the message still ends up saying who approved, without buttons
        await slack.wait_for(lambda: "Approved by <@U0ALICE>" in approval.content, what="approval updated")
        assert approval.buttons() == [] and storm.times == 0
        assert app.log.count("deploy") == 1


async def test_an_approval_post_is_retried_through_a_429_storm(slack: FakeSlack) -> None:
    storm = slack.inject("chat.postMessage", times=2,
                         when=lambda args: str(args.get("text", "")).startswith("Approval needed"))
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], rate_limit_retries=1) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")

        # the first post of the approval is refused (twice: the client retried it once); the bot tries again
        approval = await thread.approval_for("deploy")
        assert storm.times == 0 and len(thread.approvals()) == 1

        await alice.approves(approval)
        assert "deployed" in (await thread.answer()).content
        await slack.wait_for(lambda: "Approved by <@U0ALICE>" in approval.content, what="approval updated")
        assert app.log.count("deploy") == 1


def is_reply(args: dict[str, object]) -> bool:
    """A run's answer, or the message saying why it ended (both carry the run in metadata)."""
    metadata = args.get("metadata")
    return isinstance(metadata, dict) and metadata.get("event_type") == "dagbot_answer"


@pytest.mark.parametrize("status", [429, 503])
async def test_an_answer_is_retried_through_a_storm(slack: FakeSlack, status: int) -> None:
    # Slack refuses the answer three times in a row, past the client's own retry
    storm = slack.inject("chat.postMessage", times=3, status=status, retry_after=1,
                         error="ratelimited" if status == 429 else "bad_gateway", when=is_reply)
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], rate_limit_retries=1,
                           stream_answers=False) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await alice.approves(await thread.approval_for("deploy"))
        assert "deployed" in (await thread.answer()).content
        await settle(app)
        assert storm.times == 0 and len(thread.answers()) == 1
        assert "couldn't post" not in (await thread.status_message()).content


async def test_a_failure_message_is_retried_through_a_429_storm(slack: FakeSlack) -> None:
    storm = slack.inject("chat.postMessage", times=3, when=is_reply)
    async with running_bot(slack, MEMORY, [], rate_limit_retries=1) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a")  # the model fails: the run ends failed
        failure = await slack.wait_for(lambda: next((m for m in thread.messages() if m.metadata), None),
                                       what="the message saying why the run failed")
        await settle(app)
        assert storm.times == 0 and failure.content.startswith(":x:")
        assert "couldn't post" not in (await thread.status_message()).content


async def test_an_answer_slack_keeps_refusing_is_shown_on_the_status_message(
        slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", times=1000, when=is_reply)
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], rate_limit_retries=1,
                           stream_answers=False) as app, chat_with(slack, app) as chat:
        app.bot.answers.delivery.retry_delays = (0.1, 0.1)
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        await alice.approves(await thread.approval_for("deploy"))
        status = await thread.status_showing("couldn't post the answer")
        assert "rate-limiting me" in status.content and "*Done*" in status.content
        await settle(app)
        assert thread.answers() == [] and len([c for c in slack.calls_of("chat.postMessage")
                                               if is_reply(c.args)]) == 3 * 2  # (each try: the client's retry too)
