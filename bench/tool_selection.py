"""bench.tool_selection: how often the planner is shown the tool a request needs, when a
deployment has dozens of tools (agent/model/tool_choice.py).

    python -m bench.tool_selection                  # the tuning requests
    python -m bench.tool_selection --set holdout    # requests never used to tune the chooser
    python -m bench.tool_selection --quick          # the first 12 of the set

The registry is a deployment's: dagbot's built-in tools as ``build_registry`` makes them (HTTP,
files, mail, SQL) and four MCP servers' tools (bench/tool_selection_catalogue.py) made as
infra/tools/mcp makes them (``<server>__<tool>`` names, the server's description and
inputSchema). Each request (bench/tool_selection_requests.py) is put to
:func:`agent.model.prompting.tools_for`, as the planner's prompt is, with the thread's earlier
calls where it has some; no model is called. A request counts as shown when every tool it
needs is described in full (a tool only named on the "Also available" line does not count).

Prints a table (the misses), then one JSON line: ``needed_tool_shown_rate``, the share of the
needed tools shown, the average count of tools shown and the characters of the prompt's tools
section, against every tool's.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from mcp import types

from agent.model.prompt_budget import DEFAULT_PROMPT_CHARS
from agent.model.prompting import describe_tools, tools_for
from agent.model.tool_choice import ToolChoice
from agent.state import AgentState, PastRun
from agent.tools.registry import Risk, ToolRegistry
from bench.tool_selection_catalogue import GREEN, SERVERS, input_schema
from bench.tool_selection_requests import HOLDOUT, TUNING, Request
from infra.settings import Settings
from infra.tools.mcp.arguments import arguments_model
from infra.tools.mcp.results import RESULT_KEYS
from infra.tools.mcp.tools import SchemaCheckedTool, describe, registry_name

SETS = {"tuning": TUNING, "holdout": HOLDOUT}
QUICK = 12


def mcp_like(server: str, tool: types.Tool) -> BaseTool:
    """An MCP tool as infra/tools/mcp registers it, never called (the bench only plans)."""

    async def call(**arguments: Any) -> dict[str, Any]:
        raise RuntimeError("bench.tool_selection calls no tool")

    name = registry_name(f"{server}__", tool.name)
    return SchemaCheckedTool(
        name=name,
        description=describe(tool, server),
        coroutine=call,
        args_schema=arguments_model(name, tool.inputSchema),
    )


def catalogue(root: Path) -> ToolRegistry:
    """The built-in tools of a deployment with a workspace, mail and a database, and the MCP
    servers' tools, green where :data:`GREEN` says."""
    from infra.tools.toolbox import build_registry  # (the SQL tools' engine: made, never connected)

    registry = build_registry(
        Settings(workspace=root, smtp_host="127.0.0.1", sql_url=f"sqlite:///{root}/ops.db", tools="")
    )
    for server, tools in SERVERS.items():
        for name, description, args in tools:
            made = mcp_like(
                server, types.Tool(name=name, description=description, inputSchema=input_schema(args))
            )
            green = any(fnmatch.fnmatchcase(made.name, pattern) for pattern in GREEN)
            registry.add(made, Risk.GREEN if green else Risk.RED, returns=RESULT_KEYS, untrusted_output=True)
    return registry


def state_for(request: Request) -> AgentState:
    history = [
        PastRun(
            request="(earlier)",
            answer="(earlier)",
            results={},
            calls={f"n{i}": {"tool": tool, "args": {}} for i, tool in enumerate(request.earlier)},
        )
    ]
    return AgentState(request=request.text, history=history if request.earlier else [])


def shown(choice: ToolChoice, need: str) -> bool:
    return any(option in choice.shown for option in need.split("|"))


def run(
    requests: tuple[Request, ...], registry: ToolRegistry, prompt_chars: int = DEFAULT_PROMPT_CHARS
) -> tuple[dict[str, Any], list[str]]:
    """The figures, and a line for each request whose needed tool was not shown."""
    misses: list[str] = []
    hits = needed = needed_shown = 0
    counts: list[int] = []
    chars: list[int] = []
    for request in requests:
        choice = tools_for(state_for(request), registry, prompt_chars)
        missing = [need for need in request.needs if not shown(choice, need)]
        hits += not missing
        needed += len(request.needs)
        needed_shown += len(request.needs) - len(missing)
        counts.append(len(choice.shown))
        chars.append(len(describe_tools(registry, choice)))
        if missing:
            misses.append(f"{request.text[:70]:<70}  missing {', '.join(missing)}")
    figures = {
        "requests": len(requests),
        "tools": len(registry),
        "needed_tool_shown_rate": round(hits / len(requests), 3),
        "needed_tools_shown_share": round(needed_shown / needed, 3),
        "shown_avg": round(statistics.mean(counts), 1),
        "tools_chars_avg": round(statistics.mean(chars)),
        "all_tools_chars": len(describe_tools(registry)),
        "prompt_chars": prompt_chars,
    }
    return figures, misses


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tool_selection", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--set", choices=sorted(SETS), default="tuning", help="which requests (default: tuning)"
    )
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK} requests")
    parser.add_argument(
        "--prompt-chars",
        type=int,
        default=DEFAULT_PROMPT_CHARS,
        help="the planner's prompt budget (DAGBOT_PROMPT_CHARS)",
    )
    args = parser.parse_args(argv)
    requests = SETS[args.set][:QUICK] if args.quick else SETS[args.set]
    with tempfile.TemporaryDirectory() as root:
        figures, misses = run(requests, catalogue(Path(root)), args.prompt_chars)
    print(f"{len(misses)} of {len(requests)} requests ({args.set}) not shown every tool they need:")
    for line in misses:
        print(f"  {line}")
    result = {"bench": "tool_selection", "set": args.set, "quick": args.quick, **figures}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
