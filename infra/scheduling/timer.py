"""The schedules' timer on APScheduler 4 (:class:`bot.ground.schedule_book.ScheduleTimer`).

Every replica runs an ``AsyncScheduler`` on one ``SQLAlchemyDataStore``, on dagbot's database
(SQLite or PostgreSQL; the tables are made by migration 0014). A schedule's due firing is taken
by one scheduler at a time (a lease on its row, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), turned
into a job, and the job run by one of them: the tick (:meth:`bot.inbound.schedules.ticks.ScheduleTicks.fire`)
with the schedule's id and the job's scheduled fire time. Firings missed while every replica was
down come as one job (``CoalescePolicy.latest``, no misfire grace time: never dropped).

What APScheduler leaves to us: a job whose replica died while running it is not run again (its
outcome becomes "abandoned"), and a replica that died between making a job and releasing its
schedule has the firing made again by the next; both are the tick's to handle (its row in
``schedule_ticks``). Without an event broker shared between replicas, a scheduler learns of a
schedule or a job another replica made when it next looks: each looks every ``poll_seconds``.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler import AsyncScheduler, CoalescePolicy, ConflictPolicy, JobAdded, ScheduleUpdated, current_job
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ground.schedule_book import OnTick, Schedule, ScheduleBook
from infra.scheduling import triggers

log = structlog.get_logger(__name__)

TICK_TASK = "dagbot.schedule_tick"
"""The one APScheduler task every schedule runs (each replica gives it its own callable)."""


class ApschedulerTimer:
    def __init__(self, engine: AsyncEngine, *, identity: str, lease_seconds: float = 30.0,
                 poll_seconds: float = 10.0) -> None:
        """``lease_seconds``: how long a replica that died holds a schedule it was firing before
        another takes it (it renews it every half of that while alive)."""
        self.store = SQLAlchemyDataStore(engine)
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._scheduler: AsyncScheduler | None = None
        self._stack: AsyncExitStack | None = None
        self._poll: asyncio.Task[None] | None = None

    @property
    def scheduler(self) -> AsyncScheduler:
        if self._scheduler is None:
            raise RuntimeError("the schedule timer is not started")
        return self._scheduler

    async def open(self, on_tick: OnTick | None = None) -> None:
        """Reach the store, to add and remove schedules, without firing any here."""
        async def tick(schedule_id: str) -> None:
            due = current_job.get().scheduled_fire_time
            if due is None:  # (only a job added by hand has none: dagbot adds none)
                raise RuntimeError(f"schedule {schedule_id}: a job without a fire time")
            if on_tick is None:
                raise RuntimeError("this schedule timer fires nothing")
            await on_tick(schedule_id, due.timestamp())

        stack = AsyncExitStack()
        scheduler = AsyncScheduler(self.store, identity=self.identity,
                                   lease_duration=timedelta(seconds=self.lease_seconds),
                                   max_concurrent_jobs=20, cleanup_interval=timedelta(minutes=15))
        await stack.enter_async_context(scheduler)
        # no limit of running ticks: a limit is counted in the database, and a replica killed
        # while running one would keep its count until the clean-up
        await scheduler.configure_task(TICK_TASK, func=tick, max_running_jobs=None)
        self._scheduler, self._stack = scheduler, stack

    async def start(self, on_tick: OnTick) -> None:
        await self.open(on_tick)
        await self.scheduler.start_in_background()
        self._poll = asyncio.create_task(self._look_again(), name="schedule-timer-poll")
        log.info("schedule timer started", identity=self.identity)

    async def stop(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.gather(self._poll, return_exceptions=True)
            self._poll = None
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._scheduler = None, None

    async def add(self, schedule: Schedule) -> None:
        await self.scheduler.add_schedule(
            TICK_TASK, triggers.trigger_for(schedule), id=schedule.id, args=(schedule.id,),
            coalesce=CoalescePolicy.latest, misfire_grace_time=None, conflict_policy=ConflictPolicy.replace)

    async def remove(self, schedule_id: str) -> None:
        await self.scheduler.remove_schedule(schedule_id)

    def next_fire_time(self, schedule: Schedule, after: float) -> float | None:
        return triggers.next_fire_time(schedule, after)

    def fire_times(self, schedule: Schedule, after: float, before: float, limit: int) -> list[float]:
        return triggers.fire_times(schedule, after, before, limit)

    async def _look_again(self) -> None:
        """Wake this replica's scheduler to look at the store (what other replicas did)."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            scheduler = self._scheduler
            if scheduler is None:
                return
            try:
                nudge: list[Any] = [ScheduleUpdated(schedule_id="", task_id=TICK_TASK,
                                                    next_fire_time=datetime.now(UTC)),
                                    JobAdded(job_id=_NO_JOB, task_id=TICK_TASK, schedule_id=None)]
                for event in nudge:
                    await scheduler.event_broker.publish_local(event)
            except Exception:
                log.exception("could not wake the schedule timer")


_NO_JOB = "00000000-0000-0000-0000-000000000000"



def schedule_book(engine: AsyncEngine, identity: str) -> ScheduleBook:
    """The bot's schedules on dagbot's database: their records, and APScheduler's timer."""
    from infra.storage.schedule_store import SqlScheduleStore

    return ScheduleBook(SqlScheduleStore(engine), ApschedulerTimer(engine, identity=identity))
