"""SQL tools: ``sql_query`` (green, read-only) and ``sql_execute`` (red): their definitions, and
the connections, transactions, time limits and error messages each call runs with. What
sql_query refuses before a statement runs is in :mod:`infra.tools.sql_statements`; the database's
URL, its tables as the descriptions name them, and its values as JSON in
:mod:`infra.tools.sql_database`.

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
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from agent.errors import ToolError
from agent.tools.builtin import MARKED
from agent.tools.registry import ArgumentRefusal, Risk, ToolRegistry
from infra.tools.sql_database import (
    async_url,
    dialect_hint,
    in_memory,
    jsonable,
    table_names,
    tables_at_start,
    tables_of,
)
from infra.tools.sql_statements import (
    SYSTEM_TABLES,
    check_query,
    file_as_table,
    unknown_tables,
    write_refusal,
)

_ANY_SYSTEM = tuple(prefix for prefixes in SYSTEM_TABLES.values() for prefix in prefixes)
"""Another dialect's catalogues: any of those known is let through."""

T = TypeVar("T")
_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class SqlToolConfig:
    url: str = field(repr=False)  # may carry a password
    max_rows: int = 500
    timeout_seconds: float = 30.0


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
        if not (self.dialect == "sqlite" and in_memory(url)):
            self._fresh_engine = create_async_engine(url, poolclass=NullPool,
                                                     connect_args=connect_args)
        self._read_engine = self.engine if self.dialect == "postgresql" else self._fresh_engine
        self._tools: list[StructuredTool] = []
        self._tables = tables_at_start(url)

    async def aclose(self) -> None:
        await self.engine.dispose()
        if self._fresh_engine is not self.engine:
            await self._fresh_engine.dispose()

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        check_query(sql, self.dialect)

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
                self._describe(await conn.run_sync(tables_of))
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

    def unknown_table(self, args: dict[str, Any]) -> ArgumentRefusal | None:
        """The plan-time check of both tools (:attr:`agent.tools.registry.ToolSpec.plan_check`):
        a literal statement naming a table the database does not have (``FROM ci.builds`` for
        the workspace file ci/builds.csv, in a follow-up), while the tables are known (read at
        start, or after a change; all of them, not "and N more")."""
        sql = args.get("sql")
        names = table_names(self._tables)
        if not isinstance(sql, str) or "${" in sql or names is None:
            return None
        unknown = unknown_tables(sql, names, SYSTEM_TABLES.get(self.dialect, _ANY_SYSTEM))
        if not unknown:
            return None
        return ArgumentRefusal(unknown[0], (
            f"the database has no table '{unknown[0]}' (its tables: {', '.join(sorted(names)) or 'none'}); "
            "a workspace file is read with read_file, and a value the thread holds is written as it is"))

    def _where(self) -> str:
        """The database, as the first sentence of both descriptions names it: with its tables and
        their columns, so that a planner writes the names the database has (a model that was not
        shown them invents a ``deploy_date`` for a ``deployed_on``)."""
        where = f"the configured {self.dialect} database ({dialect_hint(self.dialect)})"
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

    @field_validator("sql")
    @classmethod
    def _names_tables(cls, sql: str) -> str:
        if (refusal := file_as_table(sql)) is not None:
            raise refusal
        return sql


class SqlQueryArgs(SqlArgs):
    """sql_query's arguments: a statement that plainly writes is refused with them, so that a
    plan's validation says so and its repair plans sql_execute (bench.quality record-deploy:
    the 1.5B model planned an INSERT as a sql_query, which failed only when it ran)."""

    @field_validator("sql")
    @classmethod
    def _reads(cls, sql: str) -> str:
        if (refusal := write_refusal(sql)) is not None:
            raise ValueError(refusal)
        return sql


def register_sql_tools(registry: ToolRegistry, config: SqlToolConfig) -> SqlTools:
    """Add sql_query (green) and sql_execute (red); the caller may ``aclose()`` the result."""
    sql_tools = SqlTools(config)
    for tool, risk in sql_tools.tools():
        registry.add(tool, risk, effects={"record", "delete rows", "write"} if risk is Risk.RED else None,
                     returns={"rowcount", "columns", "rows", "truncated"} if risk is Risk.RED
                     else {"columns", "rows", "truncated"},
                     untrusted_output=MARKED,  # (as the built-in tools' output: agent.tools.builtin)
                     plan_check=sql_tools.unknown_table)
    return sql_tools
