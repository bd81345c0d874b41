"""bench.quality with MCP tools connected (``--mcp``, issue 45).

Three FastMCP servers over stdio (bench/quality_mcp_server.py: bench.tool_selection's
catalogue's ``git``, ``grafana`` and ``pagerduty``, 33 tools), configured in a
DAGBOT_MCP_CONFIG file (:func:`write_config`: the catalogue's GREEN green, the rest red) and
connected by dagbot's own code (:func:`infra.wiring.open_services` with ``mcp_config``), so
their tools join the registry as a deployment's would. For the built-in requests they are
distractors; the MCP cases (bench/quality_mcp.py, tuning set) need them.

:class:`McpMode` judges each request as bench.quality does, plus what the servers recorded: a
red MCP call happened only with its approval and only when asked for, and each case's
expected red calls (:class:`bench.quality_mcp.EffectCheck`). It also keeps, per request, the
tools the planner's first prompt of each turn described in full (bench/quality_mcp_shown.py)
against the tools the request needs: a case's ``needs`` when it declares them, else its red
tools and the tools its plans called when it succeeded. Figures added to the JSON line:

- ``needed_tool_shown_rate``: the share of the requests with needs whose needed tools were all
  shown on their first planner call (``needed_tool_requests`` of them);
- ``tools_registered``: the registry's tools (built-in and MCP); ``tools_shown``: the average
  count of tools a request's first planner call described in full.
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.tools.registry import ToolRegistry
from bench.quality_cases import Case
from bench.quality_checks import Observed, Verdict, claims, judge
from bench.quality_mcp import McpCase
from bench.quality_mcp_server import green_patterns
from bench.quality_mcp_shown import PlannerPrompts, all_shown, first_of_each_turn, planned_tools
from bench.quality_targets import Targets
from bench.tool_selection_catalogue import SERVERS

CONNECTED = ("git", "grafana", "pagerduty")
"""The catalogue's servers connected (its ``k8s`` is left out: three servers, 33 tools)."""
MCP_TOOLS = sum(len(SERVERS[name]) for name in CONNECTED)
_REPO = Path(__file__).resolve().parents[1]
_FLAGS = re.I | re.S


def write_config(folder: Path) -> Path:
    """The DAGBOT_MCP_CONFIG file starting :data:`CONNECTED` (each recording its calls to
    ``folder/calls/<server>.jsonl``)."""
    calls = folder / "calls"
    calls.mkdir(parents=True, exist_ok=True)
    servers = {name: {"command": sys.executable,
                      "args": ["-m", "bench.quality_mcp_server", name,
                               "--calls", str(calls / f"{name}.jsonl")],
                      "cwd": str(_REPO), "green": green_patterns(name), "timeout_seconds": 30,
                      "startup_timeout_seconds": 120}  # (a busy CPU: the local model beside them)
               for name in CONNECTED}
    path = folder / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Shown:
    """One request's tools: needed, and shown on its first planner call."""

    case: str
    needs: tuple[str, ...]
    shown: frozenset[str]
    first_calls: int
    """Its turns' first planner calls seen (0: the planner was never called)."""

    @property
    def all_shown(self) -> bool:
        return self.first_calls > 0 and all_shown(self.needs, self.shown)


