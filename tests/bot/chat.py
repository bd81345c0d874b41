"""The chat as scenario tests see it: people who post and click, and the bot's messages.

Reads like a conversation (errbot style)::

    thread = await alice.runs("deploy prod")
    approval = await thread.approval_for("deploy")
    await alice.approves(approval)
    answer = await thread.answer()
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from langchain_core.language_models import BaseChatModel

from agent.engine.engine import Engine
from agent.execution.context import EngineContext, EngineSettings
from bot.access.approvers import ApproverPolicy
from bot.access.policy import Policy
from bot.app import BotDeps, SlackAccess, SlackBot, build_bot
from bot.config import BotConfig
from bot.ground.schedule_book import ScheduleBook, ScheduleTimer
from bot.inbound.alerts.hook_config import AlertHook, AlertHookConfig
from bot.server import asgi_app
from bot.store import BotStore
from bot.views.wording import PHASE_TITLES
from infra.emulators.memory_alert_store import MemoryAlertGroupThreads
from infra.emulators.memory_schedule_store import MemoryScheduleStore
from infra.emulators.memory_slack_store import MemorySlackStore
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.operations.metrics import Metrics
from infra.settings import Settings
from infra.storage.alert_store import SqlAlertGroupThreads
from infra.storage.schedule_store import SqlScheduleStore
from infra.storage.slack_store import SqlSlackStore
from infra.wiring import Services, model_secrets, open_services
from tests.agent.harness import MEMORY, MemoryServices, memory_services
from tests.fakes.asgi_server import BackgroundServer
from tests.fakes.packages import ScriptedPackages
from tests.fakes.slack_api import FakeSlack, Message
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.tools import ToolLog, simulated_registry

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OPS = "C0OPS"
ALICE, BOB, CAROL, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY"


def finish(answer: str) -> str:
    """The joiner's reply that answers: its text."""
    return answer


def replan(feedback: str) -> dict[str, Any]:
    """The joiner's reply that asks for a new plan: a call of the ``replan`` tool."""
    return {"feedback": feedback}


def is_status(message: Message) -> bool:
    return message.is_from_bot and any(
        text.startswith(title) for text, _ in message.versions for title in PHASE_TITLES.values())


def is_approval(message: Message) -> bool:
    return message.is_from_bot and message.versions[0][0].startswith("Approval needed")


def is_answer(message: Message) -> bool:
    return message.is_from_bot and ":stopwatch:" in message.content


# ------------------------------------------------------------------ the app


@dataclass
class RunningBot:
    services: Services | MemoryServices
    bot: SlackBot
    server: BackgroundServer
    llm: ScriptedChatModel
    log: ToolLog

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def url(self) -> str:
        return self.server.url


