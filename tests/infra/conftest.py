"""Fixtures of the infra tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql


@pytest.fixture
def dml_role(postgres_url: str) -> Iterator[str]:
    """A login role with no CREATE anywhere: what the runtime gets in a locked-down deployment."""
    role = f"dagbot_dml_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    try:
        yield role
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
