"""The pure parts of early start: which streamed nodes are complete, which are valid on their
own, and which work a repaired plan may carry over from its draft."""

from __future__ import annotations

import json

from agent.execution.context import EngineContext
from agent.execution.early_start import accept, complete_nodes, read_draft
from agent.execution.scheduler import PlanExecutor, RunIdentity
from agent.plan.format import Plan
from agent.plan.limits import PlanLimits
from agent.plan.readiness import NodeState
from agent.ports.stores import NodeResult, NodeStatus
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.fakes.tools import ToolLog, simulated_registry

PLAN = {"thought": "t", "nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
    {"id": "c", "package": {"goal": "g", "code": "result = tools.lookup(key='c')"}},
]}
REGISTRY = simulated_registry(ToolLog())
LIMITS = PlanLimits()


def test_a_node_is_complete_once_the_next_one_begins_or_the_list_ends() -> None:
    text = json.dumps(PLAN)
    seen = [len(complete_nodes(text[:end])) for end in range(len(text) + 1)]
    assert seen == sorted(seen)  # never goes back
    assert seen[-1] == 3
    cut = text.index('{"id": "b"') + len('{"id": "b"')
    assert complete_nodes(text[:cut]) == [PLAN["nodes"][0]]
    assert complete_nodes(text[:cut - len('{"id": "b"')]) == []  # a may still grow
    closed = json.dumps({"nodes": PLAN["nodes"][:1], "thought": "after"})
    assert complete_nodes(closed[:closed.index('"after"') + 3]) == PLAN["nodes"][:1]
    assert complete_nodes("not json") == [] and complete_nodes('{"thought": "x"') == []


def test_a_plain_fan_out_item_is_complete_at_its_closing_quote_an_object_or_number_after_it() -> None:
    def items(text: str) -> list[object] | None:
        fan_out = read_draft(text).fan_out()
        return None if fan_out is None else fan_out[1]

    head = '{"nodes": [{"tool": "lookup", "each": ["a b", '
    assert items(head) == ["a b"]
    assert items(head + '"c d"') == ["a b", "c d"]  # (bench.e2e: the last lookup one token sooner)
    assert items(head + '"c d') == ["a b"]  # the string may still grow
    assert items(head + '"c \\"') == ["a b"]  # an escaped quote does not close it
    assert items(head + '"') == ["a b"]
    assert items(head + "12") == ["a b"]  # may be 123
    assert items('{"nodes": [{"tool": "lookup", "each": [{"key": "a"}') == []  # a key may follow
    assert items(head + '"c d"]}') == ["a b", "c d"]
    assert items(head + '"a b"') == ["a b", "a b"]  # the same value twice
    assert items(head + '"a b') == ["a b"]  # (the first's value, but still open)


def test_a_call_is_known_once_its_args_close_and_not_before() -> None:
    head = '{"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "opts": {"x": 1}'
    assert read_draft(head).call_written() is None  # args still open (after a nested object)
    assert read_draft(head + "}").call_written() == {"id": "a", "tool": "lookup", "args": {"key": "a", "opts": {"x": 1}}}
    assert read_draft(head + '}, "depends_on": [').call_written() is None  # args are not the last key
    fan_out = '{"nodes": [{"id": "a", "tool": "lookup", "each": ["a"], "args": {"key": "a"}}'
    assert read_draft(fan_out).call_written() is None  # a fan-out's calls are its items'


def test_a_written_node_streams_as_the_formats_fields() -> None:
    """The planner's form, a tool's name as the key of its args or items, starts as early."""
    head = '{"nodes": [{"id": "a", "lookup": {"key": "a"'
    assert read_draft(head).call_written() is None
    assert read_draft(head + "}").call_written() == {"id": "a", "tool": "lookup", "args": {"key": "a"}}
    assert read_draft(head + '}, "depends_on": [').call_written() is None
    fan_out = read_draft('{"nodes": [{"id": "m", "lookup": ["a b", "c d"').fan_out()
    assert fan_out is not None and fan_out[1] == ["a b", "c d"] and fan_out[0]["tool"] == "lookup"
    assert read_draft('{"nodes": [{"id": "m", "lookup": ["a b", "c d').fan_out() == (
        {"id": "m", "tool": "lookup", "each": ["a b", "c d"]}, ["a b"])


def test_a_node_is_accepted_alone_only_when_valid_with_known_dependencies() -> None:
    a = accept(PLAN["nodes"][0], [], REGISTRY, LIMITS)
    assert a is not None and a.id == "a"
    assert accept(PLAN["nodes"][1], [], REGISTRY, LIMITS) is None  # a not known yet
    b = accept(PLAN["nodes"][1], [a], REGISTRY, LIMITS)
    assert b is not None and b.depends_on == ["a"]
    assert accept({"id": "a", "tool": "lookup", "args": {"key": "again"}}, [a], REGISTRY, LIMITS) is None
    assert accept({"id": "t", "tool": "teleport"}, [a], REGISTRY, LIMITS) is None
    assert accept({"id": "l", "tool": "lookup", "args": {"nope": 1}}, [a], REGISTRY, LIMITS) is None
    assert accept({"id": "p", "package": {"goal": "g", "code": "tools.deploy(target='x')"}}, [],
                  REGISTRY, LIMITS) is None  # red tool in a package
    assert accept(PLAN["nodes"][2], [], REGISTRY, LIMITS) is not None
    assert accept("junk", [], REGISTRY, LIMITS) is None


