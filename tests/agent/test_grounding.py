"""A red node's literal target must be one the request (or the thread) names."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.plan.grounding import (
    mended_changes,
    named_targets,
    ungrounded_changes,
    without_nodes,
    without_unnamed_options,
)
from agent.plan.validation import validate_plan
from agent.tools.registry import Risk
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


class MailArgs(BaseModel):
    to: str
    body: str
    cc: str | None = None


def test_an_optional_target_named_nowhere_is_left_out_and_the_change_kept() -> None:
    registry = simulated_registry(ToolLog())

    async def mail(to: str, body: str, cc: str | None = None) -> str:
        return "sent"

    registry.add(StructuredTool.from_function(coroutine=mail, name="mail", description="Mail.",
                                              args_schema=MailArgs), Risk.RED)
    request = "Mail the result to oncall@example.com"
    plan = validate_plan({"nodes": [
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "m", "tool": "mail", "args": {"to": "oncall@example.com", "body": "${a}",
                                             "cc": "dagbot@localhost"}}]}, registry)
    problems = ungrounded_changes(plan, registry, request)
    assert [(p.node, p.field) for p in problems] == [("m", "args.cc")]
    kept, left = without_unnamed_options(plan, problems, registry)
    assert left == []
    assert kept.nodes[1].args == {"to": "oncall@example.com", "body": "${a}"}  # the mail stays, no cc
    assert ungrounded_changes(kept, registry, request) == []
    # a required target named nowhere stays the node's problem, and the plan is as it was
    elsewhere = plan.model_copy(update={"nodes": [plan.nodes[0], plan.nodes[1].model_copy(
        update={"args": {"to": "x@example.org", "body": "${a}"}})]})
    problems = ungrounded_changes(elsewhere, registry, request)
    assert without_unnamed_options(elsewhere, problems, registry) == (elsewhere, problems)
    # several addresses in one text, or a list: each is a target (broad mail-owners' replan cc'd
    # four, one named nowhere); those the thread holds pass
    known = [{"owners": {"status": "done", "output": "luis@example.com, mei@example.com"}}]
    for cc in ("hannah@example.com, luis@example.com; mei@example.com", ["luis@example.com", "hannah@example.com"]):
        listed = plan.model_copy(update={"nodes": [plan.nodes[0], plan.nodes[1].model_copy(
            update={"args": {"to": "oncall@example.com", "body": "${a}", "cc": cc}})]})
        [problem] = ungrounded_changes(listed, registry, request, known)
        assert (problem.node, problem.field) == ("m", "args.cc") and "'hannah@example.com'" in problem.message
        kept, _ = without_unnamed_options(listed, [problem], registry)
        assert "cc" not in kept.nodes[1].args
    both = plan.model_copy(update={"nodes": [plan.nodes[0], plan.nodes[1].model_copy(
        update={"args": {"to": "oncall@example.com", "body": "${a}", "cc": "luis@example.com mei@example.com"}})]})
    assert ungrounded_changes(both, registry, request, known) == []


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
    assert ungrounded_changes(send("reports/done.txt"), REGISTRY, "Tell the team it is done") == []
    lookup = validate_plan({"nodes": [{"id": "l", "tool": "lookup", "args": {"key": "other.txt"}}]}, REGISTRY)
    assert ungrounded_changes(lookup, REGISTRY, "Look up done.txt") == []


def test_a_request_naming_only_what_the_plan_reads_leaves_the_change_to_the_plan() -> None:
    read_then_send = validate_plan({"nodes": [
        {"id": "page", "tool": "lookup", "args": {"key": "ops.example.com/incidents.json"}},
        {"id": "s", "tool": "send", "why": "asked", "args": {"to": "team@example.org", "body": "${page}"}}]},
        REGISTRY)
    request = "Send the incidents of ops.example.com/incidents.json to the team"
    assert ungrounded_changes(read_then_send, REGISTRY, request, known=["team: team@example.org"]) == []
    another = "Send the incidents of ops.example.com/incidents.json to oncall@example.com"
    assert [p.node for p in ungrounded_changes(read_then_send, REGISTRY, another)] == ["s"]


def test_a_mail_to_an_address_named_nowhere_is_a_problem_whatever_the_request_names() -> None:
    """weekend follow-up-mail-assignee: "email them api-3's address from edge/haproxy.cfg" was
    planned as a mail to api-3@example.net, an address nothing named, and sent. A path or a
    URL the request leaves to the plan stays the plan's choice; an address is never made up."""
    read_then_send = validate_plan({"nodes": [
        {"id": "cfg", "tool": "lookup", "args": {"key": "edge/haproxy.cfg"}},
        {"id": "s", "tool": "send", "why": "asked", "args": {"to": "api-3@example.net", "body": "${cfg}"}}]},
        REGISTRY)
    request = "email them api-3's address from edge/haproxy.cfg"
    [problem] = ungrounded_changes(read_then_send, REGISTRY, request)
    assert problem.node == "s" and "'api-3@example.net' is an address named nowhere" in str(problem)
    assert ungrounded_changes(send("anyone@example.com"), REGISTRY, "Tell the team it is done") != []
    # named by the thread (a result of the turn before: the incident's assignee): whom to send to
    held = [{"assignee": {"name": "Maja Lindgren", "email": "API-3@example.net"}}]  # (any case)
    assert ungrounded_changes(read_then_send, REGISTRY, request, known=held) == []


