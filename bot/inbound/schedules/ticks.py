"""A schedule fires: its request becomes a new thread in its channel, and a run there as its maker.

The timer (:class:`bot.ground.schedule_book.ScheduleTimer`) calls :meth:`ScheduleTicks.fire` once
per firing on one replica, and may call it again for the same firing (a replica died between
making the job and saying so); the tick's row makes the second call a no-op. The steps are
those of a slash command (:mod:`bot.inbound.commands`): claim the tick, post the root message
("Scheduled by @maker …"), record it, start the run in its thread through
:meth:`bot.inbound.intake.Intake.start` with the tick's key, mark the tick done. A replica killed
in between leaves the tick claimed and not done; :meth:`ScheduleTicks.retake`, on every
replica's recovery pass, takes it over once ``retake_seconds`` have passed and goes on from
where it stopped: the root message is reused if it was recorded, and the run's key makes a second
queueing of it a no-op.

Firings missed while every replica was down are coalesced by the timer into one; the tick counts
them (the maker's schedule, from the last tick it fired) and its root message says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from bot.ground.poster import SlackPoster
from bot.ground.schedule_book import Schedule, ScheduleStore, ScheduleTimer, Tick
from bot.ground.threads import ThreadRef
from bot.inbound.intake import Intake
from bot.store import ThreadOwnership
from bot.views import schedule_view

log = structlog.get_logger(__name__)

MISSED_COUNTED = 10_000
"""Missed firings counted at most (a minute's schedule down for a week says "10000")."""


class ScheduleTicks:
    def __init__(self, *, store: ScheduleStore, timer: ScheduleTimer, intake: Intake, poster: SlackPoster,
                 ownership: ThreadOwnership, retake_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.timer = timer
        self.intake = intake
        self.poster = poster
        self.ownership = ownership
        self.retake_seconds = retake_seconds
        self.clock = clock

    async def fire(self, schedule_id: str, fire_time: float) -> None:
        """The timer's call: the firing of ``schedule_id`` due at ``fire_time``."""
        schedule = await self.store.schedule(schedule_id)
        if schedule is None or schedule.cancelled_at is not None:
            log.info("a cancelled schedule fired: nothing runs", schedule_id=schedule_id)
            await self.timer.remove(schedule_id)
            return

        def missed_since(since: float | None) -> int:
            return len(self.timer.fire_times(schedule, schedule.created_at if since is None else since,
                                             fire_time, MISSED_COUNTED))

        tick = await self.store.claim_firing(schedule_id, fire_time, self.clock(), count_missed=missed_since)
        if tick is None:  # another replica's, or an older firing come again: done already
            log.info("a schedule's firing is claimed already: nothing runs here", schedule_id=schedule_id,
                     fire_time=fire_time)
            return
        if tick.missed:
            log.warning("schedule firings missed while dagbot was down: one run for them all",
                        schedule_id=schedule_id, missed=tick.missed)
        await self._run(schedule, tick)

    async def retake(self) -> int:
        """Go on with the ticks whose replica died in the middle (each taken by one replica)."""
        now = self.clock()
        taken = 0
        for stalled in await self.store.stalled_ticks(claimed_before=now - self.retake_seconds):
            schedule = await self.store.schedule(stalled.schedule_id)
            if schedule is None:
                continue
            if schedule.cancelled_at is not None:  # cancelled since: its firing is dropped
                await self.store.finish_tick(stalled.schedule_id, stalled.fire_time)
                log.info("a cancelled schedule's stalled firing is dropped", schedule_id=schedule.id)
                continue
            tick = await self.store.claim_tick(Tick(stalled.schedule_id, stalled.fire_time, now),
                                               stale_before=now - self.retake_seconds)
            if tick is None:
                continue
            log.warning("going on with a schedule's firing whose replica died", schedule_id=tick.schedule_id,
                        fire_time=tick.fire_time, posted=tick.root_ts is not None)
            taken += 1
            await self._run(schedule, tick, retaken_from=stalled.claimed_at)
        return taken

    async def _run(self, schedule: Schedule, tick: Tick, *, retaken_from: float | None = None) -> None:
        try:
            root_ts = tick.root_ts
            if root_ts is None:
                root = schedule_view.tick_root(schedule, tick.missed)
                posted = await self.poster.send(schedule.channel, root.text, root.blocks)
                if posted.ts is None:
                    log.warning("Slack refused a schedule's root message: the tick is skipped",
                                schedule_id=schedule.id, channel=schedule.channel, error=posted.error)
                    await self.store.finish_tick(schedule.id, tick.fire_time)
                    return
                root_ts = posted.ts
                await self.store.tick_posted(schedule.id, tick.fire_time, root_ts)
                log.info("a schedule's firing posted its root message", schedule_id=schedule.id,
                         fire_time=tick.fire_time, root_ts=root_ts)
            thread = ThreadRef(schedule.team, schedule.channel, root_ts)

            async def refused(text: str) -> None:  # (said to the maker, who is not here to see it)
                log.warning("a schedule's run did not start", schedule_id=schedule.id, thread_id=thread.key,
                            why=text)
                await self.poster.ephemeral(schedule.channel, schedule.user, text, thread_ts=root_ts)

            await asyncio.gather(
                self.intake.start(thread, schedule.request, schedule.user, fresh=True, respond=refused,
                                  key=tick.key, retaken_from=retaken_from),
                self.ownership.own_thread(thread, schedule.user, self.clock()))
            await self.store.finish_tick(schedule.id, tick.fire_time)
            log.info("schedule fired", schedule_id=schedule.id, thread_id=thread.key, missed=tick.missed)
        except Exception:
            # (left claimed: the recovery pass goes on with it once retake_seconds have passed)
            log.exception("a schedule's firing failed", schedule_id=schedule.id, fire_time=tick.fire_time)
