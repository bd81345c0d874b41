"""DATABASE_URL: SQLite or PostgreSQL (``postgres://`` too), anything else said plainly, and a
database that cannot be reached at start-up is one line naming where, never the password."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import ConfigurationError
from infra.storage.db import async_url, describe_database, is_sqlite, libpq_url
from tests.infra.test_cli_serve import ROOT, SLACK_AND_MODEL, free_port

ACCEPTED = "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (postgres://… too)"


def dagbot(tmp_path: Path, database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(SLACK_AND_MODEL)}
    return subprocess.run([sys.executable, "-c", "from infra.cli.entry import main; main()", *args],
                          env={**base, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_postgres_scheme_is_postgresql() -> None:
    url = "postgres://dagbot:pw@db.example:6432/prod"
    assert not is_sqlite(url)
    assert libpq_url(url) == "postgresql://dagbot:pw@db.example:6432/prod"
    assert async_url(url) == "postgresql+psycopg://dagbot:pw@db.example:6432/prod"
    assert describe_database(url) == "db.example:6432/prod"


@pytest.mark.parametrize("url", ["mysql://app:hunter2@db/prod", "postgresq://app:hunter2@db/prod", "db.sqlite"])
def test_other_urls_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        is_sqlite(url)
    assert str(refused.value).startswith("DATABASE_URL ") and str(refused.value).endswith(ACCEPTED)
    assert "hunter2" not in str(refused.value)


def test_an_unknown_scheme_stops_dagbot_in_one_line(tmp_path: Path) -> None:
    done = dagbot(tmp_path, "mysql://app:hunter2@db/prod", "migrate")
    assert done.returncode == 2
    assert done.stderr.strip() == ("dagbot: configuration error: DATABASE_URL mysql://app:***@db/prod: "
                                   f"mysql:// is not supported: {ACCEPTED}")


@pytest.mark.postgres
def test_postgres_scheme_migrates(tmp_path: Path, blank_postgres_url: str) -> None:
    done = dagbot(tmp_path, blank_postgres_url.replace("postgresql://", "postgres://", 1), "migrate")
    assert done.returncode == 0, done.stderr
    assert "database is up to date" in done.stdout


@pytest.mark.parametrize("command", [("migrate",), ("serve",)])
def test_an_unreachable_database_at_start_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    with socket.socket() as held:  # bound, never listening: refused, and no other test can take it
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        done = dagbot(tmp_path, f"postgresql://app:hunter2@127.0.0.1:{port}/prod", *command,
                      SLACK_BOT_TOKEN="xoxb-real-looking", SLACK_SIGNING_SECRET="s",
                      OPENAI_BASE_URL="http://127.0.0.1:9/v1", PORT=str(free_port()))
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr, done.stderr
    assert last.startswith(f"dagbot: cannot use the database at 127.0.0.1:{port}/prod: connection failed: ")
    assert "Connection refused" in last and "hunter2" not in done.stderr
