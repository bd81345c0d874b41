"""Signals between processes sharing a PostgreSQL database (agent.ports.ownership.ThreadSignals).

``NOTIFY`` on one channel; every process ``LISTEN``s on a connection of its own and hands
each signal from another process to the engine, which wakes the thread's runner if it is
there. Delivery takes about a millisecond, with no polling. A signal sent while a listener
was reconnecting is lost to it, so after every reconnect the engine's runners re-read their
approvals (``on_reconnect``); the runners' own slow poll is the last safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import structlog
from psycopg import AsyncConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.ports.ownership import Signal, SignalHandler
from infra.storage.db import libpq_url

log = structlog.get_logger(__name__)

CHANNEL = "dagbot_threads"
RECONNECT_SECONDS = (0.2, 5.0)


class PostgresSignals:
    def __init__(self, database_url: str, engine: AsyncEngine, origin: str) -> None:
        self._conninfo = libpq_url(database_url)
        self._engine = engine
        self.origin = origin
        """This process's id: its own signals come back to it and are skipped."""
        self._handlers: list[SignalHandler] = []
        self.on_reconnect: Callable[[], None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    # ----------------------------------------------------------- ThreadSignals

    async def send(self, thread_id: str, signal: Signal) -> None:
        payload = json.dumps({"t": thread_id, "s": signal.value, "o": self.origin})
        async with self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": CHANNEL, "payload": payload})

    def subscribe(self, handler: SignalHandler) -> None:
        self._handlers.append(handler)

    # -------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        """Start listening; returns once the first LISTEN is in place."""
        self._listener = asyncio.create_task(self._listen(), name="signal-listener")
        waiter = asyncio.create_task(self._listening.wait())
        await asyncio.wait({waiter, self._listener}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._listener.done():
            self._listener.result()  # raises what stopped it

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def __aenter__(self) -> PostgresSignals:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _listen(self) -> None:
        delay = RECONNECT_SECONDS[0]
        first = True
        while True:
            try:
                async with await AsyncConnection.connect(
                        self._conninfo, autocommit=True, application_name="dagbot-signals") as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = RECONNECT_SECONDS[0]
                    if not first and self.on_reconnect is not None:
                        self.on_reconnect()
                    first = False
                    async for note in conn.notifies():
                        self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                if first and not self._listening.is_set():
                    raise  # at start-up: the caller reports it
                log.warning("the signal listener lost its connection; reconnecting",
                            retry_in=delay, exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_SECONDS[1])

    def _dispatch(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            thread_id, signal, origin = str(note["t"]), Signal(note["s"]), note.get("o")
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed signal", payload=payload[:200])
            return
        if origin == self.origin:
            return
        for handler in self._handlers:
            try:
                handler(thread_id, signal)
            except Exception:
                log.exception("a signal handler failed", thread_id=thread_id)
