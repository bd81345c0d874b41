"""Per-thread ownership in SQL: queued requests, run marks and leases (a lease is an
``UPDATE … WHERE free or expired`` or an ``INSERT``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any

from sqlalchemy import delete, or_, select, update

from agent.ports.ownership import QueuedRequest
from infra.storage.db import QueuedRequestRow, ThreadLeaseRow, utc
from infra.storage.db_priority import interactive_work
from infra.storage.group_commit import GroupCommit
from infra.storage.store_base import SqlTables


class ThreadTables(SqlTables):
    # -------------------------------------------------------- queued requests

    @interactive_work
    async def push(self, thread_id: str, text: str, requested_by: str | None, key: str | None = None) -> bool:
        return await self._pushes(QueuedRequestRow(thread_id=thread_id, text=text, requested_by=requested_by,
                                                   queued_at=utc(time.time()), key=key or uuid.uuid4().hex))

    @cached_property
    def _pushes(self) -> GroupCommit[QueuedRequestRow, bool]:
        """Requests queued at once are written together (what Slack acknowledgements wait for)."""
        return GroupCommit(self._push_all)

    async def _push_all(self, rows: list[QueuedRequestRow]) -> list[bool]:
        pushed = []
        async with self.session.begin() as s:
            for row in rows:  # (each sees those before it: the session flushes before a query)
                if (await s.execute(
                    select(QueuedRequestRow.id).where(QueuedRequestRow.key == row.key).limit(1)
                )).first() is not None:
                    pushed.append(False)  # a redelivery of a request queued already
                    continue
                s.add(row)
                pushed.append(True)
        return pushed

    async def peek(self, thread_id: str) -> QueuedRequest | None:
        async with self.session() as s:
            row = (await s.execute(
                select(QueuedRequestRow).where(QueuedRequestRow.thread_id == thread_id)
                .order_by(QueuedRequestRow.id).limit(1)
            )).scalar_one_or_none()
        if row is None:
            return None
        return QueuedRequest(row.id, row.thread_id, row.text, row.requested_by, row.key or f"id-{row.id}",
                             started=row.started_at is not None)

    async def mark_started(self, request_id: int) -> None:
        async with self.session.begin() as s:
            await s.execute(update(QueuedRequestRow).where(QueuedRequestRow.id == request_id)
                            .values(started_at=utc(time.time())))

    async def remove(self, request_id: int) -> None:
        async with self.session.begin() as s:
            await s.execute(delete(QueuedRequestRow).where(QueuedRequestRow.id == request_id))

    @interactive_work
    async def has_queued(self, thread_id: str) -> bool:
        async with self.session() as s:
            found = await s.execute(select(QueuedRequestRow.id)
                                    .where(QueuedRequestRow.thread_id == thread_id).limit(1))
            return found.first() is not None

    async def clear(self, thread_id: str) -> int:
        async with self.session.begin() as s:
            dropped = await s.execute(delete(QueuedRequestRow).where(QueuedRequestRow.thread_id == thread_id))
            return int(dropped.rowcount)  # type: ignore[attr-defined]

    async def drop_waiting(self, thread_id: str, key: str) -> bool:
        return bool(await self._drop_waiting(thread_id, QueuedRequestRow.key == key))

    async def drop_waiting_of(self, thread_id: str, requested_by: str) -> list[str]:
        return await self._drop_waiting(thread_id, QueuedRequestRow.requested_by == requested_by)

    async def _drop_waiting(self, thread_id: str, condition: Any) -> list[str]:
        """Delete the thread's waiting requests that meet ``condition`` (one statement: a runner
        that marks one started meanwhile keeps it); returns their keys."""
        async with self.session.begin() as s:
            dropped = await s.execute(
                delete(QueuedRequestRow)
                .where(QueuedRequestRow.thread_id == thread_id, QueuedRequestRow.started_at.is_(None),
                       condition)
                .returning(QueuedRequestRow.id, QueuedRequestRow.key))
            return [key or f"id-{request_id}" for request_id, key in dropped.all()]

    async def queued_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(select(QueuedRequestRow.thread_id).distinct())
            return [r for (r,) in rows.all()]

    # ------------------------------------------------------------- run marks
    # (on the lease row: a thread that never ran has none, and no run to mark)

    async def request_cancel(self, thread_id: str) -> None:
        await self._mark_run(thread_id, cancel_requested_at=utc(time.time()))

    async def cancel_requested(self, thread_id: str) -> bool:
        async with self.session() as s:
            at = await s.scalar(select(ThreadLeaseRow.cancel_requested_at)
                                .where(ThreadLeaseRow.thread_id == thread_id))
        return at is not None

    async def count_takeover(self, thread_id: str) -> int:
        async with self.session.begin() as s:
            count = await s.scalar(
                update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == thread_id)
                .values(takeovers=ThreadLeaseRow.takeovers + 1).returning(ThreadLeaseRow.takeovers))
        return int(count or 0)

    async def start_run(self, thread_id: str) -> None:
        await self._mark_run(thread_id, cancel_requested_at=None, takeovers=0)

    async def _mark_run(self, thread_id: str, **values: Any) -> None:
        async with self.session.begin() as s:
            await s.execute(update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == thread_id)
                            .values(**values))

    # ---------------------------------------------------------------- leases

    @interactive_work
    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        now = time.time()
        insert = self._insert()
        statement = insert(ThreadLeaseRow).values(
            thread_id=thread_id, holder=holder, expires_at=utc(now + ttl_seconds))
        upsert = statement.on_conflict_do_update(  # one statement: new, free, mine or lapsed
            index_elements=["thread_id"],
            set_={"holder": holder, "expires_at": utc(now + ttl_seconds)},
            where=or_(ThreadLeaseRow.holder.is_(None), ThreadLeaseRow.holder == holder,
                      ThreadLeaseRow.expires_at < utc(now)),
        ).returning(ThreadLeaseRow.thread_id)
        async with self.session.begin() as s:
            return (await s.execute(upsert)).first() is not None

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool:
        async with self.session.begin() as s:
            result = await s.execute(
                update(ThreadLeaseRow)
                .where(ThreadLeaseRow.thread_id == thread_id, ThreadLeaseRow.holder == holder)
                .values(expires_at=utc(time.time() + ttl_seconds))
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self, thread_id: str, holder: str) -> None:
        async with self.session.begin() as s:
            await s.execute(
                update(ThreadLeaseRow)
                .where(ThreadLeaseRow.thread_id == thread_id, ThreadLeaseRow.holder == holder)
                .values(holder=None)
            )

    def subscribe_lost(self, handler: Callable[[list[str]], None]) -> None:
        """Never called: a lease here expires, and its runner, renewing it, stops before."""

    async def held_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(
                select(ThreadLeaseRow.thread_id).where(ThreadLeaseRow.holder.is_not(None))
            )
            return [r for (r,) in rows.all()]

    async def lapsed_threads(self) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(  # lapsed as acquire() sees it: by this process's clock
                select(ThreadLeaseRow.thread_id).where(ThreadLeaseRow.holder.is_not(None),
                                                       ThreadLeaseRow.expires_at < utc(time.time()))
            )
            return [r for (r,) in rows.all()]