def plan_of(*nodes: dict[str, Any], answer: str | None = None) -> Any:
    return validate_plan({"nodes": list(nodes), **({"answer": answer} if answer else {})}, REGISTRY)


READ = {"id": "log", "tool": "lookup", "args": {"key": "logs/app.log"}}


def test_a_change_aimed_elsewhere_is_aimed_at_the_one_target_the_request_names() -> None:
    request = "Write 'checked' to done.txt"
    mended = mended_changes(send("checked.txt", body="checked"), REGISTRY, request)
    assert [node.args for node in mended.nodes] == [{"to": "done.txt", "body": "checked"}]
    assert ungrounded_changes(mended, REGISTRY, request) == []
    # an address for an address, a path for a path: the one of the stray's own kind
    mail = mended_changes(plan_of(READ, {"id": "s", "tool": "send", "why": "asked",
                                         "args": {"to": "maria@example.com", "body": "${log}"}}),
                          REGISTRY, "Read logs/app.log, write it to out.txt and mail ops@example.com")
    assert mail.nodes[1].args["to"] == "ops@example.com"


def test_a_change_is_not_re_aimed_when_which_target_is_meant_is_not_plain() -> None:
    two = "Write 'checked' to done.txt or to other.txt"
    assert mended_changes(send("checked.txt"), REGISTRY, two).nodes[0].args["to"] == "checked.txt"
    # the one named target is already changed by another node: the stray is a second change
    both = plan_of({"id": "a", "tool": "send", "why": "asked", "args": {"to": "done.txt", "body": "x"}},
                   {"id": "b", "tool": "send", "why": "asked", "args": {"to": "copy.txt", "body": "x"}})
    assert [n.args["to"] for n in mended_changes(both, REGISTRY, "Write x to done.txt").nodes] == [
        "done.txt", "copy.txt"]
    # named in the thread: it is where the change goes
    known = mended_changes(send("notes.txt"), REGISTRY, "Write it to done.txt", ["earlier: see notes.txt"])
    assert known.nodes[0].args["to"] == "notes.txt"
    # a request naming only what the plan reads says nothing of where a change goes
    read_only = plan_of(READ, {"id": "s", "tool": "send", "why": "asked", "args": {"to": "x.txt", "body": "${log}"}})
    assert mended_changes(read_only, REGISTRY, "Summarise logs/app.log") is read_only


def test_the_reply_written_as_a_red_node_is_left_out() -> None:
    # "count the ERROR lines in logs/app.log": the count written over the log, as node "answer"
    over_the_log = plan_of(READ, {"id": "answer", "tool": "send", "why": "the count",
                                  "args": {"to": "logs/app.log", "body": "${log}"}})
    mended = mended_changes(over_the_log, REGISTRY, "Count the ERROR lines in logs/app.log")
    assert [n.id for n in mended.nodes] == ["log"]
    assert mended.answer == "${log}"  # what it would have written, made of results: the reply it meant
    elsewhere = plan_of(READ, {"id": "reply", "tool": "send", "why": "the count",
                               "args": {"to": "reports/errors.md", "body": "${log}"}},
                        answer="There are ${log} lines.")
    mended = mended_changes(elsewhere, REGISTRY, "How many lines has logs/app.log?")
    assert [n.id for n in mended.nodes] == ["log"] and mended.answer == "There are ${log} lines."
    literal = plan_of(READ, {"id": "answer", "tool": "send", "why": "done", "args": {"to": "x.txt", "body": "done"}})
    assert mended_changes(literal, REGISTRY, "Read logs/app.log").answer is None  # no result in it: the joiner


def test_a_node_called_answer_stays_when_the_request_asks_for_a_change_or_something_needs_it() -> None:
    write = plan_of(READ, {"id": "answer", "tool": "send", "why": "asked",
                           "args": {"to": "answer.txt", "body": "${log}"}})
    asked = "Read logs/app.log and write the answer to answer.txt"
    assert mended_changes(write, REGISTRY, asked) is write
    needed = plan_of(READ, {"id": "answer", "tool": "send", "why": "the count",
                            "args": {"to": "logs/app.log", "body": "${log}"}}, answer="Done: ${answer}")
    assert mended_changes(needed, REGISTRY, "Count the lines of logs/app.log") is needed
    by_reference = plan_of(READ, {"id": "answer", "tool": "send", "why": "asked",
                                  "args": {"to": "${log}", "body": "hi"}})
    assert mended_changes(by_reference, REGISTRY, "Mail whoever logs/app.log names") is by_reference
