"""One process's take of work that others take over when it seems abandoned (a slash command,
:mod:`bot.inbound.commands`; a delivered message's claim, :mod:`bot.inbound.intake`): kept
alive while it works, and checked before each step that others could repeat.

Work left unfinished for a while is taken over (by a recovery pass, or by Slack's retry of a
message), by a process that cannot tell a dead taker from a slow one. So the taker renews its
take while it works (a slow Slack call or database write does not stop it), and a taker that
was frozen that long anyway (its take renewed by nobody) finds it lost at its next step and
leaves the work to its new taker: nothing more is posted, recorded or queued once it is not
its own. Without this, the two would each post a message, and the request, queued once under
its key, would run in one thread while the other said "Queued" forever (or run twice, if the
first run was over when the second was queued).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

Keep = Callable[[float, float], Awaitable[bool]]
"""``(taken_at, now)``: renew the take of ``taken_at`` as of ``now``, with whatever a step
records along (compare-and-set); False, and nothing recorded, when it is not that take any more
(taken over, or finished)."""


class Take:
    def __init__(self, keep: Keep, *, what: str, key: str, taken_at: float,
                 clock: Callable[[], float]) -> None:
        """``taken_at``: when this process took the work (for the first taker of a slash command,
        its ``received_at``; for a message, when it was claimed). ``what`` and ``key`` name the
        work in the log."""
        self.keep = keep
        self.what = what
        self.key = key
        self.taken_at = taken_at
        self.clock = clock
        self.lost = False
        """Another process took the work over, or finished it: this one must do nothing more."""
        self._lock = asyncio.Lock()  # (one compare-and-set at a time: each renews the take)

    async def renew(self, keep: Keep | None = None) -> bool:
        """Whether the take is still this process's (renewed if so, by ``keep`` if given: a
        renewal that records a step's result too)."""
        async with self._lock:
            if not self.lost:
                now = self.clock()
                if await (keep or self.keep)(self.taken_at, now):
                    self.taken_at = now
                else:
                    self._lose()
            return not self.lost

    @contextlib.asynccontextmanager
    async def kept_alive(self, every: float) -> AsyncIterator[Take]:
        """Renew the take every ``every`` seconds while the block runs."""
        keeping = asyncio.create_task(self._keep(every), name=f"keep-{self.what}:{self.key}")
        try:
            yield self
        finally:
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping

    async def _keep(self, every: float) -> None:
        while not self.lost:
            await asyncio.sleep(every)
            try:
                await self.renew()
            except Exception:  # the next renewal may go through; a step's own check decides
                log.warning("could not renew a take", work=self.what, key=self.key, exc_info=True)

    def _lose(self) -> None:
        if not self.lost:
            log.warning("taken over while this process was at it: leaving it", work=self.what, key=self.key)
        self.lost = True
