"""A schedule timer that fires when a test says so (:class:`bot.ground.schedule_book.ScheduleTimer`):
the bot's ticks are tested at any simulated time without waiting for one. When schedules fire it
reckons as the real timer does (:mod:`infra.scheduling.triggers`)."""

from __future__ import annotations

from bot.ground.schedule_book import OnTick, Schedule
from infra.scheduling import triggers


class ManualScheduleTimer:
    def __init__(self) -> None:
        self.schedules: dict[str, Schedule] = {}
        self._on_tick: OnTick | None = None

    async def start(self, on_tick: OnTick) -> None:
        self._on_tick = on_tick

    async def stop(self) -> None:
        self._on_tick = None

    async def add(self, schedule: Schedule) -> None:
        self.schedules[schedule.id] = schedule

    async def remove(self, schedule_id: str) -> None:
        self.schedules.pop(schedule_id, None)

    def next_fire_time(self, schedule: Schedule, after: float) -> float | None:
        return triggers.next_fire_time(schedule, after)

    def fire_times(self, schedule: Schedule, after: float, before: float, limit: int) -> list[float]:
        return triggers.fire_times(schedule, after, before, limit)

    async def fire(self, schedule_id: str, fire_time: float) -> None:
        """The firing of ``schedule_id`` due at ``fire_time`` (as the real timer's job would)."""
        if self._on_tick is None:
            raise RuntimeError("the timer is not started (the bot starts it)")
        await self._on_tick(schedule_id, fire_time)
