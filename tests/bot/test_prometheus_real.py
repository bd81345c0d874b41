"""End to end with Debian's real Prometheus and Alertmanager (``prometheus`` and
``prometheus-alertmanager``, which ``make test`` installs): Prometheus scrapes a target this test
serves, its alerting rule fires when the test flips the target's metric, Alertmanager delivers
the alert to dagbot's hook, and a thread opens in the emulated Slack with its run; once the test
flips the metric back, the alert resolves and the thread says so.

Most of the test's time is Prometheus's: its service discovery hands the static targets (the
scrape target and Alertmanager) to the scrapers and the notifier on a fixed 5 s tick, which no
flag shortens; scrapes and rule evaluations then run every second.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.inbound.alerts.hook_config import AlertHookConfig
from infra.emulators.asgi_server import BackgroundServer
from tests.bot.chat import MEMORY, OPS, Thread, chat_with, finish, running_bot, settle
from tests.bot.test_alert_hook import LOOK_UP, ROUTES, TOKEN
from tests.bot.test_alertmanager_real import alertmanager_binary, ready, start_alertmanager
from tests.fakes.slack_api import FakeSlack, Message
from tests.infra.test_cli_serve import free_port

METRIC = "dagbot_e2e_node_down"
JOB = "dagbot-e2e-node"


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = "Prometheus is not installed (apt-get install prometheus; make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def binaries(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """Prometheus's binary, Alertmanager's, and the directory for their configuration and data."""
    yield prometheus_binary(), alertmanager_binary(), tmp_path


@dataclass
class Target:
    """What Prometheus scrapes: one gauge, 1 while the node is down."""

    down: bool = False
    scrapes: int = 0

    async def metrics(self, request: Request) -> PlainTextResponse:
        self.scrapes += 1
        return PlainTextResponse(f"# TYPE {METRIC} gauge\n{METRIC} {int(self.down)}\n",
                                 media_type="text/plain; version=0.0.4")


@asynccontextmanager
async def serving(target: Target) -> AsyncIterator[str]:
    """The target on a free port; yields its ``host:port`` (the ``instance`` label it gets)."""
    server = BackgroundServer(Starlette(routes=[Route("/metrics", target.metrics)]))
    await server.start()
    try:
        yield server.url.removeprefix("http://")
    finally:
        await server.stop()


def prometheus_config(target: str, alertmanager: str) -> str:
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ['{alertmanager}']}}]
scrape_configs:
  - job_name: {JOB}
    static_configs: [{{targets: ['{target}']}}]
"""


RULES = f"""
groups:
  - name: dagbot-e2e
    rules:
      - alert: NodeDown
        expr: {METRIC} > 0
        labels: {{severity: page}}
        annotations: {{summary: "Disk full"}}
"""


def start_prometheus(binary: str, where: Path, target: str, alertmanager: str) -> subprocess.Popen[bytes]:
    (where / "prometheus.yml").write_text(prometheus_config(target, alertmanager))
    (where / "rules.yml").write_text(RULES)
    with (where / "prometheus.log").open("wb") as log:  # (the child keeps its own descriptor)
        return subprocess.Popen(
            [binary, f"--config.file={where / 'prometheus.yml'}", f"--storage.tsdb.path={where / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{free_port()}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=log)


async def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    await asyncio.to_thread(process.wait, 10)


async def test_a_prometheus_rule_firing_opens_a_thread_and_its_resolution_is_said(
        slack: FakeSlack, binaries: tuple[str, str, Path]) -> None:
    prometheus, alertmanager, where = binaries
    (where / "am").mkdir()
    hook = AlertHookConfig(routes=ROUTES, token=TOKEN, answer_within_seconds=60.0)
    target = Target()
    async with serving(target) as instance, \
            running_bot(slack, MEMORY, [LOOK_UP, finish("the node's disk is full")], alerts=hook) as app, \
            chat_with(slack, app) as chat:
        manager, manager_url = start_alertmanager(alertmanager, where / "am", f"{app.url}/hooks/alertmanager")
        scraper = start_prometheus(prometheus, where, instance, manager_url.removeprefix("http://"))
        try:
            async with httpx.AsyncClient(base_url=manager_url, timeout=10) as client:
                await ready(client, manager, where / "am")

            def running() -> None:
                if scraper.poll() is not None:
                    raise AssertionError(f"Prometheus exited: {(where / 'prometheus.log').read_text()}")

            def scraped() -> bool:
                running()
                return target.scrapes > 0

            def root() -> Message | None:
                running()
                return next((m for m in slack.messages if m.is_from_bot and m.thread_ts is None), None)

            await slack.wait_for(scraped, within=60, what="Prometheus scraping the target")
            target.down = True  # (the node goes down: the rule fires at its next evaluation)
            opened = await slack.wait_for(root, within=60, what="the thread's root (Prometheus's rule firing)")
            assert opened.channel == OPS
            # the labels Prometheus gave the alert: the scraped target's instance and job
            assert f"instance=`{instance}`" in opened.content and f"job=`{JOB}`" in opened.content
            assert f"Investigate NodeDown on {instance}: Disk full" in opened.content
            thread = Thread(chat, opened.channel, opened.ts)
            await thread.status_message()
            assert "the node's disk is full" in (await thread.answer()).content

            scrapes = target.scrapes
            target.down = False
            await thread.bot_says("Resolved")
            assert target.scrapes > scrapes  # (resolved by the rule: Prometheus read the metric back at 0)
            await settle(app)
            assert len(thread.status_messages()) == 1
            assert len([m for m in slack.messages if m.is_from_bot and m.thread_ts is None]) == 1
        finally:
            await stop(scraper)
            await stop(manager)
    assert "level=error" not in (where / "prometheus.log").read_text()
    assert "level=error" not in (where / "am" / "alertmanager.log").read_text()
