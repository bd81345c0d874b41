"""What both alert desks share (:class:`bot.inbound.alerts.desk.AlertDesk` for Alertmanager,
:class:`bot.inbound.alerts.pagerduty_desk.PagerDutyDesk` for PagerDuty): the groups' threads,
the storm queue, one lock per group, and saying things and starting runs in a group's thread."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable

import structlog

from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.alerts.alert_runs import AlertRuns
from bot.inbound.alerts.group_threads import AlertGroupThreads
from bot.inbound.alerts.hook_config import AlertHookConfig
from bot.inbound.alerts.outcome import Outcome
from bot.inbound.alerts.routes import AlertRoute
from bot.inbound.alerts.storm_queue import Start, StormQueue
from bot.store import ThreadOwnership
from bot.views import alert_view
from bot.views.reply_view import Reply

log = structlog.get_logger(__name__)


class ThreadDesk:
    def __init__(self, *, config: AlertHookConfig, threads: AlertGroupThreads, runs: AlertRuns,
                 storms: StormQueue, poster: SlackPoster, ownership: ThreadOwnership,
                 team: Callable[[], Awaitable[str]], clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.routes = config.routes
        self.threads = threads
        self.runs = runs
        self.storms = storms
        self.poster = poster
        self.ownership = ownership
        self.team = team
        """The workspace's id (the bot's ``auth.test``): part of a thread's key."""
        self.clock = clock
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, group: str) -> asyncio.Lock:
        """The group's lock: one delivery of a group at a time (it lives while someone holds it)."""
        return self._locks.setdefault(group, asyncio.Lock())

    async def _investigate(self, thread: ThreadRef, group: str, route: AlertRoute, request: str | None,
                           key: str, *, fresh: bool) -> Outcome | None:
        """Start the run of ``request`` in the thread, or queue it past the storm limit.
        None: started; else what became of it."""
        if request is None:
            log.warning("storm limit 0: run not started", route=route.name, thread_id=thread.key)
            await self._say(thread, alert_view.storm_limited(route.name))
            return Outcome.LIMITED
        start = await self.storms.investigate(thread, group, route.name, request, key, fresh=fresh)
        return {Start.STARTED: None, Start.QUEUED: Outcome.QUEUED}.get(start, Outcome.RUN_NOT_STARTED)

    async def _say(self, thread: ThreadRef, reply: Reply) -> None:
        posted = await self.poster.send(thread.channel, reply.text, reply.blocks, thread_ts=thread.root_ts)
        if posted.ts is None:
            log.warning("Slack refused a message in an alert group's thread", thread_id=thread.key,
                        error=posted.error)
