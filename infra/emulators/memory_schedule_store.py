"""Schedules and their ticks in memory: :class:`bot.ground.schedule_book.ScheduleStore` in dicts, with
the semantics of :class:`infra.storage.schedule_store.SqlScheduleStore`
(``tests/infra/test_schedule_store_contract.py`` holds both to them): each claim and cancel
checks and writes in one step, with no ``await`` in between."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.ground.schedule_book import Schedule, Tick


class MemoryScheduleStore:
    def __init__(self) -> None:
        self._schedules: dict[str, Schedule] = {}
        self._ticks: dict[tuple[str, float], Tick] = {}

    async def add_schedule(self, schedule: Schedule) -> None:
        if schedule.id in self._schedules:
            raise ValueError(f"schedule {schedule.id} exists")
        self._schedules[schedule.id] = schedule

    async def schedule(self, schedule_id: str) -> Schedule | None:
        return self._schedules.get(schedule_id)

    async def live_schedules(self, *, user: str | None = None, channel: str | None = None) -> list[Schedule]:
        def whose(s: Schedule) -> bool:
            return (user is None and channel is None) or s.user == user or s.channel == channel

        return sorted((s for s in self._schedules.values() if s.cancelled_at is None and whose(s)),
                      key=lambda s: (s.created_at, s.id))

    async def cancel_schedule(self, schedule_id: str, by: str, at: float) -> bool:
        kept = self._schedules.get(schedule_id)
        if kept is None or kept.cancelled_at is not None:
            return False
        self._schedules[schedule_id] = dataclasses.replace(kept, cancelled_at=at, cancelled_by=by)
        return True

    async def claim_firing(self, schedule_id: str, fire_time: float, claimed_at: float, *,
                           count_missed: Callable[[float | None], int]) -> Tick | None:
        since = max((t.fire_time for (s, _), t in self._ticks.items() if s == schedule_id), default=None)
        if since is not None and since >= fire_time:
            return None
        claimed = Tick(schedule_id, fire_time, claimed_at, missed=count_missed(since))
        self._ticks[(schedule_id, fire_time)] = claimed
        return claimed

    async def claim_tick(self, tick: Tick, *, stale_before: float) -> Tick | None:
        key = (tick.schedule_id, tick.fire_time)
        kept = self._ticks.get(key)
        if kept is None:
            claimed = dataclasses.replace(tick, root_ts=None, done=False)
        elif kept.done or kept.claimed_at >= stale_before:
            return None
        else:
            claimed = dataclasses.replace(kept, claimed_at=tick.claimed_at)
        self._ticks[key] = claimed
        return claimed

    async def tick_posted(self, schedule_id: str, fire_time: float, root_ts: str) -> None:
        kept = self._ticks.get((schedule_id, fire_time))
        if kept is not None:
            self._ticks[(schedule_id, fire_time)] = dataclasses.replace(kept, root_ts=root_ts)

    async def finish_tick(self, schedule_id: str, fire_time: float) -> None:
        kept = self._ticks.get((schedule_id, fire_time))
        if kept is not None:
            self._ticks[(schedule_id, fire_time)] = dataclasses.replace(kept, done=True)

    async def stalled_ticks(self, *, claimed_before: float) -> list[Tick]:
        return sorted((t for t in self._ticks.values() if not t.done and t.claimed_at < claimed_before),
                      key=lambda t: t.fire_time)
