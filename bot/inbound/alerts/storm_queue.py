"""Runs past a route's storm limit wait their turn: queued in the alert store, started as the
route's budget frees, and listed in ONE summary message per storm in the route's channel.

A route's run starts at once when none of its runs waits already and its budget
(:class:`bot.inbound.alerts.storm.StormBudget`, kept in the alert store and shared by every
replica on it) counts the start; otherwise it is kept in the alert store
(:meth:`bot.inbound.alerts.group_threads.AlertGroupThreads.queue_alert_run`, so a restart or
another replica loses none) and a timer drains the route's queue, oldest first, when the window
frees. Each held run is taken from the store by one process before it starts, after that process
took a start from the budget (a start taken for a run another process took meanwhile goes to the
next held run, or is left unused: the limit caps the starts, it promises none).

The first run a storm holds back posts the route's summary in its channel ("3 alert groups
queued for `node-down` …"); each later one, each start and each resolution before its start
edit that message in place (``chat.update``, coalesced: one edit under way at a time, the
newest state next). When nothing of the route waits any more, the summary says the storm is
over, and the next storm gets a message of its own. Summaries are this process's: a storm held
by several replicas gets one from each (listing the runs it held), and after a restart the held
runs still start, without one.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from bot.access.unattended import route_requester
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.alerts.alert_runs import AlertRuns
from bot.inbound.alerts.group_threads import AlertGroupThreads, QueuedAlertRun
from bot.views import alert_view

log = structlog.get_logger(__name__)


class Start(enum.StrEnum):
    STARTED = "started"
    QUEUED = "queued"
    NOT_STARTED = "not_started"  # Slack refused its status message
    OFF = "off"  # the storm limit is 0: alerts start no run


@dataclass
class _Storm:
    """One storm of a route: its summary message and the runs it lists (key → run, state)."""

    route: str
    channel: str
    held: dict[str, tuple[QueuedAlertRun, str]] = field(default_factory=dict)
    ts: str | None = None
    over: bool = False
    dirty: bool = False
    publishing: bool = False


class StormQueue:
    def __init__(self, *, limit: int, window_seconds: float, threads: AlertGroupThreads, runs: AlertRuns,
                 poster: SlackPoster, tasks: TaskSet, team: Callable[[], Awaitable[str]],
                 clock: Callable[[], float] = time.time,
                 storm_clock: Callable[[], float] = time.time) -> None:
        """``storm_clock``: the budget's, a wall clock since the replicas share the budget."""
        self.limit = limit
        self.budget = threads.storm_budget(limit, window_seconds)
        self.storm_clock = storm_clock
        self.threads = threads
        self.runs = runs
        self.poster = poster
        self.tasks = tasks
        self.team = team
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        """Route → when its queue is drained next (a timer, not a task: waiting is not work)."""
        self._storms: dict[str, _Storm] = {}

    def _lock(self, route: str) -> asyncio.Lock:
        return self._locks.setdefault(route, asyncio.Lock())

    async def holds(self, route: str) -> bool:
        """Would a run of the route wait now (to say so in its thread)?"""
        return bool(self.limit) and (await self.budget.frees_in(route, self.storm_clock()) > 0
                                     or bool(await self.threads.queued_alert_runs(route)))

    async def investigate(self, thread: ThreadRef, group: str, route: str, request: str, key: str, *,
                          fresh: bool) -> Start:
        """Start the route's run of ``request`` in the thread now, or queue it behind the others."""
        if not self.limit:
            return Start.OFF
        async with self._lock(route):
            if (not await self.threads.queued_alert_runs(route)
                    and await self.budget.take(route, self.storm_clock())):
                started = await self.runs.start(thread, request, route_requester(route), key, fresh=fresh)
                return Start.STARTED if started else Start.NOT_STARTED
            run = QueuedAlertRun(key=key, group=group, route=route, channel=thread.channel,
                                 root_ts=thread.root_ts, request=request, queued_at=self.clock())
            if await self.threads.queue_alert_run(run):
                log.warning("storm limit: run queued", route=route, thread_id=thread.key,
                            runs_per_minute=self.limit)
                self._show(run, "waiting")
            await self._schedule(route)
            return Start.QUEUED

    async def drop(self, group: str) -> int:
        """The group resolved: its held runs will not start. How many there were."""
        dropped = await self.threads.drop_queued_alert_runs(group)
        for run in dropped:
            self._show(run, "resolved")
        for route in {run.route for run in dropped}:
            async with self._lock(route):
                await self._maybe_over(route)
        return len(dropped)

    def resume(self) -> None:
        """Start draining what was held back before this process started (in the background)."""
        self.tasks.spawn(self.drain_held(), name="alert-storm-resume")

    async def drain_held(self) -> None:
        """Drain every route that has held runs, whichever replica held them: at start, and on
        every replica's recovery pass, so that runs a replica held and then died with (its
        timer gone) start when the budget lets them."""
        for route in sorted({run.route for run in await self.threads.queued_alert_runs()}):
            if route not in self._timers:  # (this process drains it when its window frees)
                await self.drain(route)

    async def drain(self, route: str) -> None:
        """Start the route's held runs (whichever replica held them), oldest first, while the
        shared budget lets them; then wait for the window to free if some are left."""
        async with self._lock(route):
            counted = False  # a start taken from the budget and not used yet
            for run in await self.threads.queued_alert_runs(route):
                if not counted and not await self.budget.take(route, self.storm_clock()):
                    break
                counted = True
                if not await self.threads.take_queued_alert_run(run.key):
                    continue  # another process took it: the start goes to the next
                counted = False
                thread = ThreadRef(await self.team(), run.channel, run.root_ts)
                started = await self.runs.start(thread, run.request, route_requester(route), run.key,
                                                fresh=False)
                log.info("held alert run started", route=route, thread_id=thread.key, started=started)
                self._show(run, "started" if started else "not_started")
            if await self.threads.queued_alert_runs(route):
                await self._schedule(route)
            else:
                await self._maybe_over(route)

    async def _schedule(self, route: str) -> None:
        if route not in self._timers:
            frees_in = await self.budget.frees_in(route, self.storm_clock())
            if route not in self._timers:  # (still: another schedule may have come meanwhile)
                self._timers[route] = asyncio.get_running_loop().call_later(frees_in, self._drain_now, route)

    def _drain_now(self, route: str) -> None:
        self._timers.pop(route, None)
        self.tasks.spawn(self.drain(route), name=f"alert-storm:{route}")

    def close(self) -> None:
        """Drain no more (the bot stops): what is held stays in the store for the next start."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def _maybe_over(self, route: str) -> None:
        """(Holding the route's lock.) The storm is over once nothing of the route waits."""
        storm = self._storms.get(route)
        if storm is not None and not await self.threads.queued_alert_runs(route):
            storm.over = True
            del self._storms[route]
            self._publish(storm)

    # ------------------------------------------------------------ the summary

    def _show(self, run: QueuedAlertRun, state: str) -> None:
        storm = self._storms.get(run.route)
        if storm is None:
            if state != "waiting":
                return  # (held before this process started: no summary lists it)
            storm = self._storms[run.route] = _Storm(run.route, run.channel)
        storm.held[run.key] = (run, state)
        self._publish(storm)

    def _publish(self, storm: _Storm) -> None:
        storm.dirty = True
        if not storm.publishing:
            storm.publishing = True
            self.tasks.spawn(self._send(storm), name=f"alert-storm-summary:{storm.route}")

    async def _send(self, storm: _Storm) -> None:
        """Post the storm's summary, then edit it to its newest state until none is left to show."""
        try:
            while storm.dirty:
                storm.dirty = False
                reply = alert_view.storm_summary(storm.route, self.limit, list(storm.held.values()),
                                                 over=storm.over)
                if storm.ts is None:
                    sent = await self.poster.send(storm.channel, reply.text, reply.blocks)
                    storm.ts = sent.ts
                else:
                    sent = await self.poster.edit(storm.channel, storm.ts, reply.text, reply.blocks)
                if not sent.ok:
                    log.warning("Slack refused a storm summary", route=storm.route, error=sent.error)
        finally:
            storm.publishing = False
