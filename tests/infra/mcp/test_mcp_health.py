"""Each MCP server's state in ``/metrics`` (``dagbot_mcp_server_up``) and in ``/healthz``: a
server that is down is named there as degraded, and the replica stays ready (its other tools,
and the built-in ones, keep working)."""

from __future__ import annotations

from pathlib import Path

from infra.emulators.scripted_chat import ScriptedChatModel
from infra.operations.metrics import Metrics
from infra.settings import Settings
from infra.wiring import open_services
from tests.infra.mcp.helpers import QUICK_RESTARTS, stdio_fault_server, write_config


async def test_a_server_down_is_degraded_not_unready_and_each_servers_state_is_a_metric(
        tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "mcp.json", {
        "faults": stdio_fault_server(tmp_path / "log.txt"),
        "tracker": {"command": "sh", "args": ["-c", "exit 1"], "startup_timeout_seconds": 5, **QUICK_RESTARTS}})
    metrics = Metrics("r1")
    settings = Settings(DATABASE_URL=sqlite_url, DAGBOT_MCP_CONFIG=str(config))
    async with open_services(settings, llm=ScriptedChatModel(), metrics=metrics):
        page = (await metrics.metrics())[0].decode()
        assert 'dagbot_mcp_server_up{replica="r1",server="faults"} 1.0' in page
        assert 'dagbot_mcp_server_up{replica="r1",server="tracker"} 0.0' in page
        degraded = await metrics.degraded()
        assert list(degraded) == ["mcp:tracker"] and degraded["mcp:tracker"].startswith("restarting")
        assert await metrics.checks() == {"database": None}  # still ready
