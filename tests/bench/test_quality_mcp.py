"""bench.quality's MCP mode (``--mcp``, issue 45): the three catalogue servers over stdio through
dagbot's own MCP code, the MCP cases judged by what the servers recorded, and
needed_tool_shown_rate from the planner's prompts as the model server received them. The
model is the shared fake OpenAI-compatible server, scripted by request; the engine, the
servers and the tools are real."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bench.quality_mcp
from bench.quality import main, mcp_cases, parse
from bench.quality_cases import CASES, Kind
from bench.quality_checks import Observed
from bench.quality_mcp import McpCase, mcp_case
from bench.quality_mcp_mode import MCP_TOOLS, McpMode
from bench.quality_mcp_shown import request_of, shown_tools
from bench.quality_targets import Targets
from infra.emulators.model_server import ModelServer, as_reply
from infra.emulators.openai_wire import WireRequest
from infra.playground.demo.targets import MailSink

FIGURES = {"bench", "set", "model", "requests", "task_success", "first_plan_valid", "plan_valid_after_repair",
           "rule_adherence", "false_claims", "raw_answers", "invented_values", "wrong_effects", "model_calls",
           "tokens", "seconds_per_request"}
"""bench.quality's figures without ``--mcp`` (``wrong_effects`` since the thirty-second session): a
run without it has these keys only."""

Planner = Callable[[str], dict[str, Any]]


def node(id_: str, tool: str, args: dict[str, Any], why: str = "") -> dict[str, Any]:
    return {"id": id_, "tool": tool, "args": args, **({"why": why} if why else {})}


RIGHT: dict[str, dict[str, Any]] = {
    "Which PagerDuty incidents are open": node("open", "pagerduty__list_incidents",
                                               {"statuses": ["triggered", "acknowledged"]}),
    "What changed in the last commit": node("log", "git__git_log", {"repo_path": "/srv/checkout", "max_count": 1}),
    "Acknowledge PagerDuty incident": node("ack", "pagerduty__acknowledge_incident", {"incident_id": "PD-4821"},
                                           "the requester is working on it"),
    "What is the word on PD-4825": node("incident", "pagerduty__get_incident", {"incident_id": "PD-4825"}),
    "Show me logs/app.log": node("log", "read_file", {"path": "logs/app.log"}),
}
ANSWERS = {
    "Which PagerDuty incidents are open": "Two are open: PD-4821 (Checkout p99 latency above 2s, triggered) "
                                         "and PD-4825 (Ledger replica lag over 90s, acknowledged).",
    "What changed in the last commit": "The last commit, 9f3c2e1, raised the checkout DB pool size from 20 to 40.",
    "Acknowledge PagerDuty incident": "PD-4821 is acknowledged.",
    "What is the word on PD-4825": "PD-4825, Ledger replica lag over 90s, is acknowledged.",
    "Show me logs/app.log": "",
}
WORD_ON_INCIDENT = mcp_case("mcp-word-on-incident", Kind.READ, "What is the word on PD-4825?",
                            facts=(r"ledger replica",), needs=("pagerduty__get_incident",))
"""A request whose words name no tool: the tool it needs is not shown (only named)."""


def right_plans(request: str) -> dict[str, Any]:
    nodes = [plan for start, plan in RIGHT.items() if request.startswith(start)]
    return {"thought": "the tool that holds it", "nodes": nodes}


def wrong_plans(request: str) -> dict[str, Any]:
    """A planner that reads a file whatever it is asked (and so never calls an MCP tool)."""
    return {"thought": "read the notes", "nodes": [node("notes", "read_file", {"path": "notes/oncall.md"})]}


def model(planner: Planner, answered: bool = True) -> Callable[[WireRequest], Any]:
    def reply(request: WireRequest) -> Any:
        messages = request.body["messages"]
        asked = request_of("\n".join(str(m.get("content")) for m in messages if m["role"] == "user"))
        if request.role == "planner":
            return as_reply(request.body, planner(asked))
        if "logs/app.log" in asked:  # the joiner: what the results say
            return as_reply(request.body, "It shows a timeout and a 503 from the payment gateway.")
        answer = next((a for start, a in ANSWERS.items() if asked.startswith(start)), "")
        return as_reply(request.body, answer if answered else "I could not find that out.")
    return reply


def planner_systems(server: ModelServer) -> list[str]:
    """The planner's system prompts, as the server received them."""
    return [next(str(m["content"]) for m in r.body["messages"] if m["role"] == "system")
            for r in server.received if r.role == "planner"]


def planner_prompts(server: ModelServer) -> dict[str, frozenset[str]]:
    """Each request's first planner prompt's tools described in full, as the server received it."""
    found: dict[str, frozenset[str]] = {}
    for received in server.received:
        if received.role != "planner":
            continue
        messages = received.body["messages"]
        system = next(str(m["content"]) for m in messages if m["role"] == "system")
        body = "\n".join(str(m["content"]) for m in messages if m["role"] == "user")
        found.setdefault(request_of(body), shown_tools(system))
    return found


async def run(server: ModelServer, *argv: str) -> dict[str, Any]:
    return await main(parse(["--base-url", server.url, "--model", "fake", "--plan-output", "json_schema", *argv]))


