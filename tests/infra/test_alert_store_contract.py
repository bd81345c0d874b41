"""Where each alert group's thread is kept: one contract for the in-memory store
(infra/emulators/memory_alert_store.py), SQLite and PostgreSQL (as test_slack_store_contract.py
holds the bot's other records to one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.inbound.alerts.group_threads import (
    AlertGroupState,
    AlertGroupThread,
    AlertGroupThreads,
    QueuedAlertRun,
    group_id,
)
from infra.emulators.memory_alert_store import MemoryAlertGroupThreads
from infra.storage.alert_store import SqlAlertGroupThreads
from infra.storage.db import create_engine

NOW = 1_800_000_000.0
GROUP = group_id("dagbot", '{}:{alertname="NodeDown"}')
FIRING = AlertGroupState(frozenset({"fp1"}), "firing")
GROWN = AlertGroupState(frozenset({"fp1", "fp2"}), "firing")
RESOLVED = AlertGroupState(frozenset(), "resolved")


def claim(at: float = NOW, channel: str = "C0OPS") -> AlertGroupThread:
    return AlertGroupThread(id=GROUP, group_key='{}:{alertname="NodeDown"}', route="node-down", channel=channel,
                            state=FIRING, claimed_at=at)


@pytest.fixture
async def threads(store_url: str | None) -> AsyncIterator[AlertGroupThreads]:
    if store_url is None:
        yield MemoryAlertGroupThreads()
        return
    db = create_engine(store_url)
    try:
        yield SqlAlertGroupThreads(db)
    finally:
        await db.dispose()


def test_a_group_id_is_short_and_per_receiver() -> None:
    key = '{}/{severity="page"}:{alertname="' + "x" * 5000 + '"}'
    assert len(group_id("dagbot", key)) == 32
    assert group_id("dagbot", key) != group_id("other", key)


async def test_a_group_is_claimed_once_until_its_opener_is_presumed_dead(threads: AlertGroupThreads) -> None:
    assert await threads.alert_group(GROUP) is None
    won = await asyncio.gather(*[threads.claim_alert_group(claim(), stale_before=NOW - 30) for _ in range(4)])
    assert sorted(won) == [False, False, False, True]
    kept = await threads.alert_group(GROUP)
    assert kept == claim()  # root_ts None: not opened yet

    # still being opened (30 s): nobody else takes it; past that, one later delivery does
    assert not await threads.claim_alert_group(claim(NOW + 29, "C0OTHER"), stale_before=NOW - 1)
    retaken = await asyncio.gather(*[threads.claim_alert_group(claim(NOW + 31, "C0OTHER"), stale_before=NOW + 1)
                                     for _ in range(3)])
    assert sorted(retaken) == [False, False, True]
    kept = await threads.alert_group(GROUP)
    assert kept is not None and kept.channel == "C0OTHER" and kept.claimed_at == NOW + 31


async def test_an_opened_group_is_never_claimed_again(threads: AlertGroupThreads) -> None:
    assert await threads.claim_alert_group(claim(), stale_before=NOW)
    await threads.alert_group_opened(GROUP, "1800000000.000100")
    assert not await threads.claim_alert_group(claim(NOW + 3600), stale_before=NOW + 3000)
    await threads.release_alert_group(GROUP)  # only an unopened claim is released
    kept = await threads.alert_group(GROUP)
    assert kept is not None and kept.root_ts == "1800000000.000100" and kept.state == FIRING


async def test_a_released_claim_can_be_claimed_at_once(threads: AlertGroupThreads) -> None:
    assert await threads.claim_alert_group(claim(), stale_before=NOW - 30)
    await threads.release_alert_group(GROUP)
    assert await threads.alert_group(GROUP) is None
    assert await threads.claim_alert_group(claim(NOW + 1), stale_before=NOW - 29)


async def test_each_change_of_a_groups_state_is_made_by_one_caller(threads: AlertGroupThreads) -> None:
    assert await threads.claim_alert_group(claim(), stale_before=NOW)
    assert not await threads.change_alert_group(GROUP, FIRING, GROWN, at=NOW)  # not opened yet
    await threads.alert_group_opened(GROUP, "1800000000.000100")

    changed = await asyncio.gather(*[threads.change_alert_group(GROUP, FIRING, GROWN, at=NOW + 1)
                                     for _ in range(4)])
    assert sorted(changed) == [False, False, False, True]
    assert not await threads.change_alert_group(GROUP, FIRING, RESOLVED, at=NOW + 2)  # it is not FIRING now
    assert await threads.change_alert_group(GROUP, GROWN, RESOLVED, at=NOW + 2)
    kept = await threads.alert_group(GROUP)
    assert kept is not None and kept.state == RESOLVED
    assert not await threads.change_alert_group("0" * 32, FIRING, GROWN, at=NOW)  # no such group


def held(key: str, at: float, group: str = GROUP, route: str = "node-down") -> QueuedAlertRun:
    return QueuedAlertRun(key=key, group=group, route=route, channel="C0OPS", root_ts="1.000100",
                          request=f"Investigate {key}", queued_at=at)


async def test_held_runs_are_kept_in_order_taken_once_and_dropped_with_their_group(
        threads: AlertGroupThreads) -> None:
    other = group_id("dagbot", '{}:{alertname="DiskFull"}')
    assert await threads.queue_alert_run(held("k2", NOW + 2))
    assert await threads.queue_alert_run(held("k1", NOW + 1))
    assert await threads.queue_alert_run(held("k3", NOW + 3, other))
    assert await threads.queue_alert_run(held("k4", NOW + 4, other, route="disks"))
    assert not await threads.queue_alert_run(held("k1", NOW + 9))  # one per key
    assert [run.key for run in await threads.queued_alert_runs("node-down")] == ["k1", "k2", "k3"]
    assert [run.key for run in await threads.queued_alert_runs()] == ["k1", "k2", "k3", "k4"]
    assert (await threads.queued_alert_runs("disks"))[0] == held("k4", NOW + 4, other, route="disks")
    assert await threads.alert_group("k1") is None  # a held run is no group

    taken = await asyncio.gather(*[threads.take_queued_alert_run("k1") for _ in range(3)])
    assert sorted(taken) == [False, False, True]
    assert [run.key for run in await threads.drop_queued_alert_runs(GROUP)] == ["k2"]
    assert await threads.drop_queued_alert_runs(GROUP) == []
    assert [run.key for run in await threads.queued_alert_runs()] == ["k3", "k4"]


# ------------------------------------------------------------------ the storm limit's budget


@pytest.fixture
async def replicas(store_url: str | None) -> AsyncIterator[tuple[AlertGroupThreads, AlertGroupThreads]]:
    """Two processes' stores on one database (in memory: one store, as the bots sharing it do)."""
    if store_url is None:
        store = MemoryAlertGroupThreads()
        yield store, store
        return
    first, second = create_engine(store_url), create_engine(store_url)
    try:
        yield SqlAlertGroupThreads(first), SqlAlertGroupThreads(second)
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_storm_budget_starts_n_runs_per_route_in_any_window(threads: AlertGroupThreads) -> None:
    budget = threads.storm_budget(2, 60.0)
    assert await budget.frees_in("node-down", NOW) == 0.0  # nothing started yet
    assert await budget.take("node-down", NOW) and await budget.take("node-down", NOW + 10)
    assert not await budget.take("node-down", NOW + 20)
    assert await budget.take("disks", NOW + 20)  # per route
    assert await budget.frees_in("node-down", NOW + 59.5) == pytest.approx(0.5)
    assert not await budget.take("node-down", NOW + 59.5)
    # the first start left the window: one more may start, then the next frees when the second leaves
    assert await budget.frees_in("node-down", NOW + 60) == 0.0
    assert await budget.take("node-down", NOW + 60)
    assert not await budget.take("node-down", NOW + 60)
    assert await budget.frees_in("node-down", NOW + 60) == pytest.approx(10.0)
    assert await budget.take("node-down", NOW + 70)

    off = threads.storm_budget(0, 60.0)
    assert not await off.take("node-down", NOW + 999) and await off.frees_in("node-down", NOW) == 60.0


