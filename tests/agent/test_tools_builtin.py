"""register_builtin_tools: which families appear, each tool's risk, and a clean agent core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.registry import Risk, ToolRegistry
from infra.tools.sql_tools import SqlToolConfig, register_sql_tools

EXPECTED_RISKS = {
    "http_get": Risk.GREEN,
    "http_post": Risk.RED,
    "read_file": Risk.GREEN,
    "list_files": Risk.GREEN,
    "search_files": Risk.GREEN,
    "write_file": Risk.RED,
    "send_email": Risk.RED,
    "sql_query": Risk.GREEN,
    "sql_execute": Risk.RED,
}


def test_http_is_always_there() -> None:
    registry = ToolRegistry()
    register_builtin_tools(registry)
    assert registry.names() == ["http_get", "http_post"]


def test_every_builtin_tool_has_the_right_risk(tmp_path: Path) -> None:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(
        files=FileToolConfig(workspace=tmp_path),
        smtp=SmtpConfig(host="127.0.0.1", port=2525),
    ))
    register_sql_tools(registry, SqlToolConfig(url=f"sqlite:///{tmp_path}/db.sqlite"))
    assert {spec.name: spec.risk for spec in registry} == EXPECTED_RISKS
    for spec in registry:
        assert len(spec.description) > 80, spec.name  # written for the planner
        assert spec.args_model() is not None
        json.dumps(spec.json_schema())
    # who a mail goes to is an address, checked before its approval (a name is looked up in the results)
    assert {spec.name: spec.address_args for spec in registry if spec.address_args} == {
        "send_email": {"to", "cc"}}


def test_arguments_validate_through_the_registry() -> None:
    registry = ToolRegistry()
    register_builtin_tools(registry)
    args = registry.validate_args("http_post", {"url": "https://example.com", "json": {"a": 1}})
    assert args == {"url": "https://example.com", "json": {"a": 1}}


def test_agent_tools_do_not_import_sqlalchemy() -> None:
    code = (
        "import sys, agent.tools.builtin, agent.tools.http, agent.tools.files, "
        "agent.tools.email; print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
