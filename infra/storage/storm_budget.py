"""The storm limit's budget in SQL (:class:`bot.inbound.alerts.storm.StormBudget`), shared by
every replica on the database: each route has ``limit`` slot rows (``alert_storm_slots``: route,
slot, when a run last started on it), made when first needed (an ``INSERT`` that a concurrent
one may beat: either is the row). A run starts by moving a slot last used a window ago or
earlier to now, an ``UPDATE … WHERE used_at = <what was read>``: of two replicas racing for a
slot one moves it, the other tries the next free one. No table lock, no transaction spanning a
read and a write: SQLite and PostgreSQL alike.

Each slot's starts are a window apart at least, so no window holds more than ``limit`` starts.
Slots numbered ``limit`` or more (a higher limit before) are ignored; missing ones (a higher
limit now) are made free. :mod:`infra.emulators.memory_alert_store` keeps the same budget in memory
(``tests/infra/test_alert_store_contract.py`` holds both to it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from infra.storage.db import AlertStormSlotRow

NEVER = 0.0
"""``used_at`` of a slot no run started on yet."""


class SqlStormBudget:
    def __init__(self, session: async_sessionmaker[AsyncSession], limit: int, window: float) -> None:
        self.session = session
        self.limit = limit
        self.window = window

    async def _slots(self, route: str) -> dict[int, float]:
        """The route's slots (slot → last used), the missing ones made first."""
        async with self.session() as s:
            rows = (await s.execute(select(AlertStormSlotRow.slot, AlertStormSlotRow.used_at).where(
                AlertStormSlotRow.route == route, AlertStormSlotRow.slot < self.limit))).all()
        slots = {int(row.slot): float(row.used_at) for row in rows}
        for missing in sorted(set(range(self.limit)) - slots.keys()):
            try:
                async with self.session.begin() as s:
                    s.add(AlertStormSlotRow(route=route, slot=missing, used_at=NEVER))
                slots[missing] = NEVER
            except IntegrityError:  # another process made it: read what it holds now
                async with self.session() as s:
                    used = await s.scalar(select(AlertStormSlotRow.used_at).where(
                        AlertStormSlotRow.route == route, AlertStormSlotRow.slot == missing))
                slots[missing] = float(used) if used is not None else NEVER
        return slots

    def _free(self, slots: dict[int, float], now: float) -> list[tuple[float, int]]:
        """The slots a run may start on at ``now``, least recently used first."""
        return sorted((used, slot) for slot, used in slots.items() if used <= now - self.window)

    async def take(self, route: str, now: float) -> bool:
        while free := self._free(await self._slots(route), now):
            for used, slot in free:
                async with self.session.begin() as s:
                    moved = await s.execute(
                        update(AlertStormSlotRow)
                        .where(AlertStormSlotRow.route == route, AlertStormSlotRow.slot == slot,
                               AlertStormSlotRow.used_at == used)
                        .values(used_at=now))
                if _rows(moved) == 1:
                    return True
            # every free slot read was taken meanwhile: read again (some may have freed)
        return False

    async def frees_in(self, route: str, now: float) -> float:
        slots = await self._slots(route)
        if not slots:
            return self.window  # a limit of 0: never
        return max(0.0, min(slots.values()) + self.window - now)


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)