async def test_a_new_limit_counts_the_starts_made_under_the_old_one(threads: AlertGroupThreads) -> None:
    assert all([await threads.storm_budget(3, 60.0).take("node-down", NOW + n) for n in range(3)])
    lower = threads.storm_budget(1, 60.0)  # (a replica restarted with a lower limit)
    assert not await lower.take("node-down", NOW + 30)
    assert await lower.frees_in("node-down", NOW + 30) > 0
    higher = threads.storm_budget(4, 60.0)
    assert await higher.take("node-down", NOW + 30)  # one more than the three
    assert not await higher.take("node-down", NOW + 30)


async def test_replicas_racing_for_the_budget_start_no_more_than_the_limit(
        replicas: tuple[AlertGroupThreads, AlertGroupThreads]) -> None:
    one, other = (store.storm_budget(3, 60.0) for store in replicas)
    # a route nobody started a run of: its slots are made by whichever comes first
    won = await asyncio.gather(*[budget.take("node-down", NOW) for budget in (one, other) * 3])
    assert sorted(won) == [False, False, False, True, True, True]
    assert await other.frees_in("node-down", NOW + 1) == pytest.approx(59.0)

    # the last slot of a route: exactly one of two replicas takes it
    assert await one.take("disks", NOW) and await other.take("disks", NOW)
    last = await asyncio.gather(one.take("disks", NOW + 1), other.take("disks", NOW + 1))
    assert sorted(last) == [False, True]
    assert not await one.take("disks", NOW + 2) and not await other.take("disks", NOW + 2)
