"""The plan as Slack's tasks (pure): what each node's task says, how tasks of earlier plans and
of a run that ended are shown, and which chunks bring a stream up to date. And the stream's
coalescing, against the fake Slack: many changes between two flushes make one call."""

from __future__ import annotations

from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    NodeFailed,
    NodeFinished,
    NodeProposed,
    NodeSkipped,
    NodeStarted,
    PackageAttempt,
    Planning,
    PlanReady,
    RunEvent,
    RunFailed,
)
from bot.app import web_client
from bot.config import BotConfig
from bot.ground.features import SlackFeatures
from bot.ground.mrkdwn import whole_cut, whole_parts
from bot.ground.threads import ThreadRef
from bot.outbound.plan_stream import AppendPacer, PlanStream
from bot.views.plan_view import Task, changes, merged, node_task, plan_tasks, plan_title, settled
from bot.views.progress_view import Phase, RunProgress
from tests.bot.chat import ALICE, OPS
from tests.fakes.slack_api import FakeSlack

IDS = {"thread_id": "slack:T0TEAM:C0OPS:1.0", "run_id": "r"}
PLAN = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                  {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                  {"id": "b", "tool": "lookup", "args": {"key": "${a}"}}]}


def run(*events: RunEvent) -> RunProgress:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    for event in (Planning(**IDS, request="r"), PlanReady(**IDS, plan=PLAN), *events):
        progress.apply(event)
    return progress


def by_id(progress: RunProgress, links: dict[str, str] | None = None) -> dict[str, Task]:
    return {t.id: t for t in plan_tasks(progress, links or {})}


def test_each_node_is_a_task_saying_what_its_line_says() -> None:
    asked = AwaitingApproval(**IDS, approval_id="p1", node_id="deploy", tool="deploy", args={}, why="w",
                             requested_by=ALICE, expires_at=9.0)
    progress = run(NodeStarted(**IDS, node_id="a", label="lookup", at=1.0),
                   NodeFinished(**IDS, node_id="a", preview='{"rows":\n 3, "x": "<!here>"}', at=3.5), asked)
    tasks = by_id(progress, {"deploy": "https://slack.com/archives/C0OPS/p2000"})
    # its output on one line, made safe, as code (no Markdown made of it)
    assert tasks["a"] == Task("a", "a: lookup", "complete", details="2.5s",
                              output='`{"rows": 3, "x": "@\u2060here"}`')
    assert tasks["deploy"].status == "pending" and tasks["deploy"].details == "waiting for approval"
    assert tasks["deploy"].chunk()["sources"] == [
        {"type": "url", "url": "https://slack.com/archives/C0OPS/p2000", "text": "Approval message"}]
    assert tasks["b"] == Task("b", "b: lookup", "pending")

    progress.apply(DecisionRecorded(**IDS, approval_id="p1", node_id="deploy", status="rejected",
                                    decided_by=ALICE, reason="not today"))
    progress.apply(NodeSkipped(**IDS, node_id="b", reason="skipped: 'deploy' was rejected"))
    tasks = by_id(progress, {"deploy": "https://slack.com/archives/C0OPS/p2000"})
    assert tasks["deploy"] == Task("deploy", "deploy: deploy", "error", output=f"rejected by <@{ALICE}>: not today")
    assert tasks["b"].status == "error" and tasks["b"].output == "skipped: 'deploy' was rejected"

    # answered, but not every step ran: the plan's title does not say "done"
    progress.apply(NodeFinished(**IDS, node_id="a", preview="1"))
    progress.apply(AnswerReady(**IDS, answer="a is 1; the deploy was rejected", duration_s=1.0, nodes_run=1,
                               tokens=0))
    assert progress.phase is Phase.ANSWERED
    assert plan_title(progress, 3) == "Plan: 3 steps — answered, 1 rejected, 1 skipped"


def test_attempts_and_failures_show_as_details_and_output() -> None:
    progress = run(NodeStarted(**IDS, node_id="a", label="lookup"),
                   PackageAttempt(**IDS, node_id="a", attempt=1, max_attempts=3, error_gist="ValueError: x"))
    assert by_id(progress)["a"] == Task("a", "a: lookup", "in_progress",
                                        details="attempt 1/3 · attempt 1 failed: ValueError: x")
    progress.apply(NodeFailed(**IDS, node_id="a", error="ValueError: " + "y" * 400))
    failed = by_id(progress)["a"]
    assert failed.status == "error" and failed.output.startswith("ValueError: yyy") and len(failed.output) == 256


