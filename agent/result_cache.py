"""Recent results of green tool calls, per thread (see :mod:`agent.green_calls`)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Entry:
    output: Any
    at: float


@dataclass
class ResultCache:
    """Recent results of green calls, per thread: (thread, tool, arguments) → output.

    In memory, per process: a follow-up handled by another replica calls again, which is
    only slower. Failed calls are never kept."""

    max_entries: int = 1_000
    _entries: OrderedDict[tuple[str, str], _Entry] = field(default_factory=OrderedDict)

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

    def put(self, key: tuple[str, str], output: Any, now: float) -> None:
        self._entries[key] = _Entry(output, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, thread_id: str) -> None:
        """Something changed the world for this thread (a red call): its results may be stale."""
        for key in [k for k in self._entries if k[0] == thread_id]:
            del self._entries[key]
