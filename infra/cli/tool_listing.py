"""``dagbot tools``: every tool dagbot would run with, its risk and why it has it, and the MCP
servers' state (DAGBOT_MCP_CONFIG's servers are started for the listing, then stopped)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import typer

from infra.operations.logging import configure_logging
from infra.settings import Settings

if TYPE_CHECKING:
    from agent.tools.registry import ToolRegistry
    from infra.tools.mcp.servers import McpServers

IN_CODE = "registered in code with this risk (a built-in tool, or a DAGBOT_TOOLS module)"


@dataclass(frozen=True)
class ToolRow:
    name: str
    risk: str
    why: str
    source: str


def tool_rows(registry: ToolRegistry, servers: McpServers | None) -> list[ToolRow]:
    mcp = servers.tools if servers is not None else {}
    rows = []
    for spec in registry:
        known = mcp.get(spec.name)
        if known is None:
            rows.append(ToolRow(spec.name, spec.risk.value, IN_CODE, "dagbot"))
        else:
            rows.append(ToolRow(spec.name, spec.risk.value, known.decision.why,
                                f"MCP server '{known.server}', tool '{known.tool}'"))
    return rows


def tools(as_json: bool = typer.Option(False, "--json", help="One JSON object: tools, servers, problems.")
          ) -> None:
    """List every tool with its risk (green: runs freely; red: needs an approval) and why it
    has it, and the MCP servers of DAGBOT_MCP_CONFIG with their state. Exits 1 when a server
    or its configuration has a problem."""
    settings = Settings()
    configure_logging("CRITICAL", settings.secret_values())  # (problems are listed, not logged too)
    raise typer.Exit(asyncio.run(_list(settings, as_json)))


async def _list(settings: Settings, as_json: bool) -> int:
    from infra.tools.mcp.servers import open_mcp_servers
    from infra.tools.toolbox import build_registry

    registry = build_registry(settings)
    async with open_mcp_servers(settings.mcp_config, registry) as servers:
        rows = tool_rows(registry, servers)
        statuses = servers.statuses() if servers is not None else []
        problems = servers.problems if servers is not None else []
    if as_json:
        typer.echo(json.dumps({"tools": [asdict(r) for r in rows], "servers": [asdict(s) for s in statuses],
                               "problems": problems}, indent=2))
        return 1 if problems else 0
    width = max((len(r.name) for r in rows), default=4)
    for row in rows:
        typer.echo(f"{row.name:<{width}}  {row.risk:<5}  {row.why}"
                   + ("" if row.source == "dagbot" else f" [{row.source}]"))
    for status in statuses:
        typer.echo(f"MCP server '{status.name}' ({status.transport}): {status.state}, {status.tools} tool(s)"
                   + (f", restarted {status.restarts} time(s)" if status.restarts else ""))
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    return 1 if problems else 0
