"""What the page's **Schedules** panel shows: the live schedules, each with its next run and the
threads its firings opened, read from the bot's own tables (``slack_schedules`` and
``schedule_ticks``: :mod:`infra.storage.schedule_store`). Nothing here changes a schedule:
Cancel is the bot's (``/agent schedules``, App Home)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.ground.schedule_spec import describe
from infra.scheduling.triggers import next_fire_time
from infra.storage.db import ScheduleTickRow
from infra.storage.schedule_store import SqlScheduleStore

TICKS_SHOWN = 10
"""The newest firings shown per schedule."""


async def schedules_shown(engine: AsyncEngine, *, team: str,
                          now: float | None = None) -> list[dict[str, Any]]:
    """The team's live schedules, oldest first: who made it where, when it fires, its request, its
    next run (epoch seconds, or None) and its newest firings (``ticks``: when each was due, how
    many missed firings it stood for, its thread's root ``ts`` once posted, and whether it is done)."""
    now = time.time() if now is None else now
    schedules = [s for s in await SqlScheduleStore(engine).live_schedules() if s.team == team]
    ticks: dict[str, list[dict[str, Any]]] = {s.id: [] for s in schedules}
    if schedules:
        query = (select(ScheduleTickRow).where(ScheduleTickRow.schedule_id.in_(list(ticks)))
                 .order_by(ScheduleTickRow.fire_time.desc()))
        async with async_sessionmaker(engine)() as session:
            for row in (await session.execute(query)).scalars():
                shown = ticks[row.schedule_id]
                if len(shown) < TICKS_SHOWN:
                    shown.append({"fire_time": row.fire_time, "missed": row.missed, "ts": row.root_ts,
                                  "done": bool(row.done)})
    return [{"id": s.id, "channel": s.channel, "user": s.user, "when": describe(s.spec), "request": s.request,
             "created_at": s.created_at, "next": next_fire_time(s, now), "ticks": ticks[s.id]}
            for s in schedules]
