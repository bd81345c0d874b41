"""The cluster benchmark's processes and database: replicas of ``dagbot serve`` and their leases.

Each replica is the real console script in a process of its own, on its own port, logging to
a file (every incarnation appends to its replica's file, after a ``=== start`` line). A replica
is killed with SIGKILL and restarted on the same port under the same ``DAGBOT_REPLICA`` name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx
import psycopg
from psycopg import sql

from bench.common import database_url

DAGBOT = Path(sys.executable).parent / "dagbot"


# ------------------------------------------------------------------ the database


async def create_database(server_url: str) -> str:
    """A fresh database on the server of ``server_url``; returns its URL."""
    name = f"dagbot_cluster_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(server_url, name)


async def drop_database(server_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class Lease:
    thread_id: str
    holder: str | None
    expires_at: datetime | None


class Leases:
    """Reads ``thread_leases`` on its own connection (the replicas own the schema)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def open(self) -> None:
        self.conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()

    async def read(self, thread_ids: list[str] | None = None) -> dict[str, Lease]:
        """Every lease row (or those of ``thread_ids``), held or not."""
        assert self.conn is not None
        try:
            if thread_ids is None:
                cursor = await self.conn.execute("SELECT thread_id, holder, expires_at FROM thread_leases")
            else:
                cursor = await self.conn.execute(
                    "SELECT thread_id, holder, expires_at FROM thread_leases WHERE thread_id = ANY(%s)",
                    (thread_ids,))
            rows = await cursor.fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
        return {str(r[0]): Lease(str(r[0]), None if r[1] is None else str(r[1]),
                                 r[2] if isinstance(r[2], datetime) else None) for r in rows}


# ------------------------------------------------------------------ the replicas


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    incarnation: int = 0
    started_at: float = 0.0
    kills: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is running"
        self.incarnation += 1
        if self._log is None:
            self._log = self.log_path.open("ab")
        self._log.write(f"=== start {self.name} #{self.incarnation} at {time.time():.3f}\n".encode())
        self._log.flush()
        env = {**self.env, "PORT": str(self.port), "DAGBOT_REPLICA": self.name}
        self.process = subprocess.Popen(
            [str(DAGBOT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.log_path.parent, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.kills += 1
            assert self._log is not None
            self._log.write(f"=== SIGKILL {self.name} #{self.incarnation} at {time.time():.3f}\n".encode())
            self._log.flush()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self, grace: float = 3.0) -> None:
        """At the end: SIGTERM (if :meth:`terminate` did not already), then SIGKILL if it
        lingers past ``grace`` seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


    async def wait_until(self, path: str, within: float) -> None:
        """Until ``GET path`` answers 200 (``/livez``: serving; ``/healthz``: ready)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if not self.alive:
                    raise RuntimeError(f"{self.name} exited during start-up (code "
                                       f"{self.process.returncode if self.process else '?'})\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url + path)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer {path} within {within:.0f} s\n"
                                       + self.tail())
                await asyncio.sleep(0.05)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def stop_all(replicas: list[Replica], grace: float = 3.0) -> None:
    """SIGTERM every replica at once, then SIGKILL those still there after ``grace`` seconds."""
    for replica in replicas:
        replica.terminate()
    deadline = time.monotonic() + grace
    for replica in replicas:
        replica.stop(max(0.0, deadline - time.monotonic()))
