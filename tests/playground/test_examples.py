"""The six demo examples, end to end, as a person does them on the page: the real bot, engine,
validation, sandbox and approvals behind the stand-in; only the planner's text is recorded."""

from __future__ import annotations

import pytest

from infra.emulators.slack.workspace import Message
from infra.playground.app import Playground
from infra.playground.demo.examples import by_key
from tests.playground.conftest import ALICE, Channel, Person, text_of

pytestmark = pytest.mark.timeout(120)


def command(key: str) -> str:
    return f"/agent {by_key(key).request}"


async def test_parallel_reads_answer_from_the_demo_site_and_workspace(alice: Person, channel: Channel) -> None:
    await alice.send(command("parallel"))
    root = await channel.root_for("How are our services doing")
    answer = text_of(await channel.answer_in(root))
    assert "checkout: **degraded**" in answer  # the model's Markdown, shown by a markdown block
    assert "INC-142" in answer and "maria (primary)" in answer
    assert "demo model: it only knows the example requests" in answer
    # the status message is edited at most once a second, so its last edit may follow the answer;
    # the plan's nodes are tasks in a streamed message of their own
    status = await channel.final_status(root)
    assert "3/3 nodes done" in status and "`status`" not in status
    plan = await channel.final_plan(root)
    assert "Plan: 3 steps — done" in plan
    for task in ("status: http_get", "incidents: http_get", "oncall: read_file"):
        assert f"[complete] {task}" in plan


async def test_package_fails_once_and_reflexion_heals_it(alice: Person, channel: Channel) -> None:
    await alice.send(command("package"))
    root = await channel.root_for("Count the errors")
    answer = text_of(await channel.answer_in(root))
    assert "checkout 4, payments 2, search 1" in answer
    await channel.final_status(root)
    plan = await channel.final_plan(root)
    assert "attempt 2/3" in plan and "ValueError" in plan and "[complete]" in plan


async def test_red_node_waits_alone_then_writes_the_workspace(playground: Playground, alice: Person, bob: Person,
                                                              channel: Channel) -> None:
    await alice.send(command("approval"))
    root = await channel.root_for("Publish the 2.4.0 release notes")
    approval = await channel.approval_in(root, "write_file")
    buttons = [e["text"]["text"] for b in approval.blocks if b.get("type") == "actions" for e in b["elements"]]
    assert buttons == ["Approve", "Approve for this thread", "Reject", "Edit"]  # as Slack shows them
    # The slow metrics read finishes while the approval is still pending.
    await channel.wait_for(lambda: (plan := channel.plan_of(root)) is not None
                           and "[complete] metrics: http_get" in plan.content
                           and "waiting for approval" in plan.content
                           and "Waiting for approval" in text_of(channel.status_of(root)),
                           "the green branch to finish, the red node still waiting")
    target = playground.workspace / "releases" / "2.4.0.md"
    assert not target.exists()

    await bob.click(approval, "Approve")  # not bob's to approve: he is told privately, nothing changes
    await channel.wait_for(lambda: any("only <@U0ALICE> may decide" in t for t in bob.told()), "bob's notice")
    assert not alice.told() and not target.exists()

    await alice.click(approval, "Approve")
    answer = text_of(await channel.answer_in(root))
    assert "Published the 2.4.0 release notes" in answer and "Live error rate: 0.8 %" in answer
    assert target.read_text().startswith("# Release 2.4.0")
    assert f"Approved by <@{ALICE}>" in text_of(approval)
    assert not any(b.get("type") == "actions" for b in approval.blocks)


async def test_follow_up_emails_the_earlier_answer(playground: Playground, alice: Person, channel: Channel) -> None:
    assert playground.demo is not None
    await alice.send(command("parallel"))
    root = await channel.root_for("How are our services doing")
    first = text_of(await channel.answer_in(root))
    await channel.final_status(root)  # the run has ended (a reply before that is queued behind it)

    await alice.send(by_key("followup").request, thread_ts=root.ts)  # a plain reply in the thread
    approval = await channel.approval_in(root, "send_email")
    assert "oncall@example.com" in text_of(approval) and "INC-142" in text_of(approval)
    await alice.click(approval, "Approve")
    answer = text_of(await channel.answer_in(root, after=1))
    assert "Emailed it to oncall@example.com" in answer
    [mail] = playground.demo.mail.mail
    assert mail.to == ["oncall@example.com"] and "INC-142" in mail.body
    assert mail.subject == "dagbot: How are our services doing?"  # what was asked in this thread
    assert "INC-142" in first


