"""sql_query / sql_execute on a real SQLite file and (when reachable) a real PostgreSQL.

``blank_database_url`` (tests/conftest.py) gives a fresh SQLite file, or a freshly created
PostgreSQL database that is dropped after the test, so runs never collide.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import infra.tools.sql_statements
from agent.errors import ConfigurationError, PlanError, ToolError
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.sql_database import async_url
from infra.tools.sql_tools import SqlToolConfig, SqlTools, register_sql_tools


class Db:
    def __init__(self, registry: ToolRegistry, tools: SqlTools) -> None:
        self.registry = registry
        self.tools = tools

    @property
    def dialect(self) -> str:
        return self.tools.dialect

    async def query(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        args: dict[str, Any] = {"sql": sql} if params is None else {"sql": sql, "params": params}
        # checked against its schema first, as the engine's gateway does
        return await self.registry.get("sql_query").tool.ainvoke(self.registry.validate_args("sql_query", args))

    async def execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        args: dict[str, Any] = {"sql": sql} if params is None else {"sql": sql, "params": params}
        return await self.registry.get("sql_execute").tool.ainvoke(args)

    async def count(self) -> int:
        result = await self.query("SELECT count(*) FROM items")
        return int(result["rows"][0][0])


async def _open(url: str, **kw: Any) -> Db:
    registry = ToolRegistry()
    tools = register_sql_tools(registry, SqlToolConfig(url=url, **kw))
    return Db(registry, tools)


@pytest_asyncio.fixture(loop_scope="session")
async def db(blank_database_url: str) -> AsyncIterator[Db]:
    handle = await _open(blank_database_url, max_rows=3, timeout_seconds=1)
    await handle.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    for i, name in enumerate(["ant", "bee", "cat", "dog", "eel"], start=1):
        await handle.execute("INSERT INTO items (id, name) VALUES (:id, :name)",
                             {"id": i, "name": name})
    try:
        yield handle
    finally:
        await handle.tools.aclose()


def test_risks_and_url_normalisation() -> None:
    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url="sqlite:///unused.sqlite"))
    assert registry.risk_of("sql_query") is Risk.GREEN
    assert registry.risk_of("sql_execute") is Risk.RED
    assert "sqlite" in registry.get("sql_query").description.lower()
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u:pw@h:5432/d").drivername == "postgresql+psycopg"
    assert async_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert async_url("postgresql+psycopg2://u@h/d").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigurationError):
        async_url("mysql://u@h/d")
    assert "pw" not in repr(SqlToolConfig(url="postgresql://u:pw@h/d"))


async def test_query_returns_columns_rows_and_truncates(db: Db) -> None:
    result = await db.query("SELECT id, name FROM items WHERE name <> :skip ORDER BY id",
                            {"skip": "bee"})
    assert result == {"columns": ["id", "name"], "rows": [[1, "ant"], [3, "cat"], [4, "dog"]],
                      "truncated": True}
    small = await db.query("SELECT name FROM items WHERE id = :id", {"id": 5})
    assert small == {"columns": ["name"], "rows": [["eel"]], "truncated": False}
    commented = await db.query("-- leading comment\n/* and another */ SELECT 1 AS one")
    assert commented["rows"] == [[1]]


async def test_execute_commits_and_reports_rowcount(db: Db) -> None:
    updated = await db.execute("UPDATE items SET name = upper(name) WHERE id <= :n", {"n": 2})
    assert updated == {"rowcount": 2}
    returned = await db.execute(
        "INSERT INTO items (id, name) VALUES (6, 'fox') RETURNING id, name")
    assert returned["columns"] == ["id", "name"] and returned["rows"] == [[6, "fox"]]
    fresh = await _open(str(db.tools.engine.url.render_as_string(hide_password=False)))
    try:
        names = await fresh.query("SELECT name FROM items WHERE id IN (1, 6) ORDER BY id")
        assert names["rows"] == [["ANT"], ["fox"]]  # visible from another engine: committed
    finally:
        await fresh.tools.aclose()


async def test_writes_through_sql_query_are_refused(db: Db) -> None:
    with pytest.raises(ToolError, match="must go through sql_execute"):
        await db.query("DELETE FROM items")
    with pytest.raises(ToolError, match="must go through sql_execute"):
        await db.query("  drop table items")
    # Statements that look like reads but write: the database itself refuses them.
    with pytest.raises(ToolError, match="read-only and the database refused a change"):
        await db.query("WITH x AS (SELECT 9 AS id) INSERT INTO items (id, name) "
                       "SELECT id, 'new' FROM x")
    if db.dialect == "postgresql":
        with pytest.raises(ToolError, match="read-only and the database refused a change"):
            await db.query("WITH d AS (DELETE FROM items RETURNING id) SELECT count(*) FROM d")
        with pytest.raises(ToolError, match="read-only and the database refused a change"):
            await db.query("EXPLAIN ANALYZE DELETE FROM items")
    assert await db.count() == 5
    # The connection is not left read-only: sql_execute still writes.
    assert (await db.execute("DELETE FROM items WHERE id = 5"))["rowcount"] == 1
    assert await db.count() == 4


@pytest.mark.parametrize("sql", [
    "SELECT 1; DELETE FROM items",
    "SELECT 1; COMMIT; DELETE FROM items",
    "SELECT 1; SET TRANSACTION READ WRITE; DELETE FROM items",
])
async def test_one_statement_per_call(db: Db, sql: str) -> None:
    with pytest.raises(ToolError, match="exactly one SQL statement"):
        await db.query(sql)
    assert await db.count() == 5


async def test_errors_are_readable(db: Db) -> None:
    with pytest.raises(ToolError, match=f"sql_query failed: the {db.dialect} database said"):
        await db.query("SELECT nope FROM items")
    with pytest.raises(ToolError, match="bind parameter 'id'"):
        await db.query("SELECT name FROM items WHERE id = :id")
    with pytest.raises(ToolError, match="sql_execute failed"):
        await db.execute("INSERT INTO items (id, name) VALUES (1, 'dup')")
    assert await db.count() == 5


async def test_slow_statements_are_stopped(db: Db) -> None:
    slow = ("SELECT pg_sleep(10)" if db.dialect == "postgresql" else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT count(*) FROM n")
    with pytest.raises(ToolError, match="took longer than 1 s"):
        await db.query(slow)
    assert await db.count() == 5  # and the tool still works afterwards


async def test_values_become_json(db: Db) -> None:
    if db.dialect == "postgresql":
        sql = ("SELECT 1.5::numeric AS n, 0.1::numeric AS tenth, 10::numeric AS whole, "
               "DATE '2024-02-29' AS d, '00000000-0000-0000-0000-000000000001'::uuid AS u, "
               "'\\x0102'::bytea AS b, '{\"a\": [1, 2]}'::jsonb AS j, ARRAY[1, 2] AS arr, "
               "true AS flag, NULL AS empty")
        result = await db.query(sql)
        assert result["rows"] == [[1.5, 0.1, 10, "2024-02-29",
                                   "00000000-0000-0000-0000-000000000001",
                                   {"base64": "AQI="}, {"a": [1, 2]}, [1, 2], True, None]]
    else:
        result = await db.query("SELECT x'0102' AS b, 2.5 AS f, NULL AS empty")
        assert result["rows"] == [[{"base64": "AQI="}, 2.5, None]]


async def _accounts(url: str) -> Db:
    handle = await _open(url)
    await handle.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, "
                         "balance INTEGER NOT NULL CHECK (balance >= 0))")
    await handle.execute("CREATE INDEX acct_balance ON acct (balance)")
    return handle


async def test_sqlite_query_runs_pragmas_that_read_and_refuses_those_that_set(blank_sqlite_url: str) -> None:
    db = await _accounts(blank_sqlite_url)
    try:
        columns = await db.query("PRAGMA table_info(acct)")
        assert [row[1] for row in columns["rows"]] == ["id", "balance"]
        assert (await db.query("pragma main.index_list('acct');"))["rows"][0][1] == "acct_balance"
        assert (await db.query("PRAGMA index_info(acct_balance)"))["rows"][0][2] == "balance"
        assert (await db.query("PRAGMA foreign_key_list(acct)"))["rows"] == []
        assert ["main", "acct"] in [row[:2] for row in (await db.query("PRAGMA table_list"))["rows"]]
        assert (await db.query("PRAGMA database_list"))["rows"][0][1] == "main"
        assert (await db.query("/* version */ PRAGMA user_version"))["rows"] == [[0]]
        assert (await db.query("PRAGMA journal_mode"))["rows"] == [["delete"]]

        for sql in ("PRAGMA ignore_check_constraints = ON", "PRAGMA writable_schema = ON",
                    "PRAGMA query_only = OFF", "EXPLAIN PRAGMA ignore_check_constraints = ON",
                    "PRAGMA incremental_vacuum"):
            with pytest.raises(ToolError, match=r"sql_query runs only PRAGMAs that read .*table_info"):
                await db.query(sql)
        for sql, name in (("PRAGMA journal_mode = WAL", "journal_mode"),
                          ("PRAGMA journal_mode(WAL)", "journal_mode"),
                          ("PRAGMA foreign_keys=OFF", "foreign_keys"),
                          ("PRAGMA main.user_version = 7", "user_version"),
                          ("PRAGMA user_version(7)", "user_version"),
                          ("EXPLAIN QUERY PLAN PRAGMA journal_mode = WAL", "journal_mode"),
                          ("EXPLAIN /* a */ QUERY -- b\n PLAN PRAGMA foreign_keys = 0", "foreign_keys")):
            with pytest.raises(ToolError, match=f"only reads PRAGMAs; .* sets {name}: a change goes "
                                                "through sql_execute"):
                await db.query(sql)
        with pytest.raises(ToolError, match="write a PRAGMA as 'PRAGMA name'"):
            await db.query("PRAGMA /* x */ journal_mode = WAL")

        # The approved write that follows still meets the table's CHECK constraint.
        with pytest.raises(ToolError, match="CHECK constraint failed"):
            await db.execute("INSERT INTO acct (id, balance) VALUES (1, -100)")
    finally:
        await db.tools.aclose()
    path = blank_sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM acct").fetchone() == (0,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
    assert not Path(path + "-wal").exists()


async def test_sqlite_query_state_dies_with_its_connection(
    blank_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a PRAGMA the check let through could not reach sql_execute: sql_query runs on a
    connection of its own, closed after the call."""
    db = await _accounts(blank_sqlite_url)
    monkeypatch.setattr(infra.tools.sql_statements, "check_sqlite_pragma", lambda sql: None)
    try:
        for sql in ("PRAGMA ignore_check_constraints = ON", "PRAGMA query_only = OFF"):
            await db.query(sql)
        with pytest.raises(ToolError, match="CHECK constraint failed"):
            await db.execute("INSERT INTO acct (id, balance) VALUES (1, -100)")
        assert (await db.execute("INSERT INTO acct (id, balance) VALUES (2, 5)"))["rowcount"] == 1
        with pytest.raises(ToolError, match="read-only and the database refused a change"):
            await db.query("WITH x AS (SELECT 1) INSERT INTO acct (id, balance) SELECT 3, 1 FROM x")
        assert (await db.query("SELECT id FROM acct"))["rows"] == [[2]]
    finally:
        await db.tools.aclose()


