"""The Slack bot: a Bolt ``AsyncApp`` wired to the engine, and its background loops.

``infra`` makes the bot's :class:`SlackAccess` first (the Web API client and the access
policy), builds the engine with it (:meth:`SlackAccess.engine_context`), then builds the bot
with :func:`build_bot` and serves ``bot.app`` over HTTP (:mod:`bot.server`) or Socket Mode.
``start()`` subscribes to run events, resumes threads whose runner died, and starts the expiry
sweeper and the recovery pass that keeps looking for such threads; ``stop()`` undoes it all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from agent.engine.engine import Engine
from agent.events import EventBus, RunEvent
from agent.execution.context import EngineContext
from agent.ports.stores import ApprovalStore
from bot.access.access import AccessDirectory
from bot.access.standing_grants import PolicedGrants
from bot.config import BotConfig
from bot.ground.background_tasks import TaskSet
from bot.ground.conversation_kinds import ConversationKinds
from bot.ground.features import SlackFeatures
from bot.ground.poster import SlackPoster, error_code
from bot.ground.schedule_book import ScheduleBook
from bot.inbound.agent_stop import SessionStop
from bot.inbound.alerts.alert_runs import AlertRuns
from bot.inbound.alerts.desk import alert_desk
from bot.inbound.alerts.hook_config import AlertHook
from bot.inbound.app_context import AppContexts
from bot.inbound.approval_shortcuts import ApprovalShortcuts
from bot.inbound.commands import SlashCommands
from bot.inbound.feedback import FeedbackDesk
from bot.inbound.intake import Intake
from bot.inbound.interactions import Interactions
from bot.inbound.listeners import Handlers, register
from bot.inbound.schedules.desk import ScheduleDesk
from bot.inbound.schedules.ticks import ScheduleTicks
from bot.ops import ObservingRetryHandler, SlackCallObserver
from bot.outbound.agent_sessions import AgentSessions
from bot.outbound.answer_surface import AnswerSurface
from bot.outbound.approval_dms import ApprovalDMs
from bot.outbound.approval_messages import ApprovalMessages
from bot.outbound.assistant import AssistantPane
from bot.outbound.home import AppHome
from bot.outbound.notifier import Notifier
from bot.outbound.progress_surface import ProgressSurface
from bot.outbound.surface import RunSurface
from bot.store import BotStore

log = structlog.get_logger(__name__)

LEFT_BEHIND_SCAN_SECONDS = 5.0
"""How often the recovery pass looks for what a dead process left behind besides threads:
pending approvals that have no message, slash commands recorded and never queued."""


def unreachable(exc: BaseException) -> str:
    """Why a connection failed, in a few words (aiohttp's own text, or the exception's name)."""
    return str(exc).strip() or type(exc).__name__


class BotStartError(RuntimeError):
    """The bot cannot start (e.g. Slack refused the token); the message says what to fix."""


@dataclass
class BotDeps:
    """What the bot needs from the rest of dagbot (``infra`` passes the real ones)."""

    engine: Engine
    """Built with ``access``'s :meth:`SlackAccess.engine_context`."""
    events: EventBus
    approvals: ApprovalStore
    store: BotStore
    access: SlackAccess
    clock: Callable[[], float] = time.time
    alerts: AlertHook | None = None
    """Alertmanager's notifications open threads and runs (``POST /hooks/alertmanager``); None: off."""
    schedules: ScheduleBook | None = None
    """``/agent every …`` makes schedules that run requests in new threads; None: off."""


