"""MCP servers that misbehave, over real transports: the fault server (fault_server.py) started
by dagbot over stdio with its annotations trusted, and the same server over Streamable HTTP on
127.0.0.1, untrusted. One of each for the module: the tests that change a server's state (its
tool list, a crash) restore it or come last."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agent.errors import (
    ToolArgumentError,
    ToolNotAllowed,
    ToolOutcomeUnknown,
    ToolTimeout,
    TransientToolError,
)
from agent.execution.gateway import GreenToolGateway
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.mcp.results import McpToolFailed
from infra.tools.mcp.servers import McpServers, open_mcp_servers
from tests.infra.mcp.helpers import QUICK_RESTARTS, HttpFaultServer, stdio_fault_server, write_config

pytestmark = pytest.mark.xdist_group("mcp_faults")


@dataclass
class Connected:
    servers: McpServers
    registry: ToolRegistry
    http: HttpFaultServer
    log: Path

    async def call(self, name: str, **args: Any) -> Any:
        return await self.registry.get(name).tool.ainvoke(args)

    async def until(self, condition: Any, seconds: float = 20) -> None:
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("not within the time given")


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpFaultServer]:
    server = HttpFaultServer(tmp_path_factory.mktemp("http") / "log.txt")
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def connected(tmp_path_factory: pytest.TempPathFactory,
                    http_server: HttpFaultServer) -> AsyncIterator[Connected]:
    folder = tmp_path_factory.mktemp("mcp")
    log = folder / "log.txt"
    config = write_config(folder / "mcp.json", {
        "faults": stdio_fault_server(log, trust_annotations=True, timeout_seconds=5, max_result_bytes=200_000,
                                     tools={"big": {"timeout_seconds": 60}}),
        "remote": {"url": http_server.url, "timeout_seconds": 1.5, "ping_seconds": 1, **QUICK_RESTARTS},
    })
    registry = ToolRegistry()
    async with open_mcp_servers(config, registry) as servers:
        assert servers is not None
        yield Connected(servers, registry, http_server, log)


async def test_risk_is_the_operators_and_an_untrusted_servers_annotations_count_for_nothing(
        connected: Connected) -> None:
    tools = connected.servers.tools
    assert connected.registry.risk_of("faults__echo") is Risk.GREEN
    assert tools["faults__echo"].decision.why == "declares readOnlyHint and mcpServers.faults.trust_annotations is set"
    assert connected.registry.risk_of("faults__record") is Risk.RED  # (trusted, but not read-only)
    # the HTTP server declares the same readOnlyHint, and is not trusted: every tool of it is red
    assert {connected.registry.risk_of(n) for n in connected.registry.names() if n.startswith("remote__")} == {
        Risk.RED}
    assert tools["remote__echo"].decision.why.startswith(
        "declares readOnlyHint, but mcpServers.remote.trust_annotations is not set")
    assert [s.state for s in connected.servers.statuses()] == ["connected", "connected"]


async def test_calls_over_stdio_and_streamable_http(connected: Connected) -> None:
    assert await connected.call("faults__echo", text="ab", times=2) == {"text": "abab", "structured": {"result": "abab"}}
    assert await connected.call("remote__echo", text="hi") == {"text": "hi", "structured": {"result": "hi"}}
    stats = await connected.call("remote__stats", service="api")
    assert stats["structured"] == {"service": "api", "requests": 42, "errors": 1}
    picture = await connected.call("faults__picture")
    assert picture["text"] == "a caption" and picture["notes"] == ["an image (image/png, 64 bytes): not shown"]


async def test_an_error_result_is_the_tools_error_told_as_such(connected: Connected) -> None:
    for name in ("faults__fail", "remote__fail"):
        with pytest.raises(McpToolFailed, match=r"'fail' on MCP server '\w+' reported an error: .*the disk is full"):
            await connected.call(name)


async def test_a_hung_call_times_out_and_the_server_keeps_serving(connected: Connected) -> None:
    with pytest.raises(ToolTimeout, match=r"'remote__hang' did not answer within 1\.5 s"):
        await connected.call("remote__hang")
    assert (await connected.call("remote__echo", text="still here"))["text"] == "still here"


async def test_ten_megabytes_are_capped_and_the_cut_is_said(connected: Connected) -> None:
    output = await connected.call("faults__big", megabytes=10)
    assert len(json.dumps(output).encode()) <= 200_000
    assert output["truncated"] is True
    assert any(note.startswith("text cut at ") and "of 10,000,000 bytes" in note for note in output["notes"])


async def test_package_code_calls_green_mcp_tools_through_the_gateway_and_never_red_ones(
        connected: Connected) -> None:
    gateway = GreenToolGateway(connected.registry, timeout_seconds=5)
    assert await gateway.call("faults__echo", {"text": "from a package"}) == {
        "text": "from a package", "structured": {"result": "from a package"}}
    assert "- tools.faults__echo(text, times): Say the text back." in gateway.describe()
    with pytest.raises(ToolNotAllowed, match="'faults__record' is a red tool"):
        await gateway.call("faults__record", {"text": "no"})
    with pytest.raises(ToolArgumentError, match="times: should be of type integer"):
        await gateway.call("faults__echo", {"text": "x", "times": "twice"})


async def test_a_red_call_runs_once(connected: Connected) -> None:
    assert await connected.call("faults__record", text="one") == {"text": "recorded", "structured": {"result": "recorded"}}
    assert connected.log.read_text() == "one\n"


async def test_a_changed_tool_list_refreshes_the_registry(connected: Connected) -> None:
    assert "faults__pid" in connected.registry and "faults__late" not in connected.registry
    await connected.call("faults__grow")
    await connected.until(lambda: "faults__late" in connected.registry and "faults__pid" not in connected.registry)
    assert (await connected.call("faults__late", text="x"))["text"] == "late: x"
    assert connected.registry.risk_of("faults__late") is Risk.GREEN


async def test_a_green_call_whose_server_crashes_is_transient_and_the_server_comes_back(
        connected: Connected) -> None:
    connection = connected.servers.connections["faults"]
    restarts = connection.restarts
    with pytest.raises(TransientToolError, match="MCP server 'faults' went away during the call"):
        await connected.call("faults__crash")
    await connected.until(lambda: connection.connected and connection.restarts > restarts)
    # a new process, with its first tool list again
    assert "faults__pid" in connected.registry and "faults__late" not in connected.registry
    assert (await connected.call("faults__echo", text="back"))["text"] == "back"


async def test_a_red_call_whose_server_crashes_has_an_unknown_outcome_and_the_server_is_reconnected(
        connected: Connected) -> None:
    connection = connected.servers.connections["remote"]
    with pytest.raises(ToolOutcomeUnknown, match="MCP server 'remote' went away during the call to 'crash'"):
        await connected.call("remote__crash")
    await connected.until(lambda: not connection.connected)
    assert connection.state == "restarting"
    connected.http.start()  # the same port: the operator brought it back
    await connected.until(lambda: connection.connected)
    assert (await connected.call("remote__echo", text="reconnected"))["text"] == "reconnected"