async def test_what_an_approved_statement_sets_for_its_session_ends_with_it(blank_database_url: str) -> None:
    """An approved PRAGMA or SET applies to that statement's connection only: the next
    approved statement meets the database as configured."""
    db = await _accounts(blank_database_url)
    other = await _open(blank_database_url)
    try:
        if db.dialect == "sqlite":
            await db.execute("PRAGMA ignore_check_constraints = ON")
        else:
            await db.execute("SET search_path TO nowhere")
            await db.execute("SELECT pg_advisory_lock(4343)")
            assert (await other.query("SELECT pg_try_advisory_lock(4343)"))["rows"] == [[True]]
        with pytest.raises(ToolError, match=r"(?i)check constraint"):
            await db.execute("INSERT INTO acct (id, balance) VALUES (1, -100)")
        assert (await db.query("SELECT count(*) FROM acct"))["rows"] == [[0]]
    finally:
        await other.tools.aclose()
        await db.tools.aclose()


@pytest.mark.postgres
async def test_postgres_query_refuses_functions_that_act_on_the_server(blank_postgres_url: str) -> None:
    """A READ ONLY transaction still runs these: they end other sessions, reload the server's
    configuration, notify listeners or read the server's files."""
    db = await _accounts(blank_postgres_url)
    victim = await _open(blank_postgres_url)
    try:
        await victim.query("SELECT 1")  # a pooled session another client relies on
        pids = await db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid()")
        assert pids["rows"]
        for sql in ("SELECT pg_terminate_backend(:pid)", "select PG_CATALOG.pg_cancel_backend(:pid)",
                    'SELECT "pg_terminate_backend"(:pid)'):
            with pytest.raises(ToolError, match=r"sql_query only reads data; pg_(terminate|cancel)_"
                                                r"backend\(\) acts on the server .* sql_execute"):
                await db.query(sql, {"pid": pids["rows"][0][0]})
        for sql in ("SELECT pg_reload_conf()", "SELECT pg_notify('ops', 'x')",
                    "SELECT pg_read_file('postgresql.conf')", "SELECT * FROM pg_ls_dir('.')",
                    "SELECT lo_import('/etc/passwd')"):
            with pytest.raises(ToolError, match="acts on the server or reads its files"):
                await db.query(sql)
        assert (await victim.query("SELECT 1"))["rows"] == [[1]]  # still alive
        assert (await db.query("SELECT count(*) FROM pg_stat_activity"))["rows"][0][0] >= 1
    finally:
        await victim.tools.aclose()
        await db.tools.aclose()


