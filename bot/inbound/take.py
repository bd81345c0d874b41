"""One process's take of a slash command: kept alive while it works, and checked before each
step that others could repeat.

A command left unfinished for ``retake_seconds`` is taken over by a recovery pass
(:meth:`bot.inbound.commands.SlashCommands.retake`), which cannot tell a dead taker from a slow
one. So the taker renews its take while it works (a slow Slack call or database write does not
stop it), and a taker that was frozen that long anyway (its take renewed by nobody) finds it
lost at its next step and leaves the command to its new taker: its root message is recorded
only if the take is still its own (compare-and-set), and nothing more is posted or queued once
it is not. Without this, the two would each post a root message, and the request, queued once
under its key, would run in one thread while the other said "Queued" forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog

from bot.store import SlashCommandLog

log = structlog.get_logger(__name__)


class CommandTake:
    def __init__(self, store: SlashCommandLog, key: str, *, taken_at: float,
                 clock: Callable[[], float]) -> None:
        """``taken_at``: when this process took the command (``received_at`` for the one that
        recorded it; a recovery pass's time for one that took it over)."""
        self.store = store
        self.key = key
        self.taken_at = taken_at
        self.clock = clock
        self.lost = False
        """Another process took the command over, or finished it: this one must do nothing more."""
        self._lock = asyncio.Lock()  # (one compare-and-set at a time: each renews the take)

    async def renew(self) -> bool:
        """Whether the take is still this process's (renewed if so)."""
        async with self._lock:
            if not self.lost:
                now = self.clock()
                if await self.store.keep_command(self.key, taken_at=self.taken_at, now=now):
                    self.taken_at = now
                else:
                    self._lose()
            return not self.lost

    async def posted(self, root_ts: str) -> bool:
        """Record the root message, if the take is still this process's."""
        async with self._lock:
            if not self.lost:
                now = self.clock()
                if await self.store.command_posted(self.key, root_ts, taken_at=self.taken_at, now=now):
                    self.taken_at = now
                else:
                    self._lose()
            return not self.lost

    @contextlib.asynccontextmanager
    async def kept_alive(self, every: float) -> AsyncIterator[CommandTake]:
        """Renew the take every ``every`` seconds while the block runs."""
        keeping = asyncio.create_task(self._keep(every), name=f"keep-command:{self.key}")
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
                log.warning("could not renew a slash command's take", request_key=self.key, exc_info=True)

    def _lose(self) -> None:
        if not self.lost:
            log.warning("a slash command was taken over while this process was at it: leaving it",
                        request_key=self.key)
        self.lost = True
