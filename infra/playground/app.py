"""The playground: the real bot, an emulated Slack and a page that looks like a channel.

    browser ──/ui──▶ playground (PORT) ──signed POST /slack/events──▶ the bot (its own port)
                      │  /api/* the emulated Web API ◀──SLACK_API_URL──┘
                      └─ /ui/events: live updates to the page

Nothing in ``bot/`` or ``agent/`` knows it is in a playground: the bot is built and served as
in production (:func:`bot.app.build_bot`, :func:`bot.server.asgi_app`), with the emulated
Slack's URL (:mod:`infra.playground.standin`) as its Web API base and a signing secret made for
this run. Its own MCP server, an incident tracker (:mod:`infra.playground.incidents`), is
connected unless DAGBOT_MCP_CONFIG names other servers. It takes Alertmanager's notifications on
routes of its own unless DAGBOT_ALERTS_FILE names others (:mod:`infra.playground.alerts`: the
page's test alert), and keeps schedules as ``dagbot serve`` does (the page lists them:
:mod:`infra.playground.schedules`). Without a configured model, the demo
(:mod:`infra.playground.demo`) supplies the model
and the tools' targets; with DAGBOT_LOCAL_MODEL, the local model (:mod:`infra.local_model`)
plans, and the page says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import watchfiles
from langchain_core.language_models import BaseChatModel

from bot.access.policy import check_policy_tools, load_policy
from bot.app import BotDeps, SlackAccess, SlackBot, build_bot
from bot.config import BotConfig
from bot.ground.background_tasks import TaskSet
from bot.ground.threads import PREFIX as THREAD_PREFIX
from bot.inbound.alerts.hook import ALERTMANAGER_PATH
from bot.server import asgi_app
from infra.cli.alert_hook import alert_hook, alert_hook_config
from infra.emulators.slack.workspace import Message
from infra.local_model.use import local_model_note, open_local_model
from infra.operations.embedded_server import serving
from infra.playground.alerts import TestAlert, with_alert_hook
from infra.playground.delivery import SlackDelivery
from infra.playground.demo import NOTE, DemoKit, Mail, model_is_configured, open_demo
from infra.playground.demo.examples import PAGE_EXAMPLES
from infra.playground.demo.lock import playground_lock
from infra.playground.demo.model import WORDS_PER_SECOND
from infra.playground.demo.targets import workspace_files
from infra.playground.feed import Feed
from infra.playground.incidents import connect_tracker
from infra.playground.schedules import schedules_shown
from infra.playground.standin import TEAM, PlaygroundSlack
from infra.playground.web import PlaygroundWeb
from infra.scheduling.timer import schedule_book
from infra.settings import Settings
from infra.storage.alert_store import SqlAlertGroupThreads
from infra.storage.slack_store import SqlSlackStore
from infra.tools.sandbox_setup import package_runner
from infra.wiring import Services, build_llm, open_services

log = structlog.get_logger(__name__)

@dataclass
class Playground:
    url: str
    slack: PlaygroundSlack
    bot: SlackBot
    services: Services
    demo: DemoKit | None
    workspace: Path | None
    sandbox_name: str
    alerts: TestAlert | None = None
    """The page's test alert (None: the bot takes no Alertmanager notification)."""

    def extras(self) -> dict[str, Any]:
        """What the page shows beyond Slack: the model, the examples, the demo's targets."""
        note = NOTE if self.demo else local_model_note(self.services.settings)
        model: dict[str, Any] = {"demo": self.demo is not None, "note": note,
                                 "name": "demo" if self.demo else self.services.settings.model}
        return {
            "model": model,
            "examples": [{"key": e.key, "title": e.title, "in_thread": e.in_thread, "request": e.request,
                          "text": e.request if e.in_thread else f"{self.bot.config.command} {e.request}"}
                         for e in PAGE_EXAMPLES if all(t in self.services.registry for t in e.mcp_tools)]
            if self.demo else [],
            "mail": [m.as_json() for m in self.demo.mail.mail] if self.demo else [],
            "workspace": self.workspace_state(),
            "alerts": self.alerts.state() if self.alerts else {"hook": False, "firing": False},
        }

    def workspace_state(self) -> dict[str, Any]:
        if self.workspace is None or not self.workspace.is_dir():
            return {"root": "", "files": []}
        return {"root": str(self.workspace), "files": workspace_files(self.workspace)}


