"""Thread ownership on PostgreSQL: a session-level advisory lock per thread
(agent.ports.ownership.ThreadLease).

Each process keeps one connection of its own for these locks. The server releases every
lock of a session the moment it ends, so when a replica dies (``kill -9``, a lost host) its
threads are free at once: the other replicas' recovery pass (every second) sees a thread
marked held in ``thread_leases`` whose lock nobody holds, and takes it over. There is no TTL
to wait out and nothing to renew; the lease table only says which threads are held and by
whom (the ``holder`` column: ``<replica>:<id>``), for recovery and for operators.

If this process loses its lock connection while it is alive (the server ended the session:
an operator, a failover, a restart), the server frees its locks at once, but the process
only finds out at its next probe (every ``health_seconds``). It then stops every run it held,
at once (``subscribe_lost``), and reconnects for new work. So that no other replica runs a
thread in between, :meth:`lapsed_threads` reports a thread only once its lock has been seen
free for ``takeover_grace_seconds`` (three probes). A replica that died is taken over that
much later, which is the price of two runners never sharing a thread.

Why advisory locks and not a job queue such as procrastinate: see docs/deploying.md ("Replicas")
and ``bench/ownership.py``. Two thread ids whose 32-bit hashes collide share a lock: they
only take turns, which is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from psycopg import AsyncConnection
from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.storage.db import ThreadLeaseRow, libpq_url, utc
from infra.storage.db_priority import InteractiveFirstSemaphore, interactive_work

log = structlog.get_logger(__name__)

NAMESPACE = 0x64616762
"""First key of every thread lock ("dagb" in ASCII); the second is hashtext(thread_id)."""
NO_EXPIRY = 32503680000.0
"""3000-01-01: a lock does not expire (the column is the SQLite lease's; metrics read it)."""
KEEPALIVES: dict[str, Any] = {
    # this side: a silent server (a cut network) fails the watchdog's probe within seconds
    "keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 3,
    "tcp_user_timeout": 5000,
    # the server's side: a replica's host that vanished (no FIN, no RST) is found out in
    # seconds rather than the default two hours, and its locks freed; never end this session
    # for being idle (a replica may hold locks and say nothing for a long time)
    "options": "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3 "
               "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0",
}
LOCK_FREE = f"""
    NOT EXISTS (SELECT 1 FROM pg_locks AS l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid = {NAMESPACE}::oid AND l.objid = hashtext(t.thread_id)::oid)
"""


class AdvisoryLeases:
    """ThreadLease on PostgreSQL advisory locks. ``ttl_seconds`` is ignored (a lock has no
    expiry), except that ``renew(..., 0)`` lets the lock go while leaving the thread marked
    held: lapsed, for the recovery pass to take over."""

    def __init__(self, database_url: str, engine: AsyncEngine, *, health_seconds: float = 0.5,
                 takeover_grace_seconds: float | None = None) -> None:
        self._conninfo = libpq_url(database_url)
        self._engine = engine
        self._health_seconds = health_seconds
        self._grace = 3 * health_seconds if takeover_grace_seconds is None else takeover_grace_seconds
        self._conn: AsyncConnection[tuple[Any, ...]] | None = None
        self._use = InteractiveFirstSemaphore(1)  # one lock connection: urgent work first
        self._held: set[str] = set()
        self._free_since: dict[str, float] = {}
        """Thread marked held whose lock was free at every look since (``time.monotonic()``)."""
        self._lost_handlers: list[Callable[[list[str]], None]] = []
        self._watchdog: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._connect()
        self._watchdog = asyncio.create_task(self._watch(), name="lease-watchdog")

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        self._held.clear()
        if self._conn is not None:
            await self._conn.close()  # the server lets every lock go
            self._conn = None

    async def __aenter__(self) -> AdvisoryLeases:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def backend_pid(self) -> int | None:
        """The lock connection's server process (tests terminate it to play a lost connection)."""
        return self._conn.info.backend_pid if self._conn is not None else None

    # ------------------------------------------------------------ ThreadLease

    @interactive_work
    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        if thread_id in self._held:  # session locks stack: take each once
            return True
        if not await self._query("SELECT pg_try_advisory_lock(%s, hashtext(%s))", thread_id):
            return False
        self._held.add(thread_id)
        try:
            await self._mark(thread_id, holder)
        except BaseException:
            await self._unlock(thread_id)
            raise
        return True

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        if ttl_seconds <= 0:  # lapse: free the lock, keep the thread marked held
            return await self._unlock(thread_id)
        return thread_id in self._held and self._conn is not None and not self._conn.closed

    async def release(self, thread_id: str, holder: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(ThreadLeaseRow).values(holder=None).where(
                ThreadLeaseRow.thread_id == thread_id, ThreadLeaseRow.holder == holder))
        await self._unlock(thread_id)

    async def held_threads(self) -> list[str]:
        """At start-up: threads marked held whose lock is free now. A held thread whose lock is
        held has a live runner: nothing to recover."""
        return await self._unlocked()

    async def lapsed_threads(self) -> list[str]:
        """Threads marked held whose lock has been free for the take-over grace: a runner that
        lost its lock connection has stopped by then."""
        now = time.monotonic()
        unlocked = await self._unlocked()
        self._free_since = {t: self._free_since.get(t, now) for t in unlocked}
        return [t for t in unlocked if now - self._free_since[t] >= self._grace]

    def subscribe_lost(self, handler: Callable[[list[str]], None]) -> None:
        self._lost_handlers.append(handler)

    async def _unlocked(self) -> list[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(text(
                f"SELECT t.thread_id FROM thread_leases AS t WHERE t.holder IS NOT NULL AND {LOCK_FREE}"))
            return [r for (r,) in rows.all()]

    # -------------------------------------------------------------- internals

    async def _mark(self, thread_id: str, holder: str) -> None:
        mark = {"holder": holder, "expires_at": utc(NO_EXPIRY)}
        async with self._engine.begin() as conn:
            await conn.execute(insert(ThreadLeaseRow).values(thread_id=thread_id, **mark)
                               .on_conflict_do_update(index_elements=["thread_id"], set_=mark))

    async def _unlock(self, thread_id: str) -> bool:
        if thread_id not in self._held:
            return False
        self._held.discard(thread_id)
        try:
            return bool(await self._query("SELECT pg_advisory_unlock(%s, hashtext(%s))", thread_id))
        except Exception:  # the connection is gone, and the lock with it
            log.warning("could not unlock a thread", thread_id=thread_id, exc_info=True)
            return False

    async def _query(self, sql: str, thread_id: str) -> Any:
        async with self._use:
            if self._conn is None or self._conn.closed:
                await self._reconnect()
            assert self._conn is not None
            try:
                async with asyncio.timeout(self._probe_timeout):
                    row = await (await self._conn.execute(sql, (NAMESPACE, thread_id))).fetchone()
            except TimeoutError:
                # a hung connection (a cut network) must not keep the watchdog from finding out
                with contextlib.suppress(Exception):
                    await self._reconnect()
                raise ConnectionError("the lease connection did not answer") from None
            return row[0] if row else None

    @property
    def _probe_timeout(self) -> float:
        return max(2.0, self._health_seconds * 2)

    async def _connect(self) -> None:
        self._conn = await AsyncConnection.connect(self._conninfo, autocommit=True,
                                                   application_name="dagbot-leases", **KEEPALIVES)

    async def _reconnect(self) -> None:
        """A new session holds none of the old one's locks: every run that held one stops."""
        lost = sorted(self._held)
        self._held.clear()
        if lost:
            log.error("lost the lease connection: the runs of this process stop", threads=lost)
            for handler in self._lost_handlers:
                handler(lost)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        await self._connect()

    async def _watch(self) -> None:
        """Find out soon that the lock connection died (then every run holding a lock stops)."""
        while True:
            await asyncio.sleep(self._health_seconds)
            try:
                async with self._use, asyncio.timeout(self._probe_timeout):
                    if self._conn is None or self._conn.closed:
                        await self._reconnect()
                    else:
                        await self._conn.execute("SELECT 1")
            except Exception:
                log.warning("the lease connection failed; reconnecting", exc_info=True)
                async with self._use:
                    with contextlib.suppress(Exception):
                        await self._reconnect()

