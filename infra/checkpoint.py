"""The LangGraph checkpointer for DATABASE_URL: SQLite (embedded) or PostgreSQL (pooled)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from infra.db import is_sqlite, libpq_url
from infra.schema_lock import CHECKPOINTER_KEY, held_async


@asynccontextmanager
async def open_checkpointer(database_url: str, pool_size: int = 12) -> AsyncIterator[
        BaseCheckpointSaver[Any]]:
    if is_sqlite(database_url):
        path = make_url(database_url).database or ":memory:"
        async with aiosqlite.connect(path, timeout=30) as conn:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=30000")
            sqlite_saver = AsyncSqliteSaver(conn)
            await sqlite_saver.setup()
            yield sqlite_saver
        return
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo=libpq_url(database_url), min_size=min(4, pool_size), max_size=pool_size, open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open()
    try:
        saver = AsyncPostgresSaver(pool)
        # The saver serialises every operation behind one asyncio.Lock even on a pool
        # (langgraph issue #7259), so all threads' checkpoints queued behind each other:
        # 0.5-1.5 s per operation with 50 concurrent runs (bench.slack). Each operation
        # takes its own pooled connection, so as many may run at once as the pool holds.
        saver.lock = asyncio.Semaphore(pool_size)  # type: ignore[assignment]
        # setup() creates its tables and records its migrations with no lock of its own:
        # replicas starting together on a fresh database take turns. The lock is held on a
        # connection of its own (setup() takes one from the pool, which may hold only one).
        async with (await AsyncConnection.connect(libpq_url(database_url), autocommit=True) as lock_conn,
                    held_async(lock_conn, CHECKPOINTER_KEY)):
            await saver.setup()
        yield saver
    finally:
        await pool.close()
