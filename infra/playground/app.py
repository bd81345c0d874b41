"""The playground: the real bot, an emulated Slack and a page that looks like a channel.

    browser ──/ui──▶ playground (PORT) ──signed POST /slack/events──▶ the bot (its own port)
                      │  /api/* the emulated Web API ◀──SLACK_API_URL──┘
                      └─ /ui/events: live updates to the page

Nothing in ``bot/`` or ``agent/`` knows it is in a playground: the bot is built and served as
in production (:func:`bot.app.build_bot`, :func:`bot.server.asgi_app`), with the emulated
Slack's URL (:mod:`infra.playground.standin`) as its Web API base and a signing secret made for
this run. Without a configured model, the demo (:mod:`infra.playground.demo`) supplies the model
and the tools' targets; with DAGBOT_LOCAL_MODEL, the local model (:mod:`infra.local_model`)
plans, and the page says so.
"""

from __future__ import annotations

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
from bot.server import asgi_app
from infra.emulators.slack.workspace import Message
from infra.local_model.use import local_model_note, open_local_model
from infra.operations.embedded_server import serving
from infra.playground.delivery import SlackDelivery
from infra.playground.demo import NOTE, DemoKit, Mail, model_is_configured, open_demo
from infra.playground.demo.examples import PAGE_EXAMPLES
from infra.playground.demo.lock import playground_lock
from infra.playground.demo.targets import workspace_files
from infra.playground.feed import Feed
from infra.playground.standin import TEAM, PlaygroundSlack
from infra.playground.web import PlaygroundWeb
from infra.settings import Settings
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

    def extras(self) -> dict[str, Any]:
        """What the page shows beyond Slack: the model, the examples, the demo's targets."""
        note = NOTE if self.demo else local_model_note(self.services.settings)
        model: dict[str, Any] = {"demo": self.demo is not None, "note": note,
                                 "name": "demo" if self.demo else self.services.settings.model}
        return {
            "model": model,
            "examples": [{"key": e.key, "title": e.title, "in_thread": e.in_thread, "request": e.request,
                          "text": e.request if e.in_thread else f"{self.bot.config.command} {e.request}"}
                         for e in PAGE_EXAMPLES] if self.demo else [],
            "mail": [m.as_json() for m in self.demo.mail.mail] if self.demo else [],
            "workspace": self.workspace_state(),
        }

    def workspace_state(self) -> dict[str, Any]:
        if self.workspace is None or not self.workspace.is_dir():
            return {"root": "", "files": []}
        return {"root": str(self.workspace), "files": workspace_files(self.workspace)}


@contextlib.asynccontextmanager
async def open_playground(settings: Settings, *, host: str = "127.0.0.1", port: int = 0,
                          demo_delay_seconds: float = 0.3) -> AsyncIterator[Playground]:
    """Start the playground (and the demo, when no model is configured); stop it all on exit."""
    feed = Feed()
    async with contextlib.AsyncExitStack() as stack:
        # Before anything is wiped: a playground already running keeps its database and workspace.
        lock = stack.enter_context(playground_lock(settings.playground_dir, "a dagbot playground (starting)"))
        settings = fresh_database(settings)
        settings = await stack.enter_async_context(open_local_model(settings))
        demo: DemoKit | None = None
        llm: BaseChatModel
        if model_is_configured(settings):
            llm = build_llm(settings)
        else:
            demo = await stack.enter_async_context(open_demo(
                settings.playground_dir / "workspace", delay_seconds=demo_delay_seconds,
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
        bot = build_bot(config, BotDeps(engine=services.engine, events=services.events,
                                        approvals=services.store, store=SqlSlackStore(services.store.engine),
                                        access=access))
        bot_url = await stack.enter_async_context(serving(asgi_app(bot), "127.0.0.1", 0, lifespan="on"))
        delivery.connect(bot_url)
        web.ready.set()

        tasks = TaskSet()
        stack.push_async_callback(tasks.close, 0.5)
        slack.on_bot_message = lambda message: _tell_bot(tasks, delivery, message)
        workspace = settings.workspace
        playground = Playground(url, slack, bot, services, demo, workspace,
                                getattr(getattr(packages, "sandbox", None), "name", "?"))
        web.extras = playground.extras
        if workspace is not None and workspace.is_dir():
            tasks.spawn(_watch_workspace(playground, feed), name="watch-workspace")
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


async def _watch_workspace(playground: Playground, feed: Feed) -> None:
    assert playground.workspace is not None
    async for _ in watchfiles.awatch(playground.workspace, debounce=200, step=50):
        feed.publish({"type": "workspace", "workspace": playground.workspace_state()})