async def test_rejection_with_a_reason_is_reported(playground: Playground, alice: Person,
                                                   channel: Channel) -> None:
    log = playground.workspace / "logs" / "app.log"
    before = log.read_text()
    await alice.send(command("reject"))
    root = await channel.root_for("Clear logs/app.log")
    approval = await channel.approval_in(root, "write_file")
    await alice.click(approval, "Reject")
    view = await channel.wait_for(lambda: next(iter(playground.slack.modals.values()), None), "the reason modal")
    assert view.user == ALICE
    assert (await alice.submit_view(view.id, {"reason": {"reason": "we keep logs for 30 days"}}))["ok"]
    assert not playground.slack.modals
    answer = text_of(await channel.answer_in(root))
    assert "did **not** clear" in answer
    assert answer.count("we keep logs for 30 days") == 1 and f"<@{ALICE}>" in answer  # said once
    status = await channel.wait_for(lambda: next((t for t in [text_of(channel.status_of(root))] if "Answered" in t),
                                                 None), "the status message to show the run answered")
    assert ":ballot_box_with_check: *Answered* — 1 step rejected" in status and "*Done*" not in status
    assert "1/2 nodes done, 1 rejected" in status
    assert log.read_text() == before


async def test_other_requests_get_the_examples_and_how_to_connect_a_model(alice: Person,
                                                                           channel: Channel) -> None:
    await alice.send("/agent restart the payments service")
    root = await channel.root_for("restart the payments service")
    answer = text_of(await channel.answer_in(root))
    assert "demo model" in answer and "OPENAI_API_KEY" in answer and "OPENAI_BASE_URL" in answer
    assert "`make model`" in answer
    for key in ("parallel", "package", "approval", "followup", "reject"):
        assert by_key(key).request in answer


async def test_a_mention_in_the_channel_runs_in_its_thread(playground: Playground, alice: Person,
                                                           channel: Channel) -> None:
    await alice.send(f"@dagbot {by_key('package').request}")
    [typed] = [m for m in channel.messages() if not m.is_from_bot]
    assert typed.text.startswith("<@U0DAGBOT> ")  # what Slack sends for a mention
    answer = await channel.answer_in(typed)
    assert answer.thread_ts == typed.ts and "checkout 4" in text_of(answer)
    assert len([m for m in channel.thread(typed.ts) if m.is_from_bot and ":stopwatch:" in text_of(m)]) == 1


async def test_help_is_shown_only_to_whoever_asked(alice: Person, bob: Person, channel: Channel) -> None:
    await alice.send("/agent help")
    await channel.wait_for(lambda: alice.told(), "alice's help")
    assert "/agent" in alice.told()[0] and not bob.told()
    assert "/agent every weekday at 09:00" in alice.told()[0] and "/agent schedules" in alice.told()[0]
    assert not channel.messages()
    assert (await alice.send("/agent help", thread_ts="1.000001"))["ok"] is False  # no slash commands in threads


async def test_two_approvals_wait_together_and_approve_all_decides_both(playground: Playground, alice: Person,
                                                                       channel: Channel) -> None:
    assert playground.demo is not None and playground.workspace is not None
    await alice.send(command("approve_all"))
    root = await channel.root_for("Write the on-call handover")
    await channel.approval_in(root, "write_file")
    await channel.approval_in(root, "send_email")
    def approve_all() -> Message | None:
        status = channel.status_of(root)
        buttons = [e.get("text", {}).get("text") for b in status.blocks if b.get("type") == "actions"
                   for e in b["elements"]]
        return status if "Approve all" in buttons else None

    status = await channel.wait_for(approve_all, "Approve all on the status message")
    await alice.click(status, "Approve all")
    answer = text_of(await channel.answer_in(root))
    assert "Wrote the on-call handover to `notes/handover.md`" in answer and "Emailed it to oncall@example.com" in answer
    note = (playground.workspace / "notes" / "handover.md").read_text()
    assert "Primary: maria" in note and "- INC-142 Checkout latency above SLO (SEV2, owner maria)" in note
    [mail] = playground.demo.mail.mail
    assert mail.subject == "On-call handover" and "INC-142" in mail.body
