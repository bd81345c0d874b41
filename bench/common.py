"""Pieces the benchmarks share: nearest-rank percentiles and a scratch PostgreSQL database."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql


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
