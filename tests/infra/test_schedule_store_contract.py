"""Schedules and their ticks: one contract for the in-memory store
(infra/emulators/memory_schedule_store.py), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bot.ground.schedule_book import Schedule, ScheduleStore, Tick
from bot.ground.schedule_spec import WEEKDAYS, DailyAt, Interval
from infra.emulators.memory_schedule_store import MemoryScheduleStore
from infra.storage.db import create_engine
from infra.storage.schedule_store import SqlScheduleStore

NOW = 1_800_000_000.0


def schedule(id: str = "a" * 32, user: str = "U0ALICE", channel: str = "C0OPS", at: float = NOW) -> Schedule:
    return Schedule(id=id, team="T0", channel=channel, user=user, request="check &lt;the&gt; backups",
                    spec=DailyAt(WEEKDAYS, 9, 0, "Europe/Paris"), created_at=at)


@pytest.fixture
async def store(store_url: str | None) -> AsyncIterator[ScheduleStore]:
    if store_url is None:
        yield MemoryScheduleStore()
        return
    db = create_engine(store_url)
    try:
        yield SqlScheduleStore(db)
    finally:
        await db.dispose()


async def test_schedules_are_kept_and_listed_by_maker_or_channel(store: ScheduleStore) -> None:
    mine, theirs, elsewhere = schedule("a" * 32), schedule("b" * 32, user="U0BOB", at=NOW + 1), \
        schedule("c" * 32, user="U0BOB", channel="C0DEV", at=NOW + 2)
    hourly = Schedule(id="d" * 32, team="T0", channel="C0DEV", user="U0ALICE", request="ping",
                      spec=Interval(3600), created_at=NOW + 3)
    for made in (mine, theirs, elsewhere, hourly):
        await store.add_schedule(made)
    assert await store.schedule(mine.id) == mine
    assert await store.schedule(hourly.id) == hourly
    assert await store.schedule("z" * 32) is None
    assert [s.id for s in await store.live_schedules(user="U0ALICE")] == [mine.id, hourly.id]
    assert [s.id for s in await store.live_schedules(user="U0ALICE", channel="C0OPS")] == [mine.id, theirs.id,
                                                                                          hourly.id]
    assert [s.id for s in await store.live_schedules(channel="C0DEV")] == [elsewhere.id, hourly.id]


async def test_a_schedule_is_cancelled_once(store: ScheduleStore) -> None:
    await store.add_schedule(schedule())
    won = await asyncio.gather(*[store.cancel_schedule("a" * 32, "U0ALICE", NOW + 5) for _ in range(3)])
    assert sorted(won) == [False, False, True]
    kept = await store.schedule("a" * 32)
    assert kept is not None and kept.cancelled_at == NOW + 5 and kept.cancelled_by == "U0ALICE"
    assert await store.live_schedules(user="U0ALICE") == []
    assert not await store.cancel_schedule("z" * 32, "U0ALICE", NOW)


async def test_a_tick_is_claimed_once_then_taken_over_only_when_stale_and_never_when_done(
        store: ScheduleStore) -> None:
    await store.add_schedule(schedule())
    fire = NOW + 3600
    seen: list[float | None] = []

    def two_missed(since: float | None) -> int:
        seen.append(since)
        return 2

    won = await asyncio.gather(*[store.claim_firing("a" * 32, fire, NOW + 10, count_missed=two_missed)
                                 for _ in range(4)])
    claimed = [t for t in won if t is not None]
    assert len(claimed) == 1 and claimed[0].missed == 2 and claimed[0].root_ts is None
    assert seen == [None]  # it never fired before: counted once, by the one claim that won
    await store.tick_posted("a" * 32, fire, "1800003600.000100")

    # its claimer is alive (claimed after stale_before): nobody else takes it
    assert await store.claim_tick(Tick("a" * 32, fire, NOW + 20), stale_before=NOW + 5) is None
    assert await store.stalled_ticks(claimed_before=NOW + 5) == []
    # it went quiet: one of the replicas that look takes it over, with what it recorded
    stalled = await store.stalled_ticks(claimed_before=NOW + 40)
    assert [(t.fire_time, t.root_ts, t.missed) for t in stalled] == [(fire, "1800003600.000100", 2)]
    retaken = await asyncio.gather(*[store.claim_tick(Tick("a" * 32, fire, NOW + 50), stale_before=NOW + 40)
                                     for _ in range(3)])
    taken = [t for t in retaken if t is not None]
    assert len(taken) == 1
    assert (taken[0].root_ts, taken[0].missed, taken[0].claimed_at) == ("1800003600.000100", 2, NOW + 50)

    await store.finish_tick("a" * 32, fire)
    assert await store.stalled_ticks(claimed_before=NOW + 10_000) == []
    assert await store.claim_tick(Tick("a" * 32, fire, NOW + 10_000), stale_before=NOW + 9_000) is None
    # an older firing come again is claimed no more; the next firing is a tick of its own
    assert await store.claim_firing("a" * 32, fire - 86_400, NOW + 90_000, count_missed=two_missed) is None
    assert await store.claim_firing("a" * 32, fire, NOW + 90_000, count_missed=two_missed) is None
    assert await store.claim_firing("a" * 32, fire + 86_400, NOW + 90_000, count_missed=two_missed) is not None
    assert seen == [None, fire]


def hourly_missed_before(fire_time: float) -> Callable[[float | None], int]:
    """Firings of an hourly schedule made at NOW strictly between the latest tick and ``fire_time``."""
    def count(since: float | None) -> int:
        return len(range(int(NOW if since is None else since) + 3600, int(fire_time), 3600))
    return count


async def test_consecutive_firings_claimed_at_once_never_both_count_the_earlier_one_as_missed(
        store: ScheduleStore) -> None:
    """Two replicas fire a schedule's next two firings late, at the same moment: either the
    earlier one is claimed first and the later one missed nothing, or the later one is claimed
    first (counting the earlier one as missed) and the earlier one is claimed no more."""
    hourly = Schedule(id="h" * 32, team="T0", channel="C0OPS", user="U0ALICE", request="ping",
                      spec=Interval(3600), created_at=NOW)
    await store.add_schedule(hourly)
    last = NOW
    for _ in range(12):
        first, second = last + 3600, last + 7200

        early, late = await asyncio.gather(
            store.claim_firing(hourly.id, first, NOW, count_missed=hourly_missed_before(first)),
            store.claim_firing(hourly.id, second, NOW, count_missed=hourly_missed_before(second)))
        assert late is not None
        assert (early is not None and early.missed == 0 and late.missed == 0) or \
            (early is None and late.missed == 1), (early, late)
        last = second
