"""Every configured MCP server, started with dagbot and stopped with it, its tools in the
registry.

:func:`open_mcp_servers` reads DAGBOT_MCP_CONFIG, starts each server (at once, each waited for
at most its ``startup_timeout_seconds``) and keeps them up while inside. A server's tools join
the registry as ``<server>__<tool>`` with the risk :mod:`infra.tools.mcp.risk` decides, each time
the server lists them (at its start, after a restart, on ``notifications/tools/list_changed``):
a tool it no longer offers, or whose description, schema or risk changed, is registered anew
or removed. A tool the server still offers stays registered while the server restarts (its
calls wait for it, or fail as :mod:`infra.tools.mcp.tools` says).

A problem (the file, a server's key, a server that does not start, a tool whose schema is
unusable or whose name is taken) is logged as an error naming the server and the key, and
kept for ``dagbot tools``; it never stops dagbot or the other servers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from mcp import types

from agent.errors import ConfigurationError
from agent.execution.redaction import Redactor
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.mcp.arguments import UnusableSchema
from infra.tools.mcp.config import McpConfig, ServerConfig, load_mcp_config
from infra.tools.mcp.connection import ServerConnection, State, ToolsHandler
from infra.tools.mcp.results import RESULT_KEYS
from infra.tools.mcp.risk import RiskDecision, decide_risk, matching, unused_patterns
from infra.tools.mcp.tools import mcp_tool, registry_name

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class McpTool:
    """A registered MCP tool: where it comes from and why it has its risk."""

    name: str
    server: str
    tool: str
    """Its name on its server."""
    decision: RiskDecision
    fingerprint: str


@dataclass
class ServerStatus:
    name: str
    transport: str
    state: State
    problem: str | None
    restarts: int
    tools: int
    problems: list[str] = field(default_factory=list)
    """Its tools that could not be registered, and why."""


class McpServers:
    """The servers of one :class:`McpConfig`, their tools registered in ``registry``."""

    def __init__(self, config: McpConfig, registry: ToolRegistry) -> None:
        self.config = config
        self.registry = registry
        self.redactor = Redactor(config.secrets)
        self.tools: dict[str, McpTool] = {}
        self.connections = {s.name: ServerConnection(s, self._registrar(s), self.redactor)
                            for s in config.servers}
        self._tool_problems: dict[str, list[str]] = {}

    @property
    def problems(self) -> list[str]:
        """The configuration's problems, then each server's: what ``dagbot tools`` reports."""
        found = list(self.config.problems)
        for status in self.statuses():
            if status.problem:
                found.append(f"MCP server '{status.name}' is {status.state}: {status.problem}")
            found.extend(status.problems)
        return found

    async def start(self) -> None:
        for problem in self.config.problems:
            log.error("MCP configuration problem: the server is left out", problem=problem)
        started = await asyncio.gather(*(c.start() for c in self.connections.values()))
        for connection, up in zip(self.connections.values(), started, strict=True):
            if not up:
                log.error("MCP server did not start: its tools are missing until it does (dagbot keeps "
                          "trying)", server=connection.name, why=connection.problem)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections.values()))

    def awaited_server(self, name: str) -> str | None:
        """The server whose tools ``name`` would be one of, when that server has not listed its
        tools (it did not start, or is restarting): the name may be right, dagbot cannot tell yet."""
        for connection in self.connections.values():
            if name.startswith(connection.server.prefix) and connection.state != "connected":
                return connection.name
        return None

    def statuses(self) -> list[ServerStatus]:
        return [ServerStatus(name=c.name, transport=c.server.transport, state=c.state, problem=c.problem,
                             restarts=c.restarts, tools=sum(t.server == c.name for t in self.tools.values()),
                             problems=list(self._tool_problems.get(c.name, [])))
                for c in self.connections.values()]

    # ------------------------------------------------------------ registration

    def _registrar(self, server: ServerConfig) -> ToolsHandler:
        def on_tools(tools: list[types.Tool]) -> None:
            self._register(server, tools)
        return on_tools

    def _register(self, server: ServerConfig, tools: list[types.Tool]) -> None:
        connection = self.connections[server.name]
        offered = [t for t in tools if server.allowed_tools is None or matching(server.allowed_tools, t.name)]
        problems: list[str] = []
        wanted: dict[str, tuple[types.Tool, RiskDecision, str]] = {}
        for tool in offered:
            name = registry_name(server.prefix, tool.name)
            if name in wanted:
                problems.append(f"MCP server '{server.name}', tool '{tool.name}': its name is '{name}' once "
                                f"made a Python name, like tool '{wanted[name][0].name}''s: left out")
                continue
            decision = decide_risk(server, tool.name, tool.annotations)
            wanted[name] = (tool, decision, _fingerprint(tool, decision))
        for name, known in list(self.tools.items()):
            if known.server == server.name and (name not in wanted or wanted[name][2] != known.fingerprint):
                self.registry.remove(name)
                del self.tools[name]
        for name, (tool, decision, fingerprint) in wanted.items():
            if name in self.tools:
                continue
            if name in self.registry:
                problems.append(f"MCP server '{server.name}', tool '{tool.name}': its name '{name}' is taken "
                                "(by a built-in tool or a DAGBOT_TOOLS module's): left out")
                continue
            try:
                made = mcp_tool(connection, tool, name, decision.risk, self.redactor)
                # (what a server returns is data from outside: marked so in prompts, whatever it says)
                self.registry.add(made, decision.risk, returns=RESULT_KEYS, untrusted_output=True)
            except (UnusableSchema, ConfigurationError) as exc:
                problems.append(f"MCP server '{server.name}', tool '{tool.name}': {exc}: left out")
                continue
            self.tools[name] = McpTool(name, server.name, tool.name, decision, fingerprint)
        self._tool_problems[server.name] = problems
        for problem in problems:
            log.error("MCP tool left out", problem=problem)
        for unused in unused_patterns(server, [t.name for t in tools]):
            log.warning("an MCP server's pattern matches none of its tools", server=server.name,
                        pattern=unused)
        mine = [t for t in self.tools.values() if t.server == server.name]
        log.info("MCP tools registered", server=server.name,
                 green=sorted(t.name for t in mine if t.decision.risk is Risk.GREEN),
                 red=sorted(t.name for t in mine if t.decision.risk is Risk.RED),
                 not_allowed=len(tools) - len(offered))


def _fingerprint(tool: types.Tool, decision: RiskDecision) -> str:
    data = json.dumps([tool.description, tool.title, tool.inputSchema, decision.risk, decision.why],
                      sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


@asynccontextmanager
async def open_mcp_servers(config_path: Path | None,
                           registry: ToolRegistry) -> AsyncIterator[McpServers | None]:
    """The servers of the file at ``config_path`` (DAGBOT_MCP_CONFIG) while inside, their tools in
    ``registry``; None without a file."""
    if config_path is None:
        yield None
        return
    servers = McpServers(load_mcp_config(config_path), registry)
    try:
        await servers.start()
        yield servers
    finally:
        await servers.close()

