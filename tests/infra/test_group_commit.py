"""Group commit: writes arriving while one is in flight go together into the next one, in
order, each caller getting its own result; a failed batch fails each of its writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.ground.threads import ThreadRef
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.group_commit import GroupCommit
from infra.storage.migrate import prepare_schema
from infra.storage.slack_store import SqlSlackStore


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()

    async def write(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        if len(self.batches) == 1:
            await self.release.wait()  # the first write is in flight while the others arrive
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return [item * 10 for item in items]


async def test_writes_arriving_during_a_write_go_together_into_the_next_in_order() -> None:
    recorder = Recorder()
    write = GroupCommit(recorder.write)
    first = asyncio.create_task(write(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(write(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await asyncio.gather(first, *others) == [10, 20, 30, 40]
    assert recorder.batches == [[1], [2, 3, 4]]
    assert await write(5) == 50  # a lone write goes at once, alone
    assert recorder.batches[-1] == [5]


async def test_a_failed_batch_fails_each_of_its_writes_and_the_next_batch_still_goes() -> None:
    recorder = Recorder()
    write = GroupCommit(recorder.write)
    first = asyncio.create_task(write(1))
    await asyncio.sleep(0)
    bad = [asyncio.create_task(write(n)) for n in (2, -3)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == 10
    for task in bad:
        with pytest.raises(ValueError, match="negative"):
            await task
    assert await write(6) == 60


async def test_a_caller_that_stops_waiting_leaves_the_batch_written() -> None:
    recorder = Recorder()
    write = GroupCommit(recorder.write)
    first = asyncio.create_task(write(1))
    await asyncio.sleep(0)
    first.cancel()
    recorder.release.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await write(2) == 20
    assert recorder.batches == [[1], [2]]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_requests_arriving_at_once_are_queued_owned_and_shown_each_once(
        database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path}/intake.sqlite" if database == "sqlite"
           else request.getfixturevalue("postgres_url"))
    await asyncio.to_thread(prepare_schema, url)
    engine = create_engine(url)
    slack, queue = SqlSlackStore(engine), SqlStore(engine)
    try:
        threads = [ThreadRef("T1", "C1", f"17000000.{n:04d}") for n in range(20)]
        pushed = await asyncio.gather(*[queue.push(t.key, f"request {n}", "U1", key=f"key-{n % 10}")
                                        for n, t in enumerate(threads)])
        await asyncio.gather(*[slack.own_thread(t, "U1", 1.0) for t in threads + threads[:5]])
        shown = await asyncio.gather(*[slack.add_status_message(t.key, "C1", f"17000001.{n:04d}", "r", "U1", 1.0)
                                       for n, t in enumerate(threads)])
        assert pushed == [True] * 10 + [False] * 10  # a key queued once, whatever the batch
        assert all([await slack.owns_thread(t.key) for t in threads])
        assert [s.ts for s in shown] == [f"17000001.{n:04d}" for n in range(20)]
        assert len({s.id for s in shown}) == 20
    finally:
        await engine.dispose()
