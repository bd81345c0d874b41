"""The SQL tools' database apart from the statements they run: its URL with the async driver
dagbot ships, its tables and columns (and a small table's categories) as the tools'
descriptions name them, its dialect's hint, and its values as JSON."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, String, column, create_engine, func, inspect, literal, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from agent.errors import ConfigurationError

log = structlog.get_logger(__name__)
_SMALL_TABLE = 1_000
"""Rows a table may have for its categorical columns' values to be named."""
_CATEGORIES = 5
_LABEL = re.compile(r"[A-Za-z][A-Za-z_-]{0,19}")
_TABLES_SHOWN = 25
"""Tables the tools' descriptions name, with their columns (more: "and N more")."""
_COLUMNS_SHOWN = 20


def async_url(url: str) -> URL:
    """Plain 'sqlite:///' and 'postgresql://' URLs get the async drivers dagbot ships."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("DAGBOT_SQL_URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigurationError(f"SQL tools support sqlite and postgresql URLs, not '{backend}'")


def in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def tables_of(conn: Connection) -> str:
    """The tables (and views) of the connection's default schema, each with its columns:
    ``deploys(service, version, deployed_on, status)``."""
    inspector = inspect(conn)
    names = sorted(n for n in {*inspector.get_table_names(), *inspector.get_view_names()}
                   if not n.startswith("sqlite_"))
    shown = []
    for name in names[:_TABLES_SHOWN]:
        described = inspector.get_columns(name)
        columns = [str(c["name"]) for c in described]
        labels = _categories(conn, name, [str(c["name"]) for c in described[:_COLUMNS_SHOWN]
                                          if isinstance(c["type"], String)])
        more = f", and {len(columns) - _COLUMNS_SHOWN} more" if len(columns) > _COLUMNS_SHOWN else ""
        listed = [c + labels.get(c, "") for c in columns[:_COLUMNS_SHOWN]]
        shown.append(f"{name}({', '.join(listed)}{more})")
    rest = f" and {len(names) - _TABLES_SHOWN} more" if len(names) > _TABLES_SHOWN else ""
    return ", ".join(shown) + rest


def table_names(tables: str) -> set[str] | None:
    """The names of the tables :func:`tables_of` described, or None when it named only some of
    them ("… and 3 more") or none was read."""
    if not tables or re.search(r" and \d+ more$", tables):
        return None
    return set(re.findall(r"(?:^|\), )([^\s(),]+)\(", tables))


def _categories(conn: Connection, name: str, text_columns: list[str]) -> dict[str, str]:
    """The values of a small table's categorical text columns, as a planner must write them
    (``status: 'failed'|'ok'``: a model that was not shown them wrote ``status = 'FAILED'`` and
    found nothing). Only where few values repeat over the rows (a category, not a name or a
    token), only labels (letters, ``_``, ``-``), and only in tables of at most
    ``_SMALL_TABLE`` rows, so that reading them costs little."""
    if not text_columns:
        return {}
    rows_of = table(name, *(column(c) for c in text_columns))
    sample = select(literal(1)).select_from(rows_of).limit(_SMALL_TABLE + 1).subquery()
    rows = conn.execute(select(func.count()).select_from(sample)).scalar_one()
    if rows > _SMALL_TABLE:
        return {}
    labels = {}
    for name_of in text_columns:
        values = conn.execute(select(rows_of.c[name_of]).distinct().limit(_CATEGORIES + 1)).scalars().all()
        if (values and len(values) <= _CATEGORIES and rows >= 2 * len(values)
                and all(isinstance(v, str) and _LABEL.fullmatch(v) for v in values)):
            labels[name_of] = ": " + "|".join(f"'{v}'" for v in sorted(values))
    return labels


def tables_at_start(url: URL) -> str:
    """The tables there are when dagbot starts, read over a short-lived synchronous connection
    (a SQLite file that is not there yet is not created; an unreachable server costs at most
    3 s and leaves the tables unnamed: the planner can still list them with sql_query)."""
    if url.get_backend_name() == "sqlite":
        if in_memory(url) or not url.database or not Path(url.database).is_file():
            return ""
        sync = url.set(drivername="sqlite", database=f"file:{url.database}",
                       query={"mode": "ro", "uri": "true"})
        connect_args: dict[str, Any] = {}
    else:
        sync, connect_args = url, {"connect_timeout": 3}
    engine = create_engine(sync, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return tables_of(conn)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("could not list the SQL database's tables", error=type(exc).__name__)
        return ""
    finally:
        engine.dispose()


def dialect_hint(dialect: str) -> str:
    if dialect == "sqlite":
        return ("SQLite syntax; list tables with SELECT name FROM sqlite_master, describe one "
                "with PRAGMA table_info(name); sql_query runs only PRAGMAs that read")
    return "PostgreSQL syntax; list tables via information_schema.tables"


def jsonable(value: Any) -> Any:
    """One database value as JSON: exact where JSON can be, text where it cannot."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)
