"""Fixtures of the infra tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infra.local_model import DEFAULT_MODEL_PATH

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """For the stores' contract tests, each run on every store: None for the in-memory stores,
    else a migrated database (made outside the event loop)."""
    return None if request.param == "memory" else str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="module")
def model_file() -> Path:
    """The local model's file (``make model`` assembles it; DAGBOT_TEST_LOCAL_MODEL names
    another): its tests are skipped without it, and fail instead under CI."""
    path = Path(os.environ.get("DAGBOT_TEST_LOCAL_MODEL") or ROOT / DEFAULT_MODEL_PATH)
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no local model at {path}: run `make model` (or set DAGBOT_TEST_LOCAL_MODEL)")
        pytest.skip(f"no local model at {path} (`make model` assembles it)")
    return path


@pytest.fixture
def dml_role(blank_postgres_url: str) -> Iterator[str]:
    """A login role with no CREATE anywhere: what the runtime gets in a locked-down deployment."""
    role = f"dagbot_dml_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(blank_postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    try:
        yield role
    finally:
        with psycopg.connect(blank_postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