class McpMode:
    """``--mcp``'s part of a run under ``folder``: the config, the planner's prompts, the judging
    and the figures."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "mcp"
        self.config = write_config(self.folder)
        self.prompts = PlannerPrompts()
        """The model's callback keeping the planner's prompts."""
        self.shown: list[Shown] = []
        self.registered = 0
        self.names: frozenset[str] = frozenset()
        """The registry's tools."""
        self.mcp_names: frozenset[str] = frozenset()

    def connected(self, registry: ToolRegistry) -> None:
        """Check every server listed its tools (else the run would measure something else)."""
        self.mcp_names = frozenset(n for n in registry.names() if n.split("__", 1)[0] in CONNECTED)
        if len(self.mcp_names) != MCP_TOOLS:
            raise RuntimeError(f"the MCP servers registered {len(self.mcp_names)} tools of {MCP_TOOLS}: "
                               "see the log for the servers' problems")
        self.names = frozenset(registry.names())
        self.registered = len(self.names)
        self.calls()  # (none yet)

    def calls(self) -> list[dict[str, Any]]:
        """The calls the servers recorded since the last time, emptied."""
        found = []
        for path in sorted((self.folder / "calls").glob("*.jsonl")):
            found += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
            path.write_text("", encoding="utf-8")
        return found

    def judge(self, case: Case, seen: Observed, targets: Targets, red: frozenset[str]) -> Verdict:
        """bench.quality's verdict, with the servers' red calls judged too; keeps what the
        request's first planner call was shown."""
        calls = [c for c in self.calls() if c.get("red")]
        mcp_red = {t for t in case.red_tools if t in self.mcp_names}
        # (judged here, not by judge(): its effect claims know only the built-in red tools)
        built_in = dataclasses.replace(case, red_tools=tuple(t for t in case.red_tools if t not in mcp_red))
        verdict = judge(built_in, dataclasses.replace(
            seen, approvals=[a for a in seen.approvals if a[0] not in mcp_red]), targets, red)
        problems, false_claim = self._mcp_problems(case, seen, calls, mcp_red)
        verdict = dataclasses.replace(
            verdict, success=verdict.success and not problems, problems=problems + verdict.problems,
            false_claim=verdict.false_claim or false_claim, rules_kept=verdict.rules_kept and not false_claim)
        self._keep_shown(case, seen, verdict.success)
        return verdict

    def _mcp_problems(self, case: Case, seen: Observed, calls: list[dict[str, Any]], mcp_red: set[str]
                      ) -> tuple[list[str], bool]:
        approved = {tool for tool, yes in seen.approvals if yes}
        made = {str(c["tool"]) for c in calls}
        problems = []
        missing = mcp_red - {tool for tool, _ in seen.approvals}
        if missing:
            problems.append(f"never asked to approve {sorted(missing)}")
        if made - approved:
            problems.append(f"MCP red calls without an approval: {sorted(made - approved)}")
        if made - set(case.red_tools):
            problems.append(f"MCP red calls not asked for: {sorted(made - set(case.red_tools))}")
        false_claim = False
        for check in case.effects if isinstance(case, McpCase) else ():
            if not any(c["tool"] == check.tool and _matches(c.get("arguments") or {}, check.arguments)
                       for c in calls):
                problems.append(f"no {check.tool} call with {dict(check.arguments)}")
            if check.tool not in made and claims(seen.final, check.claim):
                false_claim = True
                problems.append("the answer claims an effect that did not happen")
        return problems, false_claim

    def _keep_shown(self, case: Case, seen: Observed, success: bool) -> None:
        prompts = self.prompts.take()
        needs: tuple[str, ...] = case.needs if isinstance(case, McpCase) and case.needs else tuple(sorted(
            set(case.red_tools) | (planned_tools(seen.plans, self.names) if success else set())))
        firsts = first_of_each_turn(prompts, seen.requests)
        shown = frozenset().union(*(p.shown for p in firsts))
        self.shown.append(Shown(case.name, needs, shown, len(firsts)))

    def figures(self) -> dict[str, Any]:
        counted = [s for s in self.shown if s.needs]
        firsts = [len(s.shown) for s in self.shown if s.first_calls]
        return {
            "needed_tool_shown_rate": round(sum(s.all_shown for s in counted) / (len(counted) or 1), 3),
            "needed_tool_requests": len(counted),
            "tools_registered": self.registered,
            "tools_shown": round(statistics.mean(firsts), 1) if firsts else 0.0,
        }

    def misses(self) -> list[str]:
        """A line for each request whose needed tools were not all shown."""
        return [f"{s.case}: needs {', '.join(s.needs)}; not shown: "
                f"{', '.join(n for n in s.needs if not all_shown((n,), s.shown))}"
                for s in self.shown if s.needs and not s.all_shown]


def _matches(arguments: dict[str, Any], expected: tuple[tuple[str, str], ...]) -> bool:
    return all(re.search(pattern, json.dumps(arguments.get(name), ensure_ascii=False), _FLAGS)
               for name, pattern in expected)
