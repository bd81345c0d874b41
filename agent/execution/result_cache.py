"""Recent results of green tool calls, per thread (see :mod:`agent.execution.green_calls`)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Entry:
    output: Any
    at: float
    red_changes: int
    """The thread's red-call count (:meth:`ExecutionJournal.changes`) when the call began."""


@dataclass
class ResultCache:
    """Recent results of green calls, per thread: (thread, tool, arguments) → output.

    In memory, per process: a follow-up handled by another replica calls again, which is
    only slower. Failed calls are never kept.

    Each thread has an epoch, moved on by :meth:`forget`. A call takes the epoch when it
    starts and hands it to :meth:`put`: a result is kept only if nothing changed the world
    while the call was in flight, so a read that began before a red call never outlives it.
    A red call on another replica cannot move this epoch: an entry also keeps the thread's
    red-call count from the execution journal, and the caller reuses it only while that
    count is unchanged (:func:`agent.execution.green_calls.call_green`). The count is read once per
    run (:meth:`counted`): while a run goes, its process holds the thread, so no other
    replica makes a red call in it, and this process's own red calls move the epoch."""

    max_entries: int = 1_000
    _entries: OrderedDict[tuple[str, str], _Entry] = field(default_factory=OrderedDict)
    _epochs: dict[str, int] = field(default_factory=dict)
    _counts: dict[tuple[str, str], asyncio.Future[int]] = field(default_factory=dict)
    """(thread, run) → the read of the thread's red-call count made during that run."""
    _next_epoch: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    """Epochs are drawn from one counter, so a thread's epoch after a red call is never one it
    had before, even after :meth:`release` forgot it (back to 0, which no call of the thread
    still holds then: release comes when none is in flight)."""

    @staticmethod
    def key(thread_id: str, tool: str, args: dict[str, Any]) -> tuple[str, str]:
        canonical = json.dumps({"tool": tool, "args": args}, sort_keys=True, ensure_ascii=False,
                               default=str)
        return thread_id, hashlib.sha256(canonical.encode()).hexdigest()

    def get(self, key: tuple[str, str], now: float, ttl: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry.at > ttl:
            del self._entries[key]
            return None
        return entry

    def counted(self, thread_id: str, run_id: str) -> asyncio.Future[int] | None:
        """The thread's red-call count as read (or being read) during run ``run_id``."""
        return self._counts.get((thread_id, run_id))

    def count(self, thread_id: str, run_id: str, reading: asyncio.Future[int] | None) -> None:
        """Keep the read of the count for the run's other nodes (None: forget it)."""
        if reading is None:
            self._counts.pop((thread_id, run_id), None)
        else:
            self._counts[(thread_id, run_id)] = reading

    def epoch(self, thread_id: str) -> int:
        return self._epochs.get(thread_id, 0)

    def put(self, key: tuple[str, str], output: Any, now: float, epoch: int,
            red_changes: int) -> None:
        """Keep ``output`` unless the thread's epoch moved on since the call began."""
        if epoch != self.epoch(key[0]):
            return
        self._entries[key] = _Entry(output, now, red_changes)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def release(self, thread_id: str) -> None:
        """No call of the thread is in flight in this process any more: its epoch can go (its
        kept results stay, until their TTL or the size bound)."""
        self._epochs.pop(thread_id, None)
        for key in [k for k in self._counts if k[0] == thread_id]:
            del self._counts[key]

    def forget(self, thread_id: str) -> None:
        """Something changed the world for this thread (a red call): its results may be stale,
        and so may those of calls still in flight."""
        self._epochs[thread_id] = next(self._next_epoch)
        for key in [k for k in self._entries if k[0] == thread_id]:
            del self._entries[key]
