"""The MCP client's parts that need no server: the configuration file, how risk is decided,
arguments checked against an inputSchema, and results made a tool's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import types

from agent.errors import ToolArgumentError
from agent.tools.registry import Risk, ToolRegistry
from infra.settings import Settings
from infra.tools.mcp.arguments import UnusableSchema, arguments_model
from infra.tools.mcp.config import ServerConfig, load_mcp_config, secret_values
from infra.tools.mcp.results import McpToolFailed, tool_output
from infra.tools.mcp.risk import decide_risk, unused_patterns
from infra.tools.mcp.tools import SchemaCheckedTool, describe, registry_name


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


# ------------------------------------------------------------------ the file


def test_the_common_shape_with_dagbots_keys_and_variables_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, {"mcpServers": {
        "git": {"command": "mcp-server-git", "args": ["--repository", "${REPO}"], "green": ["git_log"],
                "autoApprove": ["git_commit"], "tools": {"git_log": {"timeout_seconds": 5}}},
        "grafana": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${GRAFANA_TOKEN}"},
                    "trust_annotations": True},
        "legacy": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
        "off": {"command": "x", "disabled": True},
    }})
    config = load_mcp_config(path, {"REPO": "/srv/repo", "GRAFANA_TOKEN": "glsa_s3cr3t_token"})
    assert config.problems == []
    git, grafana, legacy = config.servers
    assert (git.transport, git.args, git.prefix) == ("stdio", ["--repository", "/srv/repo"], "git__")
    assert git.timeout_for("git_log") == 5 and git.timeout_for("git_commit") == 60
    assert grafana.transport == "http" and grafana.headers == {"Authorization": "Bearer glsa_s3cr3t_token"}
    assert legacy.transport == "sse"
    assert set(config.secrets) == {"/srv/repo", "glsa_s3cr3t_token"}


@pytest.mark.parametrize(("document", "expected"), [
    ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
    ({"servers": {}}, 'needs an object "mcpServers"'),
    ({"mcpServers": {"git": {"command": "g", "gren": ["git_log"]}}}, "server 'git', key 'gren': unknown key; "
                                                                    "the keys are: allowed_tools, args"),
    ({"mcpServers": {"git": {"command": "g", "tools": {"git_log": {"timeout": 5}}}}},
     "server 'git', key 'tools.git_log.timeout': unknown key; the keys are: timeout_seconds"),
    ({"mcpServers": {"git": {"command": "g", "timeout_seconds": -1}}},
     "server 'git', key 'timeout_seconds': Input should be greater than 0"),
    ({"mcpServers": {"git": {"command": "g", "url": "http://x"}}}, "server 'git': give either 'command'"),
    ({"mcpServers": {"git": {"args": ["x"]}}}, "server 'git': give either 'command'"),
    ({"mcpServers": {"git": "mcp-server-git"}}, "server 'git': must be an object"),
    ({"mcpServers": {"my git": {"command": "g"}}}, "server 'my git': a server's name must start with a letter"),
    ({"mcpServers": {"a-b": {"command": "g"}, "a_b": {"command": "g"}}}, "server 'a_b': its tools would be named"),
])
def test_each_problem_is_one_line_naming_the_file_the_server_and_the_key(
        tmp_path: Path, document: Any, expected: str) -> None:
    path = write(tmp_path, document)
    problems = load_mcp_config(path, {}).problems
    assert len(problems) == 1
    assert problems[0].startswith(f"DAGBOT_MCP_CONFIG ({path}): ")
    assert expected in problems[0]


def test_a_server_with_a_problem_is_left_out_and_the_others_stay(tmp_path: Path) -> None:
    path = write(tmp_path, {"mcpServers": {"bad": {"command": "g", "green": "git_log"},
                                           "good": {"command": "g"}}})
    config = load_mcp_config(path, {})
    assert [s.name for s in config.servers] == ["good"]
    assert "server 'bad', key 'green': Input should be a valid list" in config.problems[0]


def test_a_missing_variable_is_named_and_no_value_is_ever_quoted(tmp_path: Path) -> None:
    path = write(tmp_path, {"mcpServers": {
        "gh": {"command": "g", "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
        "bad": {"command": "g", "env": {"TOKEN": "${TOKEN}"}, "timeout_seconds": "soon"},
        "dflt": {"command": "g", "env": {"LEVEL": "${LEVEL:-info}"}},
    }})
    config = load_mcp_config(path, {"TOKEN": "tok-value-123456"})
    assert [s.name for s in config.servers] == ["dflt"] and config.servers[0].env == {"LEVEL": "info"}
    assert any("server 'gh', key 'env.GITHUB_TOKEN': environment variable GITHUB_TOKEN is not set" in p
               for p in config.problems)
    assert not any("tok-value-123456" in p for p in config.problems)


def test_the_settings_mask_every_value_the_file_takes_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, {"mcpServers": {"gh": {"url": "https://x/mcp?key=${KEY}",
                                                  "headers": {"Authorization": "Bearer ${TOKEN}"}}}})
    monkeypatch.setenv("TOKEN", "ghp_abcdefghijklmnop")
    monkeypatch.setenv("KEY", "k-1234567890")
    assert secret_values(path) == ["k-1234567890", "ghp_abcdefghijklmnop"]
    assert {"k-1234567890", "ghp_abcdefghijklmnop"} <= set(Settings(DAGBOT_MCP_CONFIG=str(path)).secret_values())
    assert secret_values(tmp_path / "missing.json") == []


# ------------------------------------------------------------------ risk


def server(**keys: Any) -> ServerConfig:
    return ServerConfig.model_validate({"name": "git", "command": "g", **keys})


READ_ONLY = types.ToolAnnotations(readOnlyHint=True)


@pytest.mark.parametrize(("keys", "annotations", "risk", "why"), [
    ({}, None, Risk.RED, "not in mcpServers.git.green (an MCP tool is red unless configured green)"),
    ({}, READ_ONLY, Risk.RED, "declares readOnlyHint, but mcpServers.git.trust_annotations is not set"),
    ({"green": ["git_*"]}, None, Risk.GREEN, "configured green ('git_*' in mcpServers.git.green)"),
    ({"green": ["git_*"], "red": ["git_log"]}, READ_ONLY, Risk.RED, "configured red ('git_log' in"),
    ({"trust_annotations": True}, READ_ONLY, Risk.GREEN, "declares readOnlyHint and mcpServers.git.trust"),
    ({"trust_annotations": True}, None, Risk.RED, "declares no annotations"),
    ({"trust_annotations": True}, types.ToolAnnotations(readOnlyHint=True, destructiveHint=True), Risk.RED,
     "declares readOnlyHint but also destructiveHint"),
    ({"trust_annotations": True}, types.ToolAnnotations(destructiveHint=False), Risk.RED,
     "does not declare readOnlyHint"),
])
def test_risk_fails_closed_and_says_why(keys: dict[str, Any], annotations: types.ToolAnnotations | None,
                                        risk: Risk, why: str) -> None:
    decision = decide_risk(server(**keys), "git_log", annotations)
    assert decision.risk is risk and decision.why.startswith(why)


def test_patterns_that_match_no_tool_are_found() -> None:
    config = server(green=["git_log", "git_stauts"], allowed_tools=["git_*"])
    assert unused_patterns(config, ["git_log", "git_status"]) == ["green 'git_stauts'"]


# ------------------------------------------------------------------ arguments

SCHEMA = {"type": "object", "properties": {
    "repo_path": {"type": "string", "description": "The repository."},
    "max_count": {"type": "integer", "minimum": 1},
    "token": {"type": "string", "writeOnly": True},
}, "required": ["repo_path"], "additionalProperties": False}


def registry_with(schema: dict[str, Any], name: str = "git__git_log") -> ToolRegistry:
    async def call(**kw: Any) -> dict[str, Any]:
        return kw

    registry = ToolRegistry()
    registry.add(SchemaCheckedTool(name=name, description="d", coroutine=call,
                                args_schema=arguments_model(name, schema)), Risk.GREEN)
    return registry


def test_arguments_are_checked_against_the_input_schema_argument_by_argument() -> None:
    registry = registry_with(SCHEMA)
    assert registry.validate_args("git__git_log", {"repo_path": "/r", "max_count": 3}) == {
        "repo_path": "/r", "max_count": 3}
    with pytest.raises(ToolArgumentError) as caught:
        registry.validate_args("git__git_log", {"max_count": 0, "colour": "red", "token": 5})
    message = str(caught.value)
    assert "repo_path: Field required" in message
    assert "max_count: 0 is less than the minimum of 1" in message
    assert "colour: Extra inputs are not permitted" in message
    assert "token: was refused by the tool's own check" in message  # (a secret argument: no value quoted)
    spec = registry.get("git__git_log")
    assert spec.json_schema() == SCHEMA and spec.text_args == {"repo_path", "token"}
    assert spec.secret_args() == {"token"}


@pytest.mark.parametrize("schema", [{"type": "array"}, {"type": "object", "properties": {"a": {"type": 5}}}])
def test_an_unusable_schema_is_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(UnusableSchema):
        arguments_model("t", schema)


async def test_the_tool_is_called_with_the_arguments_given() -> None:
    spec = registry_with(SCHEMA).get("git__git_log")
    assert await spec.tool.ainvoke({"repo_path": "/r"}) == {"repo_path": "/r"}


def test_names_are_python_names_under_the_server_and_descriptions_say_what_returns() -> None:
    assert registry_name("k8s__", "pods.list-all") == "k8s__pods_list_all"
    tool = types.Tool(name="git_log", description="Shows the commit logs", inputSchema={"type": "object"})
    assert describe(tool, "git").startswith("Shows the commit logs. Returns {text, structured?")
    bare = types.Tool(name="x", inputSchema={"type": "object"})
    assert describe(bare, "k8s").startswith("The 'x' tool of MCP server 'k8s'. Returns")


# ------------------------------------------------------------------ results


def result(*content: Any, structured: dict[str, Any] | None = None, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), structuredContent=structured, isError=error)


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def test_text_and_structured_content_are_kept_and_anything_else_described() -> None:
    output = tool_output(result(
        text("line 1"), types.ImageContent(type="image", data="aGVsbG8=", mimeType="image/png"),
        types.EmbeddedResource(type="resource", resource=types.TextResourceContents(
            uri="file:///a.txt", text="from a resource")),
        types.EmbeddedResource(type="resource", resource=types.BlobResourceContents(
            uri="file:///b.bin", blob="AAAA", mimeType="application/octet-stream")),
        types.ResourceLink(type="resource_link", uri="file:///c.log", name="c.log"),
        structured={"ok": True}), 100_000)
    assert output == {
        "text": "line 1\n[resource file:///a.txt]\nfrom a resource",
        "structured": {"ok": True},
        "notes": ["an image (image/png, 5 bytes): not shown",
                  "a binary resource file:///b.bin (application/octet-stream, 3 bytes): not shown",
                  "a link to resource file:///c.log (c.log): not read"],
    }


def test_an_error_result_is_the_tools_error() -> None:
    with pytest.raises(McpToolFailed, match=r"^permission denied$"):
        tool_output(result(text("permission denied"), error=True), 100_000)
    with pytest.raises(McpToolFailed, match="no reason given"):
        tool_output(result(error=True), 100_000)


def test_a_large_result_is_capped_and_says_so() -> None:
    huge = "é" * 3_000_000
    output = tool_output(result(text(huge), structured={"result": huge}), 100_000)
    assert len(json.dumps(output, ensure_ascii=False).encode()) <= 100_000
    assert output["truncated"] is True and "structured" not in output
    assert output["notes"][0].startswith("structured content of 6,000,0")
    assert output["notes"][1].startswith("text cut at ") and "of 6,000,000 bytes" in output["notes"][1]


# ------------------------------------------------------------------ a stdio server's stderr


def test_a_servers_stderr_gives_its_last_lines_and_never_fills_the_disk() -> None:
    import os
    import subprocess

    from infra.tools.mcp.transports import STDERR_TAIL_BYTES, ServerLog

    log = ServerLog()
    try:
        subprocess.run(["sh", "-c", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo line $i of the server >&2; done"],
                       stderr=log.file, check=True)
        assert log.tail(2) == "line 1999 of the server | line 2000 of the server"
        log.trim(10_000)
        assert os.fstat(log.file.fileno()).st_size == STDERR_TAIL_BYTES
        subprocess.run(["sh", "-c", "echo starting again >&2"], stderr=log.file, check=True)
        assert log.tail(2) == "line 2000 of the server | starting again"
    finally:
        log.close()
