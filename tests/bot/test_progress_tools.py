"""The status message shows a green call being tried again, and a result reused."""

from __future__ import annotations

from agent.events import (
    NodeFinished,
    NodeStarted,
    PackageAttempt,
    PlanReady,
    ResultReused,
    RunEvent,
    ToolRetrying,
)
from agent.plan.readiness import NodeState
from bot.views.progress_view import RunProgress
from bot.views.status_view import node_line

IDS = {"thread_id": "slack:T:C:1.0", "run_id": "r"}
PLAN = {"nodes": [{"id": "a", "tool": "http_get", "args": {}}, {"id": "b", "tool": "lookup", "args": {}}]}


def run(*events: RunEvent) -> RunProgress:
    progress = RunProgress(request="r", requested_by="U1", started_at=0.0)
    for event in events:
        progress.apply(event)
    return progress


def test_a_retry_shows_the_attempt_and_why() -> None:
    progress = run(PlanReady(**IDS, plan=PLAN), NodeStarted(**IDS, node_id="a", label="http_get"),
                   ToolRetrying(**IDS, node_id="a", attempt=1, max_attempts=3,
                                error_gist="GET https://x timed out after 30 s", delay_s=0.4))
    line = node_line(progress.nodes["a"])
    assert "attempt 2/3" in line and "timed out" in line and "trying again" in line
    progress.apply(NodeFinished(**IDS, node_id="a", preview="ok"))
    assert progress.nodes["a"].state is NodeState.DONE


def test_a_reused_result_says_so() -> None:
    progress = run(PlanReady(**IDS, plan=PLAN), NodeStarted(**IDS, node_id="b", label="lookup"),
                   ResultReused(**IDS, node_id="b", tool="lookup", age_s=12.3),
                   NodeFinished(**IDS, node_id="b", preview="v"))
    assert "reused the result of the same call 12 s ago" in node_line(progress.nodes["b"])


def test_calls_made_by_package_code_leave_the_package_attempts_alone() -> None:
    plan = {"nodes": [{"id": "p", "package": {"goal": "count errors", "code": "result = ..."}}]}
    progress = run(PlanReady(**IDS, plan=plan), NodeStarted(**IDS, node_id="p", label="package: count errors"),
                   PackageAttempt(**IDS, node_id="p", attempt=2, max_attempts=3,
                                  error_gist="ValueError: bad line"),
                   ResultReused(**IDS, node_id="p", tool="read_file", age_s=0.1))
    line = node_line(progress.nodes["p"])
    assert "attempt 2/3" in line and "ValueError" in line  # the reused read is not news
    progress.apply(ToolRetrying(**IDS, node_id="p", attempt=1, max_attempts=5, error_gist="busy", delay_s=0.5))
    line = node_line(progress.nodes["p"])
    assert "attempt 2/3" in line and "a tool call failed: busy" in line  # still the package's attempt
