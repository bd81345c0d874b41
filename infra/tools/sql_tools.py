"""SQL tools: ``sql_query`` (green, read-only) and ``sql_execute`` (red).

sql_query is read-only because the database enforces it (a READ ONLY
transaction on PostgreSQL, ``PRAGMA query_only`` on SQLite), not because of how
the statement looks; the keyword check only gives an early, clearer message.
Each call runs exactly one statement: PostgreSQL connections prepare every
statement (``prepare_threshold=0``) and a prepared statement cannot hold two
commands, so "SELECT 1; COMMIT; DELETE ..." cannot step out of the transaction.

Neither tool leaves session state behind for a later call. Each sql_execute runs on a
connection of its own, closed after it: an approved ``SET search_path`` or ``PRAGMA
foreign_keys = OFF`` does not carry over to the next statement someone approves.
A green query leaves nothing behind for a later (approved) sql_execute. On PostgreSQL the
transaction is rolled back, which undoes what it set, and the session advisory locks it
took are released. SQLite PRAGMAs are not transactional and ``query_only`` does not stop
them, so sql_query runs only PRAGMAs that read (an allow-list, no ``= value`` and no
``(value)`` on those that would take one as a setting, also after EXPLAIN, which applies
some PRAGMAs while it prepares them), and on a connection of its own, closed after the
call: whatever a query changes on its connection dies with it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import structlog
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, String, column, create_engine, func, inspect, literal, select, table, text
from sqlalchemy.engine import URL, CursorResult, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from agent.errors import ConfigurationError, ToolError
from agent.tools.registry import Risk, ToolRegistry

T = TypeVar("T")
log = structlog.get_logger(__name__)
_SMALL_TABLE = 1_000
"""Rows a table may have for its categorical columns' values to be named."""
_CATEGORIES = 5
_LABEL = re.compile(r"[A-Za-z][A-Za-z_-]{0,19}")
_TABLES_SHOWN = 25
"""Tables the tools' descriptions name, with their columns (more: "and N more")."""
_COLUMNS_SHOWN = 20
_READ_KEYWORDS = frozenset({"select", "with", "values", "explain", "show", "table", "pragma"})
_WRITE_REFUSED = ("sql_query only reads data; '{}' statements must go through sql_execute, which "
                  "asks for approval")
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*", re.DOTALL)
_EXPLAIN_WORDS = ("explain", "query", "plan")
_PRAGMA = re.compile(
    r"pragma\s+(?:\w+\s*\.\s*)?(?P<name>\w+)\s*(?:(?P<set>=.*)|\(\s*(?P<arg>[^()=;]*?)\s*\))?"
    r"\s*;?\s*",
    re.IGNORECASE | re.DOTALL,
)
_PRAGMAS_ON = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
})
"""SQLite PRAGMAs sql_query runs with an argument: the table or index they describe."""
_PRAGMAS_READ = frozenset({
    "database_list", "collation_list", "function_list", "module_list", "pragma_list",
    "compile_options", "user_version", "schema_version", "application_id", "data_version",
    "encoding", "page_count", "page_size", "freelist_count", "foreign_keys", "journal_mode",
}) | _PRAGMAS_ON
"""SQLite PRAGMAs sql_query runs without an argument: each only reads a value."""
_GRACE_SECONDS = 5.0
_POSTGRES_ACTIONS = re.compile(
    r"\b(pg_(?:terminate|cancel)_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|"
    r"pg_switch_wal|pg_create_restore_point|pg_(?:create|drop)_\w*replication_slot|"
    r"pg_(?:wal_replay|backup)_\w+|pg_notify|pg_log_backend_memory_contexts|"
    r"pg_read_(?:binary_)?file|pg_ls_\w+|pg_stat_(?:file|reset\w*)|lo_\w+|dblink\w*|"
    r"pg_import_system_collations|pg_file_\w+)\b",
    re.IGNORECASE,
)
"""PostgreSQL functions a read-only transaction still lets run, though they act on the server
(end sessions, reload its configuration, send notifications) or read its files: sql_query
refuses to call them; sql_execute, which asks for approval, may."""


@dataclass(frozen=True)
class SqlToolConfig:
    url: str = field(repr=False)  # may carry a password
    max_rows: int = 500
    timeout_seconds: float = 30.0


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