@pytest.mark.postgres
async def test_postgres_query_leaves_no_session_lock_behind(blank_postgres_url: str) -> None:
    db = await _accounts(blank_postgres_url)
    other = await _open(blank_postgres_url)
    try:
        await db.query("SELECT pg_advisory_lock(4242)")  # session-level: outlives a rollback
        await db.query("SELECT set_config('search_path', 'nowhere', false)")
        held = await db.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                              "(SELECT oid FROM pg_database WHERE datname = current_database())")  # (not other tests')
        assert held["rows"] == [[0]]
        assert (await other.query("SELECT pg_try_advisory_lock(4242)"))["rows"] == [[True]]
        assert (await db.execute("INSERT INTO acct (id, balance) VALUES (1, 5)"))["rowcount"] == 1
    finally:
        await other.tools.aclose()
        await db.tools.aclose()


async def test_unreachable_database_is_a_clear_error() -> None:
    handle = await _open("postgresql://nobody:hunter2@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(ToolError, match="could not connect to the postgresql") as info:
            await handle.query("SELECT 1")
        assert "hunter2" not in str(info.value)
    finally:
        await handle.tools.aclose()


async def test_the_planner_is_shown_the_tables_and_their_columns(blank_database_url: str) -> None:
    """A planner that was not shown the columns invents them (bench.quality: ``deploy_date`` for
    ``deployed_on``): both descriptions name the tables there are, at start and after a change."""
    from agent.model.prompting import describe_tools

    first = await _open(blank_database_url)
    await first.execute("CREATE TABLE deploys (service TEXT, version TEXT, deployed_on TEXT)")
    await first.tools.aclose()
    handle = await _open(blank_database_url)  # a start with the table there
    try:
        shown = describe_tools(handle.registry)
        assert shown.count("whose tables are deploys(service, version, deployed_on)") == 2, shown
        await handle.execute("CREATE TABLE owners (service TEXT, team TEXT)")
        shown = describe_tools(handle.registry)
        assert shown.count("deploys(service, version, deployed_on), owners(service, team)") == 2, shown
    finally:
        await handle.tools.aclose()


def test_a_database_not_there_at_start_is_not_created(tmp_path: Path) -> None:
    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url=f"sqlite:///{tmp_path}/later.sqlite"))
    assert not (tmp_path / "later.sqlite").exists()
    assert "whose tables are" not in registry.get("sql_query").description


