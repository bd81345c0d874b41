"""The alert benchmark's dagbot: ``dagbot serve`` in a process of its own (the benchmark's way),
or, with ``--in-process``, the same app built in the benchmark's process from the same settings
(the test's way: no interpreter to start, so its figures share the benchmark's CPU and loop and
say nothing of timing; the test reads only what happened)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.cluster import FOREIGN_SETTINGS
from bench.cluster_replicas import Replica
from bench.common import free_port
from infra.emulators.slack.server import SlackServer

SECRET = "bench-signing-secret"


class Dagbot(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def alive(self) -> bool: ...

    def tail(self, lines: int = 40) -> str: ...


def dagbot_settings(slack: SlackServer, model_url: str, database_url: str, routes: Path, token: str,
                    runs_per_minute: int) -> dict[str, str]:
    """dagbot's settings (environment variables) for the benchmark."""
    return {
        "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url, "OPENAI_BASE_URL": model_url, "OPENAI_API_KEY": "sk-bench",
        "DAGBOT_MODEL": "bench-model", "DAGBOT_HTTP_ALLOW_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
        "DAGBOT_ALERTS_FILE": str(routes), "DAGBOT_ALERTS_TOKEN": token,
        "DAGBOT_ALERTS_RUNS_PER_MINUTE": str(runs_per_minute),
    }


@asynccontextmanager
async def dagbot_process(settings: dict[str, str], workdir: Path) -> AsyncIterator[Dagbot]:
    """The real console script, on a free port, logging to ``workdir/dagbot.log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_SETTINGS)}
    replica = Replica("alerts", free_port(), {**env, **settings}, workdir / "dagbot.log")
    try:
        replica.start()
        await replica.wait_until("/healthz", 120)
        yield replica
    finally:
        replica.stop()


@dataclass
class InProcess:
    url: str
    alive: bool = True

    def tail(self, lines: int = 40) -> str:
        return "(dagbot runs in the benchmark's process: its log is this one's)"


@asynccontextmanager
async def dagbot_in_process(settings: dict[str, str]) -> AsyncIterator[Dagbot]:
    """The app ``dagbot serve`` builds (the alert hook from the same ``DAGBOT_ALERTS_*``), served
    by uvicorn on this loop."""
    from bot.app import BotDeps, SlackAccess, build_bot
    from bot.config import BotConfig
    from bot.server import asgi_app
    from infra.cli.alert_hook import alert_hook, alert_hook_config
    from infra.emulators.asgi_server import BackgroundServer
    from infra.settings import Settings
    from infra.storage.alert_store import SqlAlertGroupThreads
    from infra.storage.slack_store import SqlSlackStore
    from infra.wiring import build_llm, open_services

    values = Settings(**settings)  # type: ignore[arg-type]  # (by their environment names)
    config = BotConfig(bot_token=settings["SLACK_BOT_TOKEN"], signing_secret=SECRET,
                       api_url=settings["SLACK_API_URL"])
    access = SlackAccess(config)
    hook = alert_hook_config(values)
    async with open_services(values, llm=build_llm(values), context=access.engine_context) as services:
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store,
                       store=SqlSlackStore(services.store.engine), access=access,
                       alerts=alert_hook(hook, SqlAlertGroupThreads(services.store.engine)))
        server = BackgroundServer(asgi_app(build_bot(config, deps)), lifespan="on")
        await server.start()
        try:
            yield InProcess(server.url)
        finally:
            await server.stop()
