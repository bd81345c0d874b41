"""The audit trail: append-only on both databases, retention by the bot's sweeper, `dagbot audit`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from agent.ports.audit import AuditEntry, AuditKind
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.migrate import upgrade
from tests.bot.chat import ALICE

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400.0
NOV_1 = 1_793_491_200.0  # 2026-11-01T00:00Z


def entry(thread: str, kind: AuditKind, at: float, **detail: object) -> AuditEntry:
    return AuditEntry(thread_id=thread, kind=kind, actor=ALICE, detail=dict(detail), run_id="r1", at=at)


async def test_rows_cannot_be_updated_only_pruned(database_url: str) -> None:
    upgrade(database_url)
    db = create_engine(database_url)
    store = SqlStore(db)
    try:
        await store.record(entry("t1", AuditKind.REQUEST, time.time() - 10 * DAY, request="old"))
        await store.record(entry("t1", AuditKind.REQUEST, time.time(), request="new"))
        with pytest.raises(DBAPIError, match="audit rows are append-only"):
            async with db.begin() as conn:
                await conn.execute(text("UPDATE audit_events SET actor = 'someone else'"))
        assert await store.prune(time.time() - DAY) == 1
        assert [e.detail["request"] for e in await store.audit_entries()] == ["new"]
    finally:
        await db.dispose()


def dagbot_audit(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGBOT_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", "audit", *args],
        env={**env, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        capture_output=True, text=True, timeout=60)


@pytest.mark.slow
async def test_dagbot_audit_exports_jsonl_and_csv_filtered_by_time_and_thread(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    db = create_engine(sqlite_url)
    store = SqlStore(db)
    await store.record(entry("slack:T:C:1", AuditKind.REQUEST, NOV_1 - DAY, request="before november"))
    await store.record(entry("slack:T:C:1", AuditKind.REQUEST, NOV_1 + 60, request="deploy, please"))
    await store.record(entry("slack:T:C:1", AuditKind.DECISION, NOV_1 + 120, status="approved",
                             reason='said "yes", twice'))
    await store.record(entry("slack:T:C:2", AuditKind.REQUEST, NOV_1 + 180, request="another thread"))
    await db.dispose()

    jsonl = dagbot_audit(sqlite_url, "--since", "2026-11-01", "--thread", "slack:T:C:1", "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert rows == [
        {"at": "2026-11-01T00:01:00.000Z", "thread": "slack:T:C:1", "run": "r1", "actor": ALICE,
         "kind": "request", "detail": {"request": "deploy, please"}},
        {"at": "2026-11-01T00:02:00.000Z", "thread": "slack:T:C:1", "run": "r1", "actor": ALICE,
         "kind": "decision", "detail": {"status": "approved", "reason": 'said "yes", twice'}},
    ]

    as_csv = dagbot_audit(sqlite_url, "--since", "2026-11-01T00:01:30Z", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["thread"], r["kind"]) for r in table] == [("slack:T:C:1", "decision"), ("slack:T:C:2", "request")]
    assert json.loads(table[0]["detail"]) == {"status": "approved", "reason": 'said "yes", twice'}

    everything = dagbot_audit(sqlite_url, "--until", "2026-11-01")
    assert [json.loads(line)["detail"]["request"] for line in everything.stdout.splitlines()] == [
        "before november"]


def test_dagbot_audit_says_plainly_what_is_wrong(sqlite_url: str) -> None:
    bad_date = dagbot_audit(sqlite_url, "--since", "last tuesday")
    assert bad_date.returncode == 2
    assert "--since 'last tuesday' is not a date: use ISO 8601, e.g. 2026-11-01" in bad_date.stderr
    bad_format = dagbot_audit(sqlite_url, "--format", "xml")
    assert bad_format.returncode == 2 and "use jsonl or csv" in bad_format.stderr
    assert "Traceback" not in bad_date.stderr + bad_format.stderr
