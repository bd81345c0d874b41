"""``query_file`` (green): one SQL SELECT over one workspace file, run by DuckDB in memory.

Sums, counts, averages, filters and group-bys over a CSV, a JSON file or a log are one query a
small model writes well, where the Python arithmetic of a package it gets wrong (issue 43: a
column's sum came back as a count of lines). The file is loaded as the table ``data``:

- a CSV or TSV file: its columns, typed by DuckDB's sniffer;
- a JSON file: its records, the top-level list, or the one list of objects the top-level object
  holds (``{"backups": [...]}``), their keys as columns; JSON Lines: one record a line;
- any other text file: one row a line, columns ``line_number`` and ``line``.

The path is resolved as every file tool resolves it (:class:`agent.tools.files.Workspace`: inside
the workspace or refused). Only then is the statement run, on a connection that can no longer
touch the file system (``enable_external_access = false``, locked: no other file, no COPY, no
ATTACH, no extension), with one thread, a memory limit and a time limit (``interrupt()``). One
statement, a query: anything else is refused before it runs. Lives in infra, beside the SQL
tools, so that the agent core stays free of a database engine.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError
from agent.tools.builtin import MARKED
from agent.tools.files import FileToolConfig, Workspace, is_binary
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.sql_database import jsonable

TABLE = "data"
_TEXT_SUFFIXES_AS_TABLES = {".csv": ",", ".tsv": "\t"}
_JSON_LINES = {".jsonl", ".ndjson"}
RETURNS = frozenset({"path", "columns", "rows", "truncated"})


@dataclass(frozen=True)
class FileQueryConfig:
    workspace: Path
    max_file_bytes: int = 50_000_000
    max_rows: int = 200
    timeout_seconds: float = 20.0
    memory_limit: str = "256MB"


class QueryFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace, e.g. 'data/orders.csv'.")
    sql: str = Field(description=f"One SELECT over the table {TABLE}, e.g. "
                                 f"'SELECT region, sum(amount) AS total FROM {TABLE} GROUP BY region'.")


def _records(text: str, path: str) -> list[Any]:
    """A JSON document's records: the list itself, or the one list of objects its object holds."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolError(f"'{path}' is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                        f"{exc.colno}); read_file shows its text") from None
    if isinstance(doc, list):
        return [item if isinstance(item, dict) else {"value": item} for item in doc]
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
        return lists[0] if len(lists) == 1 else [doc]
    return [{"value": doc}]