def test_a_replans_nodes_are_new_tasks_and_an_ended_runs_unfinished_tasks_say_why() -> None:
    progress = run(NodeStarted(**IDS, node_id="a", label="lookup"),
                   NodeFinished(**IDS, node_id="a", preview="1"))
    known = merged({}, plan_tasks(progress, {}))
    progress.apply(Planning(**IDS, request="r", replan=1))
    assert [t.id for t in plan_tasks(progress, {})] == ["a", "deploy", "b"]  # still the old plan's
    progress.apply(NodeProposed(**IDS, node_id="a", label="lookup"))
    progress.apply(PlanReady(**IDS, plan={"nodes": [PLAN["nodes"][0]]}))
    known = merged(known, plan_tasks(progress, {}))
    assert list(known) == ["a", "deploy", "b", "a.r1"]
    assert known["a"].status == "complete" and known["a.r1"].status == "pending"
    assert known["deploy"].status == "error" and known["deploy"].output == "not run: the plan changed"
    assert plan_title(progress, 1) == "Plan: 1 step (replanned 1×)"

    progress.apply(NodeStarted(**IDS, node_id="a", label="lookup"))
    progress.apply(RunFailed(**IDS, error="boom"))
    ended = settled(merged(known, plan_tasks(progress, {})), progress.phase)
    assert progress.phase is Phase.FAILED and ended["a.r1"].output == "stopped: the run failed"
    assert plan_title(progress, 1).endswith("— failed")


def test_only_what_changed_is_sent() -> None:
    a, b = Task("a", "a: lookup", "pending"), Task("b", "b: lookup", "pending")
    assert changes({}, "", {"a": a, "b": b}, "Plan: 2 steps") == [
        {"type": "plan_update", "title": "Plan: 2 steps"}, a.chunk(), b.chunk()]
    done = Task("a", "a: lookup", "complete", output="1")
    assert changes({"a": a, "b": b}, "Plan: 2 steps", {"a": done, "b": b}, "Plan: 2 steps") == [done.chunk()]
    assert node_task(run().nodes["a"], 2, frozenset()).id == "a.r2"


def test_whole_cuts_keep_code_blocks_whole_and_the_text_exact() -> None:
    text = "intro words\n\n```\ncode one\ncode two\n```\nafter the block and more"
    assert whole_cut(text, 20) == len("intro words\n\n")
    assert whole_cut(text, 40) == len("intro words\n\n")  # never inside the code block
    assert whole_cut("```\nlong code\n", 10) == 0
    parts = whole_parts(text * 5, 60)
    assert "".join(parts) == text * 5 and all(len(p) <= 60 for p in parts)


async def test_changes_between_two_flushes_make_one_call(slack: FakeSlack) -> None:
    wide = {"nodes": [{"id": f"n{i}", "tool": "lookup", "args": {"key": f"k{i}"}} for i in range(20)]}
    root = slack.post_as_user(OPS, ALICE, "look up everything")
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url))
    pacer = AppendPacer()
    stream = PlanStream(client, ThreadRef("T0TEAM", OPS, root.ts), ALICE, SlackFeatures(), interval=30.0,
                        pacer=pacer)
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    progress.apply(PlanReady(**IDS, plan=wide))
    stream.show(progress, {})
    await slack.wait_for(lambda: stream.ts, what="the stream started")
    assert pacer.live == 1 and pacer.interval(1.0) == 1.0
    events = 0
    for i in range(20):  # forty changes within one interval
        for event in (NodeStarted(**IDS, node_id=f"n{i}", label="lookup"),
                      NodeFinished(**IDS, node_id=f"n{i}", preview=str(i))):
            progress.apply(event)
            stream.show(progress, {})
            events += 1
    await stream.finish(progress, {})
    assert [c.method for c in slack.calls if "Stream" in c.method] == ["chat.startStream", "chat.stopStream"]
    assert events == 40 and stream.calls == 2 and pacer.live == 0
    message = slack.message(OPS, stream.ts)
    assert message is not None and not message.streaming
    assert [t["status"] for t in message.tasks.values()] == ["complete"] * 20
