"""Group commit: writes that arrive while one is in flight go together into the next one.

When fifty people send ``/agent`` at once, each acknowledgement waits for its request to be
written. Written one transaction each, they queue for the database one behind the other (on
SQLite, for its one connection); written together, fifty cost a handful of transactions. No
timer: the first write goes at once, and whatever arrives meanwhile goes in the next, so a
lone write is never held back.

The batch is one transaction: if it fails, every write in it fails with the same error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[list[T]], Awaitable[Sequence[R]]]) -> None:
        """``write``: writes a batch in one transaction; returns one result per item, in order."""
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_seen)
        self._pending.append((item, done))
        if self._writer is None or self._writer.done():
            # (the writer runs in this caller's context: an interactive write stays interactive)
            self._writer = asyncio.create_task(self._drain(), name="group-commit")
        return await asyncio.shield(done)  # a caller that stops waiting leaves the batch alone

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:
                _fail(batch, exc)
                continue
            except BaseException as exc:  # stopped (the loop is closing): nobody waits forever
                _fail(batch + self._pending, exc)
                self._pending = []
                raise
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)


def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: BaseException) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(exc)


def _seen(done: asyncio.Future[Any]) -> None:
    """A write's error is seen even when its caller stopped waiting (no 'never retrieved')."""
    if not done.cancelled():
        done.exception()