class MovedClock:
    """The engine's clock in a test: the time, moved ahead at will (``clock.ahead = 86_400``: a
    day passes for the engine)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


class SlackAPI(Protocol):
    """Where the bot finds the (fake) Web API: a FakeSlack, or its address in another process."""

    @property
    def token(self) -> str: ...

    @property
    def base_url(self) -> str: ...


def bot_config(slack: SlackAPI, approvers: dict[str, list[str]] | None = None, **overrides: Any) -> BotConfig:
    """The bot's settings for a test. The plan is listed in the status message (as where Slack
    does not stream) unless ``stream_plan=True``: most tests read node states off its lines;
    tests/bot/test_plan_stream.py reads them off the streamed plan."""
    values: dict[str, Any] = {"signing_secret": SIGNING_SECRET, "edit_interval_seconds": 1.0,
                              "sweep_interval_seconds": 0.2, "tick_seconds": 5.0, "stream_plan": False}
    values.update(overrides)
    policy = values.pop("policy", None) or Policy()
    policy = policy.with_approvers(ApproverPolicy({k: tuple(v) for k, v in (approvers or {}).items()}))
    return BotConfig(bot_token=slack.token, api_url=slack.base_url, policy=policy, **values)


@asynccontextmanager
async def running_bot(
    slack: SlackAPI, database_url: str, replies: list[Any], *, approvers: dict[str, list[str]] | None = None,
    log: ToolLog | None = None, holder: str | None = None, metrics: Metrics | None = None,
    model: BaseChatModel | None = None, engine_clock: Callable[[], float] | None = None,
    alerts: AlertHookConfig | None = None, schedules: ScheduleTimer | None = None, **config: Any,
) -> AsyncIterator[RunningBot]:
    """The real app (Bolt, engine, SQL stores) served by uvicorn on a free port; with ``metrics``,
    metered and serving GET /metrics. ``database_url``: :data:`MEMORY` for the engine's and the
    bot's in-memory stores, no database (for tests of what the bot does, not of what a database
    keeps across processes). ``model``: the chat model instead of one scripted with ``replies``
    (e.g. langchain-openai's, pointed at a fake server that streams). ``engine_clock``: the
    engine's clock (e.g. a :class:`MovedClock`) instead of the time. ``alerts``: the bot takes
    Alertmanager's notifications (POST /hooks/alertmanager), its groups' threads kept beside the rest.
    ``schedules``: the bot takes ``/agent every …``, fired by this timer, kept beside the rest."""
    log = log or ToolLog()
    llm = ScriptedChatModel(replies=replies)
    settings = Settings(DATABASE_URL=database_url, DAGBOT_LEASE_TTL=5)
    bot_settings = bot_config(slack, approvers, **config)
    access = SlackAccess(bot_settings, slack_calls=metrics)

    def context(ctx: EngineContext) -> EngineContext:
        ctx = access.engine_context(ctx)
        return dataclasses.replace(ctx, clock=engine_clock) if engine_clock is not None else ctx

    async with bot_services(settings, model or llm, log, holder=holder, metrics=metrics,
                            context=context) as (services, store):
        threads = (SqlAlertGroupThreads(services.store.engine) if isinstance(services, Services)
                   else MemoryAlertGroupThreads())
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store, store=store,
                       access=access, alerts=AlertHook(alerts, threads) if alerts is not None else None,
                       schedules=_schedule_book(services, schedules))
        bot = build_bot(bot_settings, deps)
        server = BackgroundServer(asgi_app(bot, ops=metrics), lifespan="on")
        await server.start()
        try:
            yield RunningBot(services, bot, server, llm, log)
        finally:
            await server.stop()


def _schedule_book(services: Services | MemoryServices, timer: ScheduleTimer | None) -> ScheduleBook | None:
    if timer is None:
        return None
    store = SqlScheduleStore(services.store.engine) if isinstance(services, Services) else MemoryScheduleStore()
    return ScheduleBook(store, timer)


@asynccontextmanager
async def bot_services(
    settings: Settings, llm: BaseChatModel, log: ToolLog, *, context: Callable[[EngineContext], EngineContext],
    holder: str | None = None, metrics: Metrics | None = None,
) -> AsyncIterator[tuple[Services | MemoryServices, BotStore]]:
    """The engine and the bot's store on the database ``settings`` name or, given :data:`MEMORY`,
    on the in-memory stores, wired as :func:`infra.wiring.open_services` wires them on SQLite."""
    registry, engine_config = simulated_registry(log), EngineSettings(decision_poll_seconds=0.2)
    if settings.database_url != MEMORY:
        async with open_services(settings, llm=llm, registry=registry, packages=ScriptedPackages(),
                                 engine_config=engine_config, holder=holder, metrics=metrics,
                                 context=context) as services:
            yield services, SqlSlackStore(services.store.engine)
        return
    if holder is not None or metrics is not None:  # (a test of either needs a database)
        raise ValueError("in memory, the bot runs in one process and counts nothing in a database: "
                         "give running_bot a database URL for a holder or metrics")

    def masked(ctx: EngineContext) -> EngineContext:  # (as open_services masks the model's secrets)
        return context(dataclasses.replace(ctx, redactor=model_secrets(settings, llm)))

    async with memory_services(llm, registry, packages=ScriptedPackages(), engine_config=engine_config,
                               context=masked) as memory:
        yield memory, MemorySlackStore(memory.store)


# ------------------------------------------------------------------ the chat


@dataclass
class Thread:
    chat: Chat
    channel: str
    root_ts: str

    @property
    def slack(self) -> FakeSlack:
        return self.chat.slack

    def messages(self) -> list[Message]:
        return self.slack.thread(self.channel, self.root_ts)

    def root(self) -> Message:
        return self.messages()[0]

    def status_messages(self) -> list[Message]:
        return [m for m in self.messages() if is_status(m)]

    def approvals(self) -> list[Message]:
        return [m for m in self.messages() if is_approval(m)]

    def answers(self) -> list[Message]:
        return [m for m in self.messages() if is_answer(m)]

    async def status_message(self, index: int = 0) -> Message:
        return await self.slack.wait_for(
            lambda: self.status_messages()[index] if len(self.status_messages()) > index else None,
            what=f"status message #{index}")

    async def status_showing(self, *texts: str, index: int = 0) -> Message:
        """Wait until the status message shows every text (e.g. ':white_check_mark: `b`')."""
        status = await self.status_message(index)
        await self.slack.wait_for(lambda: all(t in status.content for t in texts),
                                  what=f"status showing {texts}; it shows:\n{status.content}")
        return status

    async def approval_for(self, node_id: str) -> Message:
        return await self.slack.wait_for(
            lambda: next((m for m in self.approvals() if f"(node `{node_id}`)" in m.content), None),
            what=f"an approval message for {node_id}")

    async def answer(self, index: int = 0) -> Message:
        return await self.slack.wait_for(
            lambda: self.answers()[index] if len(self.answers()) > index else None,
            what=f"answer #{index}")

    async def bot_says(self, text: str) -> Message:
        return await self.slack.wait_for(
            lambda: next((m for m in self.messages() if m.is_from_bot and text in m.content), None),
            what=f"the bot saying {text!r}")


@dataclass
class Person:
    chat: Chat
    id: str

    @property
    def slack(self) -> FakeSlack:
        return self.chat.slack

    @property
    def driver(self) -> SlackDriver:
        return self.chat.driver

    async def runs(self, request: str, channel: str = OPS) -> Thread:
        """``/agent <request>``; the bot's root message starts the thread."""
        response = await self.driver.slash(self.id, channel, request)
        assert response.status_code == 200, response.text
        root = await self.slack.wait_for(lambda: next(
            (m for m in self.slack.messages if m.is_from_bot and m.channel == channel and m.thread_ts is None
             and f"<@{self.id}> asked" in m.content and request in m.content), None), what="the root message")
        return Thread(self.chat, channel, root.ts)

    async def says(self, text: str, channel: str = OPS, thread: Thread | None = None) -> Message:
        return await self.driver.say(self.id, channel, text, thread.root_ts if thread else None)

    async def mentions_bot(self, text: str, channel: str = OPS) -> Thread:
        message = await self.says(f"<@{self.slack.bot_user}> {text}", channel)
        return Thread(self.chat, channel, message.ts)

    async def replies(self, thread: Thread, text: str) -> Message:
        return await self.says(text, thread.channel, thread)

    async def clicks(self, label: str, message: Message) -> httpx.Response:
        response = await self.driver.click(self.id, message, label)
        assert response.status_code == 200, response.text
        return response

    async def approves(self, approval: Message) -> httpx.Response:
        return await self.clicks("Approve", approval)

    async def rejects(self, approval: Message, reason: str | None = None) -> None:
        """Click Reject, then submit the modal that opens (with the reason, if any)."""
        opened = len(self.slack.views)
        await self.clicks("Reject", approval)
        view = await self.slack.wait_for(lambda: self.slack.views[opened] if len(self.slack.views) > opened
                                         else None, what="the reject modal")
        response = await self.driver.submit_view(self.id, view, {"reason": {"reason": reason or ""}})
        assert response.status_code == 200, response.text

    async def opens_edit(self, approval: Message) -> dict[str, Any]:
        """Click Edit; returns the modal that opens."""
        opened = len(self.slack.views)
        await self.clicks("Edit", approval)
        return await self.slack.wait_for(lambda: self.slack.views[opened] if len(self.slack.views) > opened
                                         else None, what="the edit modal")

    async def submits_edit(self, view: dict[str, Any], changes: dict[str, str]) -> httpx.Response:
        """Submit an Edit modal: each field keeps its initial text unless ``changes`` names it."""
        values = {}
        for block in view["blocks"]:
            if block.get("type") == "input":
                name, element = block["block_id"].removeprefix("arg:"), block["element"]
                shown = element.get("initial_value") or (element.get("initial_option") or {}).get("value", "")
                values[block["block_id"]] = {"value": changes.get(name, shown)}
        response = await self.driver.submit_view(self.id, view, values)
        assert response.status_code == 200, response.text
        return response

    async def cancels(self, thread: Thread) -> httpx.Response:
        return await self.clicks("Cancel", (await thread.status_message(len(thread.status_messages()) - 1)))

    async def is_told(self, text: str) -> str:
        return await self.slack.wait_for(lambda: next((t for t in self.slack.told(self.id) if text in t), None),
                                         what=f"{self.id} being told {text!r}; told: {self.slack.told(self.id)}")

    async def gets_dm(self, text: str) -> str:
        """Wait for a message from the app in its DM with this person (the Messages tab) saying ``text``."""
        return await self.slack.wait_for(lambda: next((t for t in self.slack.dms(self.id) if text in t), None),
                                         what=f"a DM to {self.id} saying {text!r}; DMs: {self.slack.dms(self.id)}")


@dataclass
class Chat:
    slack: FakeSlack
    driver: SlackDriver
    people: dict[str, Person] = field(default_factory=dict)

    def person(self, user_id: str) -> Person:
        return self.people.setdefault(user_id, Person(self, user_id))


@asynccontextmanager
async def chat_with(slack: FakeSlack, app: RunningBot) -> AsyncIterator[Chat]:
    driver = SlackDriver(slack, app.url, SIGNING_SECRET)
    try:
        yield Chat(slack, driver)
    finally:
        await driver.close()


async def settle(app: RunningBot) -> None:
    """Wait until the engine and the bot have no background work left."""
    await app.engine.idle()
    await app.bot.tasks.idle()
    await asyncio.sleep(0)