def test_a_plan_that_writes_through_sql_query_is_refused_with_the_plan() -> None:
    """Said when the plan is validated (its repair plans sql_execute), not only when it runs."""
    from agent.plan.validation import validate_plan

    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url="sqlite:///unused.sqlite"))
    with pytest.raises(PlanError) as refused:
        validate_plan({"nodes": [{"id": "add", "tool": "sql_query", "args": {
            "sql": "INSERT INTO deploys VALUES ('search', '1.8.1')"}}]}, registry)
    assert "'INSERT' statements must go through sql_execute" in str(refused.value)
    validate_plan({"nodes": [{"id": "add", "tool": "sql_execute", "args": {
        "sql": "INSERT INTO deploys VALUES ('search', '1.8.1')"}}]}, registry)


def test_a_row_the_request_asks_to_add_written_through_sql_query_goes_to_sql_execute() -> None:
    """broad record-thumbnailer: the INSERT was drafted with sql_query, and its repair answered
    "I can't"; the call goes to the tool that records rows, and waits for its approval."""
    from agent.plan.validation import validated_plan

    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url="sqlite:///unused.sqlite"))
    insert = {"nodes": [{"id": "add", "tool": "sql_query", "args": {
        "sql": "INSERT INTO deploys VALUES ('search', '1.8.1')"}}]}
    validated = validated_plan(insert, registry, request="Add a row to the deploys table: search 1.8.1")
    assert [node.tool for node in validated.plan.nodes] == ["sql_execute"] and "change-tools" in validated.mends
    with pytest.raises(PlanError):  # a request that asks for no change: the plan's fault is told
        validated_plan(insert, registry, request="Which deploys are in the deploys table?")


