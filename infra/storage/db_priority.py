"""Interactive database work first: what Slack waits for is not queued behind the runs.

Slack gives an app 3 seconds to acknowledge a request or a click, and dagbot acknowledges
once the request is durable (a few short statements). With 50 runs going, their statements
queue for the same connections (SQLite has one), and an acknowledgement would wait its
turn behind hundreds of them. Statements made inside the engine's and the bot's
:func:`agent.urgency.urgent` instead take the next free connection before any
other waiter, and the next turn of the checkpointer and of the lease connection
(:class:`InteractiveFirstSemaphore`). The stores mark the operations a person is waiting on
(claims, thread ownership, status messages, queueing a request, decisions); the engine marks
a click's resume and the approved call's start.

The order is kept inside each class of waiter (first come, first served), and nothing is
taken from a statement already running: this only reorders who waits for a connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import memoized_property
from sqlalchemy.util.queue import AsyncAdaptedQueue

from agent.urgency import is_urgent, urgent

P = ParamSpec("P")
T = TypeVar("T")


def interactive_work(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A store operation a person waits on: its statements run :func:`agent.urgency.urgent`."""
    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with urgent():
            return await method(*args, **kwargs)
    return run


def _line_up(waiters: collections.deque[asyncio.Future[None]], waiter: asyncio.Future[None],
             urgent_waiters: set[asyncio.Future[None]]) -> None:
    """Put ``waiter`` at the end of the queue, or, if urgent, after the urgent ones waiting."""
    if is_urgent():
        ahead = sum(1 for waiting in urgent_waiters if not waiting.done())
        waiters.insert(min(ahead, len(waiters)), waiter)
        urgent_waiters.add(waiter)
    else:
        waiters.append(waiter)


class _Waiters(asyncio.Queue[Any]):
    """An asyncio queue whose interactive getters are served before the others.

    The waiting is asyncio.Queue.get's own (3.11–3.13), with an interactive getter placed
    after the interactive getters already waiting instead of at the end. (A getter just
    woken may still lose the item to a newcomer, as in asyncio.Queue; it then waits again,
    at the front if it is interactive.)"""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._interactive: set[asyncio.Future[None]] = set()

    async def get(self) -> Any:
        while self.empty():
            getter: asyncio.Future[None] = self._get_loop().create_future()  # type: ignore[attr-defined]
            getters = self._getters  # type: ignore[attr-defined]
            _line_up(getters, getter, self._interactive)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    getters.remove(getter)
                if not self.empty() and not getter.cancelled():
                    self._wakeup_next(getters)  # type: ignore[attr-defined]
                raise
            finally:
                self._interactive.discard(getter)
        return self.get_nowait()


class _InteractiveFirstQueue(AsyncAdaptedQueue[Any]):
    @memoized_property
    def _queue(self) -> asyncio.Queue[Any]:
        # made on first use, in the running loop (as SQLAlchemy's own)
        return _Waiters(maxsize=self.maxsize)


class InteractiveFirstPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, serving :func:`agent.urgency.urgent` checkouts first."""

    _queue_class = _InteractiveFirstQueue


class InteractiveFirstSemaphore:
    """A semaphore whose urgent waiters (:func:`agent.urgency.urgent`) go before the others (each class first
    come, first served): the checkpointer's, whose one lock (SQLite) or pool-sized semaphore
    (PostgreSQL) every run's checkpoints queue for."""

    def __init__(self, value: int = 1) -> None:
        self._free = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._interactive: set[asyncio.Future[None]] = set()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def locked(self) -> bool:
        return self._free <= 0

    async def acquire(self) -> None:
        if self._free > 0 and not any(not w.done() for w in self._waiters):
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        _line_up(self._waiters, waiter, self._interactive)
        try:
            await waiter  # release() handed its permit over to this waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            self._interactive.discard(waiter)

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the permit goes straight to it
                return
        self._free += 1
