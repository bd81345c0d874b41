"""Many tools (agent/model/tool_choice.py): the planner is shown the tools that matter for the
request, the others by name, and a plan may still call any tool, its arguments checked against
the tool's whole schema. On a deployment's catalogue: the built-in tools and four MCP servers'
(bench/tool_selection_catalogue.py), 56 tools."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from langchain_core.tools import StructuredTool

from agent.errors import PlanError
from agent.model.prompting import describe_tools, planner_messages, tools_for
from agent.model.tool_choice import CHOOSE_ABOVE, K1, SHOWN, bm25, named_in, words
from agent.plan.validation import validate_plan
from agent.state import AgentState, PastRun
from agent.tools.registry import Risk, ToolRegistry
from bench.tool_selection import catalogue

ALSO = "Also available (ask by name): "


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolRegistry]:
    yield catalogue(Path(tmp_path_factory.mktemp("workspace")))


def few(count: int) -> ToolRegistry:
    registry = ToolRegistry()
    for i in range(count):
        async def call(key: str) -> str:
            return key
        registry.add(StructuredTool.from_function(coroutine=call, name=f"tool{i}",
                                                  description=f"Look up key {i}."), Risk.GREEN)
    return registry


def test_up_to_the_threshold_every_tool_is_shown_as_before() -> None:
    registry = few(CHOOSE_ABOVE)
    choice = tools_for(AgentState(request="look up key 3"), registry)
    assert choice.shown == tuple(registry.names()) and choice.also == ()
    system = str(planner_messages(AgentState(request="look up key 3"), registry, 40)[0].content)
    assert describe_tools(registry) in system and ALSO not in system


def test_past_it_the_request_chooses_and_the_rest_are_named_on_one_line(many: ToolRegistry) -> None:
    state = AgentState(request="Get the last 200 log lines of pod checkout-7d9f in prod")
    choice = tools_for(state, many)
    assert "k8s__pods_log" in choice.shown and len(choice.shown) <= SHOWN
    assert set(choice.shown) | set(choice.also) == set(many.names())
    system = str(planner_messages(state, many, 40)[0].content)
    also = next(line for line in system.splitlines() if line.startswith(ALSO))
    assert also == ALSO + ", ".join(choice.also)
    assert "`k8s__pods_log(" in system and "`pagerduty__resolve_incident(" not in system
    assert len(describe_tools(many, choice)) < len(describe_tools(many)) / 2


def test_the_threads_earlier_tools_and_the_tools_a_request_names_are_always_shown(many: ToolRegistry) -> None:
    earlier = PastRun(request="r", answer="a", results={}, calls={"q": {"tool": "grafana__query_prometheus"}})
    state = AgentState(request="and for the last day? then use git_log and sql_execute", history=[earlier])
    shown = tools_for(state, many).shown
    assert {"grafana__query_prometheus", "git__git_log", "sql_execute"} <= set(shown)
    assert named_in("show the log", many.names()) == set()  # a one-word name on its server is too common


def test_a_repair_round_shows_the_tools_its_draft_called(many: ToolRegistry) -> None:
    draft = {"nodes": [{"id": "n", "pagerduty__reassign_incident": {"incident_id": 7}}]}
    state = AgentState(request="what is in the ops repo?", draft=draft,
                       plan_problems=["node 'n': bad arguments for 'pagerduty__reassign_incident'"])
    assert "pagerduty__reassign_incident" in tools_for(state, many).shown
    calm = AgentState(request="what is in the ops repo?", draft=draft)
    assert "pagerduty__reassign_incident" not in tools_for(calm, many).shown


def test_a_plan_may_call_a_tool_it_was_only_named_and_its_arguments_are_checked_in_full(
        many: ToolRegistry) -> None:
    choice = tools_for(AgentState(request="which pods are failing?"), many)
    assert "pagerduty__add_incident_note" in choice.also
    good = {"nodes": [{"id": "n", "tool": "pagerduty__add_incident_note", "why": "asked",
                       "args": {"incident_id": "PD-1", "note": "rolled back"}}]}
    assert validate_plan(good, many).nodes[0].tool == "pagerduty__add_incident_note"
    bad = {"nodes": [{"id": "n", "tool": "pagerduty__add_incident_note", "why": "asked",
                      "args": {"incident_id": "PD-1"}}]}
    with pytest.raises(PlanError, match="note"):
        validate_plan(bad, many)


def test_the_tools_shown_are_logged_with_the_run(many: ToolRegistry) -> None:
    state = AgentState(request="who is on call?", run_id="r-42")
    with structlog.testing.capture_logs() as logs:
        planner_messages(state, many, 40)
        planner_messages(AgentState(request="who is on call?", run_id="r-43"), few(3), 40)
    [entry] = [e for e in logs if e["event"] == "the planner is shown some of the tools"]
    assert entry["run_id"] == "r-42" and "pagerduty__list_oncalls" in entry["shown"]
    assert entry["named_only"] == len(many) - len(entry["shown"])


def test_bm25_scores_as_its_formula_says() -> None:
    scores = bm25(["a"], [["a", "b"], ["b", "c"], ["c", "d"]])
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    assert scores == [pytest.approx(idf * (K1 + 1) / (1 + K1)), 0.0, 0.0]
    assert bm25(["x"], []) == []
    assert words("Restarting the checkoutService pods") == ["restart", "checkout", "servic", "pod"]
    assert words("stage staged staging") == ["stag"] * 3
