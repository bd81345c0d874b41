"""With Debian's real Alertmanager (``prometheus-alertmanager``, which ``make test`` installs): an
alert posted to its API v2 is grouped, delivered to dagbot's hook with the bearer token its
``http_config`` sends, and opens a thread with a run in the emulated Slack; once the alert ends,
Alertmanager sends the resolution and the thread says so."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.inbound.alerts.hook_config import AlertHookConfig
from tests.bot.chat import MEMORY, OPS, Thread, chat_with, finish, running_bot, settle
from tests.bot.test_alert_hook import LOOK_UP, ROUTES, TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.infra.test_cli_serve import free_port


def alertmanager_binary() -> str:
    """Debian names it prometheus-alertmanager; upstream's tarball, alertmanager."""
    found = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if found is None:
        reason = "Alertmanager is not installed (apt-get install prometheus-alertmanager; make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A binary to run, and the directory for its configuration and data."""
    yield alertmanager_binary(), tmp_path


def config(hook_url: str) -> str:
    return f"""
route:
  receiver: dagbot
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: dagbot
    webhook_configs:
      - url: {hook_url}
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            credentials: {TOKEN}
"""


def start_alertmanager(binary: str, where: Path, hook_url: str) -> tuple[subprocess.Popen[bytes], str]:
    (where / "alertmanager.yml").write_text(config(hook_url))
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={where / 'alertmanager.yml'}", f"--storage.path={where / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(where / "alertmanager.log", "wb"))  # noqa: SIM115
    return process, f"http://127.0.0.1:{port}"


async def ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes], where: Path) -> None:
    async def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"Alertmanager exited: {(where / 'alertmanager.log').read_text()}")
        try:
            return (await client.get("/-/ready")).status_code == 200
        except httpx.TransportError:
            return False

    for _ in range(500):
        if await answers():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("Alertmanager did not get ready in 10 s")


def alert(ends: datetime | None = None) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    body: dict[str, object] = {"labels": {"alertname": "NodeDown", "instance": "host1:9100", "severity": "page"},
                               "annotations": {"summary": "Disk full"},
                               "startsAt": (now - timedelta(minutes=1)).isoformat()}
    if ends is not None:
        body["endsAt"] = ends.isoformat()
    return [body]


async def test_an_alert_through_the_real_alertmanager_opens_a_thread_and_its_resolution_is_said(
        slack: FakeSlack, alertmanager: tuple[str, Path]) -> None:
    binary, where = alertmanager
    hook = AlertHookConfig(routes=ROUTES, token=TOKEN, answer_within_seconds=60.0)
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("host1's disk is full")], alerts=hook) as app, \
            chat_with(slack, app) as chat:
        process, url = start_alertmanager(binary, where, f"{app.url}/hooks/alertmanager")
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                await ready(client, process, where)
                posted = await client.post("/api/v2/alerts", json=alert())
                assert posted.status_code == 200, posted.text

                root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot
                                                          and m.thread_ts is None), None), what="the thread's root")
                assert root.channel == OPS
                assert "NodeDown" in root.content and "instance=`host1:9100`" in root.content
                assert "Investigate NodeDown on host1:9100: Disk full" in root.content
                thread = Thread(chat, root.channel, root.ts)
                await thread.status_message()
                assert "host1's disk is full" in (await thread.answer()).content

                ended = await client.post("/api/v2/alerts", json=alert(ends=datetime.now(UTC)))
                assert ended.status_code == 200, ended.text
                await thread.bot_says("Resolved")
                await settle(app)
                assert len(thread.status_messages()) == 1
                assert len([m for m in slack.messages if m.is_from_bot and m.thread_ts is None]) == 1
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, 10)
        assert "level=error" not in (where / "alertmanager.log").read_text()

