"""Package nodes through the whole engine with a real sandbox (every backend of conftest).

Real pieces: the graph and checkpointer (SQLite), the stores, the built-in tools (``http_get``
against a local server, the workspace file tools), the sandbox backend and the reflexion
subgraph. Only the LLM is scripted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agent.engine.engine import ThreadStatus
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    NodeFailed,
    NodeFinished,
    PackageAttempt,
    PlanRepairing,
)
from agent.execution.context import EngineSettings
from agent.ports.sandbox import Sandbox, SandboxLimits
from agent.tools.registry import Risk
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.tools.toolbox import build_registry
from infra.wiring import open_services
from sandbox.reflexion import ReflexionPackageRunner
from tests.agent.harness import Harness, finish
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog

SENTENCE = "Deploy windows are Tuesday and Thursday; the on-call engineer signs off. "
PARAGRAPH = f"<p>{SENTENCE * 4}</p>\n"
PAGE_BYTES = 1_000_000


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """A local server with a 1 MB HTML page of real-looking text."""
    count = PAGE_BYTES // len(PARAGRAPH) + 1
    body = ("<html><head><title>Runbook</title></head><body>\n" + PARAGRAPH * count
            + "</body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/runbook"
    finally:
        server.shutdown()
        server.server_close()


@asynccontextmanager
async def sandboxed_engine(
    sqlite_url: str, workspace: Path, sandbox: Sandbox, replies: list[Any], attempts: int = 3,
    green_tools: Sequence[BaseTool] = (),
) -> AsyncIterator[Harness]:
    settings = Settings(DATABASE_URL=sqlite_url, DAGBOT_WORKSPACE=workspace,
                        DAGBOT_HTTP_ALLOW_HOSTS="*,127.0.0.1")  # the local page server
    llm = ScriptedChatModel(replies=replies)
    limits = SandboxLimits(wall_seconds=20, memory_mb=256)
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=attempts)
    registry = build_registry(settings)
    for tool in green_tools:
        registry.add(tool, Risk.GREEN)
    async with open_services(
        settings, llm=llm, registry=registry, packages=runner,
        engine_config=EngineSettings(decision_poll_seconds=0.2, sandbox_limits=limits),
    ) as services:
        yield Harness(services, llm, ToolLog(), ScriptedPackages(), services.events.open())


DIGEST_CODE = """\
page = tools.http_get(url=URL)
words = page["text"].split()
rules = [line for line in inputs["notes"]["content"].splitlines() if line.strip()]
result = {
    "title": page.get("title"),
    "words": len(words),
    "page_chars": len(page["text"]),
    "summary": f"{page.get('title')}: {len(words)} words; first rule: {rules[0]}",
}
"""


def mixed_plan(url: str) -> dict[str, Any]:
    return {"thought": "two lookups, one fetch-and-digest package, then a write", "nodes": [
        {"id": "notes", "tool": "read_file", "args": {"path": "rules.txt"}},
        {"id": "listing", "tool": "list_files", "args": {"pattern": "*.txt"}},
        {"id": "digest", "depends_on": ["notes"], "package": {
            "goal": "fetch the runbook page and summarise it with the first house rule",
            "code": DIGEST_CODE.replace("URL", repr(url)),
        }},
        {"id": "save", "tool": "write_file", "why": "the user wants the digest kept",
         "args": {"path": "digest.txt", "content": "${digest.summary}"}},
    ]}


async def test_a_plan_mixing_atomic_package_and_red_nodes_runs_end_to_end(
    sqlite_url: str, tmp_path: Path, sandbox: Sandbox, page_url: str,
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "rules.txt").write_text("no Friday deploys\nannounce in #ops\n")
    replies = [mixed_plan(page_url), finish("Saved the runbook digest to digest.txt.")]
    async with sandboxed_engine(sqlite_url, workspace, sandbox, replies) as h:
        await h.engine.ask("mix", "digest the runbook and save it", requested_by="U1")
        # the red write waits for a human; everything green, the package included, is done
        assert await h.engine.status("mix") is ThreadStatus.WAITING
        labels = h.labels()
        for node in ("notes", "listing", "digest"):
            assert f"NodeFinished:{node}" in labels
        assert labels.index("NodeFinished:notes") < labels.index("PackageAttempt:digest")
        assert not (workspace / "digest.txt").exists()
        attempts = [e for e in h.events if isinstance(e, PackageAttempt)]
        assert [(a.attempt, a.error_gist) for a in attempts] == [(1, None)]

        asked = next(e for e in h.events if isinstance(e, AwaitingApproval))
        assert asked.tool == "write_file"
        assert asked.args["content"].startswith("Runbook: ")
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()

        answer = await h.next_event(AnswerReady)
        assert answer.answer == "Saved the runbook digest to digest.txt."
        # http_get's text starts with the page title, then every paragraph
        words = 1 + len(SENTENCE.split()) * 4 * (PAGE_BYTES // len(PARAGRAPH) + 1)
        saved = (workspace / "digest.txt").read_text()
        assert saved == f"Runbook: {words} words; first rule: no Friday deploys"
        assert await h.engine.status("mix") is ThreadStatus.IDLE


async def test_a_package_healed_by_reflexion_feeds_its_dependents(
    sqlite_url: str, tmp_path: Path, sandbox: Sandbox,
) -> None:
    broken = "result = {'total': sum(len(inputs['listing']['files']))}\n"  # TypeError: int not iterable
    fixed = "```python\nresult = {'total': len(inputs['listing']['files']) * 10}\n```"
    plan = {"nodes": [
        {"id": "listing", "tool": "list_files", "args": {"pattern": "*"}},
        {"id": "scale", "depends_on": ["listing"], "package": {"goal": "ten times the file count",
                                                               "code": broken}},
    ]}
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for name in ("a.txt", "b.txt"):
        (workspace / name).write_text("x")
    async with sandboxed_engine(sqlite_url, workspace, sandbox, [plan, fixed, finish("20")]) as h:
        await h.engine.ask("heal", "scale the count")
        scale = next(e for e in h.drain() if isinstance(e, NodeFinished) and e.node_id == "scale")
        assert json.loads(scale.preview) == {"total": 20}
        attempts = [(e.attempt, e.error_gist) for e in h.events if isinstance(e, PackageAttempt)]
        assert attempts[0] == (1, None)
        assert attempts[1][0] == 1 and attempts[1][1] is not None and "TypeError" in attempts[1][1]
        assert attempts[2] == (2, None)
        # the reflexion prompt carried the goal, the old code and the error
        reflexion_prompt = str(h.llm.calls[1][0].content)
        assert "ten times the file count" in reflexion_prompt and broken.strip() in reflexion_prompt
        assert "TypeError" in reflexion_prompt


async def test_package_code_that_does_not_parse_runs_and_is_mended_by_reflexion(
    sqlite_url: str, tmp_path: Path, sandbox: Sandbox,
) -> None:
    broken = "rows = inputs['listing']['files']\nresult = {'count': len(rows), 'note': 'unterminated}\n"

    def plan() -> dict[str, Any]:
        return {"nodes": [
            {"id": "listing", "tool": "list_files", "args": {"pattern": "*"}},
            {"id": "count", "package": {"goal": "count the files", "code": broken}},
        ]}

    fixed = "```python\nresult = {'count': len(inputs['listing']['files'])}\n```"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (workspace / name).write_text("x")
    async with sandboxed_engine(sqlite_url, workspace, sandbox, [plan(), fixed, finish("3 files.")]) as h:
        await h.engine.ask("mend", "count the files")
        # no repair round rewrote the whole plan: the plan ran, and reflexion mended the package
        assert not [e for e in h.events if isinstance(e, PlanRepairing)]
        count = next(e for e in h.drain() if isinstance(e, NodeFinished) and e.node_id == "count")
        assert json.loads(count.preview) == {"count": 3}
        attempts = [(e.attempt, e.error_gist) for e in h.events if isinstance(e, PackageAttempt)]
        assert attempts[1][0] == 1 and "SyntaxError" in str(attempts[1][1])
        assert attempts[-1] == (2, None)
        # its input, read from the code's text, was ready before it ran
        assert "count the files" in str(h.llm.calls[1][0].content)
        assert [e.answer for e in h.events if isinstance(e, AnswerReady)] == ["3 files."]


async def test_a_package_that_keeps_failing_leaves_the_thread_consistent(
    sqlite_url: str, tmp_path: Path, sandbox: Sandbox,
) -> None:
    plan = {"nodes": [
        {"id": "probe", "package": {"goal": "parse the config", "code": "raise ValueError('bad config')\nresult = None"}},
        {"id": "after", "tool": "list_files", "args": {"pattern": "*"}, "depends_on": ["probe"]},
        {"id": "other", "tool": "list_files", "args": {"pattern": "*.md"}},
    ]}
    still_broken = "```python\nraise ValueError('still bad')\nresult = None\n```"  # (runs: it sets result)
    seen: list[str] = []

    def joiner(messages: list[Any]) -> dict[str, Any]:
        seen.append("\n".join(str(m.content) for m in messages))
        return finish("The config could not be parsed.")

    follow_up = {"nodes": [{"id": "again", "tool": "list_files", "args": {"pattern": "*"}}]}
    replies = [plan, still_broken, joiner, follow_up, finish("Listed.")]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with sandboxed_engine(sqlite_url, workspace, sandbox, replies, attempts=2) as h:
        await h.engine.ask("fail", "parse it")
        failed = next(e for e in h.drain() if isinstance(e, NodeFailed) and e.node_id == "probe")
        assert "failed after 2 attempts (limit 2)" in failed.error
        assert "attempt 1/2: ValueError: bad config" in failed.error
        assert "attempt 2/2: ValueError: still bad" in failed.error
        assert "NodeFinished:other" in h.labels()  # the independent branch was not disturbed
        assert "NodeStarted:after" not in h.labels()  # the dependent never ran
        assert "ValueError: still bad" in seen[0]  # the joiner was told why
        assert await h.engine.status("fail") is ThreadStatus.IDLE

        # the thread is usable afterwards: a follow-up plans and runs normally
        await h.engine.ask("fail", "then just list the files")
        answers = [e.answer for e in h.drain() if isinstance(e, AnswerReady)]
        # the joiner's answer did not say why: the failure is added under it (agent/answer/failures.py)
        assert answers[0].startswith("The config could not be parsed.\n\nNot done, and why:\n• `probe` (package")
        assert "ValueError: still bad" in answers[0] and answers[1:] == ["Listed."]


async def count_words(text: str) -> int:
    """Count the words of a text (split on whitespace)."""
    return len(text.split())


COUNT_WORDS = StructuredTool.from_function(coroutine=count_words, name="count_words")


async def test_a_packaged_page_leaves_little_state_while_split_nodes_carry_it(
    sqlite_url: str, tmp_path: Path, sandbox: Sandbox, page_url: str,
) -> None:
    """The same fetch-and-count work, packaged vs split into atomic nodes.

    Packaged: one package node fetches the page and counts its words inside the sandbox.
    Split: an ``http_get`` node fetches the page, a ``count_words`` node counts its words.
    State = the thread's checkpointed graph state plus its rows in the node-result store
    (where large atomic outputs live): everything the engine keeps for the thread.
    """
    count_code = (
        f"page = tools.http_get(url={page_url!r})\n"
        "result = {'words': len(page['text'].split()), 'chars': len(page['text'])}\n"
    )
    packaged = {"nodes": [{"id": "count", "package": {"goal": "count the runbook's words",
                                                      "code": count_code}}]}
    split = {"nodes": [
        {"id": "page", "tool": "http_get", "args": {"url": page_url}},
        {"id": "count", "tool": "count_words", "args": {"text": "${page.text}"}},
    ]}
    workspace = tmp_path / "ws"
    workspace.mkdir()
    replies = [packaged, finish("counted"), split, finish("counted")]
    async with sandboxed_engine(sqlite_url, workspace, sandbox, replies,
                                green_tools=[COUNT_WORDS]) as h:
        await h.engine.ask("packaged", "count the words of the runbook")
        done = next(e for e in h.drain() if isinstance(e, NodeFinished) and e.node_id == "count")
        packaged_result = json.loads(done.preview)
        assert packaged_result["chars"] > 900_000  # the package really processed the whole page
        packaged_bytes = await h.engine.state_bytes("packaged") + await h.services.store.result_bytes("packaged")
        h.events.clear()

        await h.engine.ask("split", "count the words of the runbook, one tool per step")
        finished = {e.node_id: e for e in h.drain() if isinstance(e, NodeFinished)}
        assert set(finished) == {"page", "count"}
        split_words = json.loads(finished["count"].preview)
        split_bytes = await h.engine.state_bytes("split") + await h.services.store.result_bytes("split")

    assert packaged_result["words"] > 100_000
    assert split_words == packaged_result["words"]  # the same work, the same answer
    assert packaged_bytes < 50_000, packaged_bytes
    assert split_bytes > 900_000, split_bytes  # the page itself travels between the split nodes
