"""Secrets a configuration takes from the environment (``${VAR}``) never reach a log line, an
error or a tool's output, even when a server quotes them: a stdio server that prints its token
to stderr and exits, an HTTP server that cannot be reached at a URL holding a key, and a server
that returns its token or fails quoting it."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from agent.tools.masking import MASK
from agent.tools.registry import ToolRegistry
from infra.tools.mcp.results import McpToolFailed
from infra.tools.mcp.servers import open_mcp_servers
from tests.infra.mcp.helpers import QUICK_RESTARTS, free_port, stdio_fault_server, write_config

TOKEN = "ghp_0123456789abcdefSECRET"
KEY = "key-9876543210zyxw"


async def test_a_secret_from_the_environment_is_never_logged_or_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MCP_TEST_KEY", KEY)
    config = write_config(tmp_path / "mcp.json", {
        "leaky": {"command": "sh", "args": ["-c", 'echo "starting with token $GITHUB_TOKEN" >&2; exit 1'],
                  "env": {"GITHUB_TOKEN": "${MCP_TEST_TOKEN}"}, "startup_timeout_seconds": 5, **QUICK_RESTARTS},
        "remote": {"url": f"http://127.0.0.1:{free_port()}/mcp?key=${{MCP_TEST_KEY}}",
                   "headers": {"Authorization": "Bearer ${MCP_TEST_TOKEN}"}, "startup_timeout_seconds": 5,
                   **QUICK_RESTARTS},
    })
    with structlog.testing.capture_logs() as logged:
        async with open_mcp_servers(config, ToolRegistry()) as servers:
            assert servers is not None
            problems = servers.problems
    leaky, remote = problems
    assert leaky.startswith("MCP server 'leaky' is restarting: ")
    assert f"(its stderr: starting with token {MASK})" in leaky  # the server said it: masked
    assert remote.startswith("MCP server 'remote' is restarting: ")
    seen = repr(logged) + repr(problems)
    assert "MCP server did not start" in seen
    assert TOKEN not in seen and KEY not in seen
    assert "ghp_0123456789" not in seen


async def test_a_server_quoting_its_secret_has_it_masked_in_output_and_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    config = write_config(tmp_path / "mcp.json", {"faults": stdio_fault_server(
        tmp_path / "log.txt", env={"FAULT_SERVER_LOG": str(tmp_path / "log.txt"), "API_TOKEN": "${MCP_TEST_TOKEN}"},
        green=["env_var"])})
    registry = ToolRegistry()
    async with open_mcp_servers(config, registry) as servers:
        assert servers is not None
        env_var = registry.get("faults__env_var").tool
        output = await env_var.ainvoke({"name": "API_TOKEN"})
        assert output == {"text": f"API_TOKEN={MASK}", "structured": {"result": f"API_TOKEN={MASK}"}}
        with pytest.raises(McpToolFailed) as failed:
            await env_var.ainvoke({"name": "API_TOKEN", "fail": True})
        assert TOKEN not in str(failed.value) and MASK in str(failed.value)
