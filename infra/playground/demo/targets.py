"""Real local things the demo's tools act on: a website, a workspace of files, a mail sink.

All of them are dagbot's own, on this machine: the website listens on 127.0.0.1 (``http_get``),
the workspace is a directory of sample files (the file tools; a red ``write_file`` changes it),
and the mail sink is an SMTP server on 127.0.0.1 that keeps what ``send_email`` sends.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

SLOW_METRICS_SECONDS = 4.0
"""The metrics page answers slowly, so a green branch is visibly still running while a red
node of the same plan waits for its approval."""

STATUS = {"updated": "2026-11-22T09:55:00Z", "services": [
    {"name": "api", "status": "ok", "p99_ms": 120},
    {"name": "checkout", "status": "degraded", "p99_ms": 870, "note": "p99 above its 400 ms SLO since 09:40"},
    {"name": "search", "status": "ok", "p99_ms": 95},
    {"name": "payments", "status": "ok", "p99_ms": 210},
]}
INCIDENTS = {"open": [
    {"id": "INC-142", "title": "Checkout latency above SLO", "severity": "SEV2", "owner": "maria",
     "opened": "09:42"},
], "resolved_today": 2}
RELEASES = {"releases": [
    {"version": "2.4.0", "date": "2026-11-22", "changes": [
        "Checkout retries payment calls with backoff", "Search ranks recent documents higher",
        "Payment webhooks are no longer delivered twice"], "breaking": ["The /v1/cart endpoint is gone"]},
    {"version": "2.3.2", "date": "2026-11-14", "changes": ["Fix: search pagination"], "breaking": []},
]}
METRICS = {"window": "last 15 minutes", "requests_per_s": 1240, "error_rate_pct": 0.8, "p99_ms": 870}
INDEX = """<!doctype html><html><head><title>Example Corp status</title></head><body>
<h1>Example Corp status</h1><p>Machine-readable pages: /status.json, /incidents.json,
/releases.json, /metrics.json (slow).</p></body></html>"""


def demo_site() -> Starlette:
    async def index(request: Request) -> Response:
        return HTMLResponse(INDEX)

    def page(body: dict[str, Any]) -> Callable[[Request], Any]:
        async def answer(request: Request) -> Response:
            return JSONResponse(body)
        return answer

    async def metrics(request: Request) -> Response:
        await asyncio.sleep(SLOW_METRICS_SECONDS)
        return JSONResponse(METRICS)

    return Starlette(routes=[
        Route("/", index), Route("/status.json", page(STATUS)), Route("/incidents.json", page(INCIDENTS)),
        Route("/releases.json", page(RELEASES)), Route("/metrics.json", metrics),
    ])


ONCALL = """# On-call this week

- Primary: maria (checkout, payments)
- Secondary: dev (search, api)
- Escalation: #ops-escalations, then the engineering manager on duty.
"""
RUNBOOK = """# Checkout latency runbook

1. Check the status page and the open incidents.
2. Look for errors from checkout and payments in logs/app.log.
3. If payments time out, fail over to the secondary payment provider.
"""
_LOG_LINES = [
    ("09:38:02", "INFO", "api", "GET /v2/cart 200 41ms"),
    ("09:40:11", "ERROR", "checkout", "timeout calling payments after 2000ms"),
    ("09:40:12", "WARN", "checkout", "retrying payment call (1/3)"),
    ("09:40:15", "ERROR", "payments", "upstream provider returned 503"),
    ("09:41:03", "ERROR", "checkout", "timeout calling payments after 2000ms"),
    ("09:41:09", "INFO", "search", "reindex finished in 48s"),
    ("09:42:30", "ERROR", "checkout", "order 88412 failed: payment timeout"),
    ("09:43:01", "ERROR", "search", "slow query: 1.9s for 'winter boots'"),
    ("09:44:47", "ERROR", "payments", "webhook signature mismatch"),
    ("09:45:13", "ERROR", "checkout", "timeout calling payments after 2000ms"),
]


def app_log() -> str:
    lines = [f"2026-11-22T{at}Z {level} {service} {message}" for at, level, service, message in _LOG_LINES]
    # A blank line and a wrapped stack-trace line, as real logs have: the demo's first package
    # attempt trips over them and reflexion fixes it.
    lines.insert(4, "")
    lines.insert(8, "    at PaymentClient.call")
    return "\n".join(lines) + "\n"


def create_workspace(root: Path, *, keep_files: bool = False) -> Path:
    """Lay out the demo workspace (again, if it exists: the demo always starts the same).
    ``keep_files``: only add the sample files it lacks (``dagbot ask`` in someone's
    DAGBOT_WORKSPACE, and a conversation's later requests, which read what earlier ones wrote)."""
    root.mkdir(parents=True, exist_ok=True)
    files = {"notes/oncall.md": ONCALL, "runbooks/checkout.md": RUNBOOK, "logs/app.log": app_log()}
    for rel, text in files.items():
        path = root / rel
        if keep_files and path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "releases").mkdir(exist_ok=True)
    if keep_files:
        return root
    for stale in (root / "releases").iterdir():
        if stale.is_file():
            stale.unlink()
    return root


def workspace_files(root: Path, preview_chars: int = 400) -> list[dict[str, Any]]:
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        with path.open("rb") as fh:
            head = fh.read(preview_chars).decode("utf-8", errors="replace")
        files.append({"path": path.relative_to(root).as_posix(), "size": stat.st_size,
                      "modified": stat.st_mtime, "preview": head})
    return files


@dataclass(frozen=True)
class Mail:
    id: str
    sender: str
    to: list[str]
    subject: str
    body: str
    at: float

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("sender")
        return data


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given (aiosmtpd)."""

    def __init__(self, on_mail: Callable[[Mail], None] | None = None) -> None:
        self.mail: list[Mail] = []
        self.on_mail = on_mail
        self.watchers: list[Callable[[Mail], None]] = []
        """Told of each mail too, after ``on_mail``."""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._ids = itertools.count(1)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="dagbot-demo"), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
        body = part.get_content() if part is not None else ""
        mail = Mail(f"M{next(self._ids)}", str(envelope.mail_from or ""), [str(r) for r in envelope.rcpt_tos],
                    str(parsed.get("Subject", "")), str(body), time.time())
        self.mail.append(mail)
        for tell in [self.on_mail, *self.watchers]:
            if tell is not None:
                tell(mail)
        return "250 Message accepted for delivery"
