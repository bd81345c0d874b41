"""`dagbot ask` end to end: real ChatOpenAI against a local fake OpenAI server, real tools, y/n."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.model.output_probe import PROBE_NAME
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
PLAN = {"thought": "read the notes, then write the copy once approved", "nodes": [
    {"id": "notes", "tool": "read_file", "args": {"path": "notes.txt"}},
    {"id": "files", "tool": "list_files", "args": {"pattern": "*.txt"}},
    {"id": "copy", "tool": "write_file", "why": "the user asked for a copy",
     "args": {"path": "copy.txt", "content": "${notes.content}"}},
]}


def run_ask(tmp_path: Path, fake: FakeOpenAI, answer: str, *extra: str,
            database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "sk-test-secret",
           "DATABASE_URL": database_url or f"sqlite:///{tmp_path}/dagbot.sqlite",
           "DAGBOT_WORKSPACE": str(tmp_path / "ws"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", "ask", *extra],
        input=answer, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_ask_prints_events_and_asks_before_writing(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("remember the milk\n")
    with FakeOpenAI([PLAN, "Copied the notes to copy.txt."], json_schema=False) as fake:
        done = run_ask(tmp_path, fake, "y\n", "copy my notes", "--thread", "cli-1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "• copy: write_file  ← notes" in out
    assert "? approve write_file(" in out and "[y/N]" in out
    assert out.index("✔ notes:") < out.index("? approve write_file")
    assert "Copied the notes to copy.txt." in out
    assert (tmp_path / "ws" / "copy.txt").read_text() == "remember the milk\n"
    assert "sk-test-secret" not in out + done.stderr
    # asked at start, the server refused a reply held to a JSON schema (DAGBOT_PLAN_OUTPUT=auto),
    # so the real client sent the forced tool call with our plan schema
    assert fake.requests[0]["response_format"]["json_schema"]["name"] == PROBE_NAME
    assert fake.requests[1]["tool_choice"]["function"]["name"] == "plan"
    # and the joiner's request offered `replan`, answering in text unless it calls it
    assert fake.requests[-1]["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in fake.requests[-1]["tools"]] == ["replan"]


def test_a_server_that_holds_replies_to_a_schema_gets_the_plan_held_to_its_schema(tmp_path: Path) -> None:
    """DAGBOT_PLAN_OUTPUT=auto (the default) with OPENAI_BASE_URL alone: one probe at start, then
    the plan asked for as text held to the plan's JSON schema, with no tool offered (issue 43)."""
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("remember the milk\n")
    with FakeOpenAI([PLAN, "Copied the notes to copy.txt."]) as fake:
        done = run_ask(tmp_path, fake, "y\n", "copy my notes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "ws" / "copy.txt").read_text() == "remember the milk\n"
    probe, planner = fake.requests[0], fake.requests[1]
    assert probe["response_format"]["json_schema"]["name"] == PROBE_NAME
    assert planner["response_format"]["json_schema"]["name"] == "plan"
    assert "tools" not in planner and "tool_choice" not in planner


@pytest.mark.slow
def test_ask_answering_no_rejects_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("secret plans\n")
    with FakeOpenAI([PLAN, "You declined the copy."]) as fake:
        done = run_ask(tmp_path, fake, "n\n", "copy my notes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "⛔ copy: rejected" in done.stdout
    assert not (tmp_path / "ws" / "copy.txt").exists()
    assert "follow up with: dagbot ask --thread cli:" in done.stderr


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SANDBOX_"))}
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", *args],
        env={**base, "DATABASE_URL": f"sqlite:///{tmp_path}/dagbot.sqlite", "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_ask_without_a_model_runs_the_demo_model(tmp_path: Path) -> None:
    request = "How are our services doing? Check the status page, the open incidents and who is on call."
    done = run_cli(tmp_path, {"OPENAI_API_KEY": ""}, "ask", request)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo model: it only knows the example requests; run `make model`" in done.stderr
    assert "checkout: degraded" in done.stdout and "INC-142" in done.stdout  # the Markdown, rendered
    assert "**" not in done.stdout
    assert "Traceback" not in done.stderr


def test_ask_with_an_unknown_sandbox_backend_names_the_choices(tmp_path: Path) -> None:
    done = run_cli(tmp_path, {"OPENAI_API_KEY": "sk-x", "SANDBOX_BACKEND": "firecracker"}, "ask", "hello")
    assert done.returncode == 2
    assert "unknown sandbox backend 'firecracker'" in done.stderr
    assert "auto, docker, bwrap" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_follow_up_in_a_second_process_continues_the_thread(tmp_path: Path, database_url: str) -> None:
    """`dagbot ask --thread KEY` twice, as the README shows: two processes, one thread. The second
    used to print nothing and never return (its request stayed queued behind the first run's
    lease); it runs, and its planner sees the first request in the thread (issue 43)."""
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("remember the milk\n")
    read = {"nodes": [{"id": "notes", "tool": "read_file", "args": {"path": "notes.txt"}}]}
    with FakeOpenAI([read, "The notes say: remember the milk.", read, "Still the milk."]) as fake:
        first = run_ask(tmp_path, fake, "", "what do my notes say", "--thread", "k1", "--yes",
                        database_url=database_url)
        second = run_ask(tmp_path, fake, "", "and now?", "--thread", "k1", "--yes",
                         database_url=database_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "remember the milk" in first.stdout and "Still the milk." in second.stdout
    planners = [r for r in fake.requests if r.get("response_format", {}).get("json_schema", {}).get("name") == "plan"]
    assert len(planners) == 2
    assert "what do my notes say" in json.dumps(planners[1]["messages"])  # the thread went on
