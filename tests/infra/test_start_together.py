"""Replicas started together on a brand-new PostgreSQL database all set up the schema."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from langgraph.checkpoint.postgres.base import BasePostgresSaver

from infra.storage.db import Base
from infra.storage.migrate import alembic_config

pytestmark = pytest.mark.postgres

PROJECT = Path(__file__).resolve().parents[2]
WORKERS = 8


def start_together(what: str, url: str, folder: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start the workers, wait until each is ready, then let them all go at once."""
    children = [subprocess.Popen(
        [sys.executable, "-m", "tests.worker", "tests.infra.schema_worker", what, url, str(folder), f"w{i}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) for i in range(WORKERS)]
    deadline = time.monotonic() + 60
    while len(list(folder.glob("*.ready"))) < WORKERS:
        assert all(c.poll() is None for c in children), "a worker died before the start"
        assert time.monotonic() < deadline, "the workers did not get ready"
        time.sleep(0.01)
    (folder / "go").touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return results


def assert_all_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    failed = [r.stderr[-2000:] for r in results if r.returncode != 0]
    assert not failed, f"{len(failed)} of {WORKERS} failed; first:\n{failed[0]}"


@pytest.mark.slow
def test_migrations_started_together_all_succeed(blank_postgres_url: str, tmp_path: Path) -> None:
    assert_all_succeeded(start_together("migrations", blank_postgres_url, tmp_path))
    head = ScriptDirectory.from_config(alembic_config(blank_postgres_url)).get_current_head()
    with psycopg.connect(blank_postgres_url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version_num FROM alembic_version")]
        tables = {t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert versions == [head]
    assert set(Base.metadata.tables) <= tables


@pytest.mark.slow
def test_checkpointer_setup_started_together_all_succeed(blank_postgres_url: str, tmp_path: Path) -> None:
    assert_all_succeeded(start_together("checkpointer", blank_postgres_url, tmp_path))
    with psycopg.connect(blank_postgres_url) as conn:
        recorded = [v for (v,) in conn.execute("SELECT v FROM checkpoint_migrations ORDER BY v")]
    assert recorded == list(range(len(BasePostgresSaver.MIGRATIONS)))