def _record(line: str, path: str, number: int) -> dict[str, Any]:
    """One JSON Lines record."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ToolError(f"line {number} of '{path}' is not valid JSON ({exc.msg}, column "
                        f"{exc.colno})") from None
    return item if isinstance(item, dict) else {"value": item}



class FileQuery:
    """Loads one file as the table ``data`` and runs one query over it (blocking: run in a thread)."""

    def __init__(self, config: FileQueryConfig) -> None:
        self.config = config
        self.workspace = Workspace(FileToolConfig(workspace=config.workspace))

    def check(self, sql: str) -> None:
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise ToolError(f"the SQL does not parse: {_message(exc)}") from None
        if len(statements) != 1:
            raise ToolError(f"give exactly one SQL statement (got {len(statements)})")
        if statements[0].type is not duckdb.StatementType.SELECT:
            raise ToolError(f"query_file runs only a query (SELECT … FROM {TABLE}); it changes nothing")

    def open(self, path: str) -> tuple[duckdb.DuckDBPyConnection, str]:
        target = self.workspace.existing_file(path)
        size = target.stat().st_size
        if size > self.config.max_file_bytes:
            raise ToolError(f"'{path}' is {size:,} bytes; query_file loads files up to "
                            f"{self.config.max_file_bytes:,} bytes")
        data = target.read_bytes()
        if is_binary(data):
            raise ToolError(f"'{path}' is a binary file ({size} bytes); only text files can be queried")
        con = duckdb.connect(":memory:", config={
            "threads": 1, "memory_limit": self.config.memory_limit,
            "autoinstall_known_extensions": False, "autoload_known_extensions": False})
        try:
            self._load(con, target, data.decode("utf-8", errors="replace"), path)
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con, self.workspace.rel(target)

    def _load(self, con: duckdb.DuckDBPyConnection, target: Path, text: str, path: str) -> None:
        suffix = target.suffix.lower()
        try:
            if suffix in _TEXT_SUFFIXES_AS_TABLES:
                con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM read_csv($p, delim = $d, header = true)",
                            {"p": str(target), "d": _TEXT_SUFFIXES_AS_TABLES[suffix]})
            elif suffix == ".json" or suffix in _JSON_LINES:
                if suffix in _JSON_LINES:
                    records = [_record(line, path, n) for n, line in enumerate(text.splitlines(), 1)
                               if line.strip()]
                else:
                    records = _records(text, path)
                self._load_records(con, records)
            else:
                con.execute(f"CREATE TABLE {TABLE} AS SELECT unnest(range(1, len($l) + 1)) AS line_number, "
                            "unnest($l) AS line", {"l": text.splitlines()})
        except duckdb.Error as exc:
            raise ToolError(f"'{path}' could not be loaded as a table: {_message(exc)}") from None

    @staticmethod
    def _load_records(con: duckdb.DuckDBPyConnection, records: list[Any]) -> None:
        if not records:
            con.execute(f"CREATE TABLE {TABLE} (value VARCHAR)")
            return
        with tempfile.TemporaryDirectory(prefix="dagbot-query-") as folder:
            lines = Path(folder, "records.jsonl")
            lines.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
            con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM read_json($p, format = 'newline_delimited')",
                        {"p": str(lines)})

    def run(self, con: duckdb.DuckDBPyConnection, sql: str, rel: str) -> dict[str, Any]:
        try:
            cursor = con.execute(sql)
            rows = cursor.fetchmany(self.config.max_rows + 1)
            columns = [d[0] for d in cursor.description or []]
        except duckdb.InterruptException:
            raise ToolError(f"the query took longer than {self.config.timeout_seconds:g} s and was "
                            "stopped") from None
        except duckdb.Error as exc:
            raise ToolError(f"the query failed on {rel}: {_message(exc)}; the table is {TABLE}, its "
                            f"columns: {', '.join(_columns(con))}") from None
        return {"path": rel, "columns": columns,
                "rows": [[jsonable(v) for v in row] for row in rows[: self.config.max_rows]],
                "truncated": len(rows) > self.config.max_rows}

    async def query(self, path: str, sql: str) -> dict[str, Any]:
        self.check(sql)
        con, rel = await asyncio.to_thread(self.open, path)
        try:
            work = asyncio.ensure_future(asyncio.to_thread(self.run, con, sql, rel))
            try:
                return await asyncio.wait_for(asyncio.shield(work), self.config.timeout_seconds)
            except TimeoutError:
                con.interrupt()
                return await work  # raises the ToolError run() gives an interrupted query
            except asyncio.CancelledError:
                con.interrupt()
                raise
        finally:
            con.close()


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        return [f"{name} {kind}" for name, kind in
                con.execute(f"SELECT column_name, data_type FROM (DESCRIBE {TABLE})").fetchall()]
    except duckdb.Error:
        return []


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


def _description(config: FileQueryConfig) -> str:
    return (
        f"Answer a question about one workspace file (a path; a database's tables are "
        f"sql_query's) with one SQL query (DuckDB): sums, averages, filters, group-bys. The file "
        f"is the table {TABLE}: a CSV's columns; a JSON "
        f"file's records (its list, or the list inside its object), keys as columns; any other text "
        f"file (a log) one row a line, columns line_number and line (e.g. WHERE line LIKE '%ERROR%'). "
        f"Returns {{path, columns, rows: [[...]], truncated}}, at most {config.max_rows} rows. "
        f"Read-only; paths outside the workspace are refused.")


def register_file_query(registry: ToolRegistry, config: FileQueryConfig) -> None:
    engine = FileQuery(config)
    tool = StructuredTool.from_function(coroutine=engine.query, name="query_file", args_schema=QueryFileArgs,
                                        description=_description(config))
    registry.add(tool, Risk.GREEN, returns=RETURNS, untrusted_output=MARKED)
