"""The status message while the plan streams: nodes appear as they arrive, and those that ran
before the plan was complete keep their state when it is."""

from __future__ import annotations

from agent.events import NodeFinished, NodeProposed, NodeStarted, Planning, PlanReady, RunEvent
from agent.plan.readiness import NodeState
from bot.views.progress_view import Phase, RunProgress
from bot.views.status_view import render_status

PLAN = {"thought": "t", "nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "b"}},
]}
IDS = {"thread_id": "slack:T:C:1.0", "run_id": "r"}


def run(*events: RunEvent) -> RunProgress:
    progress = RunProgress(request="r", requested_by="U1", started_at=0.0)
    for event in events:
        progress.apply(event)
    return progress


def test_nodes_show_as_they_arrive_and_keep_their_state_when_the_plan_is_ready() -> None:
    progress = run(Planning(**IDS, request="r"), NodeProposed(**IDS, node_id="a", label="lookup"),
                   NodeStarted(**IDS, node_id="a", label="lookup"))
    assert progress.phase is Phase.PLANNING
    assert progress.nodes["a"].state is NodeState.RUNNING
    _, blocks = render_status(progress, 1.0, "k")
    assert "`a` lookup" in str(blocks)

    progress.apply(NodeFinished(**IDS, node_id="a", preview="value"))
    progress.apply(NodeProposed(**IDS, node_id="b", label="lookup"))
    progress.apply(PlanReady(**IDS, plan=PLAN))
    assert progress.phase is Phase.RUNNING
    assert progress.nodes["a"].state is NodeState.DONE
    assert progress.nodes["b"].state is NodeState.WAITING


def test_a_new_plan_replaces_the_old_plans_nodes() -> None:
    progress = run(Planning(**IDS, request="r"), PlanReady(**IDS, plan=PLAN),
                   NodeStarted(**IDS, node_id="a", label="lookup"),
                   NodeFinished(**IDS, node_id="a", preview="value"),
                   Planning(**IDS, request="r", replan=1),
                   NodeProposed(**IDS, node_id="c", label="lookup"))
    assert list(progress.nodes) == ["c"]
    # a replanned node of the same id starts afresh, not shown done from the old plan
    progress.apply(PlanReady(**IDS, plan={"nodes": [*PLAN["nodes"], {"id": "c", "tool": "lookup"}]}))
    assert progress.nodes["a"].state is NodeState.WAITING


def test_without_streaming_the_plan_replaces_the_view_as_before() -> None:
    progress = run(Planning(**IDS, request="r"), PlanReady(**IDS, plan=PLAN),
                   NodeFinished(**IDS, node_id="a", preview="value"),
                   Planning(**IDS, request="r", replan=1), PlanReady(**IDS, plan=PLAN))
    assert progress.nodes["a"].state is NodeState.WAITING
