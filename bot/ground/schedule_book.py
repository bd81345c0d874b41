"""Schedules and their ticks as records, and the two seams the bot reaches them through.

:class:`ScheduleStore` keeps who made which schedule where (``infra.storage.schedule_store``;
``infra.emulators.memory_schedule_store`` in memory) and one row per tick, claimed before its
root message is posted: a tick whose claimer died is taken over once it is ``stale``, and a
tick already done is never done again. :class:`ScheduleTimer` says when each schedule fires
(``infra.scheduling``, on APScheduler 4 and the database; a fake that fires on demand in tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.ground.schedule_spec import ScheduleSpec

OnTick = Callable[[str, float], Awaitable[None]]
"""What the timer calls when a schedule fires: its id and the time it was due (epoch seconds)."""


@dataclass(frozen=True)
class Schedule:
    id: str
    team: str
    channel: str
    user: str
    """Who made it: each tick's run is theirs (their policy applies, they approve its red nodes)."""
    request: str
    """As Slack sent it (escaped), as a slash command's request is kept."""
    spec: ScheduleSpec
    created_at: float
    cancelled_at: float | None = None
    cancelled_by: str | None = None


@dataclass(frozen=True)
class Tick:
    """One firing of a schedule: claimed, then its thread's root message posted, then done."""

    schedule_id: str
    fire_time: float
    claimed_at: float
    missed: int = 0
    """Earlier firings that never happened (dagbot was down): this tick stands for them too."""
    root_ts: str | None = None
    done: bool = False

    @property
    def key(self) -> str:
        """The engine's queue key of its run: a second queueing of it is a no-op."""
        return tick_key(self.schedule_id, self.fire_time)


def tick_key(schedule_id: str, fire_time: float) -> str:
    return hashlib.blake2b(f"{schedule_id}:{fire_time:.6f}".encode(), digest_size=16).hexdigest()


class ScheduleStore(Protocol):
    async def add_schedule(self, schedule: Schedule) -> None: ...

    async def schedule(self, schedule_id: str) -> Schedule | None: ...

    async def live_schedules(self, *, user: str | None = None, channel: str | None = None) -> list[Schedule]:
        """Schedules not cancelled, made by ``user`` or in ``channel`` (either), oldest first."""
        ...

    async def cancel_schedule(self, schedule_id: str, by: str, at: float) -> bool:
        """False: unknown, or cancelled already."""
        ...

    async def claim_firing(self, schedule_id: str, fire_time: float, claimed_at: float, *,
                           count_missed: Callable[[float | None], int]) -> Tick | None:
        """Claim the firing due at ``fire_time`` as a new tick, counting the firings it stands for
        with ``count_missed(<the latest tick's fire time, None if it never fired>)``. The read and
        the claim are one step that one caller at a time takes for a schedule: two replicas
        firing its consecutive ticks late never both count the earlier one as missed.
        None: this firing (or a later one) was claimed already."""
        ...

    async def claim_tick(self, tick: Tick, *, stale_before: float) -> Tick | None:
        """Take over ``tick``, claimed before and not done, when it was claimed before
        ``stale_before``, keeping what it recorded (its root message, what it missed); a tick
        never claimed is claimed as it is. None: someone else has it, or it is done."""
        ...

    async def tick_posted(self, schedule_id: str, fire_time: float, root_ts: str) -> None: ...

    async def finish_tick(self, schedule_id: str, fire_time: float) -> None: ...

    async def stalled_ticks(self, *, claimed_before: float) -> list[Tick]:
        """Ticks claimed before then and not done: their claimer likely died."""
        ...


class ScheduleTimer(Protocol):
    async def start(self, on_tick: OnTick) -> None: ...

    async def stop(self) -> None: ...

    async def add(self, schedule: Schedule) -> None:
        """Fire ``schedule`` from now on, on whichever replica is up, once per firing."""
        ...

    async def remove(self, schedule_id: str) -> None: ...

    def next_fire_time(self, schedule: Schedule, after: float) -> float | None: ...

    def fire_times(self, schedule: Schedule, after: float, before: float, limit: int) -> list[float]:
        """Its firings strictly between the two times, at most ``limit`` of them."""
        ...


@dataclass(frozen=True)
class ScheduleBook:
    """What the bot keeps schedules with (``infra`` gives the real ones; tests the fakes)."""

    store: ScheduleStore
    timer: ScheduleTimer
