"""Which threads the engine's recovery passes resume (:meth:`agent.engine.engine.Engine.recover`
and :meth:`~agent.engine.engine.Engine.recover_lapsed`).

A thread needs recovering when no runner will move it on by itself: its runner died mid-run
(its lease is left held, or lapsed), or it is parked and its approvals were decided or
expired while no process was there to resume it (a process died between recording a
decision and acting on it). At start-up a process looks for both once; while it runs, it
repeats a cheaper pass. This module keeps what those passes remember between them (when
they last looked, and the backoff of threads whose run keeps failing) and finds the threads;
the engine resumes them, and drains the queues the pass says to look at. Giving up on a run
taken over too often is the runner's, since the count is kept in the database for every
process (:class:`~agent.ports.ownership.RunMarks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.execution.context import EngineContext
from agent.ports.ownership import ThreadLease

RECOVERY_OVERLAP = 10.0
"""Seconds each recovery pass looks back before the previous one (see recover_lapsed)."""
RECOVERY_BACKOFF = (5.0, 300.0)
"""A thread the pass took over that lapses again (its run keeps failing) is retried after a
delay doubling from the first figure up to the second, not at every pass."""
RECOVERY_TAKEOVERS = 5
"""How many times a thread's run is taken over, by any process; when it is due once more, it
is ended as failed instead (the user is told: :mod:`agent.engine.run_end`)."""
DECIDED_SCAN_SECONDS = 5.0
"""The recovery pass looks for lapsed leases every time (one query), and for decided threads
and orphaned queued requests no more often than this (the rare case of a process dying
between recording a decision or a follow-up and acting on it)."""


@dataclass(frozen=True)
class Found:
    """What a recovery pass found to do."""

    threads: list[str]
    """The threads to resume, in order."""
    lapsed: list[str]
    """Threads whose lease a runner that died left marked: resumed as ``lapsed``, so that the
    lease is cleared even if the thread turns out idle."""
    scan_queues: bool
    """Also start the queued requests of threads not resumed (a full pass)."""


class Recovery:
    """The recovery passes of one engine, and what they remember between them."""

    def __init__(self, ctx: EngineContext, leases: ThreadLease,
                 scope: Callable[[str], bool] | None = None) -> None:
        self.ctx = ctx
        self.leases = leases
        self.scope = scope or (lambda thread_id: True)
        """The threads this engine may recover (a front end sharing a database: only its own)."""
        self.recovered_at: float | None = None
        """When the last recovery pass looked for decided threads."""
        self.scanned_at: float | None = None
        """When the last full recovery pass ran (decided threads, queued requests)."""
        self.retries: dict[str, tuple[int, float]] = {}
        """Lapsed thread the pass took over → (how many times, when it may try again)."""

    async def at_start(self) -> Found:
        """The start-up pass: every thread whose lease is held (its runner died, since this
        process has none yet) and every thread decided within the approvals' lifetime."""
        self.recovered_at = self.scanned_at = self.ctx.clock()  # where lapsed_pass() takes over
        held = [t for t in await self.leases.held_threads() if self.scope(t)]
        since = self.ctx.clock() - self.ctx.settings.approval_ttl_seconds
        decided = [t for t in await self.ctx.approvals.threads_decided_since(since) if self.scope(t)]
        return Found(threads=list(dict.fromkeys([*held, *decided])), lapsed=held, scan_queues=True)

    async def lapsed_pass(self, claimed: Callable[[str], bool]) -> Found:
        """The pass a running process repeats: threads whose lease lapsed, unless they are
        backing off, and (every DECIDED_SCAN_SECONDS) threads decided since the previous pass;
        none that ``claimed`` says a drive of this process is on. Each lapsed thread returned
        counts as one more take-over for its backoff."""
        now = self.ctx.clock()
        lapsed = [t for t in await self.leases.lapsed_threads() if self.scope(t)]
        decided: list[str] = []
        full = self.scanned_at is None or now - self.scanned_at >= DECIDED_SCAN_SECONDS
        if full:
            # Overlapping windows: a decision is stamped before it commits, and by the clock of
            # the process that recorded it. Seeing one twice is harmless (nothing new: no run).
            since = (self.recovered_at or now - self.ctx.settings.approval_ttl_seconds) - RECOVERY_OVERLAP
            decided = [t for t in await self.ctx.approvals.threads_decided_since(since) if self.scope(t)]
            self.recovered_at = self.scanned_at = now
        for settled in self.retries.keys() - set(lapsed):  # it recovered, or is elsewhere now
            del self.retries[settled]
        due = [t for t in lapsed if self.retries.get(t, (0, now))[1] <= now]
        threads = [t for t in dict.fromkeys([*due, *decided]) if not claimed(t)]
        for thread_id in [t for t in threads if t in lapsed]:
            tries = self.retries.get(thread_id, (0, now))[0] + 1
            self.retries[thread_id] = (tries, now + min(
                RECOVERY_BACKOFF[0] * 2 ** (tries - 1), RECOVERY_BACKOFF[1]))
        return Found(threads=threads, lapsed=lapsed, scan_queues=full)