@contextlib.asynccontextmanager
async def open_playground(settings: Settings, *, host: str = "127.0.0.1", port: int = 0,
                          demo_delay_seconds: float = 0.3,
                          demo_words_per_second: float = WORDS_PER_SECOND) -> AsyncIterator[Playground]:
    """Start the playground (and the demo, when no model is configured); stop it all on exit."""
    feed = Feed()
    async with contextlib.AsyncExitStack() as stack:
        # Before anything is wiped: a playground already running keeps its database and workspace.
        lock = stack.enter_context(playground_lock(settings.playground_dir, "a dagbot playground (starting)"))
        settings = with_alert_hook(connect_tracker(fresh_database(settings)))
        alerts = alert_hook_config(settings)  # (the operator's routes and secrets, checked as serve does)
        settings = await stack.enter_async_context(open_local_model(settings))
        demo: DemoKit | None = None
        llm: BaseChatModel
        if model_is_configured(settings):
            llm = build_llm(settings)
        else:
            demo = await stack.enter_async_context(open_demo(
                settings.playground_dir / "workspace", delay_seconds=demo_delay_seconds,
                words_per_second=demo_words_per_second,
                on_mail=lambda mail: _publish_mail(feed, mail)))
            settings = demo.tool_settings(settings)
            llm = demo.model
        packages = package_runner(settings, llm)

        slack = PlaygroundSlack()
        signing_secret = secrets.token_hex(16)
        delivery = SlackDelivery(slack, signing_secret)
        stack.push_async_callback(delivery.close)
        web = PlaygroundWeb(slack, delivery, feed, command=settings.slack_command,
                            extras=dict, host=host)  # extras: until the playground exists, just below
        url = await stack.enter_async_context(serving(web.asgi(), host, port))
        stack.callback(feed.close)  # open pages' event streams end first, so the server can stop
        local = url.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - the bot calls the emulated Slack locally
        slack.serve_at(local)
        lock.describe(f"the dagbot playground at {local}/")

        policy = load_policy(settings.policy_file, settings.approvers)
        config = BotConfig(bot_token=slack.token, signing_secret=signing_secret, api_url=f"{local}/api/",
                           command=settings.slack_command,
                           policy=policy, audit_retention_seconds=settings.audit_retention_days * 86_400,
                           answer_note=NOTE if demo else "")
        access = SlackAccess(config)  # (the bot closes it when it stops)
        stack.push_async_callback(access.close)  # (also when it never starts)
        # On a shared database (DATABASE_URL set), other workspaces' threads are not ours to run.
        services = await stack.enter_async_context(open_services(
            settings, llm=llm, packages=packages, thread_scope=own_thread, context=access.engine_context))
        check_policy_tools(policy, services.registry.names(),
                           settings.policy_file.name if settings.policy_file else "DAGBOT_APPROVERS",
                           awaited=services.awaited_tool)
        engine = services.store.engine
        bot = build_bot(config, BotDeps(engine=services.engine, events=services.events,
                                        approvals=services.store, store=SqlSlackStore(engine), access=access,
                                        alerts=alert_hook(alerts, SqlAlertGroupThreads(engine)),
                                        schedules=schedule_book(engine, "playground")))
        bot_url = await stack.enter_async_context(serving(asgi_app(bot), "127.0.0.1", 0, lifespan="on"))
        delivery.connect(bot_url)
        test_alert = TestAlert(alerts) if alerts is not None else None
        if test_alert is not None:
            test_alert.hook_url = f"{bot_url.rstrip('/')}{ALERTMANAGER_PATH}"
        web.alerts = test_alert
        web.schedules = lambda: schedules_shown(engine, team=TEAM)
        web.ready.set()

        tasks = TaskSet()
        stack.push_async_callback(_stop_telling_bot, slack, tasks)
        slack.on_bot_message = lambda message: _tell_bot(tasks, delivery, message)
        workspace = settings.workspace
        playground = Playground(url, slack, bot, services, demo, workspace,
                                getattr(getattr(packages, "sandbox", None), "name", "?"), test_alert)
        web.extras = playground.extras
        if workspace is not None and workspace.is_dir():
            # (its own task, cancelled at once: the tasks above get a grace period to finish,
            # and a watcher never finishes)
            watcher = asyncio.create_task(_watch_workspace(playground, feed), name="watch-workspace")
            stack.push_async_callback(_cancelled, watcher)
        log.info("playground ready", url=url, demo_model=demo is not None)
        yield playground


def own_thread(thread_id: str) -> bool:
    """A thread of the playground's own workspace (``slack:T0PLAYGROUND:…``)."""
    return thread_id.startswith(f"{THREAD_PREFIX}:{TEAM}:")


def fresh_database(settings: Settings) -> Settings:
    """Unless DATABASE_URL is set, the playground starts from an empty database of its own: its
    channel lives in memory, and threads it no longer shows must not come back to life."""
    if "database_url" in settings.model_fields_set:
        return settings
    settings.playground_dir.mkdir(parents=True, exist_ok=True)
    database = settings.playground_dir / "dagbot.sqlite"
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    return settings.model_copy(update={"database_url": f"sqlite:///{database}"})


def _publish_mail(feed: Feed, mail: Mail) -> None:
    feed.publish({"type": "mail", "mail": mail.as_json()})


def _tell_bot(tasks: TaskSet, delivery: SlackDelivery, message: Message) -> None:
    tasks.spawn(delivery.bot_message(message), name="bot-message-event")


async def _stop_telling_bot(slack: PlaygroundSlack, tasks: TaskSet) -> None:
    """The bot stops next: its own messages from now on are not delivered back to it as events
    (a delivery would find no one listening), and those on their way get half a second."""
    slack.on_bot_message = None
    await tasks.close(0.5)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _watch_workspace(playground: Playground, feed: Feed) -> None:
    assert playground.workspace is not None
    async for _ in watchfiles.awatch(playground.workspace, debounce=200, step=50):
        feed.publish({"type": "workspace", "workspace": playground.workspace_state()})
