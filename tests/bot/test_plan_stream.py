"""The plan, natively: where Slack streams, a run's nodes are tasks in a streamed message of
their own (plan display mode), the status message keeping its heading and Cancel; where Slack
refuses, the status message lists them as before. Read off the fake Slack's messages."""

from __future__ import annotations

from typing import Any

from agent.events import NodeFinished, NodeStarted
from bot.views.plan_view import CONTINUED
from tests.bot.chat import ALICE, MEMORY, Thread, chat_with, finish, replan, running_bot, settle
from tests.fakes.slack_api import FakeSlack, Message

DEPLOY_AND_LOOK_UP = {"nodes": [
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship release 1.2"},
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
]}
GATED = {"nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "${a}", "gate": "b"}},
]}


def plan_messages(thread: Thread) -> list[Message]:
    return [m for m in thread.messages() if m.is_from_bot and any(b.get("type") == "plan" for b in m.blocks)]


def tasks(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Task id → its card, in a message's plan block."""
    plan = next((b for b in blocks if b.get("type") == "plan"), {"tasks": []})
    return {task["task_id"]: task for task in plan["tasks"]}


def statuses(message: Message, task_id: str) -> list[str]:
    """The task's status in each version of the message, repeats left out."""
    seen: list[str] = []
    for _, blocks in message.versions:
        status = tasks(blocks).get(task_id, {}).get("status")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
    return seen


def text(task: dict[str, Any], key: str) -> str:
    value = task.get(key) or {"elements": []}
    return "".join(e["text"] for section in value["elements"] for e in section["elements"])


async def plan_showing(slack: FakeSlack, thread: Thread, **wanted: str) -> Message:
    """Wait until the thread's plan message shows each task (by id) in the status given."""
    def probe() -> Message | None:
        for message in plan_messages(thread):
            shown = tasks(message.blocks)
            if all(shown.get(tid, {}).get("status") == status for tid, status in wanted.items()):
                return message
        return None
    return await slack.wait_for(probe, what=f"the plan showing {wanted}: {[m.content for m in plan_messages(thread)]}")


async def test_tasks_go_pending_then_in_progress_then_complete_while_the_status_keeps_cancel(
        slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [GATED, finish("both looked up")], stream_plan=True,
                           stream_interval_seconds=0.05) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a, then b")
        plan = await plan_showing(slack, thread, a="in_progress", b="pending")
        assert plan.streaming and plan.task_display_mode == "plan"
        start = slack.calls_of("chat.startStream")[0].args
        assert (start["task_display_mode"], start["recipient_user_id"]) == ("plan", ALICE)
        assert tasks(plan.blocks)["a"]["title"] == "a: lookup"
        # the status message shows how the run stands and Cancel, not the nodes
        status = await thread.status_showing("*Running the plan*")
        assert "`a`" not in status.content and [b["text"]["text"] for b in status.buttons()] == ["Cancel"]

        app.log.gates["a"].set()
        await plan_showing(slack, thread, a="complete", b="in_progress")
        app.log.gates["b"].set()
        assert "both looked up" in (await thread.answer()).content
        await settle(app)
        assert statuses(plan, "a")[-2:] == ["in_progress", "complete"]  # (pending, if a flush saw it)
        assert statuses(plan, "b") == ["pending", "in_progress", "complete"]
        final = tasks(plan.blocks)
        assert text(final["a"], "output") == "`value of a`" and text(final["b"], "output") == "`value of value of a`"
        assert not plan.streaming and plan_messages(thread) == [plan]
        # the plan was stopped (final states in its last call) before the answer was posted
        stop = next(c for c in slack.calls_of("chat.stopStream") if c.args.get("ts") == plan.ts)
        answer = await thread.answer()
        assert stop.seq < next(c.seq for c in slack.calls if c.answer.get("ts") == answer.ts)
        assert "Plan: 2 steps — done" in plan.content
        assert "`a`" not in (await thread.status_showing(":white_check_mark: *Done*")).content


async def test_a_failing_node_and_the_one_it_blocks_show_why(slack: FakeSlack) -> None:
    plan = {"nodes": [{"id": "x", "tool": "broken", "args": {"key": "k"}},
                      {"id": "y", "tool": "lookup", "args": {"key": "${x}"}},
                      {"id": "z", "tool": "lookup", "args": {"key": "z"}}]}
    async with running_bot(slack, MEMORY, [plan, finish("x failed")], stream_plan=True) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up x")
        await thread.answer()
        await settle(app)
        [message] = plan_messages(thread)
        final = tasks(message.blocks)
        assert [final[t]["status"] for t in ("x", "y", "z")] == ["error", "error", "complete"]
        assert "has no entry for 'k'" in text(final["x"], "output")
        assert text(final["y"], "output").startswith("skipped: 'x' was failed")


async def test_a_red_node_waits_for_approval_with_a_link_to_its_message(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY_AND_LOOK_UP, finish("deployed")], stream_plan=True,
                           stream_interval_seconds=0.05) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        link = f"https://slack.com/archives/{thread.channel}/p{approval.ts.replace('.', '')}"

        def waiting() -> Message | None:
            for message in plan_messages(thread):
                shown = tasks(message.blocks)
                if shown["deploy"].get("sources") and shown["b"]["status"] == "complete":
                    return message
            return None
        plan = await slack.wait_for(waiting, what="the deploy task waiting, with its link")
        deploy = tasks(plan.blocks)["deploy"]
        assert deploy["status"] == "pending" and "waiting for approval" in text(deploy, "details")
        assert deploy["sources"] == [{"type": "url", "url": link, "text": "Approval message"}]

        await alice.approves(approval)
        await thread.answer()
        await settle(app)
        final = tasks(plan.blocks)["deploy"]
        assert final["status"] == "complete" and "sources" not in final
        assert f"approved by <@{ALICE}>" in text(final, "details")


