"""Thread ownership by advisory locks and the signals between processes, on a real PostgreSQL.

Each AdvisoryLeases / PostgresSignals has connections of its own, so two of them in one
test behave as two replicas would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.ports.ownership import Signal
from infra.storage.db import ThreadLeaseRow, create_engine
from infra.storage.migrate import upgrade
from infra.storage.notify import CHANNEL, PostgresSignals
from infra.storage.ownership import AdvisoryLeases
from tests.fakes.waiting import wait_until

pytestmark = pytest.mark.postgres
T = TypeVar("T")


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(upgrade, url)
    db = create_engine(url)
    try:
        yield db
    finally:
        await db.dispose()


def terminate(url: str, pid: int | None) -> None:
    """What the server does to the sessions of a process that died."""
    assert pid is not None
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def eventually(probe: Callable[[], Awaitable[T]], wanted: T, timeout: float = 10) -> bool:
    """Poll an async probe until it gives ``wanted``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) != wanted:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r}, wanted {wanted!r}")
        await asyncio.sleep(0.05)
    return True


async def lapsed(leases: AdvisoryLeases) -> list[str]:
    return sorted(await leases.lapsed_threads())


async def held(leases: AdvisoryLeases) -> list[str]:
    return sorted(await leases.held_threads())


async def holder_of(db: AsyncEngine, thread_id: str) -> str | None:
    async with db.connect() as conn:
        return (await conn.execute(select(ThreadLeaseRow.holder)
                                   .where(ThreadLeaseRow.thread_id == thread_id))).scalar_one_or_none()


async def test_one_holder_at_a_time_and_release_frees_the_thread(postgres_url: str) -> None:
    async with database(postgres_url) as db, AdvisoryLeases(postgres_url, db) as a, \
            AdvisoryLeases(postgres_url, db) as b:
        assert await a.acquire("T1", "r1:a", 3)
        assert await a.acquire("T1", "r1:a", 3)  # again by its holder: still one lock
        assert not await b.acquire("T1", "r2:b", 3)
        assert await b.acquire("T2", "r2:b", 3)  # another thread is independent
        assert await holder_of(db, "T1") == "r1:a"
        assert await a.renew("T1", "r1:a", 3) and not await b.renew("T1", "r2:b", 3)
        assert await a.lapsed_threads() == []  # held, and the holders are alive

        await a.release("T1", "r1:a")
        assert await holder_of(db, "T1") is None
        assert await b.acquire("T1", "r2:b", 3)  # one release undid both acquires
        assert await holder_of(db, "T1") == "r2:b"


async def test_a_lapsed_thread_is_free_and_listed_until_taken(postgres_url: str) -> None:
    async with database(postgres_url) as db, AdvisoryLeases(postgres_url, db) as a, \
            AdvisoryLeases(postgres_url, db) as b:
        assert await a.acquire("T1", "r1:a", 3)
        await a.renew("T1", "r1:a", 0)  # a runner that failed mid-run leaves it lapsed
        assert await b.held_threads() == ["T1"]
        assert await eventually(lambda: lapsed(b), ["T1"])  # once free for the grace
        assert await holder_of(db, "T1") == "r1:a"
        assert not await a.renew("T1", "r1:a", 3)  # and no longer counts as holding it
        assert await b.acquire("T1", "r2:b", 3)
        assert await b.lapsed_threads() == []


async def test_a_dead_holder_frees_its_threads_at_once_and_learns_it_lost_them(postgres_url: str) -> None:
    async with database(postgres_url) as db, \
            AdvisoryLeases(postgres_url, db, health_seconds=0.1) as a, AdvisoryLeases(postgres_url, db) as b:
        lost: list[str] = []
        a.subscribe_lost(lost.extend)  # (the engine stops those threads' runs)
        for thread in ("T1", "T2"):
            assert await a.acquire(thread, "r1:a", 3)
        terminate(postgres_url, a.backend_pid)  # its session ends: the server frees the locks
        assert await eventually(lambda: held(b), ["T1", "T2"])  # what a starting process takes up
        assert await b.lapsed_threads() == []  # the recovery pass waits: a may still be running
        assert await eventually(lambda: lapsed(b), ["T1", "T2"])
        assert sorted(lost) == ["T1", "T2"]  # a found out, and said so, before that
        assert await b.acquire("T1", "r2:b", 3)
        # the old holder stopped counting the threads as its own
        assert not await a.renew("T2", "r1:a", 3)
        assert await a.acquire("T3", "r1:a", 3)  # and works again on a new connection
        assert not await b.acquire("T3", "r2:b", 3)


async def test_signals_reach_the_other_processes_not_the_sender(postgres_url: str) -> None:
    async with database(postgres_url) as db, AsyncExitStack() as stack:
        a = await stack.enter_async_context(PostgresSignals(postgres_url, db, origin="r1:a"))
        b = await stack.enter_async_context(PostgresSignals(postgres_url, db, origin="r2:b"))
        got: dict[str, list[tuple[str, Signal]]] = {"a": [], "b": []}
        a.subscribe(lambda t, s: got["a"].append((t, s)))
        b.subscribe(lambda t, s: got["b"].append((t, s)))
        async with db.begin() as conn:  # junk on the channel (another app, an old version)
            await conn.execute(text("SELECT pg_notify(:c, 'not json')"), {"c": CHANNEL})
        await a.send("T1", Signal.CANCEL)
        await a.send("T2", Signal.WAKE)
        await wait_until(lambda: len(got["b"]) == 2 or None, within=10, what="both signals")
        assert got["b"] == [("T1", Signal.CANCEL), ("T2", Signal.WAKE)]
        await b.send("T3", Signal.WAKE)
        await wait_until(lambda: got["a"] or None, within=10, what="b's signal at a")
        assert got["a"] == [("T3", Signal.WAKE)]  # a never heard its own


async def test_a_listener_that_lost_its_connection_reconnects_and_says_so(postgres_url: str) -> None:
    async with database(postgres_url) as db, \
            PostgresSignals(postgres_url, db, origin="r1:a") as a, \
            PostgresSignals(postgres_url, db, origin="r2:b") as b:
        reconnected = asyncio.Event()
        b.on_reconnect = reconnected.set
        got: list[str] = []
        b.subscribe(lambda t, s: got.append(t))
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'dagbot-signals' AND datname = current_database()")
        await asyncio.wait_for(reconnected.wait(), 20)  # runners re-read what they may have missed
        await a.send("T9", Signal.WAKE)
        await wait_until(lambda: got or None, within=10, what="a signal after the reconnect")
        assert got == ["T9"]