@pytest.mark.parametrize(("tool", "sql", "name"), [
    ("sql_query", "SELECT count(*) FROM ci/builds WHERE result = 'failed'", "ci/builds"),
    ("sql_query", "SELECT sum(duration_s) FROM builds JOIN ci/builds-2025.csv USING (build)", "ci/builds-2025.csv"),
    ("sql_execute", "INSERT INTO reports/deploys.csv VALUES ('search')", "reports/deploys.csv"),
])
def test_a_plan_naming_a_workspace_file_where_a_table_goes_is_refused_with_the_plan(
        tool: str, sql: str, name: str) -> None:
    """dev-missing-builds-sum: ``SELECT duration_s FROM ci/builds-2025.csv`` failed only when it ran,
    with a syntax error, instead of the plan reading the file (and finding it missing)."""
    from agent.plan.validation import validate_plan

    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url="sqlite:///unused.sqlite"))
    with pytest.raises(PlanError) as refused:
        validate_plan({"nodes": [{"id": "q", "tool": tool, "args": {"sql": sql}}]}, registry)
    assert f"'{name}' is a workspace file's path, not a table of the database: read the file with read_file" \
        in str(refused.value)
    for fine in ("SELECT * FROM deploys WHERE note = 'moved from ci/builds.csv'",  # a value, not a table
                 "SELECT * FROM audit.log", "SELECT * FROM deploys -- read from ci/builds.csv",  # schema.table; a note
                 "SELECT * FROM main.deploys", "SELECT count(*) FROM deploys JOIN services USING (name)"):
        validate_plan({"nodes": [{"id": "q", "tool": "sql_query", "args": {"sql": fine}}]}, registry)


async def test_the_planner_is_shown_a_small_tables_categories_and_nothing_else(blank_database_url: str) -> None:
    """A category's values, as stored (bench.quality: the 1.5B model wrote ``status = 'FAILED'``
    for 'failed' and found nothing); never names, tokens or values with digits."""
    from agent.model.prompting import describe_tools

    handle = await _open(blank_database_url)
    try:
        await handle.execute("CREATE TABLE deploys (service TEXT, version TEXT, status TEXT, token TEXT, n INTEGER)")
        for i, (service, status) in enumerate([("api", "ok"), ("checkout", "ok"), ("search", "failed"),
                                                ("payments", "ok"), ("web", "ok")]):
            await handle.execute("INSERT INTO deploys VALUES (:s, :v, :st, :t, :n)",
                                 {"s": service, "v": f"1.{i}.0", "st": status, "t": f"tok{i}xyz", "n": i})
        shown = describe_tools(handle.registry)
        assert shown.count("deploys(service, version, status: 'failed'|'ok', token, n)") == 2, shown
        assert "tok1xyz" not in shown and "'checkout'" not in shown and "1.1.0" not in shown
        await handle.execute("CREATE TABLE events (kind TEXT)")
        await handle.execute(  # a large table's values are not read: naming them would cost a scan
            "INSERT INTO events WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < :rows) SELECT CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END FROM n", {"rows": 1000})
        assert "events(kind: 'even'|'odd')" in describe_tools(handle.registry)
        await handle.execute("INSERT INTO events VALUES ('odd')")
        assert "events(kind)" in describe_tools(handle.registry)
    finally:
        await handle.tools.aclose()


