"""A change's text given a tool's whole result is told to the repair round
(agent/plan/whole_results.py)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.tools import StructuredTool

from agent.events import AwaitingApproval, PlanRepairing
from agent.plan.format import Plan
from agent.plan.whole_results import whole_results_in_changes
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.fakes.tools import ToolLog, simulated_registry


def registry(tmp: str) -> ToolRegistry:
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=Path(tmp))))
    return tools


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


SEARCH: dict[str, object] = {"id": "count", "tool": "search_files", "args": {"query": "ERROR", "pattern": "logs/app.log"}}


def test_a_whole_search_result_written_to_a_file_is_a_problem(tmp_path: object) -> None:
    """tuning follow-up-write: "write that number to reports/count.txt" wrote the search's JSON."""
    dumped = plan(SEARCH, {"id": "write", "tool": "write_file", "depends_on": ["count"],
                           "args": {"path": "reports/count.txt", "content": "${count}"}})
    [problem] = whole_results_in_changes(dumped, registry(str(tmp_path)))
    assert (problem.node, problem.field) == ("write", "args.content")
    assert problem.message == (
        "is ${count}, search_files's whole result (an object: files_searched, matches, note, truncated), "
        "which would be written out as JSON: name the field meant (${count.FIELD}) or compute the value "
        "asked for in a package from it")
    inline = plan(SEARCH, {"id": "write", "tool": "write_file", "depends_on": ["count"],
                           "args": {"path": "reports/count.txt", "content": "Errors: ${count}"}})
    assert len(whole_results_in_changes(inline, registry(str(tmp_path)))) == 1


def test_a_field_a_package_or_a_green_node_is_not_a_problem(tmp_path: object) -> None:
    tools = registry(str(tmp_path))
    field = plan({"id": "page", "tool": "read_file", "args": {"path": "a.md"}},
                 {"id": "write", "tool": "write_file", "depends_on": ["page"],
                  "args": {"path": "b.md", "content": "${page.content}"}})
    assert whole_results_in_changes(field, tools) == []
    package = plan(SEARCH, {"id": "n", "depends_on": ["count"], "package": {
        "goal": "count", "code": "result = len(inputs['count']['matches'])"}},
        {"id": "write", "tool": "write_file", "depends_on": ["n"], "args": {"path": "c.txt", "content": "${n}"}})
    assert whole_results_in_changes(package, tools) == []  # a package's output is the value it made
    green = plan(SEARCH, {"id": "again", "tool": "search_files", "depends_on": ["count"],
                          "args": {"query": "${count}"}})
    assert whole_results_in_changes(green, tools) == []  # nothing changes: its failure says enough


async def test_the_repair_round_is_told_and_the_repaired_plan_asks_for_its_approval() -> None:
    log = ToolLog()
    tools = simulated_registry(log)

    async def status() -> dict[str, str]:
        return {"state": "degraded", "since": "09:40"}
    tools.add(StructuredTool.from_function(coroutine=status, name="status", description="The shop's status."),
              Risk.GREEN, returns=("state", "since"))
    dumped = {"nodes": [{"id": "s", "tool": "status", "args": {}},
                        {"id": "m", "tool": "send", "args": {"to": "a@example.com", "body": "${s}"}}]}
    fixed = {"nodes": [{"id": "s", "tool": "status", "args": {}},
                       {"id": "m", "tool": "send", "args": {"to": "a@example.com", "body": "${s.state}"}}]}
    llm = ScriptedChatModel(replies=[dumped, fixed])
    seen = await asked_once(llm, tools, "whole-1", "Send the shop's status to a@example.com")
    [repairing] = [e for e in seen if isinstance(e, PlanRepairing)]
    assert repairing.problems == [
        "node 'm', field 'args.body': is ${s}, status's whole result (an object: since, state), which would be written out "
        "as JSON: name the field meant (${s.FIELD}) or compute the value asked for in a package from it"]
    [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert (asked.tool, asked.args) == ("send", {"to": "a@example.com", "body": "degraded"})
