"""PostgreSQL advisory locks that serialise schema set-up across processes started together.

Replicas started at the same moment on a fresh database would otherwise race: Alembic's
``CREATE TABLE alembic_version`` and the LangGraph checkpointer's ``setup()`` are not safe to
run twice at once (``CREATE TABLE IF NOT EXISTS`` itself can fail with ``UniqueViolation`` on
a concurrent create). Session-level locks: held across Alembic's own commits, and released by
the server if the process dies while holding them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import Connection, text

# Fixed keys, one per schema owner ("dagbot" in ASCII, then a number): every replica must use
# the same ones. Other applications sharing the database are unlikely to pick these.
MIGRATIONS_KEY = 0x646167626F740001
CHECKPOINTER_KEY = 0x646167626F740002


@contextmanager
def held(connection: Connection, key: int) -> Iterator[None]:
    """Hold the advisory lock ``key`` on this SQLAlchemy connection (PostgreSQL only; other
    databases pass through: SQLite is single-process)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    connection.commit()  # leave no transaction open: Alembic begins its own
    try:
        yield
    finally:
        connection.rollback()  # a failed migration leaves the transaction aborted
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()


@asynccontextmanager
async def held_async(connection: AsyncConnection[tuple[Any, ...]], key: int,
                     poll_seconds: float = 0.05) -> AsyncIterator[None]:
    """Hold the advisory lock ``key`` on this (autocommit) psycopg connection.

    Polls instead of blocking in ``pg_advisory_lock``: a session blocked there keeps its
    statement's snapshot, and the checkpointer's ``CREATE INDEX CONCURRENTLY`` waits for every
    such snapshot to end, so the holder would wait forever for its waiters (no deadlock
    the server can see: the lock is held on another connection than the one indexing)."""
    while True:
        row = await (await connection.execute("SELECT pg_try_advisory_lock(%s)", (key,))).fetchone()
        if row is not None and row[0]:
            break
        await asyncio.sleep(poll_seconds)
    try:
        yield
    finally:
        await connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
