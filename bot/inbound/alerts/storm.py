"""At most N runs per route per minute: a sliding-window log (pure, in memory).

Each route keeps the times of the runs it started in the last ``window`` seconds (a deque);
a new run may start while fewer than ``limit`` are in it, and :meth:`SlidingWindow.frees_in`
says when the next may (the storm queue waits that long). Written here rather than taken from
a library: ``aiolimiter`` is a leaky bucket that averages and makes its caller sleep, and
``limits``' moving window reads the wall clock and would be a dependency for twenty lines,
while the storm queue needs "is there room now" and "when is there room" on a clock tests
give. The exact window is what an operator reads in ``DAGBOT_ALERTS_RUNS_PER_MINUTE``. It
counts the runs this process starts (each replica has its own window).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._started: dict[str, deque[float]] = {}

    def _starts(self, key: str, now: float) -> deque[float]:
        starts = self._started.setdefault(key, deque())
        while starts and starts[0] <= now - self.window:
            starts.popleft()
        return starts

    def room(self, key: str) -> bool:
        """May a run of ``key`` start now (nothing counted)?"""
        return len(self._starts(key, self.clock())) < self.limit

    def take(self, key: str) -> bool:
        """Count one start for ``key`` if the window has room; False (nothing counted) if not."""
        now = self.clock()
        starts = self._starts(key, now)
        if len(starts) >= self.limit:
            return False
        starts.append(now)
        return True

    def frees_in(self, key: str) -> float:
        """Seconds until a run of ``key`` may start (0: now; never, with a limit of 0: the window)."""
        now = self.clock()
        starts = self._starts(key, now)
        if len(starts) < self.limit:
            return 0.0
        return starts[len(starts) - self.limit] + self.window - now if starts else self.window
