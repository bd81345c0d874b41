"""At most N runs per route per minute: a sliding-window log (pure, in memory).

Each route keeps the times of the runs it started in the last ``window`` seconds (a deque);
a new run may start while fewer than ``limit`` are in it. No library: dagbot depends on no rate
limiter, and the exact window (not a token bucket's average) is what an operator reads in
``DAGBOT_ALERTS_RUNS_PER_MINUTE``. It counts the runs this process starts (each replica has
its own window).
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

    def take(self, key: str) -> bool:
        """Count one start for ``key`` if the window has room; False (nothing counted) if not."""
        now = self.clock()
        starts = self._started.setdefault(key, deque())
        while starts and starts[0] <= now - self.window:
            starts.popleft()
        if len(starts) >= self.limit:
            return False
        starts.append(now)
        return True
