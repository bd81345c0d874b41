"""A sum, count, average or share over a data file read whole, with nothing in the plan to
compute it, is told to the repair round (agent/plan/uncomputed.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.events import PlanReady, PlanRepairing
from agent.plan.format import Plan
from agent.plan.uncomputed import asked_values, uncomputed_values
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once


def registry(workspace: Path) -> ToolRegistry:
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=workspace)))
    return tools


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


READ: dict[str, object] = {"id": "orders", "tool": "read_file", "args": {"path": "data/orders.csv"}}
SUM: dict[str, object] = {"id": "total", "depends_on": ["orders"], "package": {
    "goal": "sum the amount column",
    "code": "import csv, io\nrows = csv.DictReader(io.StringIO(inputs['orders']['content']))\n"
            "result = sum(float(r['amount']) for r in rows)"}}


@pytest.mark.parametrize(("request_text", "kinds"), [
    ("What is the total of the amount column in data/orders.csv?", ["sum"]),
    ("How many rows of data/orders.csv have the status failed?", ["count"]),
    ("Add up the amounts in data/orders.csv", ["sum"]),
    ("What's the mean duration in ci/builds.csv?", ["average"]),
    ("What percentage of the backups succeeded?", ["share"]),
    ("What is the backup success rate?", ["share"]),
    ("Which consumers in queue/consumers.json are stalled?", []),
    ("What is the rate limit in config.json?", []),
])
def test_the_request_s_words_name_the_value_it_asks_for(request_text: str, kinds: list[str]) -> None:
    assert asked_values(request_text) == kinds


def test_a_data_file_read_alone_for_a_sum_is_a_problem(tmp_path: Path) -> None:
    [problem] = uncomputed_values(plan(READ), registry(tmp_path),
                                  "What is the total of the amount column in data/orders.csv?")
    assert (problem.node, problem.field) == ("orders", None)
    assert str(problem) == (
        "node 'orders': reads data/orders.csv whole, and the request asks for a sum over it, which no node "
        "computes: the answer is written by a model that words results and does not add up rows. Add a "
        "package that reads inputs['orders'] (its text, parsed in Python), computes the sum and sets result "
        "to it; the answer then states that result")
    page = plan({"id": "status", "tool": "http_get", "args": {"url": "http://127.0.0.1:8080/status.json"}})
    assert [p.node for p in uncomputed_values(page, registry(tmp_path),
                                              "What is the average p99 on status.json?")] == ["status"]


def test_a_plan_that_computes_or_a_value_a_file_states_is_not_a_problem(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    asked = "What is the total of the amount column in data/orders.csv?"
    assert uncomputed_values(plan(READ, SUM), tools, asked) == []  # a package computes it
    search = plan({"id": "errors", "tool": "search_files", "args": {"query": "ERROR", "pattern": "logs/app.log"}})
    assert uncomputed_values(search, tools, "How many ERROR lines are in logs/app.log?") == []  # its matches
    settings = plan({"id": "deploy", "tool": "read_file", "args": {"path": "deploy.yaml"}})
    assert uncomputed_values(settings, tools, "How many replicas does deploy.yaml ask for?") == []
    assert uncomputed_values(plan(READ), tools, "Which orders in data/orders.csv are open?") == []
    listed = plan({"id": "files", "tool": "list_files", "args": {"path": "data"}},
                  {"id": "read", "tool": "read_file", "depends_on": ["files"], "args": {"path": "${files.files.0}"}})
    assert uncomputed_values(listed, tools, "How many orders are there in total?") == []  # no data file named


async def test_the_repair_round_is_told_and_the_repaired_plan_computes(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,amount\nA,10\nB,32.5\n")
    llm = ScriptedChatModel(replies=[{"nodes": [READ]}, {"nodes": [READ, SUM]}, "The total is ${total}."])
    seen = await asked_once(llm, registry(tmp_path), "uncomputed-1",
                            "What is the total of the amount column in data/orders.csv?")
    [repairing] = [e for e in seen if isinstance(e, PlanRepairing)]
    assert [p.split(":")[0] for p in repairing.problems] == ["node 'orders'"]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert [node["id"] for node in ready.plan["nodes"]] == ["orders", "total"]
