"""Pieces the benchmarks share: nearest-rank percentiles and a scratch PostgreSQL database."""

from __future__ import annotations

import math
import random
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on, for a server a test or benchmark starts apart.

    Taken below the kernel's ephemeral range: a port ``bind(0)`` hands out is one an outgoing
    connection (to PostgreSQL, from a parallel test) may take before the server binds it, and a
    replica of bench.cluster then exited with "address already in use"."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randint(min(10_000, low - 1000), low - 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # (all taken: any free one)
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ports:
            return max(int(ports.read().split()[0]), 2000)
    except (OSError, ValueError, IndexError):
        return 32768


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0-100); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database swapped for ``name``."""
    return f"{server_url.rpartition('/')[0]}/{name}"


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database on the server of ``server_url`` (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
