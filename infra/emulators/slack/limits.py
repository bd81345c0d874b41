"""How the emulated Slack says no before a method runs: its rate limits, and faults a test injects.

Rate limits (:class:`RateLimit`, off until switched on) accept one call of each method per
channel every ``RATE_LIMIT_INTERVAL`` seconds and answer the others with HTTP 429 and a
``Retry-After`` that says exactly when the next call will be accepted, as Slack's limits do.
A fault (:class:`Fault`) answers chosen calls of one method with an error of the test's
choosing: by default a 429 with ``Retry-After``, or ``ok: false`` with HTTP 200.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RATE_LIMIT_INTERVAL = 2.0


@dataclass
class RateLimit:
    on: bool = False
    refused: int = 0
    next_allowed: dict[tuple[str, str], float] = field(default_factory=dict)

    def check(self, method: str, channel: str, now: float) -> int | None:
        """Seconds to wait (a whole number, as Retry-After says it) before this call is
        accepted, or None to accept it now."""
        if not self.on:
            return None
        key = (method, channel)
        allowed = self.next_allowed.get(key, 0.0)
        if now < allowed:
            self.refused += 1
            return max(1, math.ceil(allowed - now))
        self.next_allowed[key] = now + RATE_LIMIT_INTERVAL
        return None

    def switch(self, on: bool) -> None:
        self.on = on
        self.next_allowed.clear()

    def state(self) -> dict[str, Any]:
        return {"on": self.on, "refused": self.refused}


@dataclass
class Fault:
    method: str
    times: int
    status: int = 429
    retry_after: int = 1
    error: str = "ratelimited"
    when: Callable[[dict[str, Any]], bool] | None = None
    """Only calls whose arguments this accepts get the error (None: every call)."""

    def hits(self, method: str, args: dict[str, Any]) -> bool:
        """Whether this call gets the error (counting it against ``times``)."""
        if method != self.method or self.times <= 0 or (self.when is not None and not self.when(args)):
            return False
        self.times -= 1
        return True

    def answer(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"Retry-After": str(self.retry_after)} if self.status == 429 else {}
        return self.status, {"ok": False, "error": self.error}, headers
