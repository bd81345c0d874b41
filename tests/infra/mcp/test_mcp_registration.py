"""How a server's tool list becomes registry entries, each time the server lists its tools:
names, risk, allowed tools, problems that leave one tool out, and a changed list (no server
process here: the lists are made by hand), plus a server reached over SSE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.tools import tool

from agent.tools.registry import Risk, ToolRegistry
from infra.tools.mcp.config import McpConfig, ServerConfig
from infra.tools.mcp.servers import McpServers, open_mcp_servers
from tests.infra.mcp.helpers import HttpFaultServer, write_config

OBJECT = {"type": "object", "properties": {"name": {"type": "string"}}}


def mcp_tool(name: str, schema: Any = OBJECT, read_only: bool | None = None, description: str = "Does it.") -> Any:
    from mcp import types

    annotations = None if read_only is None else types.ToolAnnotations(readOnlyHint=read_only)
    return types.Tool(name=name, description=description, inputSchema=schema, annotations=annotations)


@tool
def k8s__pods(name: str) -> str:
    """A built-in tool that happens to have the name an MCP tool would get."""
    return name


def servers_for(registry: ToolRegistry, **keys: Any) -> tuple[McpServers, ServerConfig]:
    server = ServerConfig.model_validate({"name": "k8s", "command": "k8s-mcp", **keys})
    return McpServers(McpConfig(servers=[server]), registry), server


def test_tools_join_under_the_servers_name_and_a_problem_leaves_only_its_tool_out() -> None:
    registry = ToolRegistry()
    registry.add(k8s__pods, Risk.GREEN)
    servers, server = servers_for(registry, green=["get_*", "pods"], allowed_tools=["get_*", "pods", "delete_pod",
                                                                                    "bad*", "get.*"])
    servers._register(server, [
        mcp_tool("get_logs"), mcp_tool("delete_pod", read_only=True), mcp_tool("pods"),
        mcp_tool("bad_schema", schema={"type": "array"}), mcp_tool("get.nodes"), mcp_tool("get_nodes"),
        mcp_tool("scale"),  # not allowed
    ])
    assert registry.risk_of("k8s__get_logs") is Risk.GREEN
    assert registry.risk_of("k8s__delete_pod") is Risk.RED
    assert "k8s__scale" not in registry and "k8s__bad_schema" not in registry
    assert registry.get("k8s__pods").tool is k8s__pods  # the built-in one stays
    status = servers.statuses()[0]
    assert status.tools == 3  # get_logs, delete_pod, get_nodes (made from get.nodes)
    assert status.problems == [
        "MCP server 'k8s', tool 'get_nodes': its name is 'k8s__get_nodes' once made a Python name, like tool "
        "'get.nodes''s: left out",
        "MCP server 'k8s', tool 'pods': its name 'k8s__pods' is taken (by a built-in tool or a DAGBOT_TOOLS "
        "module's): left out",
        "MCP server 'k8s', tool 'bad_schema': its inputSchema is not a JSON schema of an object: left out",
    ]
    assert registry.get("k8s__get_logs").description == (
        "Does it. Returns {text, structured?, notes?, truncated?}: the server's text, its structured content "
        "when it gives one, and notes on what is not shown.")


def test_a_new_list_adds_removes_and_reregisters_what_changed() -> None:
    registry = ToolRegistry()
    servers, server = servers_for(registry, trust_annotations=True)
    servers._register(server, [mcp_tool("get_logs", read_only=True), mcp_tool("old", read_only=True),
                               mcp_tool("same", read_only=True)])
    same = registry.get("k8s__same")
    servers._register(server, [mcp_tool("get_logs", read_only=False), mcp_tool("new", read_only=True),
                               mcp_tool("same", read_only=True)])
    assert registry.names() == ["k8s__get_logs", "k8s__new", "k8s__same"]
    assert registry.risk_of("k8s__get_logs") is Risk.RED  # no longer declared read-only
    assert registry.get("k8s__same") is same  # unchanged: the same registration
    assert servers.tools["k8s__get_logs"].decision.why == "does not declare readOnlyHint"


async def test_a_server_that_still_speaks_sse(tmp_path: Path) -> None:
    server = HttpFaultServer(tmp_path / "log.txt", transport="sse")
    server.start()
    try:
        config = write_config(tmp_path / "mcp.json", {"old": {"type": "sse", "url": server.url, "green": ["echo"]}})
        registry = ToolRegistry()
        async with open_mcp_servers(config, registry) as servers:
            assert servers is not None and servers.problems == []
            assert (await registry.get("old__echo").tool.ainvoke({"text": "over sse"}))["text"] == "over sse"
    finally:
        server.stop()