def executor(plan_id: str, nodes: list[dict[str, object]]) -> PlanExecutor:
    ctx = EngineContext(llm=ScriptedChatModel(), registry=REGISTRY, approvals=None,  # type: ignore[arg-type]
                        executions=None, results=None)  # type: ignore[arg-type]
    ident = RunIdentity(thread_id="t", run_id="r", plan_id=plan_id, requested_by=None)
    return PlanExecutor(ctx, Plan.model_validate({"nodes": nodes}), ident)


def test_carried_work_needs_the_same_definition_and_carried_inputs() -> None:
    draft = executor("p1", [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "${a}"}, "depends_on": ["a"]},
        {"id": "c", "tool": "lookup", "args": {"key": "c"}},
    ])
    for node_id in ("a", "b", "c"):
        draft.states[node_id] = NodeState.DONE
        draft.records[node_id] = NodeResult(node_id, NodeStatus.DONE, output=f"out {node_id}")
    repaired = executor("p1", [
        {"id": "a", "tool": "lookup", "args": {"key": "A"}},   # changed
        {"id": "b", "tool": "lookup", "args": {"key": "${a}"}, "depends_on": ["a"]},  # same, input changed
        {"id": "c", "tool": "lookup", "args": {"key": "c"}},   # same
    ])
    repaired._take_over(draft)
    assert repaired.carried == {"c"} and repaired.outputs == {"c": "out c"}
    assert repaired.states == {"c": NodeState.DONE}


def test_a_result_saved_early_for_a_node_the_validated_plan_changed_is_not_taken_for_its_own() -> None:
    """broad p1-hours: a draft's GET of an address nobody named started early, failed, and was
    saved under the plan's id; the validated plan read the named file under the same id, and the
    GET's failure was loaded as that read's result."""
    draft = executor("p1", [{"id": "a", "tool": "lookup", "args": {"key": "elsewhere"}},
                            {"id": "c", "tool": "lookup", "args": {"key": "c"}}])
    validated = executor("p1", [{"id": "a", "tool": "lookup", "args": {"key": "named"}},  # mended
                                {"id": "c", "tool": "lookup", "args": {"key": "c"}}])
    for node_id, status in (("a", NodeStatus.FAILED), ("c", NodeStatus.DONE)):  # as _load finds them
        validated.records[node_id] = NodeResult(node_id, status, output=None if node_id == "a" else "out c")
        validated.states[node_id] = NodeState(status.value)
    validated.outputs["c"] = "out c"
    validated._take_over(draft)
    assert validated.states == {"c": NodeState.DONE} and validated.carried == {"c"}
    assert "a" not in validated.records and validated.outputs == {"c": "out c"}


def test_a_result_saved_early_from_a_node_the_validated_plan_changed_is_dropped_too() -> None:
    """tuning deploy-counts: a draft's count with a filter nobody named ran early, and a package
    computed from it; the mend dropped the filter, and the package's result, saved under the same
    plan id, was still loaded and shown (4 deploys of 5)."""
    draft = executor("p1", [{"id": "a", "tool": "lookup", "args": {"key": "filtered"}},
                            {"id": "b", "tool": "lookup", "args": {"key": "${a}"}, "depends_on": ["a"]},
                            {"id": "c", "tool": "lookup", "args": {"key": "${b}"}, "depends_on": ["b"]},
                            {"id": "d", "tool": "lookup", "args": {"key": "d"}}])
    validated = executor("p1", [{"id": "a", "tool": "lookup", "args": {"key": "whole"}},  # mended
                                {"id": "b", "tool": "lookup", "args": {"key": "${a}"}, "depends_on": ["a"]},
                                {"id": "c", "tool": "lookup", "args": {"key": "${b}"}, "depends_on": ["b"]},
                                {"id": "d", "tool": "lookup", "args": {"key": "d"}}])
    for node_id in ("a", "b", "c", "d"):  # as _load finds them
        validated.records[node_id] = NodeResult(node_id, NodeStatus.DONE, output=f"out {node_id}")
        validated.states[node_id] = NodeState.DONE
        validated.outputs[node_id] = f"out {node_id}"
    validated._take_over(draft)
    assert validated.states == {"d": NodeState.DONE} and validated.carried == {"d"}
    assert set(validated.records) == {"d"} and validated.outputs == {"d": "out d"}


def test_a_node_naming_a_tool_the_requester_may_not_use_never_starts_early() -> None:
    refused = {"lookup": "only @sre may use 'lookup'"}
    assert accept(PLAN["nodes"][0], [], REGISTRY, LIMITS) is not None
    assert accept(PLAN["nodes"][0], [], REGISTRY, LIMITS, refused) is None
    # package code calling it is refused as well
    assert accept(PLAN["nodes"][2], [], REGISTRY, LIMITS, refused) is None