async def test_a_plan_stream_slack_ended_during_a_long_wait_goes_on_whole_in_a_new_message(
        slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY_AND_LOOK_UP, finish("deployed")], stream_plan=True,
                           stream_interval_seconds=0.05) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        old = await plan_showing(slack, thread, deploy="pending", a="complete", b="complete")
        await thread.status_showing("*Waiting for approval*")
        assert old in slack.expire_streams()  # a long wait: Slack ends the idle stream

        await alice.approves(approval)
        await thread.answer()
        await settle(app)
        [new] = plan_messages(thread)  # the old one is gone: the new one shows the whole plan
        assert new.ts != old.ts and slack.message(thread.channel, old.ts) is None
        assert {t: c["status"] for t, c in tasks(new.blocks).items()} == {
            "deploy": "complete", "a": "complete", "b": "complete"}
        assert not new.streaming and new.ts > approval.ts


async def test_a_replan_adds_tasks(slack: FakeSlack) -> None:
    first = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
    second = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a2"}},
                        {"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
    async with running_bot(slack, MEMORY, [first, replan("look up b too"), second, finish("done twice")],
                           stream_plan=True) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a and b")
        await thread.answer()
        await settle(app)
        [message] = plan_messages(thread)
        final = tasks(message.blocks)
        assert list(final) == ["a", "a.r1", "b.r1"]
        assert all(card["status"] == "complete" for card in final.values())
        assert text(final["a"], "output") == "`value of a`" and text(final["a.r1"], "output") == "`value of a2`"
        assert "Plan: 2 steps (replanned 1×) — done" in message.content


async def test_where_slack_refuses_streamed_tasks_the_status_message_lists_the_nodes(
        slack: FakeSlack) -> None:
    refused = slack.inject("chat.startStream", status=200, error="invalid_chunks", times=5,
                           when=lambda args: args.get("task_display_mode") == "plan")
    async with running_bot(slack, MEMORY, [GATED, finish("first"), GATED, finish("second")],
                           stream_plan=True) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a, then b")
        await thread.status_showing(":arrows_counterclockwise: `a`", ":white_circle: `b`")
        app.log.gates["a"].set()
        app.log.gates["b"].set()
        await thread.answer()
        await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `a`", ":white_check_mark: `b`")
        # this Slack does not take streamed tasks: the next run does not try again
        await alice.replies(thread, "once more")
        await thread.answer(1)
        await thread.status_showing(":white_check_mark: `b`", index=1)
        assert refused.times == 4 and plan_messages(thread) == []
        assert app.bot.features.off() == {"plans streamed as tasks (chat.startStream chunks)": "invalid_chunks"}


async def test_where_slack_does_not_stream_at_all_the_status_message_lists_the_nodes(
        slack: FakeSlack) -> None:
    slack.stream_error = "missing_scope"
    async with running_bot(slack, MEMORY, [DEPLOY_AND_LOOK_UP, finish("deployed")], stream_plan=True) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        await thread.status_showing(":white_check_mark: `b`", ":raised_hand: `deploy`")
        await alice.approves(approval)
        await thread.answer()
        await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `deploy`")
        assert plan_messages(thread) == []


async def test_a_wide_plans_changes_are_coalesced_into_few_appends(slack: FakeSlack) -> None:
    wide = {"nodes": [{"id": f"n{i}", "tool": "lookup", "args": {"key": f"k{i}"}} for i in range(16)]}
    events: list[Any] = []
    async with running_bot(slack, MEMORY, [wide, finish("all looked up")], stream_plan=True) as app, \
            chat_with(slack, app) as chat:
        queue = app.services.events.open()
        thread = await chat.person(ALICE).runs("look up everything")
        await thread.answer()
        await settle(app)
        while not queue.empty():
            events.append(queue.get_nowait())
        app.services.events.close(queue)
        [message] = plan_messages(thread)
        moves = [e for e in events if isinstance(e, NodeStarted | NodeFinished)]
        appends = [c for c in slack.calls_of("chat.appendStream") if c.args.get("ts") == message.ts]
        assert len(moves) == 32 and len(appends) < len(moves)
        assert all(card["status"] == "complete" for card in tasks(message.blocks).values())
        assert len(tasks(message.blocks)) == 16


async def test_a_plan_too_long_for_its_message_goes_on_in_a_new_one(slack: FakeSlack) -> None:
    slack.inject("chat.appendStream", status=200, error="msg_too_long", times=1,
                 when=lambda args: bool(args.get("chunks")))
    async with running_bot(slack, MEMORY, [GATED, finish("both")], stream_plan=True,
                           stream_interval_seconds=0.05) as app, chat_with(slack, app) as chat:
        thread = await chat.person(ALICE).runs("look up a, then b")
        await plan_showing(slack, thread, a="in_progress", b="pending")
        app.log.gates["a"].set()
        app.log.gates["b"].set()
        await thread.answer()
        await settle(app)
        old, new = plan_messages(thread)  # the full one stays, stopped as it was
        assert old.ts < new.ts and not old.streaming and not new.streaming
        # nothing is lost: each task's newest state is in the newer message, all complete
        assert {t: c["status"] for t, c in tasks(new.blocks).items()} == {"a": "complete", "b": "complete"}
        # the full one, scrolled back to, shows no task still running: each says it went on below
        assert {t: (c["status"], CONTINUED in str(c.get("details"))) for t, c in tasks(old.blocks).items()} \
            == {"a": ("pending", True), "b": ("pending", True)}
