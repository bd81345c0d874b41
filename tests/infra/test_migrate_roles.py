"""`dagbot migrate` prepares everything, the LangGraph checkpointer's tables too: afterwards a
database role that may only read and write rows (no CREATE) runs dagbot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
PLAN = {"thought": "read the notes", "nodes": [{"id": "notes", "tool": "read_file", "args": {"path": "notes.txt"}}]}


def dagbot(tmp_path: Path, database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "DAGBOT_"))}
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", *args],
        env={**base, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.postgres
def test_after_migrate_a_role_with_only_dml_privileges_runs_dagbot(
        tmp_path: Path, blank_postgres_url: str, dml_role: str) -> None:
    migrated = dagbot(tmp_path, blank_postgres_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "database is up to date" in migrated.stdout
    with psycopg.connect(blank_postgres_url, autocommit=True) as conn:
        role = sql.Identifier(dml_role)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                     .format(role))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))
        tables = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"checkpoints", "checkpoint_writes", "checkpoint_blobs", "checkpoint_migrations",
            "approvals", "alembic_version"} <= tables

    app_url = make_url(blank_postgres_url).set(username=dml_role).render_as_string(hide_password=False)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("remember the milk\n")
    with FakeOpenAI([PLAN, "The notes say: remember the milk."]) as fake:
        asked = dagbot(tmp_path, app_url, "ask", "what do my notes say", OPENAI_BASE_URL=fake.url,
                       OPENAI_API_KEY="sk-test", DAGBOT_WORKSPACE=str(tmp_path / "ws"))
    assert asked.returncode == 0, asked.stderr
    assert "The notes say: remember the milk." in asked.stdout
    assert "permission denied" not in asked.stderr


@pytest.mark.postgres
def test_a_role_that_may_not_create_the_checkpointer_tables_is_told_to_migrate(
        tmp_path: Path, blank_postgres_url: str, dml_role: str) -> None:
    """Alembic's tables are there (an older `dagbot migrate`), the checkpointer's are not."""
    from infra.storage.migrate import upgrade

    upgrade(blank_postgres_url)
    with psycopg.connect(blank_postgres_url, autocommit=True) as conn:
        role = sql.Identifier(dml_role)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                     .format(role))
    app_url = make_url(blank_postgres_url).set(username=dml_role).render_as_string(hide_password=False)
    asked = dagbot(tmp_path, app_url, "ask", "hello", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                   DAGBOT_WORKSPACE=str(tmp_path))
    assert asked.returncode == 2
    assert asked.stderr.strip().splitlines()[-1] == (
        "dagbot: configuration error: the DATABASE_URL role may not create the checkpointer's tables "
        "(permission denied for schema public): run `dagbot migrate` once with a role that may, then "
        "start again")
