"""The execution journal (red calls, once each: an ``INSERT`` on the approval's primary key)
and the node results of each plan, in SQL."""

from __future__ import annotations

import json
import time
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from agent.ports.stores import Execution, ExecutionStatus, NodeResult, NodeStatus
from infra.storage.db import ExecutionRow, NodeResultRow, utc
from infra.storage.store_base import SqlTables

_RESULT_FIELDS = ("status", "output", "error", "started_at", "finished_at", "attempts", "attempt_log")
"""What a later save of the same node result replaces."""


class JournalTables(SqlTables):
    # ----------------------------------------------------- execution journal

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        try:
            async with self.session.begin() as s:
                s.add(ExecutionRow(approval_id=approval_id, thread_id=thread_id, node_id=node_id,
                                   status=ExecutionStatus.STARTED.value, started_at=utc(time.time())))
        except IntegrityError:
            return False
        return True

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None:
        status = ExecutionStatus.FINISHED if ok else ExecutionStatus.FAILED
        async with self.session.begin() as s:
            await s.execute(
                update(ExecutionRow).where(ExecutionRow.approval_id == approval_id)
                .values(status=status.value, output=output, error=error,
                        finished_at=utc(time.time()))
            )

    async def get_execution(self, approval_id: str) -> Execution | None:
        async with self.session() as s:
            row = await s.get(ExecutionRow, approval_id)
            if row is None:
                return None
            return Execution(approval_id=row.approval_id, status=ExecutionStatus(row.status),
                             output=row.output, error=row.error)

    async def mark_unknown(self, approval_id: str) -> None:
        async with self.session.begin() as s:
            await s.execute(
                update(ExecutionRow)
                .where(ExecutionRow.approval_id == approval_id,
                       ExecutionRow.status == ExecutionStatus.STARTED.value)
                .values(status=ExecutionStatus.UNKNOWN.value)
            )

    async def red_changes(self, thread_id: str) -> int:
        ended = case((ExecutionRow.status != ExecutionStatus.STARTED.value, 1), else_=0)
        async with self.session() as s:
            begun, finished = (await s.execute(
                select(func.count(), func.coalesce(func.sum(ended), 0))
                .where(ExecutionRow.thread_id == thread_id))).one()
        return int(begun) + int(finished)

    # ---------------------------------------------------------- node results

    async def save(self, thread_id: str, plan_id: str, *results: NodeResult) -> None:
        rows = [{
            "thread_id": thread_id, "plan_id": plan_id, "node_id": result.node_id,
            "status": result.status.value, "output": result.output, "error": result.error,
            "started_at": result.started_at, "finished_at": result.finished_at,
            "attempts": result.attempts, "attempt_log": result.attempt_log,
        } for result in results]
        if rows:
            async with self.engine.begin() as conn:
                await conn.execute(self._result_upsert, rows)

    @cached_property
    def _result_upsert(self) -> Any:
        """INSERT … ON CONFLICT UPDATE of a node result, built once (every node saves one)."""
        statement = self._insert()(NodeResultRow)
        return statement.on_conflict_do_update(
            index_elements=["thread_id", "plan_id", "node_id"],
            set_={name: statement.excluded[name] for name in _RESULT_FIELDS},
        )

    async def load(self, thread_id: str, plan_id: str) -> dict[str, NodeResult]:
        async with self.session() as s:
            rows = (await s.execute(select(NodeResultRow).where(
                NodeResultRow.thread_id == thread_id, NodeResultRow.plan_id == plan_id
            ))).scalars().all()
        return {r.node_id: NodeResult(
            node_id=r.node_id, status=NodeStatus(r.status), output=r.output, error=r.error,
            started_at=r.started_at, finished_at=r.finished_at, attempts=r.attempts,
            attempt_log=r.attempt_log,
        ) for r in rows}

    async def result_bytes(self, thread_id: str) -> int:
        """JSON size of every node output stored for a thread (the artifact store's share)."""
        async with self.session() as s:
            rows = (await s.execute(
                select(NodeResultRow.output).where(NodeResultRow.thread_id == thread_id)
            )).scalars().all()
        return sum(len(json.dumps(output, ensure_ascii=False, default=str)) for output in rows)


class JournalRecords(Protocol):
    """What :class:`ExecutionJournalView` reads and writes: :class:`JournalTables`, or the
    in-memory store of :mod:`infra.emulators.memory_stores`."""

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool: ...

    async def finish(self, approval_id: str, *, ok: bool, output: Any = None,
                     error: str | None = None) -> None: ...

    async def get_execution(self, approval_id: str) -> Execution | None: ...

    async def mark_unknown(self, approval_id: str) -> None: ...

    async def red_changes(self, thread_id: str) -> int: ...


class ExecutionJournalView:
    """Adapts :class:`JournalRecords` to the ExecutionJournal port (whose ``get`` is by approval)."""

    def __init__(self, store: JournalRecords) -> None:
        self._store = store

    async def begin(self, approval_id: str, thread_id: str, node_id: str) -> bool:
        return await self._store.begin(approval_id, thread_id, node_id)

    async def finish(
        self, approval_id: str, *, ok: bool, output: Any = None, error: str | None = None
    ) -> None:
        await self._store.finish(approval_id, ok=ok, output=output, error=error)

    async def get(self, approval_id: str) -> Execution | None:
        return await self._store.get_execution(approval_id)

    async def mark_unknown(self, approval_id: str) -> None:
        await self._store.mark_unknown(approval_id)

    async def changes(self, thread_id: str) -> int:
        return await self._store.red_changes(thread_id)
