"""Where each alert group's thread is, in memory:
:class:`bot.inbound.alerts.group_threads.AlertGroupThreads` in a dict, with the semantics of
:class:`infra.storage.alert_store.SqlAlertGroupThreads` (``tests/infra/test_alert_store_contract.py``
holds both to them): a claim and a change each check and write in one step, with no ``await``
in between. Its storm budget is a :class:`bot.inbound.alerts.storm.SlidingWindow` over start
times the store keeps, so that the bots sharing one store share it."""

from __future__ import annotations

import dataclasses
from collections import deque

from bot.inbound.alerts.group_threads import AlertGroupState, AlertGroupThread, QueuedAlertRun
from bot.inbound.alerts.storm import SlidingWindow, StormBudget


class MemoryStormBudget:
    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    async def take(self, route: str, now: float) -> bool:
        return self.window.take(route, now)

    async def frees_in(self, route: str, now: float) -> float:
        return self.window.frees_in(route, now)


class MemoryAlertGroupThreads:
    def __init__(self) -> None:
        self._groups: dict[str, AlertGroupThread] = {}
        self._queued: dict[str, QueuedAlertRun] = {}
        self._storm_starts: dict[str, deque[float]] = {}

    async def alert_group(self, group: str) -> AlertGroupThread | None:
        return self._groups.get(group)

    async def claim_alert_group(self, thread: AlertGroupThread, *, stale_before: float) -> bool:
        kept = self._groups.get(thread.id)
        if kept is not None and (kept.root_ts is not None or kept.claimed_at >= stale_before):
            return False
        self._groups[thread.id] = dataclasses.replace(thread, root_ts=None)
        return True

    async def alert_group_opened(self, group: str, root_ts: str) -> None:
        kept = self._groups.get(group)
        if kept is not None:
            self._groups[group] = dataclasses.replace(kept, root_ts=root_ts)

    async def release_alert_group(self, group: str) -> None:
        kept = self._groups.get(group)
        if kept is not None and kept.root_ts is None:
            del self._groups[group]

    async def change_alert_group(self, group: str, was: AlertGroupState, now: AlertGroupState, *,
                                 at: float) -> bool:
        kept = self._groups.get(group)
        if kept is None or kept.root_ts is None or kept.state != was:
            return False
        self._groups[group] = dataclasses.replace(kept, state=now)
        return True

    async def queue_alert_run(self, run: QueuedAlertRun) -> bool:
        if run.key in self._queued or run.key in self._groups:
            return False
        self._queued[run.key] = run
        return True

    async def queued_alert_runs(self, route: str | None = None) -> list[QueuedAlertRun]:
        runs = [run for run in self._queued.values() if route is None or run.route == route]
        return sorted(runs, key=lambda run: (run.queued_at, run.key))

    async def take_queued_alert_run(self, key: str) -> bool:
        return self._queued.pop(key, None) is not None

    async def drop_queued_alert_runs(self, group: str) -> list[QueuedAlertRun]:
        dropped = [run for run in self._queued.values() if run.group == group]
        for run in dropped:
            del self._queued[run.key]
        return sorted(dropped, key=lambda run: (run.queued_at, run.key))

    def storm_budget(self, limit: int, window: float) -> StormBudget:
        return MemoryStormBudget(SlidingWindow(limit, window, self._storm_starts))
