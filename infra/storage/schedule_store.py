"""SQLAlchemy implementation of :class:`bot.ground.schedule_book.ScheduleStore`;
:mod:`infra.emulators.memory_schedule_store` is its twin in memory, held to the same contract by
``tests/infra/test_schedule_store_contract.py``.

A firing is claimed by an ``INSERT`` of its tick, after a write to its schedule's row that
serialises a schedule's claims (its missed firings are counted from the latest tick then);
taking over a stalled one is an ``UPDATE … WHERE done = 0 AND claimed_at = <the stale time>``;
cancelling a schedule an ``UPDATE … WHERE cancelled_at IS NULL``: one caller wins each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.ground.schedule_book import Schedule, Tick, tick_key
from bot.ground.schedule_spec import spec_from_json, spec_to_json
from infra.storage.db import ScheduleRow, ScheduleTickRow


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(id=row.id, team=row.team, channel=row.channel, user=row.user, request=row.request,
                    spec=spec_from_json(row.spec), created_at=row.created_at, cancelled_at=row.cancelled_at,
                    cancelled_by=row.cancelled_by)


def _tick(row: ScheduleTickRow) -> Tick:
    return Tick(schedule_id=row.schedule_id, fire_time=row.fire_time, claimed_at=row.claimed_at,
                missed=row.missed, root_ts=row.root_ts, done=bool(row.done))


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


class SqlScheduleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    async def add_schedule(self, schedule: Schedule) -> None:
        async with self.session.begin() as s:
            s.add(ScheduleRow(id=schedule.id, team=schedule.team, channel=schedule.channel,
                              user=schedule.user, request=schedule.request, spec=spec_to_json(schedule.spec),
                              created_at=schedule.created_at, cancelled_at=schedule.cancelled_at,
                              cancelled_by=schedule.cancelled_by))

    async def schedule(self, schedule_id: str) -> Schedule | None:
        async with self.session() as s:
            row = await s.get(ScheduleRow, schedule_id)
            return _schedule(row) if row is not None else None

    async def live_schedules(self, *, user: str | None = None, channel: str | None = None) -> list[Schedule]:
        whose = [ScheduleRow.user == user] if user else []
        whose += [ScheduleRow.channel == channel] if channel else []
        query = select(ScheduleRow).where(ScheduleRow.cancelled_at.is_(None))
        if whose:
            query = query.where(or_(*whose))
        async with self.session() as s:
            rows = (await s.execute(query.order_by(ScheduleRow.created_at, ScheduleRow.id))).scalars()
            return [_schedule(row) for row in rows]

    async def cancel_schedule(self, schedule_id: str, by: str, at: float) -> bool:
        async with self.session.begin() as s:
            cancelled = await s.execute(
                update(ScheduleRow).where(ScheduleRow.id == schedule_id, ScheduleRow.cancelled_at.is_(None))
                .values(cancelled_at=at, cancelled_by=by))
            return _rows(cancelled) == 1

    async def claim_firing(self, schedule_id: str, fire_time: float, claimed_at: float, *,
                           count_missed: Callable[[float | None], int]) -> Tick | None:
        async with self.session.begin() as s:
            # A write first: it holds the schedule's row lock (PostgreSQL) or the database's write
            # lock (SQLite) to the commit, so the latest tick read next is still the latest then.
            await s.execute(update(ScheduleRow).where(ScheduleRow.id == schedule_id)
                            .values(cancelled_at=ScheduleRow.cancelled_at))
            latest = await s.scalar(select(func.max(ScheduleTickRow.fire_time))
                                    .where(ScheduleTickRow.schedule_id == schedule_id))
            since = float(latest) if latest is not None else None
            if since is not None and since >= fire_time:
                return None
            tick = Tick(schedule_id, fire_time, claimed_at, missed=count_missed(since))
            s.add(ScheduleTickRow(id=tick.key, schedule_id=schedule_id, fire_time=fire_time,
                                  claimed_at=claimed_at, missed=tick.missed, root_ts=None, done=0))
            return tick

    async def claim_tick(self, tick: Tick, *, stale_before: float) -> Tick | None:
        key = tick_key(tick.schedule_id, tick.fire_time)
        try:
            async with self.session.begin() as s:
                s.add(ScheduleTickRow(id=key, schedule_id=tick.schedule_id, fire_time=tick.fire_time,
                                      claimed_at=tick.claimed_at, missed=tick.missed, root_ts=None, done=0))
            return dataclasses.replace(tick, root_ts=None, done=False)
        except IntegrityError:
            pass
        async with self.session.begin() as s:  # taken: by a replica that died?
            row = await s.get(ScheduleTickRow, key)
            if row is None or row.done or row.claimed_at >= stale_before:
                return None
            kept = _tick(row)
            retaken = await s.execute(
                update(ScheduleTickRow)
                .where(ScheduleTickRow.id == key, ScheduleTickRow.done == 0,
                       ScheduleTickRow.claimed_at == row.claimed_at)
                .values(claimed_at=tick.claimed_at))
            return dataclasses.replace(kept, claimed_at=tick.claimed_at) if _rows(retaken) == 1 else None

    async def tick_posted(self, schedule_id: str, fire_time: float, root_ts: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(ScheduleTickRow).values(root_ts=root_ts)
                            .where(ScheduleTickRow.id == tick_key(schedule_id, fire_time)))

    async def finish_tick(self, schedule_id: str, fire_time: float) -> None:
        async with self.session.begin() as s:
            await s.execute(update(ScheduleTickRow)
                            .where(ScheduleTickRow.id == tick_key(schedule_id, fire_time)).values(done=1))

    async def stalled_ticks(self, *, claimed_before: float) -> list[Tick]:
        async with self.session() as s:
            rows = (await s.execute(select(ScheduleTickRow).where(
                ScheduleTickRow.done == 0, ScheduleTickRow.claimed_at < claimed_before)
                .order_by(ScheduleTickRow.fire_time))).scalars()
            return [_tick(row) for row in rows]
