"""query_file: one SQL query over one workspace file (DuckDB), read-only and held to the workspace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.errors import ToolError
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.file_query import FileQuery, FileQueryConfig, register_file_query

ORDERS = "order_id,region,amount\n1,east,120.50\n2,west,80\n3,east,40\n4,north,9.5\n"
LOG = ("2026-11-20 10:00:01 ERROR checkout timeout\n2026-11-20 10:00:02 INFO web ok\n"
       "2026-11-20 10:00:03 ERROR payments 503\n2026-11-20 10:00:04 ERROR checkout timeout\n")
BACKUPS = {"generated": "2026-11-25", "backups": [
    {"host": "db1", "status": "ok", "size_gb": 12},
    {"host": "db2", "status": "failed", "size_gb": 0},
    {"host": "files", "status": "failed", "size_gb": 3},
]}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "data" / "orders.csv").write_text(ORDERS)
    (root / "logs" / "app.log").write_text(LOG)
    (root / "data" / "backups.json").write_text(json.dumps(BACKUPS))
    (root / "data" / "events.jsonl").write_text('{"kind": "deploy"}\n{"kind": "page"}\n{"kind": "deploy"}\n')
    (root / "data" / "broken.json").write_text('{"backups": [ {"host": "db1",, }')
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "secret.csv").write_text("token\nhunter2\n")
    return root


def query(workspace: Path, path: str, sql: str, **config: object) -> dict:
    engine = FileQuery(FileQueryConfig(workspace=workspace, **config))  # type: ignore[arg-type]
    return asyncio.run(engine.query(path, sql))


def test_a_csv_is_a_table_with_typed_columns(workspace: Path) -> None:
    out = query(workspace, "data/orders.csv",
                "SELECT region, sum(amount) AS revenue, count(*) AS orders FROM data GROUP BY region "
                "ORDER BY revenue DESC")
    assert out["path"] == "data/orders.csv"
    assert out["columns"] == ["region", "revenue", "orders"]
    assert out["rows"] == [["east", 160.5, 2], ["west", 80.0, 1], ["north", 9.5, 1]]
    assert out["truncated"] is False


def test_a_log_is_one_row_a_line(workspace: Path) -> None:
    out = query(workspace, "logs/app.log",
                "SELECT count(*) FROM data WHERE line LIKE '%ERROR%'")
    assert out["rows"] == [[3]]
    first = query(workspace, "logs/app.log", "SELECT line_number, line FROM data ORDER BY line_number LIMIT 1")
    assert first["rows"] == [[1, LOG.splitlines()[0]]]


def test_a_json_object_with_one_list_is_that_list(workspace: Path) -> None:
    out = query(workspace, "data/backups.json",
                "SELECT host FROM data WHERE status = 'failed' ORDER BY host")
    assert out["rows"] == [["db2"], ["files"]]
    lines = query(workspace, "data/events.jsonl", "SELECT count(*) FROM data WHERE kind = 'deploy'")
    assert lines["rows"] == [[2]]


def test_rows_past_the_cap_are_cut_and_said_so(workspace: Path) -> None:
    out = query(workspace, "logs/app.log", "SELECT line FROM data", max_rows=2)
    assert len(out["rows"]) == 2
    assert out["truncated"] is True


@pytest.mark.parametrize(("path", "sql", "said"), [
    ("data/orders.csv", "SELECT amont FROM data", "amount"),  # the columns are named in the error
    ("data/orders.csv", "DELETE FROM data", "only a query"),
    ("data/orders.csv", "SELECT 1; SELECT 2", "exactly one"),
    ("data/orders.csv", "SELEC 1", "does not parse"),
    ("data/nope.csv", "SELECT 1", "no file 'data/nope.csv'"),
    ("../secret.csv", "SELECT * FROM data", "outside the workspace"),
    ("/etc/passwd", "SELECT * FROM data", "outside the workspace"),
    ("blob.bin", "SELECT * FROM data", "binary"),
    ("data/broken.json", "SELECT * FROM data", "not valid JSON"),
])
def test_bad_input_gets_an_error_that_says_what_to_do(workspace: Path, path: str, sql: str, said: str) -> None:
    with pytest.raises(ToolError, match=said):
        query(workspace, path, sql)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('{outside}')",
    "SELECT * FROM read_text('{outside}')",
    "SELECT * FROM data, read_csv('{inside}')",
])
def test_the_query_cannot_reach_any_other_file(workspace: Path, sql: str) -> None:
    outside = workspace.parent / "secret.csv"
    inside = workspace / "data" / "orders.csv"
    with pytest.raises(ToolError, match="disabled by configuration") as caught:
        query(workspace, "logs/app.log", sql.format(outside=outside, inside=inside))
    assert "hunter2" not in str(caught.value)


def test_a_file_too_large_is_refused_before_it_is_loaded(workspace: Path) -> None:
    with pytest.raises(ToolError, match="loads files up to 10 bytes"):
        query(workspace, "data/orders.csv", "SELECT 1", max_file_bytes=10)


def test_a_query_past_its_time_limit_is_stopped(workspace: Path) -> None:
    slow = "SELECT count(*) FROM range(100000000000) a"
    with pytest.raises(ToolError, match=r"longer than 0\.2 s"):
        query(workspace, "logs/app.log", slow, timeout_seconds=0.2)


def test_registered_green_with_the_keys_it_returns(workspace: Path) -> None:
    registry = ToolRegistry()
    register_file_query(registry, FileQueryConfig(workspace=workspace))
    spec = registry.get("query_file")
    assert spec.risk is Risk.GREEN
    assert spec.returns == frozenset({"path", "columns", "rows", "truncated"})
    assert "table data" in spec.tool.description


def test_offered_only_when_the_setting_asks_for_it(workspace: Path) -> None:
    from infra.settings import Settings
    from infra.tools.toolbox import build_registry

    assert "query_file" not in build_registry(Settings(workspace=workspace))  # off by default
    assert "query_file" in build_registry(Settings(workspace=workspace, query_file=True))
    assert "query_file" not in build_registry(Settings(query_file=True))  # no workspace: no file tools
