"""The page's live feed: every change in the playground, fanned out to each open page."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

QUEUE_SIZE = 1000


class Feed:
    """Publish-subscribe of JSON events. A page that falls behind by ``QUEUE_SIZE`` events is
    dropped; its browser reconnects and reloads the whole state, so nothing is lost.

    Every event carries ``seq``, one more than the last; a state snapshot names the ``seq`` it
    includes, so a page can replay the events that a snapshot fetched in parallel missed."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.seq = 0

    def publish(self, event: dict[str, Any]) -> None:
        self.seq += 1
        event = {**event, "seq": self.seq}
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    def close(self) -> None:
        """End every subscription (pages reconnect to whatever serves next)."""
        for queue in list(self._queues):
            self._queues.discard(queue)
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE + 1)
        self._queues.add(queue)
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._queues.discard(queue)
