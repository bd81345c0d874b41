"""Run the Alembic migrations programmatically (``dagbot migrate`` and at start-up).

At start the schema is compared with the code first (a SELECT, which a role limited to rows
may run), so that such a role only ever migrates when there is something to migrate, and a
schema it cannot bring up to date, or one newer than the code, is said in one line.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, pool
from sqlalchemy.exc import DBAPIError, OperationalError

from agent.errors import ConfigurationError
from infra.storage.checkpoint import setup_checkpointer
from infra.storage.db import is_sqlite, sync_url

HERE = Path(__file__).resolve().parent.parent  # infra/: alembic.ini and migrations/
log = structlog.get_logger(__name__)

START_REMEDY = "run `dagbot migrate` once with a role that may create tables, then start again"
MIGRATE_REMEDY = "run `dagbot migrate` with a role that may create tables (the schema's owner)"


@dataclass(frozen=True)
class SchemaRevision:
    """Where the database's schema is (``current``; None: no dagbot tables yet) and where this
    code's migrations end (``head``)."""

    current: str | None
    head: str
    known: frozenset[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer_than_code(self) -> bool:
        """A revision this code has no migration for: a newer dagbot migrated the database."""
        return self.current is not None and self.current not in self.known

    def describe(self) -> str:
        at = f"at revision {self.current}" if self.current else "empty (no revision)"
        return f"the database schema is {at} and this dagbot needs {self.head}"


def alembic_config(database_url: str) -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def schema_revision(database_url: str) -> SchemaRevision:
    _make_sqlite_folder(database_url)
    script = ScriptDirectory.from_config(alembic_config(database_url))
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    head = script.get_current_head()
    assert head is not None, "the migrations have one head"
    return SchemaRevision(current=current, head=head,
                          known=frozenset(s.revision for s in script.walk_revisions()))


def upgrade(database_url: str, remedy: str = MIGRATE_REMEDY) -> SchemaRevision:
    """Migrate to this code's head, and say where the schema ended up. A schema newer than the
    code is left as it is; one the DATABASE_URL role cannot migrate is a
    :class:`ConfigurationError` ending with ``remedy``."""
    before = schema_revision(database_url)
    if before.up_to_date or before.newer_than_code:
        return before
    try:
        command.upgrade(alembic_config(database_url), "head")
    except CommandError:
        # A newer dagbot migrated the database between the look above and this.
        after = schema_revision(database_url)
        if after.newer_than_code:
            return after
        raise
    except OperationalError:
        raise  # the database went away: the CLI's one line about reaching it says so
    except DBAPIError as exc:
        raise ConfigurationError(cannot_migrate(before, exc, remedy)) from None
    return schema_revision(database_url)


def migrate_all(database_url: str) -> SchemaRevision:
    """What ``dagbot migrate`` does: Alembic's migrations, then LangGraph's checkpointer's
    tables (not Alembic's), so that the runtime's role needs no CREATE."""
    revision = upgrade(database_url)
    asyncio.run(setup_checkpointer(database_url))
    return revision


def prepare_schema(database_url: str) -> None:
    """At start: migrate if the schema is behind the code, or stop with one line saying why it
    cannot be; run on a newer schema with a warning (see docs/deploying.md)."""
    revision = upgrade(database_url, START_REMEDY)
    if revision.newer_than_code:
        log.warning("the database schema is newer than this dagbot: running on it, as migrations "
                    "only add tables and columns (see docs/deploying.md)",
                    schema_revision=revision.current, code_revision=revision.head)


def cannot_migrate(revision: SchemaRevision, exc: DBAPIError, remedy: str) -> str:
    """One line: where the schema is, where it should be, the database's reason, the remedy."""
    diag = getattr(exc.orig, "diag", None)
    reason = getattr(diag, "message_primary", None) or str(exc.orig).splitlines()[0]
    return f"{revision.describe()}, and the DATABASE_URL role could not migrate it ({reason}): {remedy}"


def _make_sqlite_folder(database_url: str) -> None:
    if is_sqlite(database_url):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
