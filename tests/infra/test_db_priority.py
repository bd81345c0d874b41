"""Work a person waits on (a Slack acknowledgement, a click) gets the next free database
connection before the runs' statements that were waiting longer (infra.storage.db_priority)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.urgency import in_background, is_urgent, urgent
from infra.storage.db import create_engine
from infra.storage.db_priority import InteractiveFirstSemaphore, interactive_work


async def _waiting(engine: AsyncEngine, count: int) -> None:
    """Until ``count`` checkouts wait for a connection (the pool's queue has their getters)."""
    queue = engine.sync_engine.pool._pool._queue  # type: ignore[attr-defined]
    async with asyncio.timeout(10):
        while len(queue._getters) < count:
            await asyncio.sleep(0.005)


async def _use(engine: AsyncEngine, served: list[str], name: str, urgent_: bool) -> None:
    """Check a connection out (as urgent work or not), use it, note ``name`` in ``served``."""
    with urgent() if urgent_ else contextlib.nullcontext():
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            served.append(name)


async def _served_order(engine: AsyncEngine, arrivals: list[tuple[str, bool]]) -> list[str]:
    """Hold every connection, let ``arrivals`` (name, urgent) queue in that order, free
    the connections: the order the waiters got one."""
    served: list[str] = []
    waiters = []
    async with engine.connect():  # the only connection (SQLite: one)
        for number, (name, urgent_) in enumerate(arrivals, 1):
            waiters.append(asyncio.create_task(_use(engine, served, name, urgent_)))
            await _waiting(engine, number)
    await asyncio.gather(*waiters)
    return served


async def test_interactive_checkouts_go_before_the_runs_waiting_longer_in_arrival_order(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/priority.sqlite")
    try:
        served = await _served_order(engine, [
            ("run-1", False), ("run-2", False), ("ack-1", True), ("run-3", False), ("ack-2", True),
        ])
    finally:
        await engine.dispose()
    assert served == ["ack-1", "ack-2", "run-1", "run-2", "run-3"]


async def test_postgres_pools_serve_interactive_checkouts_first_too(postgres_url: str) -> None:
    engine = create_engine(postgres_url, connections=1)  # one connection, no overflow
    try:
        served = await _served_order(engine, [("run-1", False), ("run-2", False), ("ack", True)])
    finally:
        await engine.dispose()
    assert served == ["ack", "run-1", "run-2"]


async def test_a_cancelled_interactive_waiter_leaves_the_connection_to_the_next(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/cancel.sqlite")
    served: list[str] = []
    try:
        async with engine.connect():
            run = asyncio.create_task(_use(engine, served, "run", False))
            await _waiting(engine, 1)
            ack = asyncio.create_task(_use(engine, served, "ack", True))
            await _waiting(engine, 2)
            ack.cancel()
            with pytest.raises(asyncio.CancelledError):
                await ack
        async with asyncio.timeout(10):
            await run
    finally:
        await engine.dispose()
    assert served == ["run"]


async def test_interactive_work_marks_only_its_own_statements() -> None:
    seen: list[bool] = []

    @interactive_work
    async def store_operation() -> str:
        seen.append(is_urgent())
        return "done"

    assert await store_operation() == "done"
    seen.append(is_urgent())
    assert seen == [True, False]


async def test_the_checkpointers_semaphore_serves_urgent_waiters_first_and_keeps_its_count() -> None:
    semaphore = InteractiveFirstSemaphore(2)
    served: list[str] = []
    release = asyncio.Event()

    async def hold(name: str, urgent_: bool) -> None:
        with urgent() if urgent_ else contextlib.nullcontext():
            async with semaphore:
                served.append(name)
                await release.wait()

    holders = [asyncio.create_task(hold(f"held-{n}", False)) for n in (1, 2)]
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(hold(name, urgent_)) for name, urgent_ in
               [("run-1", False), ("run-2", False), ("click-1", True), ("click-2", True)]]
    cancelled = asyncio.create_task(hold("gone", True))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert served == ["held-1", "held-2"] and semaphore.locked()
    release.set()  # each holder leaves at once: the permits go down the queue, two at a time
    await asyncio.gather(*holders, *waiters)
    assert served == ["held-1", "held-2", "click-1", "click-2", "run-1", "run-2"]
    assert not semaphore.locked()
    async with semaphore, semaphore:  # both permits are back
        assert semaphore.locked()


async def test_runs_started_from_urgent_work_are_background_work() -> None:
    seen: dict[str, bool] = {}

    async def note(name: str) -> None:
        seen[name] = is_urgent()

    with urgent():
        inherited = asyncio.create_task(note("inherited"))
        run = asyncio.create_task(note("run"), context=in_background())
        await asyncio.gather(inherited, run)
    assert seen == {"inherited": True, "run": False}
