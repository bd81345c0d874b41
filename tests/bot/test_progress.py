"""The status message's model is a pure reducer over run events."""

from __future__ import annotations

from agent.events import (
    AwaitingApproval,
    DecisionRecorded,
    NodeFinished,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    PackageAttempt,
    Planning,
    PlanReady,
    Replanning,
    RunCancelled,
    RunFailed,
    Waiting,
)
from agent.plan.readiness import NodeState
from bot.views.progress_view import Phase, RunProgress
from bot.views.status_view import node_detail

PLAN = {"thought": "t", "nodes": [
    {"id": "deploy", "tool": "deploy", "args": {}},
    {"id": "verify", "tool": "lookup", "args": {"key": "${deploy}"}},
    {"id": "digest", "package": {"goal": "merge", "code": "result = 1"}},
]}


def run(*events: object) -> RunProgress:
    progress = RunProgress(request="r", requested_by="U1", started_at=0.0)
    for event in events:
        progress.apply(event)  # type: ignore[arg-type]
    return progress


def ev(kind: type, **fields: object) -> object:
    return kind(thread_id="t", run_id="r", **fields)


def test_a_rejection_marks_the_node_and_who_rejected() -> None:
    progress = run(
        ev(Planning, request="r"), ev(PlanReady, plan=PLAN),
        ev(AwaitingApproval, approval_id="a", node_id="deploy", tool="deploy", args={}, why="", requested_by="U1",
           expires_at=0),
        ev(Waiting, pending=["a"]),
        ev(DecisionRecorded, approval_id="a", node_id="deploy", status="rejected", decided_by="U2", reason="no"),
        ev(NodeRejected, node_id="deploy", reason="rejected by U2: no"),
        ev(NodeSkipped, node_id="verify", reason="skipped: 'deploy' was rejected"),
    )
    assert progress.nodes["deploy"].state is NodeState.REJECTED
    assert node_detail(progress.nodes["deploy"], 500) == "rejected by <@U2>: no"
    assert progress.people() == {"U1", "U2"}  # who asked, who decided
    assert progress.nodes["verify"].state is NodeState.SKIPPED
    assert progress.nodes["digest"].label == "package: merge"
    assert progress.phase is Phase.RUNNING  # the parked run moved again
    assert [n.id for n in progress.refused()] == ["deploy"]


def test_package_attempts_and_replans_are_tracked() -> None:
    progress = run(
        ev(PlanReady, plan=PLAN), ev(NodeStarted, node_id="digest", label="package: merge"),
        ev(PackageAttempt, node_id="digest", attempt=1, max_attempts=3, error_gist="NameError: x"),
        ev(PackageAttempt, node_id="digest", attempt=2, max_attempts=3),
        ev(Replanning, feedback="try harder", replan=1),
    )
    digest = progress.nodes["digest"]
    assert (digest.attempt, digest.max_attempts, digest.detail) == (2, 3, "attempt 1 failed: NameError: x")
    assert progress.phase is Phase.REPLANNING and progress.note == "try harder"


def test_a_cancelled_run_ends_cancelled_by_whom_its_event_names() -> None:
    progress = run(ev(PlanReady, plan=PLAN), ev(RunCancelled, by="U1"))
    assert progress.phase is Phase.RUNNING  # until the run ends
    progress.apply(ev(RunFailed, error="The run was cancelled"))
    assert progress.phase is Phase.CANCELLED and progress.cancelled_by == "U1" and not progress.is_active
    assert run(ev(PlanReady, plan=PLAN), ev(RunFailed, error="boom")).phase is Phase.FAILED
    # a cancel heard from another process (or the database) names nobody: still cancelled, not failed
    heard = run(ev(PlanReady, plan=PLAN), ev(RunCancelled, by=None), ev(RunFailed, error="The run was cancelled"))
    assert heard.phase is Phase.CANCELLED and heard.cancelled_by is None


def test_rebuilt_from_checkpointed_state_after_a_restart() -> None:
    values = {"request": "deploy", "requested_by": "U1", "started_at": 5.0, "plan": PLAN,
              "results": {"digest": {"status": "done", "attempts": 2}}, "pending_approvals": ["a"]}
    progress = RunProgress.from_state(values, awaiting={"deploy"})
    assert progress.phase is Phase.WAITING and progress.started_at == 5.0
    assert progress.nodes["deploy"].state is NodeState.AWAITING_APPROVAL
    assert progress.nodes["digest"].state is NodeState.DONE and progress.nodes["digest"].attempt == 2
    assert progress.nodes["verify"].state is NodeState.WAITING
    assert RunProgress.from_state({"request": "x"}, set()).phase is Phase.PLANNING


def test_a_node_dagbot_adds_to_the_plan_that_ran_joins_it_and_the_rest_keep_their_states() -> None:
    lookup = {"nodes": [{"id": "orders", "tool": "lookup", "args": {"key": "orders"}}]}
    extended = {"nodes": [*lookup["nodes"], {"id": "computed", "package": {"goal": "sum", "code": ""},
                                             "depends_on": ["orders"]}]}
    progress = run(ev(Planning, request="r"), ev(PlanReady, plan=lookup, mends=("m",)),
                   ev(NodeStarted, node_id="orders", label="lookup"),
                   ev(NodeFinished, node_id="orders", preview="1,2"),
                   ev(PlanReady, plan=extended, added=("computed",)))
    assert progress.nodes["orders"].state is NodeState.DONE and progress.nodes["orders"].output == "1,2"
    assert progress.nodes["computed"].state is NodeState.WAITING and progress.nodes["computed"].label == "package: sum"
    assert list(progress.nodes) == ["orders", "computed"] and progress.phase is Phase.RUNNING
