"""A policy naming an MCP server's tool does not stop dagbot while that server is down (one
server down must not take the bot with it); a name no server could have is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.tools.registry import ToolRegistry
from bot.access.policy import PolicyError, check_policy_tools, parse_policy
from infra.tools.mcp.servers import open_mcp_servers
from tests.infra.mcp.helpers import QUICK_RESTARTS, write_config

POLICY = """
tools:
  tracker__close_incident:
    approvers: [U0BOB]
  tracker_typo__close_incident:
    approvers: [U0BOB]
"""


async def test_a_policy_naming_a_down_servers_tool_waits_for_it_and_a_misspelt_one_is_refused(
        tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {
        "tracker": {"command": "sh", "args": ["-c", "exit 1"], "startup_timeout_seconds": 5, **QUICK_RESTARTS}})
    policy = parse_policy(POLICY, "policy.yml")
    async with open_mcp_servers(config, ToolRegistry()) as servers:
        assert servers is not None
        assert servers.awaited_server("tracker__close_incident") == "tracker"
        assert servers.awaited_server("tracker_typo__close_incident") is None

        def awaited(name: str) -> bool:
            return servers.awaited_server(name) is not None

        with pytest.raises(PolicyError) as refused:
            check_policy_tools(policy, ["read_file"], "policy.yml", awaited=awaited)
    assert refused.value.problems == [
        p for p in refused.value.problems if "tools.tracker_typo__close_incident" in p]
    assert len(refused.value.problems) == 1
