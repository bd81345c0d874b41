"""A schedule's spec as an APScheduler trigger, and the firings it makes (pure: no scheduler,
no database). The timer and its fake in tests both count firings here, so they agree.

An :class:`~bot.ground.schedule_spec.Interval` counts from the schedule's making (its first firing is
one interval later); a :class:`~bot.ground.schedule_spec.DailyAt` is a cron trigger in its own time
zone, so that 09:00 stays 09:00 across daylight saving changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.abc import Trigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.ground.schedule_book import Schedule
from bot.ground.schedule_spec import Interval

CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def trigger_for(schedule: Schedule, *, start: float | None = None) -> Trigger:
    """The schedule's trigger; its first firing is the first at or after ``start`` (default: its
    making, which an interval's first firing is one interval after)."""
    spec = schedule.spec
    if isinstance(spec, Interval):
        first = schedule.created_at + spec.seconds
        if start is not None and start > first:  # the first firing at or after start, on the grid
            steps = -(-(start - first) // spec.seconds)
            first += steps * spec.seconds
        return IntervalTrigger(seconds=spec.seconds, start_time=_at(first))
    return CronTrigger(day_of_week=",".join(CRON_DAYS[d] for d in spec.days), hour=spec.hour,
                       minute=spec.minute, second=0, timezone=ZoneInfo(spec.tz),
                       start_time=_at(start if start is not None else schedule.created_at))


def next_fire_time(schedule: Schedule, after: float) -> float | None:
    """Its first firing strictly after ``after``."""
    fired = trigger_for(schedule, start=after + 1e-6).next()
    return fired.timestamp() if fired is not None else None


def fire_times(schedule: Schedule, after: float, before: float, limit: int) -> list[float]:
    """Its firings strictly between ``after`` and ``before``, at most ``limit`` of them."""
    trigger = trigger_for(schedule, start=after + 1e-6)
    found: list[float] = []
    while len(found) < limit:
        fired = trigger.next()
        if fired is None or fired.timestamp() >= before - 1e-6:
            break
        found.append(fired.timestamp())
    return found