async def test_mcp_connects_three_servers_and_its_cases_pass_with_the_right_calls(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench.quality_mcp, "CASES", (*bench.quality_mcp.CASES, WORD_ON_INCIDENT))
    with ModelServer(model(right_plans)) as server:
        result = await run(server, "--mcp", "--only", "^mcp-(open-incidents|last-commit|ack-incident|word-on-incident)$")
    out = capsys.readouterr().out
    assert result["requests"] == 4 and result["task_success"] == 1.0, out
    assert result["false_claims"] == 0
    assert set(result) == FIGURES | {"needed_tool_shown_rate", "needed_tool_requests", "tools_registered",
                                     "tools_shown"}
    assert MCP_TOOLS == 33 and 33 < result["tools_registered"] < 50  # the servers' and the built-in tools

    shown = planner_prompts(server)
    assert len(shown) == 4
    assert "pagerduty__get_incident" not in shown["What is the word on PD-4825?"]  # only named:
    assert any("pagerduty__get_incident" in system for system in planner_systems(server))
    assert "pagerduty__list_incidents" in shown["Which PagerDuty incidents are open right now?"]
    assert "pagerduty__acknowledge_incident" in shown["Acknowledge PagerDuty incident PD-4821, I'm on it."]
    git = shown["What changed in the last commit of the repository at /srv/checkout?"]
    assert "git__git_log" in git or "git__git_show" in git
    assert result["needed_tool_shown_rate"] == 0.75 and result["needed_tool_requests"] == 4
    assert result["tools_shown"] == round(sum(map(len, shown.values())) / 4, 1)
    assert all(len(tools) < result["tools_registered"] for tools in shown.values())  # some of them
    assert "mcp-word-on-incident: needs pagerduty__get_incident; not shown: pagerduty__get_incident" in out


async def test_an_mcp_case_fails_without_its_call_and_a_red_one_without_the_servers_record(tmp_path: Path) -> None:
    details = tmp_path / "details.jsonl"
    with ModelServer(model(wrong_plans, answered=False)) as server:
        result = await run(server, "--mcp", "--only", "^mcp-(open-incidents|ack-incident)$", "--details", str(details))
    assert result["requests"] == 2 and result["task_success"] == 0.0
    rows = {row["case"]: row for row in map(json.loads, details.read_text().splitlines())}
    assert "answer lacks /4821|checkout p99/" in rows["mcp-open-incidents"]["problems"]
    ack = rows["mcp-ack-incident"]["problems"]
    assert "never asked to approve ['pagerduty__acknowledge_incident']" in ack
    assert any(p.startswith("no pagerduty__acknowledge_incident call") for p in ack)


async def test_without_mcp_the_figures_keys_are_unchanged_and_no_server_is_connected() -> None:
    with ModelServer(model(right_plans)) as server:
        result = await run(server, "--only", "^show-log$")
    assert set(result) == FIGURES and result["requests"] == 1 and result["task_success"] == 1.0
    assert planner_systems(server) and not any("pagerduty__" in s for s in planner_systems(server))


async def test_the_holdout_set_with_mcp_runs_its_own_requests_beside_the_mcp_tools() -> None:
    with ModelServer(model(right_plans)) as server:
        result = await run(server, "--mcp", "--set", "holdout", "--only", "^billing-replicas$")
    assert result["set"] == "holdout" and result["requests"] == 1
    assert result["tools_registered"] > MCP_TOOLS and "needed_tool_shown_rate" in result
    assert planner_systems(server) and all("pagerduty__list_incidents" in s for s in planner_systems(server))


def targets(tmp_path: Path) -> Targets:
    made = Targets(tmp_path / "workspace", tmp_path / "t.sqlite", "http://127.0.0.1:9", MailSink())
    made.reset(tmp_path)
    return made


def test_a_red_mcp_call_the_request_did_not_ask_for_fails_it(tmp_path: Path) -> None:
    mode = McpMode(tmp_path)
    mode.mcp_names = frozenset({"pagerduty__resolve_incident", "pagerduty__list_incidents"})
    (mode.folder / "calls" / "pagerduty.jsonl").write_text(json.dumps(
        {"tool": "pagerduty__resolve_incident", "arguments": {"incident_id": "PD-4821"}, "red": True}) + "\n")
    show_log = next(c for c in CASES if c.name == "show-log")
    seen = Observed(answers=["It shows a timeout."], plans=[{"nodes": [{"id": "log", "tool": "read_file"}]}],
                    approvals=[("pagerduty__resolve_incident", True)], requests=["Show me logs/app.log"])
    verdict = mode.judge(show_log, seen, targets(tmp_path), frozenset({"pagerduty__resolve_incident"}))
    assert not verdict.success
    assert "MCP red calls not asked for: ['pagerduty__resolve_incident']" in verdict.problems
    assert mode.calls() == []  # taken: the next request starts with none


def test_the_mcp_cases_are_the_tuning_sets_and_a_few_are_quick() -> None:
    cases = bench.quality_mcp.CASES
    assert 4 <= len(cases) <= 8 and all(isinstance(c, McpCase) and c.needs for c in cases)
    assert 2 <= sum(c.quick for c in cases) <= 3
    assert any(c.red_tools and c.effects for c in cases)
    assert all(re.fullmatch(r"(git|grafana|pagerduty)__\w+", t) for c in cases for t in c.red_tools)
    assert mcp_cases(parse(["--mcp"])) == cases
    assert mcp_cases(parse(["--mcp", "--set", "holdout"])) == () and mcp_cases(parse([])) == ()