class SqlTools:
    """One engine shared by both tools; close it with ``aclose()``."""

    def __init__(self, config: SqlToolConfig) -> None:
        self.config = config
        url = async_url(config.url)
        self.dialect = url.get_backend_name()
        self._secret = url.password if isinstance(url.password, str) else None
        connect_args = {"prepare_threshold": 0} if self.dialect == "postgresql" else {}
        self.engine: AsyncEngine = create_async_engine(url, connect_args=connect_args)
        # Connections opened per call and closed after it: for every sql_execute, so that what
        # an approved statement sets for its session (a PRAGMA, SET, an advisory lock) never
        # carries over to the next one, and for sql_query on SQLite (see the module docstring).
        # An in-memory SQLite database lives in its one connection, so it keeps that.
        self._fresh_engine = self.engine
        if not (self.dialect == "sqlite" and _in_memory(url)):
            self._fresh_engine = create_async_engine(url, poolclass=NullPool,
                                                     connect_args=connect_args)
        self._read_engine = self.engine if self.dialect == "postgresql" else self._fresh_engine
        self._tools: list[StructuredTool] = []
        self._tables = _tables_at_start(url)

    async def aclose(self) -> None:
        await self.engine.dispose()
        if self._fresh_engine is not self.engine:
            await self._fresh_engine.dispose()

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        first = _first_keyword(sql)
        if first not in _READ_KEYWORDS:
            raise ToolError(_WRITE_REFUSED.format(first.upper() or sql[:20]))
        if self.dialect == "sqlite":
            _check_sqlite_pragma(sql)
        elif (action := _POSTGRES_ACTIONS.search(sql)) is not None:
            raise ToolError(
                f"sql_query only reads data; {action.group(1).lower()}() acts on the server or "
                "reads its files, so it must go through sql_execute, which asks for approval")

        async def work(conn: AsyncConnection) -> dict[str, Any]:
            if self.dialect == "sqlite":
                await conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                await self._begin(conn, read_only=True)
                async with self._deadline(conn):
                    result = await conn.execute(text(sql), params or {})
                    return self._rows(result)
            finally:
                await self._end_read_only(conn)

        return await self._run(work, "sql_query", self._read_engine)

    async def execute(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        async def work(conn: AsyncConnection) -> dict[str, Any]:
            async with conn.begin():
                await self._begin(conn, read_only=False)
                async with self._deadline(conn):
                    result = await conn.execute(text(sql), params or {})
                    out: dict[str, Any] = {"rowcount": result.rowcount}
                    if result.returns_rows:
                        out.update(self._rows(result))
            with contextlib.suppress(SQLAlchemyError):
                self._describe(await conn.run_sync(_tables_of))
            return out

        return await self._run(work, "sql_execute", self._fresh_engine)

    async def _begin(self, conn: AsyncConnection, *, read_only: bool) -> None:
        if self.dialect != "postgresql":
            return
        if read_only:
            await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        ms = max(1, int(self.config.timeout_seconds * 1000))
        await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")

    def _rows(self, result: CursorResult[Any]) -> dict[str, Any]:
        if not result.returns_rows:
            return {"columns": [], "rows": [], "truncated": False}
        rows = result.fetchmany(self.config.max_rows + 1)
        return {
            "columns": list(result.keys()),
            "rows": [[jsonable(v) for v in row] for row in rows[: self.config.max_rows]],
            "truncated": len(rows) > self.config.max_rows,
        }

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[T]], tool: str,
                   engine: AsyncEngine | None = None) -> T:
        limit = self.config.timeout_seconds
        try:
            # The database stops a slow statement itself; this outer limit only
            # catches what it cannot (a hung connect).
            async with asyncio.timeout(limit + _GRACE_SECONDS):
                try:
                    conn = await (engine or self.engine).connect()
                except (SQLAlchemyError, OSError) as exc:
                    raise ToolError(
                        f"{tool} could not connect to the {self.dialect} database: "
                        f"{self._message(exc)}"
                    ) from None
                try:
                    return await work(conn)
                finally:
                    await conn.close()
        except TimeoutError:
            raise ToolError(f"{tool} took longer than {limit:g} s and was stopped") from None
        except SQLAlchemyError as exc:
            raise self._explain(exc, tool) from None

    @contextlib.asynccontextmanager
    async def _deadline(self, conn: AsyncConnection) -> AsyncIterator[None]:
        """SQLite has no statement_timeout; interrupt() is its thread-safe way to stop one."""
        if self.dialect != "sqlite":
            yield
            return
        raw: Any = (await conn.get_raw_connection()).driver_connection
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[Any]] = set()
        handle = loop.call_later(
            self.config.timeout_seconds, lambda: tasks.add(loop.create_task(raw.interrupt()))
        )
        try:
            yield
        finally:
            handle.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _end_read_only(self, conn: AsyncConnection) -> None:
        try:
            await conn.rollback()
            if self.dialect == "postgresql":
                # Session advisory locks outlive a rollback (and would stay on the pooled
                # connection); nothing else a read-only transaction sets does.
                await conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
                await conn.rollback()
            elif self._read_engine is self.engine:  # an in-memory database: one connection
                await conn.exec_driver_sql("PRAGMA query_only = OFF")
                await conn.commit()
        except SQLAlchemyError:
            # A connection that may still be read-only must never serve sql_execute.
            await conn.invalidate()

    def _explain(self, exc: SQLAlchemyError, tool: str) -> ToolError:
        orig = getattr(exc, "orig", None)
        message = self._message(exc)
        sqlstate = getattr(orig, "sqlstate", None)
        lowered = message.lower()
        if sqlstate == "25006" or "readonly database" in lowered:
            return ToolError(
                f"sql_query is read-only and the database refused a change ({message}); "
                "use sql_execute, which asks for approval, to change data"
            )
        if sqlstate == "57014" or lowered == "interrupted":
            return ToolError(
                f"{tool} took longer than {self.config.timeout_seconds:g} s and was stopped"
            )
        if "multiple commands" in lowered or "one statement at a time" in lowered:
            return ToolError(f"{tool} runs exactly one SQL statement per call; split it up")
        return ToolError(f"{tool} failed: the {self.dialect} database said: {message}")

    def _message(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        lines = [ln for ln in str(orig).strip().splitlines() if ln.strip()]
        message = lines[0] if lines else type(orig).__name__
        if self._secret:
            message = message.replace(self._secret, "***")
        return message

    def tools(self) -> list[tuple[BaseTool, Risk]]:
        cfg = self.config
        where = self._where()
        binds = ("Put values in 'params' and refer to them as :name in the SQL (e.g. "
                 "'WHERE id = :id' with params {\"id\": 7}) instead of pasting them in.")
        query_tool = StructuredTool.from_function(
            coroutine=self.query, name="sql_query", args_schema=SqlQueryArgs,
            description=(
                f"Run one read-only SQL statement (SELECT, WITH, VALUES, EXPLAIN…) on {where}. "
                f"{binds} Returns {{columns, rows: [[values in column order]], truncated}}; at "
                f"most {cfg.max_rows} rows (truncated=true when there were more; use "
                f"LIMIT/aggregates). Stops after {cfg.timeout_seconds:g} s. Runs in a "
                "read-only transaction, so any change is refused: use sql_execute for that."
            ),
        )
        execute_tool = StructuredTool.from_function(
            coroutine=self.execute, name="sql_execute", args_schema=SqlArgs,
            description=(
                f"Run one SQL statement that changes data or schema (INSERT to record new rows, "
                f"UPDATE to change rows there already, DELETE, CREATE…) on {where} and commit "
                f"it; needs approval. {binds} Returns "
                "{rowcount} plus columns/rows when the statement returns rows (RETURNING). "
                f"Stops after {cfg.timeout_seconds:g} s and rolls back on any error."
            ),
        )
        self._tools = [query_tool, execute_tool]
        return [(query_tool, Risk.GREEN), (execute_tool, Risk.RED)]

    def _where(self) -> str:
        """The database, as the first sentence of both descriptions names it: with its tables and
        their columns, so that a planner writes the names the database has (a model that was not
        shown them invents a ``deploy_date`` for a ``deployed_on``)."""
        where = f"the configured {self.dialect} database ({_dialect_hint(self.dialect)})"
        return f"{where}, whose tables are {self._tables}" if self._tables else where

    def _describe(self, tables: str | None) -> None:
        """After a change (a table made or dropped), the descriptions name the tables there are."""
        if tables is None or tables == self._tables:
            return
        before, self._tables = self._where(), tables
        for tool in self._tools:
            tool.description = tool.description.replace(before, self._where(), 1)


class SqlArgs(BaseModel):
    sql: str = Field(description="Exactly one SQL statement.")
    params: dict[str, Any] | None = Field(None, description="Values for :name placeholders.")


class SqlQueryArgs(SqlArgs):
    """sql_query's arguments: a statement that plainly writes is refused with them, so that a
    plan's validation says so and its repair plans sql_execute (bench.quality record-deploy:
    the 1.5B model planned an INSERT as a sql_query, which failed only when it ran)."""

    @field_validator("sql")
    @classmethod
    def _reads(cls, sql: str) -> str:
        first = _first_keyword(sql)
        if first not in _READ_KEYWORDS:
            raise ValueError(_WRITE_REFUSED.format(first.upper() or sql[:20]))
        return sql


def _first_keyword(sql: str) -> str:
    rest = _LEADING_NOISE.sub("", sql, count=1)
    match = re.match(r"[A-Za-z]+", rest)
    return match.group(0).lower() if match else ""


def _check_sqlite_pragma(sql: str) -> None:
    """Refuse a PRAGMA (also after EXPLAIN) that is not on the read allow-list or sets a value."""
    rest = _LEADING_NOISE.sub("", sql, count=1)
    for word in _EXPLAIN_WORDS:  # EXPLAIN [QUERY PLAN], comments allowed in between
        if _first_keyword(rest) != word:
            break
        rest = _LEADING_NOISE.sub("", rest[len(word):], count=1)
    if _first_keyword(rest) != "pragma":
        return
    shown = " ".join(rest.split())[:60]
    allowed = ", ".join(sorted(_PRAGMAS_READ))
    match = _PRAGMA.fullmatch(rest)
    if match is None:
        raise ToolError(
            f"sql_query cannot run '{shown}': write a PRAGMA as 'PRAGMA name' or "
            "'PRAGMA name(table)', with no comments inside")
    name = match.group("name").lower()
    if name not in _PRAGMAS_READ:
        raise ToolError(
            f"sql_query runs only PRAGMAs that read ({allowed}); '{name}' is not one of them")
    if match.group("set") or (match.group("arg") is not None and name not in _PRAGMAS_ON):
        raise ToolError(
            f"sql_query only reads PRAGMAs; '{shown}' sets {name}: a change goes through "
            "sql_execute, which asks for approval")


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _tables_of(conn: Connection) -> str:
    """The tables of the connection's default schema, each with its columns: ``deploys(service,
    version, deployed_on, status)``."""
    inspector = inspect(conn)
    names = sorted(n for n in inspector.get_table_names() if not n.startswith("sqlite_"))
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


def _tables_at_start(url: URL) -> str:
    """The tables there are when dagbot starts, read over a short-lived synchronous connection
    (a SQLite file that is not there yet is not created; an unreachable server costs at most
    3 s and leaves the tables unnamed: the planner can still list them with sql_query)."""
    if url.get_backend_name() == "sqlite":
        if _in_memory(url) or not url.database or not Path(url.database).is_file():
            return ""
        sync = url.set(drivername="sqlite", database=f"file:{url.database}",
                       query={"mode": "ro", "uri": "true"})
        connect_args: dict[str, Any] = {}
    else:
        sync, connect_args = url, {"connect_timeout": 3}
    engine = create_engine(sync, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return _tables_of(conn)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("could not list the SQL database's tables", error=type(exc).__name__)
        return ""
    finally:
        engine.dispose()


def _dialect_hint(dialect: str) -> str:
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


def register_sql_tools(registry: ToolRegistry, config: SqlToolConfig) -> SqlTools:
    """Add sql_query (green) and sql_execute (red); the caller may ``aclose()`` the result."""
    sql_tools = SqlTools(config)
    for tool, risk in sql_tools.tools():
        registry.add(tool, risk, returns={"rowcount", "columns", "rows", "truncated"} if risk is Risk.RED
                     else {"columns", "rows", "truncated"})
    return sql_tools
