"""SQLAlchemy implementation of :class:`bot.inbound.alerts.group_threads.AlertGroupThreads`;
:mod:`infra.emulators.memory_alert_store` is its twin in memory, held to the same contract by
``tests/infra/test_alert_store_contract.py``.

A claim is an ``INSERT`` on the group's primary key (taking over a stale one, an ``UPDATE … WHERE
root_ts IS NULL AND claimed_at = <the stale time>``); a change of the group's state an ``UPDATE
… WHERE firing = <was> AND status = <was>``: one caller wins either.

A run the storm limit held back is a row of the same table, told apart by its status
``queued`` (no migration was needed for it): its id is the run's queue key, ``group_key`` holds
its request, ``firing`` its group's id, ``claimed_at`` when it was queued. Taking one to start
it is a ``DELETE`` of its row: one caller deletes it. The storm limit's budget is a table of its
own (:mod:`infra.storage.storm_budget`).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.inbound.alerts.group_threads import AlertGroupState, AlertGroupThread, GroupStatus, QueuedAlertRun
from bot.inbound.alerts.storm import StormBudget
from infra.storage.db import AlertGroupThreadRow
from infra.storage.storm_budget import SqlStormBudget


def _firing(fingerprints: frozenset[str]) -> str:
    return ",".join(sorted(fingerprints))


def _thread(row: AlertGroupThreadRow) -> AlertGroupThread:
    state = AlertGroupState(frozenset(filter(None, row.firing.split(","))), cast(GroupStatus, row.status))
    return AlertGroupThread(id=row.id, group_key=row.group_key, route=row.route, channel=row.channel,
                            state=state, claimed_at=row.claimed_at, root_ts=row.root_ts)


QUEUED = "queued"
"""The status of a row that is a held run, not a group."""


def _queued(row: AlertGroupThreadRow) -> QueuedAlertRun:
    return QueuedAlertRun(key=row.id, group=row.firing, route=row.route, channel=row.channel,
                          root_ts=row.root_ts or "", request=row.group_key, queued_at=row.claimed_at)


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


class SqlAlertGroupThreads:
    def __init__(self, engine: AsyncEngine) -> None:
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    async def alert_group(self, group: str) -> AlertGroupThread | None:
        async with self.session() as s:
            row = await s.get(AlertGroupThreadRow, group)
            return _thread(row) if row is not None and row.status != QUEUED else None

    async def claim_alert_group(self, thread: AlertGroupThread, *, stale_before: float) -> bool:
        try:
            async with self.session.begin() as s:
                s.add(AlertGroupThreadRow(
                    id=thread.id, group_key=thread.group_key, route=thread.route, channel=thread.channel,
                    root_ts=None, firing=_firing(thread.state.firing), status=thread.state.status,
                    claimed_at=thread.claimed_at, updated_at=thread.claimed_at))
            return True
        except IntegrityError:
            pass
        async with self.session.begin() as s:  # taken: by a delivery whose process died?
            row = await s.get(AlertGroupThreadRow, thread.id)
            if row is None or row.root_ts is not None or row.claimed_at >= stale_before:
                return False
            retaken = await s.execute(
                update(AlertGroupThreadRow)
                .where(AlertGroupThreadRow.id == thread.id, AlertGroupThreadRow.root_ts.is_(None),
                       AlertGroupThreadRow.claimed_at == row.claimed_at)
                .values(route=thread.route, channel=thread.channel, firing=_firing(thread.state.firing),
                        status=thread.state.status, claimed_at=thread.claimed_at,
                        updated_at=thread.claimed_at))
            return _rows(retaken) == 1

    async def alert_group_opened(self, group: str, root_ts: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(AlertGroupThreadRow).where(AlertGroupThreadRow.id == group)
                            .values(root_ts=root_ts))

    async def release_alert_group(self, group: str) -> None:
        async with self.session.begin() as s:
            await s.execute(delete(AlertGroupThreadRow).where(AlertGroupThreadRow.id == group,
                                                              AlertGroupThreadRow.root_ts.is_(None)))

    async def change_alert_group(self, group: str, was: AlertGroupState, now: AlertGroupState, *,
                                 at: float) -> bool:
        async with self.session.begin() as s:
            changed = await s.execute(
                update(AlertGroupThreadRow)
                .where(AlertGroupThreadRow.id == group, AlertGroupThreadRow.root_ts.is_not(None),
                       AlertGroupThreadRow.firing == _firing(was.firing),
                       AlertGroupThreadRow.status == was.status)
                .values(firing=_firing(now.firing), status=now.status, updated_at=at))
            return _rows(changed) == 1

    async def queue_alert_run(self, run: QueuedAlertRun) -> bool:
        try:
            async with self.session.begin() as s:
                s.add(AlertGroupThreadRow(
                    id=run.key, group_key=run.request, route=run.route, channel=run.channel,
                    root_ts=run.root_ts, firing=run.group, status=QUEUED, claimed_at=run.queued_at,
                    updated_at=run.queued_at))
            return True
        except IntegrityError:
            return False

    async def queued_alert_runs(self, route: str | None = None) -> list[QueuedAlertRun]:
        query = select(AlertGroupThreadRow).where(AlertGroupThreadRow.status == QUEUED)
        if route is not None:
            query = query.where(AlertGroupThreadRow.route == route)
        async with self.session() as s:
            rows = await s.scalars(query.order_by(AlertGroupThreadRow.claimed_at, AlertGroupThreadRow.id))
            return [_queued(row) for row in rows]

    async def take_queued_alert_run(self, key: str) -> bool:
        async with self.session.begin() as s:
            taken = await s.execute(delete(AlertGroupThreadRow).where(AlertGroupThreadRow.id == key,
                                                                      AlertGroupThreadRow.status == QUEUED))
            return _rows(taken) == 1

    async def drop_queued_alert_runs(self, group: str) -> list[QueuedAlertRun]:
        async with self.session.begin() as s:
            rows = list(await s.scalars(select(AlertGroupThreadRow).where(
                AlertGroupThreadRow.status == QUEUED, AlertGroupThreadRow.firing == group)))
            dropped = []
            for row in rows:
                gone = await s.execute(delete(AlertGroupThreadRow).where(
                    AlertGroupThreadRow.id == row.id, AlertGroupThreadRow.status == QUEUED))
                if _rows(gone) == 1:
                    dropped.append(_queued(row))
            return dropped

    def storm_budget(self, limit: int, window: float) -> StormBudget:
        return SqlStormBudget(self.session, limit, window)
