"""A schema behind the code that start-up cannot migrate, or ahead of it (a newer replica
migrated during a rolling deploy), is one line or a warning, never a traceback."""

from __future__ import annotations

import ast
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from infra.storage.migrate import alembic_config, prepare_schema, schema_revision, upgrade
from tests.fakes.openai_server import FakeOpenAI
from tests.infra.test_migrate_roles import PLAN, dagbot

MIGRATIONS = Path(__file__).resolve().parents[2] / "infra" / "migrations" / "versions"
NEWER = "ffff_from_a_newer_dagbot"


def head_and_previous(url: str) -> tuple[str, str | None]:
    head = ScriptDirectory.from_config(alembic_config(url)).get_revision("head")
    assert head is not None
    previous = head.down_revision
    assert previous is None or isinstance(previous, str)
    return head.revision, previous


def grant_rows(blank_postgres_url: str, role: str) -> str:
    """Give ``role`` the row grants of docs/deploying.md; its DATABASE_URL."""
    with psycopg.connect(blank_postgres_url, autocommit=True) as conn:
        ident = sql.Identifier(role)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                     .format(ident))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))
    return make_url(blank_postgres_url).set(username=role).render_as_string(hide_password=False)


def stamp(url: str, revision: str) -> None:
    """What a newer dagbot's `dagbot migrate` leaves: a revision this code does not know."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))


@pytest.mark.slow
@pytest.mark.postgres
def test_a_row_only_role_finding_a_migration_pending_stops_with_one_line(
        tmp_path: Path, blank_postgres_url: str, dml_role: str) -> None:
    head, previous = head_and_previous(blank_postgres_url)
    assert previous is not None
    migrated = dagbot(tmp_path, blank_postgres_url, "migrate")  # the checkpointer's tables too
    assert migrated.returncode == 0, migrated.stderr
    command.downgrade(alembic_config(blank_postgres_url), previous)  # as if the code were one newer
    app_url = grant_rows(blank_postgres_url, dml_role)

    asked = dagbot(tmp_path, app_url, "ask", "hello", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                   DAGBOT_WORKSPACE=str(tmp_path))

    assert asked.returncode == 2, asked.stderr
    assert "Traceback" not in asked.stderr
    line = asked.stderr.strip().splitlines()[-1]
    # (why depends on what the newest migration does: alter a table the role does not own, or
    # create one in a schema it may not create in)
    assert line.startswith(f"dagbot: configuration error: the database schema is at revision {previous} "
                           f"and this dagbot needs {head}, and the DATABASE_URL role could not migrate "
                           "it ("), line
    assert "(must be owner of table " in line or "(permission denied for schema public)" in line, line
    assert line.endswith("): run `dagbot migrate` once with a role that may create tables, then start "
                         "again"), line
    assert schema_revision(blank_postgres_url).current == previous


@pytest.mark.postgres
def test_dagbot_migrate_run_by_a_row_only_role_says_so_in_one_line(
        tmp_path: Path, blank_postgres_url: str, dml_role: str) -> None:
    app_url = grant_rows(blank_postgres_url, dml_role)

    migrated = dagbot(tmp_path, app_url, "migrate")

    assert migrated.returncode == 2
    assert "Traceback" not in migrated.stderr
    head, _ = head_and_previous(blank_postgres_url)
    assert migrated.stderr.strip().splitlines()[-1] == (
        f"dagbot: configuration error: the database schema is empty (no revision) and this dagbot "
        f"needs {head}, and the DATABASE_URL role could not migrate it (permission denied for schema "
        "public): run `dagbot migrate` with a role that may create tables (the schema's owner)")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_schema_newer_than_the_code_runs_with_a_warning(
        tmp_path: Path, blank_postgres_url: str, dml_role: str) -> None:
    """A rolling deploy: a newer replica migrated; this older one (re)starts on its schema."""
    migrated = dagbot(tmp_path, blank_postgres_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    stamp(blank_postgres_url, NEWER)
    app_url = grant_rows(blank_postgres_url, dml_role)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("remember the milk\n")

    with FakeOpenAI([PLAN, "The notes say: remember the milk."]) as fake:
        asked = dagbot(tmp_path, app_url, "ask", "what do my notes say", OPENAI_BASE_URL=fake.url,
                       OPENAI_API_KEY="sk-test", DAGBOT_WORKSPACE=str(tmp_path / "ws"))

    assert asked.returncode == 0, asked.stderr
    assert "The notes say: remember the milk." in asked.stdout
    assert "Traceback" not in asked.stderr
    head, _ = head_and_previous(blank_postgres_url)
    warning = next(line for line in asked.stderr.splitlines() if "newer than this dagbot" in line)
    assert NEWER in warning and head in warning

    again = dagbot(tmp_path, blank_postgres_url, "migrate")  # the older code's migrate changes nothing
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (f"database left as it is: its schema (revision {NEWER}) is newer "
                                    f"than this dagbot's ({head})")
    assert schema_revision(blank_postgres_url).current == NEWER


def test_start_on_a_newer_sqlite_schema_warns_and_leaves_it(blank_sqlite_url: str) -> None:
    upgrade(blank_sqlite_url)
    import sqlite3

    with sqlite3.connect(make_url(blank_sqlite_url).database or "") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (NEWER,))

    with capture_logs() as logs:
        prepare_schema(blank_sqlite_url)

    assert [(log["schema_revision"], log["log_level"]) for log in logs] == [(NEWER, "warning")]
    assert schema_revision(blank_sqlite_url).current == NEWER


def test_start_migrates_a_schema_behind_the_code(blank_sqlite_url: str) -> None:
    head, previous = head_and_previous(blank_sqlite_url)
    assert previous is not None
    command.upgrade(alembic_config(blank_sqlite_url), previous)

    with capture_logs() as logs:
        prepare_schema(blank_sqlite_url)

    assert schema_revision(blank_sqlite_url).current == head
    assert logs == []


# An older replica keeps running on the schema a newer one migrated (see docs/deploying.md,
# "Deploying"): that holds only while migrations add and never take away or change.
TAKES_AWAY = {"drop_table", "drop_column", "alter_column", "rename_table", "drop_constraint"}


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


@pytest.mark.parametrize("migration", sorted(MIGRATIONS.glob("*.py")), ids=lambda path: path.stem)
def test_migrations_only_add(migration: Path) -> None:
    tree = ast.parse(migration.read_text())
    upgrade_fn = next(node for node in tree.body if isinstance(node, ast.FunctionDef)
                      and node.name == "upgrade")
    calls = [node for node in ast.walk(upgrade_fn) if isinstance(node, ast.Call)]
    assert not TAKES_AWAY & {_called(call) for call in calls}, migration.name
    added = [arg for call in calls if _called(call) == "add_column"
             for arg in call.args if isinstance(arg, ast.Call) and _called(arg) == "Column"]
    for column in added:
        keywords = {kw.arg: kw.value for kw in column.keywords}
        nullable = keywords.get("nullable")
        required = isinstance(nullable, ast.Constant) and nullable.value is False
        assert not required or "server_default" in keywords, (
            f"{migration.name}: a NOT NULL column added without a server_default breaks the inserts "
            "of replicas still running the older code")
