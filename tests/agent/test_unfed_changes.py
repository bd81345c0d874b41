"""A change that takes nothing from what its plan reads (agent/plan/unfed_changes.py): what it
sends or writes was written before anything was read, so the repair round is told to refer to
a result."""

from __future__ import annotations

from typing import Any

from agent.events import AwaitingApproval, PlanRepairing, RunEvent
from agent.plan.format import Plan
from agent.plan.unfed_changes import unfed_changes
from agent.tools.registry import ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish
from tests.fakes.tools import ToolLog, simulated_registry

STATUS = "http://127.0.0.1:8000/status.json"
MAIL_STATUS = f"Email a one-line summary of {STATUS} to team@example.com"


def plan(*nodes: dict[str, Any]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


def registry() -> ToolRegistry:
    return simulated_registry(ToolLog())


def test_a_change_made_up_before_the_reads_goes_to_the_repair_round() -> None:
    tools = registry()
    made_up = plan({"id": "status", "tool": "lookup", "args": {"key": STATUS}},
                   {"id": "mail", "tool": "send", "args": {"to": "team@example.com",
                                                          "body": "One-line summary of status.json"}})
    [problem] = unfed_changes(made_up, tools, MAIL_STATUS)
    assert problem.node == "mail" and problem.message == (
        "takes nothing from what the plan reads ('status'): a plan is written before anything is read, "
        "so what it sends or writes must refer to a result (${status}, ${status.FIELD}) or to a package "
        "that writes the text from inputs['status']")
    fed = plan({"id": "status", "tool": "lookup", "args": {"key": STATUS}},
               {"id": "mail", "tool": "send", "args": {"to": "team@example.com", "body": "Status: ${status}"}})
    assert unfed_changes(fed, tools, MAIL_STATUS) == []


def test_a_change_in_its_own_words_the_request_quotes_or_the_thread_holds_is_left_alone() -> None:
    tools = registry()
    own_words = plan({"id": "web", "tool": "lookup", "args": {"key": "web.example.com"}},
                     {"id": "mail", "tool": "send", "args": {"to": "ops@example.com", "body": "deploy done"}})
    assert unfed_changes(own_words, tools, "Mail ops that the deploy is done and check web.example.com") == []
    quoted = plan({"id": "page", "tool": "lookup", "args": {"key": "notes/page.md"}},
                  {"id": "note", "tool": "send", "args": {"to": "seen.txt", "body": "seen page.md"}})
    assert unfed_changes(quoted, tools, "Show notes/page.md and write 'seen page.md' to seen.txt") == []
    earlier = [["Who is on call? See notes/oncall.md", "oncall.md says Maria Lopez is the primary.", {}]]
    named = plan({"id": "oncall", "tool": "lookup", "args": {"key": "notes/oncall.md"}},
                 {"id": "mail", "tool": "send", "args": {"to": "ops@example.com",
                                                         "body": "oncall.md says maria lopez is the primary."}})
    assert unfed_changes(named, tools, "Email that to ops@example.com", earlier) == []
    assert unfed_changes(named, tools, "Email that to ops@example.com") != []
    deploy = plan({"id": "status", "tool": "lookup", "args": {"key": "web.yaml"}},
                  {"id": "ship", "tool": "deploy", "args": {"target": "web.yaml"}})
    assert unfed_changes(deploy, tools, "Check web.yaml and deploy it") == []  # a target is the request's


async def test_the_repair_round_refers_the_change_to_a_result_and_a_second_miss_runs_as_it_is() -> None:
    log = ToolLog()
    tools = simulated_registry(log)
    made_up = {"nodes": [{"id": "status", "tool": "lookup", "args": {"key": STATUS}},
                         {"id": "mail", "tool": "send", "args": {"to": "team@example.com",
                                                                  "body": "One-line summary of status.json"}}]}
    fed = {"nodes": [{"id": "status", "tool": "lookup", "args": {"key": STATUS}},
                     {"id": "mail", "tool": "send", "args": {"to": "team@example.com", "body": "${status}"}}]}
    llm = ScriptedChatModel(replies=[made_up, fed, finish("Sent.")])
    events: list[RunEvent] = await asked_once(llm, tools, "unfed-1", MAIL_STATUS)
    [repairing] = [e for e in events if isinstance(e, PlanRepairing)]
    assert "takes nothing from what the plan reads ('status')" in repairing.problems[0]
    assert "takes nothing from what the plan reads" in str(llm.calls[1][-1].content)
    [asked] = [e for e in events if isinstance(e, AwaitingApproval)]  # the repaired mail, with the result
    assert asked.node_id == "mail" and asked.args["body"] == f"value of {STATUS}"

    again = ScriptedChatModel(replies=[made_up, made_up, finish("Sent.")])
    events = await asked_once(again, tools, "unfed-2", MAIL_STATUS)
    assert len([e for e in events if isinstance(e, PlanRepairing)]) == 1
    [asked] = [e for e in events if isinstance(e, AwaitingApproval)]  # repaired alike: it runs as it is
    assert asked.args["body"] == "One-line summary of status.json"
