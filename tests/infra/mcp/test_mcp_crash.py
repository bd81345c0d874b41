"""An approved red MCP call, its dagbot process killed (SIGKILL) while the server holds the
call: the effect has happened, the journal says only "started". The next process never calls
it again on its own: the outcome is unknown, the person is asked again (here they reject), and
the effect happened once. The harness is the built-in tools' (tests/agent/test_engine_crash.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent.ports.audit import AuditKind
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from tests.agent.test_engine_crash import wait_for_lines
from tests.infra.mcp.crash_worker import LINE, REJECTED_BECAUSE, THREAD
from tests.infra.mcp.helpers import ROOT


def worker(mode: str, url: str, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.worker", "tests.infra.mcp.crash_worker", mode, url, str(folder)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_servers_left(pids: Path) -> None:
    """The killed process's MCP server, had it outlived it (its stdin closed, it should not)."""
    for pid in pids.read_text().split() if pids.exists() else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


@pytest.mark.slow
async def test_a_red_mcp_call_cut_off_by_kill_9_is_asked_again_never_repeated(
        sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "tools.log"
    first = worker("run", sqlite_url, tmp_path)
    try:
        wait_for_lines(log, {LINE}, first)  # approved, sent, done on the server; no answer yet
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    try:
        second = worker("resume", sqlite_url, tmp_path)
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output.decode()
    finally:
        kill_servers_left(Path(f"{log}.pids"))

    assert log.read_text().splitlines() == [LINE]  # once: the new process did not call it again
    events = [json.loads(line) for line in (tmp_path / "resume.events").read_text().splitlines()]
    [asked] = [e for e in events if e["kind"] == "AwaitingApproval"]
    assert asked["tool"] == "faults__record_and_hold" and "outcome is unknown" in asked["note"]
    assert not [e for e in events if e["kind"] == "NodeStarted" and e["node_id"] == "page"]
    assert events[-1]["kind"] == "AnswerReady" and events[-1]["answer"] == "not paged again"

    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            journal = (await conn.execute(sa.text("SELECT node_id, status FROM executions"))).all()
        trail = await SqlStore(engine).audit_entries(thread_id=THREAD)
    finally:
        await engine.dispose()
    assert [tuple(row) for row in journal] == [("page", "unknown")]
    red = [(e.kind, e.actor, e.detail) for e in trail if e.detail.get("tool") == "faults__record_and_hold"
           or e.detail.get("node_id") == "page"]
    assert [(kind, actor) for kind, actor, _ in red] == [
        (AuditKind.APPROVAL_REQUESTED, "dagbot"), (AuditKind.DECISION, "U-approver"),
        (AuditKind.RED_START, "dagbot"),
        (AuditKind.RED_OUTCOME, "dagbot"),  # written by the second process: the first died mid-call
        (AuditKind.APPROVAL_REQUESTED, "dagbot"), (AuditKind.DECISION, "U-approver")]
    assert red[3][2]["outcome"] == "unknown" and red[2][2]["args"] == {"text": LINE}
    assert REJECTED_BECAUSE in json.dumps(red[5][2])
