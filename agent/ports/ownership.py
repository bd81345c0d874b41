"""The typed interfaces through which runners share threads across processes: one runner per
thread (:class:`ThreadLease`), signals between processes (:class:`ThreadSignals`), the
durable queue of requests (:class:`RequestQueue`) and what a run carries across processes
(:class:`RunMarks`).
``infra`` implements them on the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ThreadLease(Protocol):
    """One runner per thread at a time, across processes."""

    async def acquire(self, thread_id: str, holder: str, ttl_seconds: float) -> bool: ...

    async def renew(self, thread_id: str, holder: str, ttl_seconds: float) -> bool: ...

    async def release(self, thread_id: str, holder: str) -> None: ...

    async def held_threads(self) -> list[str]:
        """Threads whose lease is still held (a runner is on them, or died on them)."""

    async def lapsed_threads(self) -> list[str]:
        """Threads whose lease is held but lapsed: their runner died, or failed and left it."""

    def subscribe_lost(self, handler: Callable[[list[str]], None]) -> None:
        """Call ``handler`` with the threads this process has just lost its hold on, whose runs
        are to stop at once (another process may take them over)."""


class RunMarks(Protocol):
    """What a thread's run carries across processes and restarts, until the thread's next run
    starts: whether it was cancelled, and how many times it was taken over.

    The runner of the thread, wherever it is, hears of a cancel at once through
    :class:`ThreadSignals`; the mark is what it finds when that signal was lost (its listener
    was reconnecting), at its next look. The take-over count lets the recovery passes of
    every process, restarted ones included, give up on a run that keeps failing or keeps
    taking its process down with it."""

    async def request_cancel(self, thread_id: str) -> None: ...

    async def cancel_requested(self, thread_id: str) -> bool: ...

    async def count_takeover(self, thread_id: str) -> int:
        """One more take-over of the thread's run: how many there have been, this one included."""

    async def start_run(self, thread_id: str) -> None:
        """A new run of the thread starts: an earlier cancel or take-over was not of it."""


class Signal(StrEnum):
    WAKE = "wake"
    """A decision was recorded (or an approval expired): the runner re-reads the approvals."""
    CANCEL = "cancel"
    """The run was cancelled: the runner stops it, in-flight nodes included."""


SignalHandler = Callable[[str, Signal], None]
"""Receives (thread id, signal) from another process sharing the database."""


class ThreadSignals(Protocol):
    """Tells the other processes sharing the database that something changed for a thread,
    so the one running it reacts at once instead of at its next poll."""

    async def send(self, thread_id: str, signal: Signal) -> None: ...

    def subscribe(self, handler: SignalHandler) -> None:
        """Call ``handler`` for every signal another process sends."""


class NoSignals:
    """One process (SQLite): nobody else to tell."""

    async def send(self, thread_id: str, signal: Signal) -> None:
        return None

    def subscribe(self, handler: SignalHandler) -> None:
        return None


@dataclass(frozen=True)
class QueuedRequest:
    id: int
    thread_id: str
    text: str
    requested_by: str | None
    key: str
    """Unique for ever (ids may be reused): the run started from it records it."""
    started: bool = False
    """Its run is starting or under way (it stays queued until the run parks or ends)."""


class RequestQueue(Protocol):
    """Requests waiting for their run: durable, shared by processes. Every request goes through
    it, so one accepted by a process that dies before its run is under way still runs."""

    async def push(self, thread_id: str, text: str, requested_by: str | None, key: str | None = None) -> bool:
        """Queue a request under ``key`` (a fresh one if None). False: a request with that key
        is queued already (a redelivery), and nothing was added."""

    async def peek(self, thread_id: str) -> QueuedRequest | None:
        """The thread's oldest queued request, left in the queue."""

    async def mark_started(self, request_id: int) -> None:
        """Its run is starting: no longer counted as waiting (it stays until ``remove``)."""

    async def remove(self, request_id: int) -> None:
        """Take a request out of the queue once its run is recorded (or was, before a crash)."""

    async def has_queued(self, thread_id: str) -> bool: ...

    async def clear(self, thread_id: str) -> int:
        """Drop every queued request of the thread (cancel); returns how many."""

    async def drop_waiting(self, thread_id: str, key: str) -> bool:
        """Drop the request queued under ``key`` if it still waits (its run has not begun)."""

    async def drop_waiting_of(self, thread_id: str, requested_by: str) -> list[str]:
        """Drop the thread's requests of ``requested_by`` that still wait; returns their keys."""

    async def queued_threads(self) -> list[str]: ...
