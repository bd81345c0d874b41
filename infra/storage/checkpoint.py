"""The LangGraph checkpointer for DATABASE_URL: SQLite (embedded) or PostgreSQL (pooled).

Both can prune a thread to its latest checkpoint (``aprune(thread_ids,
strategy="keep_latest")``): LangGraph's PostgreSQL saver does, and :class:`PrunableSqliteSaver`
adds it to the SQLite one, which lacks it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg.errors import InsufficientPrivilege
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from agent.errors import ConfigurationError
from infra.storage.db import is_sqlite, libpq_url
from infra.storage.db_priority import InteractiveFirstSemaphore
from infra.storage.schema_lock import CHECKPOINTER_KEY, held_async


@asynccontextmanager
async def open_checkpointer(database_url: str, pool_size: int = 12) -> AsyncIterator[
        BaseCheckpointSaver[Any]]:
    if is_sqlite(database_url):
        path = make_url(database_url).database or ":memory:"
        async with aiosqlite.connect(path, timeout=30) as conn:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=30000")
            sqlite_saver = PrunableSqliteSaver(conn)
            # (its one lock, with the urgent work first: infra.storage.db_priority)
            sqlite_saver.lock = InteractiveFirstSemaphore(1)  # type: ignore[assignment]
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
        # takes its own pooled connection, so as many may run at once as the pool holds;
        # urgent work (a click's resume) first (infra.storage.db_priority).
        saver.lock = InteractiveFirstSemaphore(pool_size)  # type: ignore[assignment]
        async with await AsyncConnection.connect(libpq_url(database_url), autocommit=True) as conn:
            if not await _checkpointer_current(conn):  # `dagbot migrate` did it: needs no CREATE
                # The lock is held on a connection of its own (setup() takes one from the
                # pool, which may hold only one).
                await _setup_under_lock(conn, saver)
        yield saver
    finally:
        await pool.close()


async def setup_checkpointer(database_url: str) -> None:
    """Create or upgrade the checkpointer's tables (``dagbot migrate``), so that the runtime's
    database role needs no CREATE."""
    if is_sqlite(database_url):
        async with open_checkpointer(database_url):
            return
    url = libpq_url(database_url)
    async with (await AsyncConnection.connect(url, autocommit=True) as lock_conn,
                await AsyncConnection.connect(url, autocommit=True, prepare_threshold=0,
                                              row_factory=dict_row) as conn):
        await _setup_under_lock(lock_conn, AsyncPostgresSaver(conn))


async def _checkpointer_current(conn: AsyncConnection[Any]) -> bool:
    """The checkpointer's tables are at LangGraph's latest migration (a SELECT: any role may)."""
    row = await (await conn.execute("SELECT to_regclass('checkpoint_migrations') IS NOT NULL")).fetchone()
    if row is None or not row[0]:
        return False
    row = await (await conn.execute("SELECT max(v) FROM checkpoint_migrations")).fetchone()
    return row is not None and row[0] is not None and row[0] >= len(AsyncPostgresSaver.MIGRATIONS) - 1


async def _setup_under_lock(conn: AsyncConnection[Any], saver: AsyncPostgresSaver) -> None:
    """setup() creates its tables and records its migrations with no lock of its own: replicas
    starting together on a fresh database take turns."""
    async with held_async(conn, CHECKPOINTER_KEY):
        if await _checkpointer_current(conn):
            return
        try:
            await saver.setup()
        except InsufficientPrivilege as exc:
            raise ConfigurationError(
                "the DATABASE_URL role may not create the checkpointer's tables "
                f"({exc.diag.message_primary}): run `dagbot migrate` once with a role that may, "
                "then start again") from None


class PrunableSqliteSaver(AsyncSqliteSaver):
    """LangGraph's SQLite saver with the PostgreSQL saver's ``aprune``: ``keep_latest`` keeps
    each namespace's latest checkpoint and that checkpoint's writes (what a run resumes
    from, its finished tasks and a pending interrupt); ``delete`` removes the thread."""

    _LATEST = ("SELECT checkpoint_ns, max(checkpoint_id) FROM checkpoints WHERE thread_id = ? "
               "GROUP BY checkpoint_ns")
    _PRUNE = (
        # the writes of the thread's older checkpoints (found while those are still there)
        "DELETE FROM writes WHERE thread_id = ? AND (checkpoint_ns, checkpoint_id) IN "
        f"(SELECT checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = ? "
        f"AND (checkpoint_ns, checkpoint_id) NOT IN ({_LATEST}))",
        f"DELETE FROM checkpoints WHERE thread_id = ? AND (checkpoint_ns, checkpoint_id) NOT IN ({_LATEST})",
    )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if isinstance(thread_ids, str):
            raise TypeError("thread_ids must be a sequence of thread IDs, not a str")
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        if strategy == "delete":
            for thread_id in thread_ids:
                await self.adelete_thread(thread_id)
            return
        async with self.lock, self.conn.cursor() as cur:
            for thread_id in map(str, thread_ids):
                for statement in self._PRUNE:
                    await cur.execute(statement, (thread_id,) * statement.count("?"))
            await self.conn.commit()
