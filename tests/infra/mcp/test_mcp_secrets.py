"""Secrets a configuration takes from the environment (``${VAR}``) never reach a log line, an
error or a tool's output, even when a server quotes them: a stdio server that prints its token
to stderr and exits, an HTTP server that cannot be reached at a URL holding a key, and a server
that returns its token or fails quoting it. End to end (the playground: the real bot, the
emulated Slack, a model behind the OpenAI client, a real sandbox): not in a Slack message, a
request to the model, a sandbox's environment or what package code gets from the tool."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import structlog

from agent.tools.masking import MASK
from agent.tools.registry import ToolRegistry
from infra.playground.app import open_playground
from infra.settings import Settings
from infra.tools.mcp.results import McpToolFailed
from infra.tools.mcp.servers import open_mcp_servers
from tests.fakes.openai_server import FakeOpenAI
from tests.infra.mcp.helpers import QUICK_RESTARTS, free_port, stdio_fault_server, write_config
from tests.playground.conftest import ALICE, Channel, Person, text_of

TOKEN = "ghp_0123456789abcdefSECRET"
KEY = "key-9876543210zyxw"


async def test_a_secret_from_the_environment_is_never_logged_or_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("MCP_TEST_KEY", KEY)
    config = write_config(tmp_path / "mcp.json", {
        "leaky": {"command": "sh", "args": ["-c", 'echo "starting with token $GITHUB_TOKEN" >&2; exit 1'],
                  "env": {"GITHUB_TOKEN": "${MCP_TEST_TOKEN}"}, "startup_timeout_seconds": 5, **QUICK_RESTARTS},
        "remote": {"url": f"http://127.0.0.1:{free_port()}/mcp?key=${{MCP_TEST_KEY}}",
                   "headers": {"Authorization": "Bearer ${MCP_TEST_TOKEN}"}, "startup_timeout_seconds": 5,
                   **QUICK_RESTARTS},
    })
    with structlog.testing.capture_logs() as logged:
        async with open_mcp_servers(config, ToolRegistry()) as servers:
            assert servers is not None
            problems = servers.problems
    leaky, remote = problems
    assert leaky.startswith("MCP server 'leaky' is restarting: ")
    assert f"(its stderr: starting with token {MASK})" in leaky  # the server said it: masked
    assert remote.startswith("MCP server 'remote' is restarting: ")
    seen = repr(logged) + repr(problems)
    assert "MCP server did not start" in seen
    assert TOKEN not in seen and KEY not in seen
    assert "ghp_0123456789" not in seen


async def test_a_server_quoting_its_secret_has_it_masked_in_output_and_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    config = write_config(tmp_path / "mcp.json", {"faults": stdio_fault_server(
        tmp_path / "log.txt", env={"FAULT_SERVER_LOG": str(tmp_path / "log.txt"), "API_TOKEN": "${MCP_TEST_TOKEN}"},
        green=["env_var"])})
    registry = ToolRegistry()
    async with open_mcp_servers(config, registry) as servers:
        assert servers is not None
        env_var = registry.get("faults__env_var").tool
        output = await env_var.ainvoke({"name": "API_TOKEN"})
        assert output == {"text": f"API_TOKEN={MASK}", "structured": {"result": f"API_TOKEN={MASK}"}}
        with pytest.raises(McpToolFailed) as failed:
            await env_var.ainvoke({"name": "API_TOKEN", "fail": True})
        assert TOKEN not in str(failed.value) and MASK in str(failed.value)


PEEK = """\
import os
result = {'environ': dict(os.environ), 'via_tool': tools.faults__env_var(name='API_TOKEN')['text']}
"""


@pytest.mark.timeout(120)
async def test_a_secret_never_reaches_slack_the_model_or_a_sandbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    log = tmp_path / "log.txt"
    config = write_config(tmp_path / "mcp.json", {"faults": stdio_fault_server(
        log, env={"FAULT_SERVER_LOG": str(log), "API_TOKEN": "${MCP_TEST_TOKEN}"}, green=["env_var"])})
    plan = {"thought": "read the token three ways", "nodes": [
        {"id": "told", "tool": "faults__env_var", "args": {"name": "API_TOKEN"}},
        {"id": "refused", "tool": "faults__env_var", "args": {"name": "API_TOKEN", "fail": True}},
        {"id": "peek", "package": {"goal": "look at the sandbox's environment", "code": PEEK}},
    ]}
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path}/dagbot.sqlite", DAGBOT_PLAYGROUND_DIR=tmp_path / "pg",
                        OPENAI_API_KEY="sk-test", SLACK_BOT_TOKEN=None, SLACK_SIGNING_SECRET=None,
                        SLACK_APP_TOKEN=None, DAGBOT_APPROVERS="", DAGBOT_MCP_CONFIG=str(config))
    with FakeOpenAI([plan, "Looked at the token."]) as model, structlog.testing.capture_logs() as logged:
        async with open_playground(settings.model_copy(update={"openai_base_url": model.url})) as playground, \
                httpx.AsyncClient(timeout=30) as http:
            channel = Channel(playground)
            await Person(playground, http, ALICE).send("/agent show me the API token")
            root = await channel.root_for("show me the API token")
            assert "Looked at the token." in text_of(await channel.answer_in(root))
            plan_text = await channel.final_plan(root)
            slack = repr(playground.slack.messages) + repr(playground.slack.calls) + plan_text
    assert "[complete] told: faults__env_var" in plan_text and "[complete] peek" in plan_text
    assert "[error] refused: faults__env_var" in plan_text
    joiner = json.dumps(model.received[-1].body, ensure_ascii=False)  # the results, as the model read them
    environ = joiner[joiner.index('\\"environ\\"'):joiner.index('\\"via_tool\\"')]
    assert '\\"HOSTNAME\\": \\"sandbox\\"' in environ and "TOKEN" not in environ  # the sandbox's, whole
    assert f'\\"via_tool\\": \\"API_TOKEN={MASK}\\"' in joiner  # the package got it masked
    for seen in (slack, repr([r.body for r in model.received]), repr(logged)):
        assert TOKEN not in seen and "ghp_0123456789" not in seen
