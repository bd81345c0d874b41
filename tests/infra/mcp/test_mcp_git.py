"""The official ``mcp-server-git`` over stdio, on a Git repository the test makes: reads are
green when so configured, a commit is red; planned by the engine, the commit waits for
approval, happens exactly once and is audited."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.events import AnswerReady, AwaitingApproval
from agent.ports.audit import AuditKind
from agent.ports.stores import DecisionOutcome
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.tools.mcp.servers import McpServers, open_mcp_servers
from infra.wiring import open_services
from tests.infra.mcp.helpers import next_event, write_config

pytestmark = pytest.mark.xdist_group("mcp_git")
MCP_SERVER_GIT = str(Path(sys.executable).with_name("mcp-server-git"))
GIT = ["git", "-c", "user.name=Dana", "-c", "user.email=dana@example.com"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repository(repo: Path) -> Path:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "notes.txt").write_text("first line\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "Start the notes")
    return repo


def git_config(folder: Path, repo: Path) -> Path:
    return write_config(folder / "mcp.json", {"git": {
        "command": MCP_SERVER_GIT, "args": ["--repository", str(repo)],
        "green": ["git_status", "git_log", "git_diff*"], "timeout_seconds": 20}})


@pytest_asyncio.fixture(scope="module")
async def repository_and_servers(
        tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Path, McpServers, ToolRegistry]]:
    folder = tmp_path_factory.mktemp("git")
    repo = make_repository(folder / "repo")
    registry = ToolRegistry()
    async with open_mcp_servers(git_config(folder, repo), registry) as servers:
        assert servers is not None
        yield repo, servers, registry


async def test_reads_are_green_as_configured_and_a_commit_is_red(
        repository_and_servers: tuple[Path, McpServers, ToolRegistry]) -> None:
    _, servers, registry = repository_and_servers
    for read in ("git__git_status", "git__git_log", "git__git_diff_unstaged"):
        assert registry.risk_of(read) is Risk.GREEN
    assert servers.tools["git__git_log"].decision.why == "configured green ('git_log' in mcpServers.git.green)"
    assert registry.risk_of("git__git_commit") is Risk.RED
    assert servers.tools["git__git_commit"].decision.why.startswith("not in mcpServers.git.green")
    # mcp-server-git declares git_show read-only; this configuration does not trust its word
    assert registry.risk_of("git__git_show") is Risk.RED
    assert "repo_path" in registry.get("git__git_log").json_schema()["properties"]


async def test_log_status_and_diff_read_the_repository(
        repository_and_servers: tuple[Path, McpServers, ToolRegistry]) -> None:
    repo, _, registry = repository_and_servers
    log = await registry.get("git__git_log").tool.ainvoke({"repo_path": str(repo)})
    assert "Start the notes" in log["text"]
    (repo / "notes.txt").write_text("first line\nsecond line\n")
    try:
        status = await registry.get("git__git_status").tool.ainvoke({"repo_path": str(repo)})
        assert "notes.txt" in status["text"]
        diff = await registry.get("git__git_diff_unstaged").tool.ainvoke({"repo_path": str(repo)})
        assert "+second line" in diff["text"]
    finally:
        git(repo, "checkout", "--", "notes.txt")


async def test_a_planned_commit_waits_for_approval_runs_once_and_is_audited(
        tmp_path: Path, sqlite_url: str) -> None:
    repo = make_repository(tmp_path / "repo")
    (repo / "notes.txt").write_text("first line\nthe release is on Friday\n")
    git(repo, "add", "notes.txt")
    plan = {"thought": "look at what is staged, then commit it", "nodes": [
        {"id": "status", "tool": "git__git_status", "args": {"repo_path": str(repo)}},
        {"id": "commit", "tool": "git__git_commit", "depends_on": ["status"],
         "args": {"repo_path": str(repo), "message": "Note the release day"}},
    ]}
    settings = Settings(DATABASE_URL=sqlite_url, DAGBOT_MCP_CONFIG=str(git_config(tmp_path, repo)))
    llm = ScriptedChatModel(replies=[plan, "Committed the release note."])
    async with open_services(settings, llm=llm) as services:
        assert services.mcp is not None and "git__git_commit" in services.registry
        queue = services.events.open()
        await services.engine.submit("t-git", "commit the staged notes", requested_by="U1")
        asked = await next_event(queue, AwaitingApproval)
        assert isinstance(asked, AwaitingApproval) and asked.tool == "git__git_commit"
        assert asked.args == {"repo_path": str(repo), "message": "Note the release day"}
        assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"  # nothing committed yet

        result = await services.engine.decide(asked.approval_id, approved=True, by="U2")
        assert result.outcome is DecisionOutcome.RECORDED
        answer = await next_event(queue, AnswerReady)
        assert isinstance(answer, AnswerReady) and answer.answer == "Committed the release note."
        again = await services.engine.decide(asked.approval_id, approved=True, by="U3")
        assert again.outcome is DecisionOutcome.ALREADY_DECIDED
        await services.engine.idle()

        assert git(repo, "log", "--format=%s").splitlines() == ["Note the release day", "Start the notes"]
        audit = [(e.kind, e.detail.get("tool"), e.detail.get("outcome"))
                 for e in await services.store.audit_entries(thread_id="t-git")]
        assert (AuditKind.RED_START, "git__git_commit", None) in audit
        assert (AuditKind.RED_OUTCOME, "git__git_commit", "finished") in audit
        assert sum(kind is AuditKind.RED_START for kind, _, _ in audit) == 1
