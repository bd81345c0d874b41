"""A process killed mid-run: the next one resumes, re-runs nothing finished, never repeats a red call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def worker(mode: str, url: str, tmp: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker", "tests.agent.crash_worker", mode, url, "crash-thread",
         str(tmp / "tools.log"), str(tmp / f"{mode}.events")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def wait_for_lines(path: Path, wanted: set[str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = set(path.read_text().splitlines()) if path.exists() else set()
        if wanted <= lines:
            return
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.stdout.read().decode() if proc.stdout else ''}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {wanted - lines}")


@pytest.mark.slow
def test_kill_mid_run_then_resume_in_a_new_process(postgres_url: str, tmp_path: Path) -> None:
    first = worker("run", postgres_url, tmp_path)
    try:
        # a and b finished; the slow green node and the approved red call are in flight
        wait_for_lines(tmp_path / "tools.log", {"a:end", "b:end", "slow:start", "deploy:start"}, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    second = worker("resume", postgres_url, tmp_path)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output.decode()

    log = (tmp_path / "tools.log").read_text().splitlines()
    assert log.count("a:start") == 1 and log.count("b:start") == 1  # finished nodes never re-run
    assert log.count("slow:start") == 2  # the in-flight green node ran again
    assert log.count("deploy:start") == 2  # once per approval, the second only after asking again

    events = [json.loads(line) for line in (tmp_path / "resume.events").read_text().splitlines()]
    asked = next(i for i, e in enumerate(events) if e["kind"] == "AwaitingApproval")
    assert "outcome is unknown" in events[asked]["note"]
    deploy_started = next(i for i, e in enumerate(events)
                          if e["kind"] == "NodeStarted" and e["node_id"] == "deploy")
    assert asked < deploy_started  # asked again before running again
    assert events[-1]["kind"] == "AnswerReady" and events[-1]["answer"] == "recovered"

    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT status FROM executions ORDER BY started_at").fetchall()
    assert [r[0] for r in rows] == ["unknown", "finished"]

    # the audit trail tells the whole story, in order, the cut-off call included; the token never shows
    with psycopg.connect(postgres_url) as conn:
        trail = conn.execute("SELECT kind, actor, detail::text FROM audit_events WHERE thread_id = %s "
                             "ORDER BY id", ("crash-thread",)).fetchall()
    red = [(kind, actor, json.loads(detail)) for kind, actor, detail in trail
           if kind not in ("request", "plan") and "deploy" in detail]
    assert [(kind, actor) for kind, actor, _ in red] == [
        ("approval_requested", "dagbot"), ("decision", "U-approver"), ("red_start", "dagbot"),
        ("red_outcome", "dagbot"),  # written by the second process: the first died mid-call
        ("approval_requested", "dagbot"), ("decision", "U-approver"), ("red_start", "dagbot"),
        ("red_outcome", "dagbot")]
    assert red[3][2]["outcome"] == "unknown" and "stopped during the call" in red[3][2]["error"]
    assert red[7][2]["outcome"] == "finished"
    assert red[4][2]["note"] and "outcome is unknown" in red[4][2]["note"]
    assert red[2][2]["args"] == {"target": "prod", "token": "•••• (secret)"}
    assert [kind for kind, _, _ in trail][:2] == ["request", "plan"]
    assert "tok-s3cr3t-42" not in json.dumps(trail)
