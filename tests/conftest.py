"""Shared fixtures: real databases (a SQLite file, a PostgreSQL database per test).

Each test's database starts migrated, copied from one migrated once per session (a file copy
for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL), so that a test does not pay for
Alembic and the checkpointer's set-up again; a dagbot started on it finds the schema current,
as in production after ``dagbot migrate``. Tests of migrating itself take ``blank_sqlite_url``
or ``blank_postgres_url``: a database with no table at all."""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import structlog
from psycopg import sql

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Each dagbot the tests start on PostgreSQL keeps to a small connection budget: with the default
# (26 a process), eight pytest-xdist workers that each run two replicas can pass the server's
# max_connections of 100 ("sorry, too many clients already"). Tests of the budget set their own.
os.environ.setdefault("DAGBOT_DB_CONNECTIONS", "6")


def pytest_configure(config: pytest.Config) -> None:
    """structlog as it is unconfigured, but exceptions printed as plain tracebacks: its default,
    rich's tracebacks with every frame's locals, cost seconds of CPU per logged exception (and
    production's logging prints plain ones too: infra.operations.logging).

    And the garbage collector paused while the tests are collected (every worker imports the
    whole project and its libraries), as the ``dagbot`` command pauses it over its imports
    (infra/cli/entry.py): several seconds of CPU less in each pytest-xdist worker."""
    gc.disable()
    structlog.configure(processors=[
        structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(), structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
    ])


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()  # what the imports made lives as long as the worker: out of the collector's way
    gc.enable()


def pytest_unconfigure(config: pytest.Config) -> None:
    gc.enable()  # (collection may have stopped before it finished)
    gc.freeze()  # the worker ends: its last collection would walk everything once more


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first (the sort is stable): pytest-xdist hands out work in this order, so
    they start at once instead of being left for the end, when the other workers are idle. And
    each test marked ``xdist_group`` named after its group, as ``--dist loadgroup`` wants."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if getattr(config.option, "loadgroup", False):  # (set in pytest-xdist's workers)
        for item in items:
            _name_group(item)


def _name_group(item: pytest.Item) -> None:
    """Add the test's ``xdist_group`` to its node id (``…::test@group``), which is how the
    loadgroup scheduler sends a group's tests to one worker. pytest-xdist 3.8 does that by
    setting ``item._nodeid``, which pytest 9.2 no longer reads (the id lives in ``item._id``):
    without this, every group was spread over the workers (two local llama.cpp servers then
    split the two cores). Does nothing once pytest-xdist names the group itself."""
    groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                     for mark in item.iter_markers("xdist_group")})
    nodeid = item.nodeid
    if not groups or nodeid.rfind("@") > nodeid.rfind("]"):
        return
    from _pytest.nodeid import coerce_node_id  # (private: the only way to set the id in pytest 9.2)

    item._id = coerce_node_id(f"{nodeid}@{'_'.join(groups)}")


def _admin_conninfo() -> str:
    return TEST_DATABASE_URL


def _migrate(url: str) -> None:
    """Migrates in a thread of its own: migrate_all runs an event loop, and a session fixture is
    first asked for by whichever test a worker gets first, an async one included."""
    from concurrent.futures import ThreadPoolExecutor

    from infra.storage.migrate import migrate_all

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate_all, url).result()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {exc}")
    return TEST_DATABASE_URL


def _swap_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _create(server: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)


def _drop(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """A migrated database that each test's is copied from (no connection stays open on it)."""
    name = f"dagbot_template_{uuid.uuid4().hex[:12]}"
    _create(postgres_server, name)
    try:
        _migrate(_swap_database(postgres_server, name))
        yield name
    finally:
        _drop(postgres_server, name)


@pytest.fixture
def blank_postgres_url(postgres_server: str) -> Iterator[str]:
    """A brand-new, empty database for one test, dropped afterwards."""
    name = f"dagbot_test_{uuid.uuid4().hex[:12]}"
    _create(postgres_server, name)
    try:
        yield _swap_database(postgres_server, name)
    finally:
        _drop(postgres_server, name)


@pytest.fixture
def postgres_url(postgres_server: str, postgres_template: str) -> Iterator[str]:
    """A migrated database of its own for one test, dropped afterwards."""
    name = f"dagbot_test_{uuid.uuid4().hex[:12]}"
    _create(postgres_server, name, template=postgres_template)
    try:
        yield _swap_database(postgres_server, name)
    finally:
        _drop(postgres_server, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "dagbot.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def blank_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/dagbot.sqlite"


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite file of this test's own."""
    shutil.copyfile(sqlite_template, tmp_path / "dagbot.sqlite")
    return f"sqlite:///{tmp_path}/dagbot.sqlite"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of either kind (for tests of a database other than dagbot's own)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("blank_sqlite_url"))
    return str(request.getfixturevalue("blank_postgres_url"))
