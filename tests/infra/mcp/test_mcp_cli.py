"""``dagbot tools``: every tool with its risk and why, an MCP server's state, and an exit code
that says whether the MCP configuration has a problem."""

from __future__ import annotations

import json
from pathlib import Path

from infra.cli.tool_listing import IN_CODE
from tests.infra.mcp.helpers import stdio_fault_server, write_config
from tests.infra.test_cli_settings import dagbot


def test_dagbot_tools_lists_each_tool_with_its_risk_and_why(tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {
        "faults": stdio_fault_server(tmp_path / "log.txt", green=["stats"], allowed_tools=["echo", "stats", "record"]),
        "missing": {"command": "no-such-mcp-server", "startup_timeout_seconds": 5},
    })
    done = dagbot(tmp_path, "tools", "--json", DAGBOT_MCP_CONFIG=str(config))
    assert done.returncode == 1, done.stderr
    listing = json.loads(done.stdout)
    rows = {row["name"]: (row["risk"], row["why"]) for row in listing["tools"]}
    assert rows["http_get"] == ("green", IN_CODE)
    assert rows["faults__stats"] == ("green", "configured green ('stats' in mcpServers.faults.green)")
    assert rows["faults__echo"][0] == "red" and "trust_annotations is not set" in rows["faults__echo"][1]
    assert rows["faults__record"][0] == "red"
    assert not any(name.startswith("faults__") for name in rows if name not in (
        "faults__echo", "faults__stats", "faults__record"))  # allowed_tools
    states = {s["name"]: s["state"] for s in listing["servers"]}
    assert states == {"faults": "connected", "missing": "restarting"}
    assert listing["problems"] == ["MCP server 'missing' is restarting: cannot run 'no-such-mcp-server': "
                                   "no such program (is it installed, on PATH?)"]