def test_a_plan_naming_a_table_the_database_lacks_goes_to_the_repair_round(tmp_path: Path) -> None:
    """dev-follow-up-mail-count: "Email that number", after a count over ci/builds.csv, was planned
    as ``SELECT count(*) FROM ci.builds``, which failed when it ran; the mail was never sent."""
    from agent.plan.format import Plan
    from agent.plan.refused_calls import refused_calls

    path = tmp_path / "ops.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE deploys (service TEXT, deployed_on TEXT)")
        conn.execute("CREATE TABLE services (name TEXT)")
        conn.execute("CREATE VIEW recent_deploys AS SELECT * FROM deploys")
    registry = ToolRegistry()
    register_sql_tools(registry, SqlToolConfig(url=f"sqlite:///{path}"))

    def problems(sql: str, request: str = "Email that number to ci@example.com") -> list[str]:
        plan = Plan.model_validate({"nodes": [{"id": "q", "tool": "sql_query", "args": {"sql": sql}}]})
        return [p.message for p in refused_calls(plan, request, registry, known=["ci/builds.csv has 2 failed"])]

    [problem] = problems("SELECT count(*) FROM ci.builds WHERE result = 'failed'")
    assert problem.startswith("sql_query would be refused when it ran: the database has no table 'ci.builds' "
                              "(its tables: deploys, recent_deploys, services)")
    for fine in ("SELECT count(*) FROM main.deploys d JOIN services s ON s.name = d.service",
                 "WITH recent AS (SELECT * FROM deploys) SELECT * FROM recent",
                 "SELECT EXTRACT(YEAR FROM deployed_on), trim(both ' ' from service) FROM deploys",
                 "SELECT value FROM json_each('[1, 2]')", "SELECT name FROM sqlite_master",
                 "SELECT * FROM deploys WHERE service = 'from nowhere'", "SELECT * FROM ${earlier.table}",
                 "INSERT INTO deploys VALUES ('a', 'b') ON CONFLICT (service) DO UPDATE SET deployed_on = 'c'",
                 "WITH t(a) AS (SELECT 1) SELECT * FROM t", "SELECT * FROM deploys JOIN LATERAL (SELECT 1) x ON true",
                 "SELECT * FROM deploys WHERE service IS DISTINCT FROM deployed_on",
                 "SELECT * FROM deploys -- not from ci.builds", "SELECT * FROM recent_deploys"):
        assert problems(fine) == [], fine
    assert problems("SELECT * FROM audit_log", "How many rows are in audit_log?") == []  # named: its own error says
    # a path's first part names no table (unseen follow-up-lock-timeout: FROM logs, after logs/scheduler.log)
    assert problems("SELECT duration_s FROM logs", "How long did the run in logs/scheduler.log take?") != []
    assert problems("SELECT * FROM deploy", "What does deploy.yaml set?") != []
    assert problems("SELECT * FROM audit_log", "Count the rows of audit_log.") == []
    # another database's catalogue is no table of this one's (evening deadlocks-per-table)
    [catalogue] = problems("SELECT COUNT(*) FROM pg_stat_activity", "count the deadlocks per table")
    assert "no table 'pg_stat_activity'" in catalogue
    unknown = ToolRegistry()  # tables not known (no database file at start): nothing is judged
    register_sql_tools(unknown, SqlToolConfig(url=f"sqlite:///{tmp_path / 'later.sqlite'}"))
    assert unknown.get("sql_query").plan_check is not None
    assert unknown.get("sql_query").plan_check({"sql": "SELECT * FROM anything"}) is None
