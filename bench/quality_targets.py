"""What bench.quality's requests act on, all made here and on this machine: a workspace of
sample files (a log, a YAML, a CSV, Markdown notes: the tuning set's :data:`FILES` here, the
holdout set's in bench/quality_holdout.py), a small website on 127.0.0.1, a mail sink and an SQL
database (SQLite). Each run of a request gets them afresh, so one request's writes never help or
hurt another's."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra.operations.embedded_server import serving
from infra.playground.demo.targets import ONCALL, MailSink, app_log, demo_site

DEPLOY_YAML = """# checkout service deployment
service: checkout
image: registry.example.com/shop/checkout:2.4.0
replicas: 4
resources:
  cpu: 500m
  memory: 512Mi
env:
  PAYMENT_TIMEOUT_MS: "2000"
  LOG_LEVEL: info
"""
ORDERS_CSV = """region,orders,revenue_eur
north,120,15400
south,95,11875
east,210,24150
west,75,9000
"""
RUNBOOK = """# Checkout latency runbook

1. Check the status page and the open incidents.
2. Look for errors from checkout and payments in logs/app.log.
3. If payments time out, fail over to the secondary payment provider (`payctl failover`).
"""
FILES = {
    "logs/app.log": app_log(),
    "deploy.yaml": DEPLOY_YAML,
    "data/orders.csv": ORDERS_CSV,
    "notes/oncall.md": ONCALL,
    "runbooks/checkout-latency.md": RUNBOOK,
}
DEPLOYS = [
    ("api", "3.1.0", "2026-11-21", "ok"),
    ("checkout", "2.4.0", "2026-11-22", "ok"),
    ("search", "1.8.0", "2026-11-22", "failed"),
    ("payments", "5.2.3", "2026-11-20", "ok"),
    ("search", "1.7.9", "2026-11-19", "ok"),
]


def lay_out_workspace(root: Path, files: Mapping[str, str] = FILES) -> None:
    """The sample files (``files``: path → text), and nothing else, under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def create_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("DROP TABLE IF EXISTS deploys")
        db.execute("CREATE TABLE deploys (service TEXT NOT NULL, version TEXT NOT NULL, "
                   "deployed_on TEXT NOT NULL, status TEXT NOT NULL)")
        db.executemany("INSERT INTO deploys VALUES (?, ?, ?, ?)", DEPLOYS)
        db.commit()


def deploy_rows(path: Path) -> list[tuple[str, str, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return list(db.execute("SELECT service, version, deployed_on, status FROM deploys"))


@dataclass
class Targets:
    workspace: Path
    database: Path
    site: str
    mail: MailSink
    files: Mapping[str, str] = field(default_factory=lambda: FILES)
    """The workspace's sample files: path → text (the set's)."""

    def reset(self, root: Path) -> None:
        """A fresh workspace and database under ``root`` and an empty mail sink."""
        self.workspace, self.database = root / "workspace", root / "targets.sqlite"
        lay_out_workspace(self.workspace, self.files)
        create_database(self.database)
        self.mail.mail.clear()

    def file(self, rel: str) -> str | None:
        path = self.workspace / rel
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    def changed_files(self) -> dict[str, str]:
        """Files that are not the sample files as laid out: written by the run."""
        found = {p.relative_to(self.workspace).as_posix(): p
                 for p in self.workspace.rglob("*") if p.is_file()}
        return {rel: p.read_text(encoding="utf-8", errors="replace") for rel, p in found.items()
                if self.files.get(rel) != p.read_text(encoding="utf-8", errors="replace")}


@contextlib.asynccontextmanager
async def open_targets(root: Path, files: Mapping[str, str] = FILES) -> AsyncIterator[Targets]:
    sink = MailSink()
    await sink.start()
    try:
        async with serving(demo_site()) as site:
            targets = Targets(root / "workspace", root / "targets.sqlite", site.rstrip("/"), sink, files)
            targets.reset(root)
            yield targets
    finally:
        await sink.stop()
