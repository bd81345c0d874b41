"""At most N runs per route per minute, across every replica: the storm limit's budget.

:class:`StormBudget` is the port: a route's run may start when :meth:`StormBudget.take` counts it
(False: the window is full), and :meth:`StormBudget.frees_in` says when the next may (the storm
queue waits that long). The alert store keeps the budget
(:meth:`bot.inbound.alerts.group_threads.AlertGroupThreads.storm_budget`), so that every replica
sharing its database counts against one window: in SQL, N slot rows per route taken by
compare-and-set (:mod:`infra.storage.storm_budget`); in memory, a :class:`SlidingWindow`. Times
are the wall clock's (``time.time``), which replicas share; tests give theirs.

:class:`SlidingWindow` is the pure sliding-window log: each route keeps the times of the runs
it started in the last ``window`` seconds (a deque), and a new run may start while fewer than
``limit`` are in it. Written here rather than taken from a library: ``aiolimiter`` is a leaky
bucket that averages and makes its caller sleep, and ``limits``' moving window reads the wall
clock and would be a dependency for twenty lines, while the storm queue needs "is there room
now" and "when is there room" on a clock tests give. The exact window is what an operator reads
in ``DAGBOT_ALERTS_RUNS_PER_MINUTE``.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol


class StormBudget(Protocol):
    """One storm limit (``limit`` runs per route in any ``window`` seconds), shared by whoever
    shares its store."""

    async def take(self, route: str, now: float) -> bool:
        """Count one start of ``route`` at ``now`` if its window has room: True for a caller that
        did; False (nothing counted) if the window is full."""

    async def frees_in(self, route: str, now: float) -> float:
        """Seconds from ``now`` until a run of ``route`` may start (0: now; with a limit of 0,
        never: the window)."""


class SlidingWindow:
    def __init__(self, limit: int, window: float = 60.0,
                 started: dict[str, deque[float]] | None = None) -> None:
        """``started``: the start times kept per route (shared by windows of one store, so that a
        new limit counts the starts an older one did)."""
        self.limit = limit
        self.window = window
        self._started = started if started is not None else {}

    def _starts(self, key: str, now: float) -> deque[float]:
        starts = self._started.setdefault(key, deque())
        while starts and starts[0] <= now - self.window:
            starts.popleft()
        return starts

    def room(self, key: str, now: float) -> bool:
        """May a run of ``key`` start at ``now`` (nothing counted)?"""
        return len(self._starts(key, now)) < self.limit

    def take(self, key: str, now: float) -> bool:
        """Count one start for ``key`` if the window has room; False (nothing counted) if not."""
        starts = self._starts(key, now)
        if len(starts) >= self.limit:
            return False
        starts.append(now)
        return True

    def frees_in(self, key: str, now: float) -> float:
        """Seconds until a run of ``key`` may start (0: now; never, with a limit of 0: the window)."""
        starts = self._starts(key, now)
        if len(starts) < self.limit:
            return 0.0
        return starts[len(starts) - self.limit] + self.window - now if starts else self.window
