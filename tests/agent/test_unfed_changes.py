"""A change that takes nothing from what its plan reads (agent/plan/unfed_changes.py): what it
sends or writes was written before anything was read, so the repair round is told to refer to
a result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.engine.refed_changes import with_computed_texts
from agent.events import AwaitingApproval, PlanRepairing, RunEvent
from agent.plan.format import Plan
from agent.plan.unfed_changes import computable_statements, stated_values, unfed_changes
from agent.plan.validation import validate_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, asked_once, finish, services_on
from tests.fakes.packages import ScriptedPackages
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


API3 = "email them api-3's address from edge/haproxy.cfg"
CFG = {"id": "cfg", "tool": "read_file", "args": {"path": "edge/haproxy.cfg"}}
GUESSED = {"id": "mail", "tool": "send_email", "args": {"to": "maja@example.net",
                                                        "body": "The IP address of api-3 is 10.0.0.1."}}


def builtin(workspace: Path) -> ToolRegistry:
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=workspace),
                                                    smtp=SmtpConfig(host="127.0.0.1", port=2525)))
    return tools


def test_a_change_that_states_a_value_from_nowhere_goes_to_the_repair_round(tmp_path: Path) -> None:
    """weekend follow-up-mail-assignee: the mail said api-3 was at 10.0.0.1; the file says 10.0.3.23."""
    tools = builtin(tmp_path)
    [problem] = stated_values(plan(CFG, GUESSED), tools, API3)
    assert (problem.node, problem.field) == ("mail", "args.body") and problem.message.startswith(
        "states '10.0.0.1', which neither the request nor the thread holds")
    assert stated_values(plan(GUESSED), tools, API3) == []  # nothing read: nothing to take it from
    said = {**GUESSED, "args": {**GUESSED["args"], "body": "api-3 is at ${cfg.content}"}}
    assert stated_values(plan(CFG, said), tools, API3) == []  # it takes the read's
    for request, earlier in ((API3 + ": 10.0.0.1", []), (API3, [["where is api-3?", "At 10.0.0.1.", {}]])):
        assert stated_values(plan(CFG, GUESSED), tools, request, earlier) == []  # the request's, the thread's
    dated = {**GUESSED, "args": {**GUESSED["args"], "body": "Checked on 2026-11-28 at 10:00, release 1.8"}}
    assert [p.message.split(",")[0] for p in stated_values(plan(CFG, dated), tools, API3)] == ["states '1.8'"]
    # a tool whose text is no statement (an unknown tool's, a query's: SQL has its own check)
    sim = registry()
    unknown = {"id": "mail", "tool": "send", "args": {"to": "maja@example.net", "body": "api-3 is at 10.0.0.1."}}
    assert stated_values(plan({"id": "cfg", "tool": "lookup", "args": {"key": "cfg"}}, unknown), sim, API3) == []


def test_a_value_from_nowhere_left_after_the_repair_round_is_computed_from_the_reads(tmp_path: Path) -> None:
    tools = builtin(tmp_path)
    red = tools.names(Risk.RED)
    computed = with_computed_texts(plan(CFG, GUESSED), stated_values(plan(CFG, GUESSED), tools, API3), API3, red)
    assert computed is not None
    assert [(n.id, n.depends_on) for n in computed.nodes] == [("cfg", []), ("computed", ["cfg"]),
                                                              ("mail", ["computed"])]
    assert computed.nodes[2].args == {"to": "maja@example.net", "body": "${computed}"}
    assert computed.nodes[1].package is not None and API3 in computed.nodes[1].package.goal
    # a read that waits on the changed node, or another change, is none of the package's inputs:
    # it would wait on what waits on it
    after = {"id": "check", "tool": "read_file", "args": {"path": "${mail.message_id}.txt"}}
    told = {"id": "tell", "tool": "send_email", "args": {"to": "ops@example.net", "body": "mailed: ${mail}"}}
    drafted = plan(CFG, GUESSED, after, told)
    computed = with_computed_texts(drafted, stated_values(drafted, tools, API3), API3, red)
    assert computed is not None
    assert {n.id: n.depends_on for n in computed.nodes}["computed"] == ["cfg"]
    assert validate_plan(computed.model_dump(exclude_none=True), tools) is not None  # no cycle


async def test_the_approver_sees_the_computed_value_not_the_models(tmp_path: Path) -> None:
    (tmp_path / "edge").mkdir()
    (tmp_path / "edge" / "haproxy.cfg").write_text("server api-3 10.0.3.23:9000 check\n")
    packages = ScriptedPackages(outputs={"computed": lambda inputs: "10.0.3.23:9000"})
    draft = {"nodes": [CFG, GUESSED]}
    llm = ScriptedChatModel(replies=[draft, draft, finish("Sent.")])
    async with services_on(MEMORY, llm, builtin(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("stated-1", "email maja@example.net api-3's address from edge/haproxy.cfg")
        seen: list[RunEvent] = []
        while not events.empty():
            seen.append(events.get_nowait())
    assert "states '10.0.0.1'" in str(llm.calls[1][-1].content)  # told once
    [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert asked.node_id == "mail" and asked.args["body"] == "10.0.3.23:9000"


def test_a_files_whole_content_is_no_statement_a_computed_value_stands_in_for(tmp_path: Path) -> None:
    """A write of a file's whole text with a guessed port goes to the repair round like any
    guess, but after it runs as written, for its approver to judge: a computed value would be
    no file. A mail, or one line of text, takes the computed value."""
    tools = builtin(tmp_path)
    read = {"id": "deploy", "tool": "read_file", "args": {"path": "deploy.yaml"}}
    whole = {"id": "w", "tool": "write_file", "args": {"path": "deploy.yaml",
                                                       "content": "replicas: 3\nport: 8080\n"}}
    line = {"id": "w", "tool": "write_file", "args": {"path": "reports/ip.txt", "content": "api-3: 10.0.0.1"}}
    mail = {"id": "m", "tool": "send_email", "args": {"to": "a@example.net", "subject": "api-3",
                                                      "body": "Hi,\n\napi-3 is at 10.0.0.1.\n"}}
    for node, kept in ((whole, False), (line, True), (mail, True)):
        drafted = plan(read, node)
        stated = stated_values(drafted, tools, "set replicas to 3 in deploy.yaml; mail a@example.net")
        assert stated and bool(computable_statements(drafted, stated, tools)) is kept, node
