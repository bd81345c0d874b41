"""A red node's literal target must be one the request (or the thread) names."""

from __future__ import annotations

from typing import Any

from agent.plan.grounding import named_targets, ungrounded_changes, without_nodes
from agent.plan.validation import validate_plan
from tests.fakes.tools import ToolLog, simulated_registry

REGISTRY = simulated_registry(ToolLog())


def send(to: str, body: str = "hi") -> Any:
    return validate_plan({"nodes": [{"id": "s", "tool": "send", "why": "asked", "args": {"to": to, "body": body}}]},
                         REGISTRY)


def test_named_targets_are_file_names_paths_addresses_and_urls() -> None:
    text = "Write 'checked' to done.txt, mail ops@example.com and read logs/app.log at http://127.0.0.1:8/x.json."
    assert named_targets(text) == {"done.txt", "ops@example.com", "logs/app.log", "127.0.0.1:8/x.json"}
    assert named_targets("Deploy the api to prod, then tell me") == set()


def test_a_target_the_request_does_not_name_is_a_problem_that_says_what_to_do() -> None:
    [problem] = ungrounded_changes(send("checked.txt"), REGISTRY, "Write 'checked' to done.txt")
    assert (problem.node, problem.field) == ("s", "args.to")
    assert "'checked.txt' is named nowhere" in problem.message
    # the target the request names is said, so that a small model mends the node, not drops it
    assert "to the target it names ('done.txt'), keeping the node" in problem.message
    assert "leave this node out only if the request asks for no change" in problem.message


def test_a_node_aimed_elsewhere_is_left_out_only_when_nothing_needs_it() -> None:
    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "s", "tool": "send", "why": "copy", "args": {"to": "x@example.org", "body": "${a}"}}]}, REGISTRY)
    problems = ungrounded_changes(plan, REGISTRY, "Look a up in a.txt")
    kept = without_nodes(plan, problems)
    assert kept is not None and [n.id for n in kept.nodes] == ["a"]
    answered = plan.model_copy(update={"answer": "Sent: ${s}"})
    assert without_nodes(answered, problems) is None  # the answer needs it: repaired or refused


def test_named_targets_paths_under_them_and_text_arguments_pass() -> None:
    assert ungrounded_changes(send("done.txt"), REGISTRY, "Write 'checked' to done.txt") == []
    assert ungrounded_changes(send("reports/done.txt"), REGISTRY, "Write 'checked' to done.txt") == []
    body = send("done.txt", body="checked at 09:40, see runbook.md")  # text with spaces: not a target
    assert ungrounded_changes(body, REGISTRY, "Write 'checked' to done.txt") == []


def test_a_target_from_the_thread_or_a_result_passes_and_references_are_not_checked() -> None:
    request = "Send the summary of notes.md to the owner"
    assert ungrounded_changes(send("maria@example.com"), REGISTRY, request, [{"owner": "maria@example.com"}]) == []
    reference = validate_plan({"nodes": [
        {"id": "owner", "tool": "lookup", "args": {"key": "owner"}},
        {"id": "s", "tool": "send", "why": "asked", "args": {"to": "${owner}", "body": "hi"}}]}, REGISTRY)
    assert ungrounded_changes(reference, REGISTRY, "Send notes.md to its owner") == []
    assert ungrounded_changes(send("maria@example.com"), REGISTRY, request) != []


def test_a_request_that_names_no_target_leaves_the_choice_to_the_plan_and_green_nodes_are_free() -> None:
    assert ungrounded_changes(send("anyone@example.com"), REGISTRY, "Tell the team it is done") == []
    lookup = validate_plan({"nodes": [{"id": "l", "tool": "lookup", "args": {"key": "other.txt"}}]}, REGISTRY)
    assert ungrounded_changes(lookup, REGISTRY, "Look up done.txt") == []


def test_a_request_naming_only_what_the_plan_reads_leaves_the_change_to_the_plan() -> None:
    read_then_send = validate_plan({"nodes": [
        {"id": "page", "tool": "lookup", "args": {"key": "ops.example.com/incidents.json"}},
        {"id": "s", "tool": "send", "why": "asked", "args": {"to": "team@example.org", "body": "${page}"}}]},
        REGISTRY)
    request = "Send the incidents of ops.example.com/incidents.json to the team"
    assert ungrounded_changes(read_then_send, REGISTRY, request) == []
    another = "Send the incidents of ops.example.com/incidents.json to oncall@example.com"
    assert [p.node for p in ungrounded_changes(read_then_send, REGISTRY, another)] == ["s"]