class _TokenNotice(logging.Filter):
    """Bolt finds SLACK_BOT_TOKEN in the environment and warns that it is unused (the client
    has it): true, and confusing in an operator's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("dagbot.bolt")
    if not any(isinstance(f, _TokenNotice) for f in logger.filters):
        logger.addFilter(_TokenNotice())
    return logger


def web_client(config: BotConfig, session: aiohttp.ClientSession | None = None,
               observer: SlackCallObserver | None = None) -> AsyncWebClient:
    """The Web API client: 429s are retried after Retry-After, dropped connections retried.

    With a ``session``, calls reuse its pooled connections instead of opening one each; an
    ``observer`` is told of every response, retried ones included.
    """
    observing = [ObservingRetryHandler(observer)] if observer is not None else []
    return AsyncWebClient(
        token=config.bot_token, base_url=config.api_url, session=session,
        retry_handlers=[*observing, AsyncConnectionErrorRetryHandler(),
                        AsyncRateLimitErrorRetryHandler(max_retry_count=config.rate_limit_retries)],
    )


class SlackAccess:
    """The part of the bot the engine is built with, made before either: the Web API client and
    the access policy that asks Slack who is in which user group. The engine asks the policy
    which tools a request in a Slack thread may use, and which standing approvals ("Approve for
    this thread") it still allows (:meth:`engine_context`), from its first run on."""

    def __init__(self, config: BotConfig, *, slack_calls: SlackCallObserver | None = None,
                 client: AsyncWebClient | None = None) -> None:
        """``slack_calls``: told of every Web API response (metrics); None: nobody counts them.
        ``client``: a ready-made client instead of one with a connection pool of its own."""
        self._session = None if client else aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.client = client or web_client(config, self._session, slack_calls)
        self.directory = AccessDirectory(config.policy, self.client,
                                         cache_seconds=config.usergroup_cache_seconds)

    def engine_context(self, ctx: EngineContext) -> EngineContext:
        """The engine's context with the policy in it (``infra`` gives this to the engine it
        builds): its tool access, and the kept standing grants as the policy allows them now."""
        self.directory.unattended.know_risks(ctx.registry.risk_of)  # (an alert route's runs: green tools)
        return dataclasses.replace(ctx, access=self.directory,
                                   standing=PolicedGrants(ctx.standing, self.directory))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class SlackBot:
    def __init__(self, config: BotConfig, deps: BotDeps) -> None:
        self.config = config
        self.engine = deps.engine
        self.events = deps.events
        self.approvals = deps.approvals
        self.store = deps.store
        self.clock = deps.clock
        self.access = deps.access
        if self.engine.access is not self.access.directory:  # (it would plan with every tool)
            raise BotStartError("the engine was built without the bot's access policy: give it "
                                "SlackAccess.engine_context when it is built")
        self.client = self.access.client
        self.tasks = TaskSet()
        self._left_behind_checked_at = 0.0
        self.poster = SlackPoster(self.client)
        self.directory = self.access.directory
        self.grants = self.engine.standing  # the kept grants, as the policy allows them now
        self.features = SlackFeatures()
        self.pane = AssistantPane(client=self.client, store=self.store, directory=self.directory,
                                  registry=self.engine.registry, features=self.features, clock=self.clock)
        self.sessions = AgentSessions(client=self.client, features=self.features, tasks=self.tasks)
        self.contexts = AppContexts()
        self.schedule_book = deps.schedules
        self.schedules = ScheduleDesk(
            store=deps.schedules.store, timer=deps.schedules.timer, poster=self.poster,
            directory=self.directory, clock=self.clock) if deps.schedules else None
        self.home = AppHome(engine=self.engine, approvals=self.approvals, store=self.store,
                            poster=self.poster, directory=self.directory, features=self.features,
                            tasks=self.tasks, clock=self.clock, standing=self.grants,
                            schedules=self.schedules.home_blocks if self.schedules else None)
        self.feedback = FeedbackDesk(store=self.store, poster=self.poster, clock=self.clock)
        self.approval_dms = ApprovalDMs(
            approvals=self.approvals, store=self.store, poster=self.poster, directory=self.directory,
            kinds=ConversationKinds(self.client, self.features), tasks=self.tasks, clock=self.clock,
            render=lambda approval, stale: self.approval_messages.render(approval, stale=stale),
            bot_user=self._bot_user_id) if config.approver_dms else None
        self.approval_messages = ApprovalMessages(
            approvals=self.approvals, store=self.store, poster=self.poster, directory=self.directory,
            registry=self.engine.registry, tasks=self.tasks, on_change=self.home.refresh_deciders,
            dms=self.approval_dms)
        self.progress = ProgressSurface(poster=self.poster, features=self.features,
                                        stream_plan=config.stream_plan,
                                        stream_interval=config.stream_interval_seconds, clock=self.clock,
                                        session_status=self.sessions.kept)
        self.answers = AnswerSurface(poster=self.poster, store=self.store, features=self.features,
                                     show_status=self.progress.show, answer_note=config.answer_note,
                                     stream_answers=config.stream_answers,
                                     stream_interval=config.stream_interval_seconds, clock=self.clock,
                                     session_status=self.sessions.kept)
        # The order matters: a run's tasks end before its answer is posted, and the approval
        # messages it left open go stale once the answer is in (bot.outbound.notifier).
        surfaces: list[RunSurface] = [self.progress, self.pane, self.sessions, self.answers,
                                      self.approval_messages, self.home]
        self.notifier = Notifier(engine=self.engine, approvals=self.approvals, store=self.store,
                                 poster=self.poster, approval_messages=self.approval_messages,
                                 surfaces=surfaces, progress=self.progress, tasks=self.tasks,
                                 edit_interval=config.edit_interval_seconds, clock=self.clock,
                                 mentionable=frozenset(config.policy.users()))
        self.intake = Intake(engine=self.engine, store=self.store, poster=self.poster,
                             command=config.command, clock=self.clock,
                             claim_retake_seconds=config.claim_retake_seconds,
                             answers_in=self.directory.answers_in)
        alert_runs = AlertRuns(intake=self.intake, queue=self.engine, store=self.store,
                               cancel_queued=self.notifier.cancel_queued)
        self.alerts = alert_desk(deps.alerts, runs=alert_runs, poster=self.poster, store=self.store,
                                 directory=self.directory, tasks=self.tasks, team=self._team_id,
                                 clock=self.clock)
        self.schedule_ticks = ScheduleTicks(
            store=deps.schedules.store, timer=deps.schedules.timer, intake=self.intake, poster=self.poster,
            ownership=self.store, retake_seconds=config.claim_retake_seconds,
            clock=self.clock) if deps.schedules else None
        self.commands = SlashCommands(intake=self.intake, store=self.store, poster=self.poster,
                                      tasks=self.tasks, answers_in=self.directory.answers_in,
                                      retake_seconds=config.claim_retake_seconds, clock=self.clock)
        self.interactions = Interactions(engine=self.engine, approvals=self.approvals, store=self.store,
                                         poster=self.poster, directory=self.directory,
                                         notifier=self.notifier, approval_messages=self.approval_messages)
        self.session_stop = SessionStop(store=self.store, cancel=self.interactions.cancel,
                                        sessions=self.sessions, streams_stopped=self.notifier.streams_stopped)
        self.shortcuts = ApprovalShortcuts(engine=self.engine, approvals=self.approvals, grants=self.grants,
                                           store=self.store, poster=self.poster, directory=self.directory,
                                           interactions=self.interactions,
                                           approval_messages=self.approval_messages, clock=self.clock)

        async def authorize() -> AuthorizeResult:  # Bolt passes arguments by name: none wanted
            return await self.identity()

        self.app = AsyncApp(
            # Bolt's per-request clients get the token from authorize(), which answers from one
            # auth.test made at start-up instead of one per request.
            client=AsyncWebClient(base_url=config.api_url, session=self.client.session,
                                  retry_handlers=self.client.retry_handlers),
            authorize=authorize, signing_secret=config.signing_secret, process_before_response=True,
            logger=bolt_logger(),
        )
        register(self.app, Handlers(
            config=config, tasks=self.tasks, commands=self.commands, intake=self.intake,
            interactions=self.interactions, session_stop=self.session_stop, contexts=self.contexts,
            pane=self.pane, home=self.home, feedback=self.feedback, engine=self.engine,
            approvals=self.approvals, store=self.store, directory=self.directory, shortcuts=self.shortcuts,
            schedules=self.schedules))
        self._queue: asyncio.Queue[RunEvent] | None = None
        self._loops: list[asyncio.Task[Any]] = []
        self._identity: AuthorizeResult | None = None
        self._identity_lock = asyncio.Lock()

    async def identity(self) -> AuthorizeResult:
        """Who the bot is in Slack (``auth.test``, asked once)."""
        async with self._identity_lock:
            if self._identity is None:
                try:
                    response = await self.client.auth_test()
                except SlackApiError as exc:
                    raise BotStartError(
                        f"Slack refused SLACK_BOT_TOKEN ({error_code(exc)}): check the token and that the "
                        "app is installed in the workspace.") from None
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    raise BotStartError(
                        f"cannot reach Slack at SLACK_API_URL={self.config.api_url}: {unreachable(exc)}"
                    ) from None
                self._identity = AuthorizeResult.from_auth_test_response(
                    auth_test_response=response, bot_token=self.config.bot_token)
            return self._identity

    async def _team_id(self) -> str:
        return (await self.identity()).team_id or ""

    async def _bot_user_id(self) -> str | None:
        return (await self.identity()).bot_user_id

    async def start(self) -> None:
        if self._queue is not None:
            return
        await self.identity()
        self._queue = self.events.open()
        self._loops = [
            asyncio.create_task(self.notifier.consume(self._queue), name="notifier"),
            asyncio.create_task(self._every(self.config.tick_seconds, self._tick), name="ticker"),
            asyncio.create_task(self._every(self.config.sweep_interval_seconds, self.sweep), name="sweeper"),
            asyncio.create_task(self._every(self.config.recover_interval_seconds, self.recover),
                                name="recovery"),
        ]
        resumed = await self.engine.recover()
        if self.alerts is not None:
            self.alerts.storms.resume()  # (runs a storm held back before a restart)
        if self.schedule_book is not None and self.schedule_ticks is not None:
            await self.schedule_book.timer.start(self.schedule_ticks.fire)
        log.info("slack bot started", resumed_threads=len(resumed))

    async def stop(self) -> None:
        if self._queue is not None:
            if self.schedule_book is not None:
                await self.schedule_book.timer.stop()
            for loop in self._loops:
                loop.cancel()
            await asyncio.gather(*self._loops, return_exceptions=True)
            self.events.close(self._queue)
            self._queue = None
            await self.notifier.close()
            if self.alerts is not None:
                self.alerts.storms.close()
            await self.tasks.close()
            log.info("slack bot stopped")
        await self.access.close()

    async def sweep(self) -> None:
        """Expire overdue approvals (their messages follow via the events), forget old claims,
        and prune audit rows past their retention."""
        expired = await self.engine.sweep_expired()
        forgotten = await self.store.forget_claims(self.clock() - self.config.claim_ttl_seconds)
        pruned = 0
        if self.config.audit_retention_seconds > 0:
            pruned = await self.engine.prune_audit(self.clock() - self.config.audit_retention_seconds)
        if expired or forgotten or pruned:
            log.info("swept", expired_approvals=len(expired), forgotten_claims=forgotten,
                     pruned_audit_rows=pruned)

    async def recover(self) -> None:
        """Resume threads whose runner died or failed while this process runs (start-up has
        its own pass): lapsed leases, decisions no runner took up, orphaned queued requests; and
        run slash commands, schedules' firings and alert runs held back in a storm whose
        process died before it went on with them."""
        resumed = await self.engine.recover_lapsed()
        if resumed:
            log.info("recovered threads", threads=resumed)
        if self.clock() - self._left_behind_checked_at >= LEFT_BEHIND_SCAN_SECONDS:
            self._left_behind_checked_at = self.clock()
            await self.notifier.post_missing_approvals(older_than=self.config.missing_approval_seconds)
            await self.commands.retake()
            if self.schedule_ticks is not None:
                await self.schedule_ticks.retake()
            if self.alerts is not None:
                await self.alerts.storms.drain_held()  # held by a replica that died

    async def _tick(self) -> None:
        self.notifier.tick()

    async def _every(self, seconds: float, work: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.exception("periodic work failed", work=getattr(work, "__name__", "?"))

def build_bot(config: BotConfig, deps: BotDeps) -> SlackBot:
    return SlackBot(config, deps)
