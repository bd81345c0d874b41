"""`dagbot serve` answers an operator's probes, in HTTP mode and beside Socket Mode: GET /livez,
GET /healthz (readiness, with its checks) and GET /metrics labelled with DAGBOT_REPLICA."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.slack_api import FakeSlack, Fault
from tests.infra.test_cli_serve import ROOT, SLACK_AND_MODEL, free_port


async def serve(tmp_path: Path, slack: FakeSlack, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(SLACK_AND_MODEL)}
    env.update({"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/dagbot.sqlite",
                "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "DAGBOT_REPLICA": "replica-a",
                "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": "secret", "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.base_url, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from infra.cli.entry import main; main()", "serve", "--host", "127.0.0.1", *args,
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    return process, f"http://127.0.0.1:{port}"


async def live(process: asyncio.subprocess.Process, url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as http:
        while True:
            if process.returncode is not None:
                stderr = await process.stderr.read() if process.stderr else b""
                raise AssertionError(f"dagbot serve stopped: {stderr.decode()}")
            try:
                if (await http.get(f"{url}/livez")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "dagbot serve never answered /livez"
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [(), ("--socket-mode",)], ids=["http", "socket-mode"])
async def test_serve_answers_probes_and_metrics(tmp_path: Path, mode: tuple[str, ...]) -> None:
    async with FakeSlack() as slack:
        process, url = await serve(tmp_path, slack, *mode)
        try:
            await live(process, url)
            async with httpx.AsyncClient(timeout=30) as http:
                ready = await http.get(f"{url}/healthz")
                metrics = await http.get(f"{url}/metrics")
        finally:
            await stop(process)
    # ready or not depends on this machine's sandbox; the checks are there either way
    assert ready.status_code in (200, 503)
    checks = ready.json()["checks"]
    assert set(checks) == {"database", "sandbox", "slack"}
    assert (checks["database"], checks["slack"]) == ("ok", "ok")
    assert ready.status_code == (200 if checks["sandbox"] == "ok" else 503)
    samples = [s for f in text_string_to_metric_families(metrics.text) for s in f.samples]
    auth = [s for s in samples if s.name == "dagbot_slack_api_calls_total" and s.labels["method"] == "auth.test"]
    assert [s.labels["replica"] for s in auth] == ["replica-a"] and auth[0].value >= 1


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["unreachable", "refused"])
async def test_socket_mode_that_cannot_connect_stops_with_one_line(tmp_path: Path, fault: str) -> None:
    """auth.test passes, then Socket Mode cannot open its connection: the WebSocket's address
    does not answer, or Slack refuses the app-level token."""
    async with FakeSlack() as slack:
        if fault == "unreachable":
            closed = f"ws://127.0.0.1:{free_port()}/socket-mode"
            slack.socket_mode_url = closed
        else:
            slack.faults.append(Fault("apps.connections.open", times=1, status=200, error="invalid_auth"))
        process, _ = await serve(tmp_path, slack, "--socket-mode")
        try:
            _, err_bytes = await asyncio.wait_for(process.communicate(), 120)
        finally:
            await stop(process)
    err = err_bytes.decode()
    assert process.returncode == 2
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    if fault == "unreachable":
        assert last.startswith("dagbot cannot start the Slack bot: cannot open a Socket Mode connection to "
                               f"Slack (SLACK_API_URL={slack.base_url}"), err
    else:
        assert last == ("dagbot cannot start the Slack bot: Slack refused SLACK_APP_TOKEN (invalid_auth): it "
                        "must be an app-level token (xapp-…) with the connections:write scope, for an app "
                        "with Socket Mode enabled."), err
