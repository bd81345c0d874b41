"""What the alert benchmark's ``dagbot serve`` talks to, apart from Slack and the database.

- :func:`storm`: the alerts, spread over alert groups (one ``alertname`` each) and two routes;
  :func:`routes_file`: those routes, as ``DAGBOT_ALERTS_FILE`` reads them.
- :class:`Alertmanager`: Debian's real ``prometheus-alertmanager`` in a process of its own,
  grouping by ``alertname`` and delivering to the hook with the bearer token, its timers short
  (``group_wait`` 1 s, ``group_interval`` 1 s) so that a 10 s storm is delivered as it arrives,
  one notification per group and second while the group changes, instead of after the 30 s and
  5 min a production configuration waits.
- :class:`HookRecorder`: between Alertmanager and dagbot's hook, on a thread of its own (so the
  emulated Slack's work on the benchmark's loop never delays its clock): it forwards each
  notification and times dagbot's answer, as Alertmanager waits for it, plus one local hop.
- :class:`AlertModel`: the model, stateless like bench.cluster's: a plan of one green
  ``http_get`` (alert routes are read-only), then an answer naming the alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.cluster_fakes import FakeModel, latest_request
from bench.common import free_port
from infra.emulators.asgi_server import ThreadedServer

HOOK_PATH = "/hooks/alertmanager"
ROUTE_CHANNELS = {"nodes": "C0NODES", "services": "C0SERVICES"}
"""The two routes and their channels: groups named ``Node…`` go to ``nodes``, the rest to ``services``."""
GROUP_WAIT_S = 1
GROUP_INTERVAL_S = 1


def group_names(groups: int) -> list[str]:
    """One ``alertname`` per group, every other one for each route."""
    return [f"{'Node' if g % 2 == 0 else 'Service'}Alert{g:02d}" for g in range(groups)]


def storm(alerts: int, groups: int) -> list[dict[str, Any]]:
    """``alerts`` alerts (labels and annotations), dealt to ``groups`` groups in turn, each on a
    host of its own."""
    names = group_names(groups)
    return [{"labels": {"alertname": names[i % groups], "instance": f"host{i:03d}:9100", "job": "node",
                        "severity": "critical" if i % 3 == 0 else "warning"},
             "annotations": {"summary": f"{names[i % groups]} on host{i:03d}"}} for i in range(alerts)]


def routes_file(where: Path) -> Path:
    path = where / "alerts.yml"
    path.write_text(f"""routes:
  - name: nodes
    match_re: {{alertname: "Node.*"}}
    channel: {ROUTE_CHANNELS["nodes"]}
    request: "Investigate {{alertname}} on {{instance}}: {{summary}}"
  - name: services
    channel: {ROUTE_CHANNELS["services"]}
    request: "Look into {{alertname}} ({{severity}}) on {{instance}}"
""")
    return path


# ------------------------------------------------------------------ Alertmanager


def alertmanager_binary() -> str:
    """Debian names it prometheus-alertmanager; upstream's tarball, alertmanager."""
    binary = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if binary is None:
        raise SystemExit("bench.alerts needs Alertmanager: apt-get install prometheus-alertmanager "
                         "(make test installs it)")
    return binary


class Alertmanager:
    """``prometheus-alertmanager`` delivering every group to ``hook_url`` with ``token``."""

    def __init__(self, binary: str, where: Path, hook_url: str, token: str) -> None:
        self.where = where
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (where / "alertmanager.yml").write_text(f"""route:
  receiver: dagbot
  group_by: [alertname]
  group_wait: {GROUP_WAIT_S}s
  group_interval: {GROUP_INTERVAL_S}s
  repeat_interval: 1h
receivers:
  - name: dagbot
    webhook_configs:
      - url: {hook_url}
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            credentials: {token}
""")
        self.command = [binary, f"--config.file={where / 'alertmanager.yml'}",
                        f"--storage.path={where / 'alertmanager'}",
                        f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
                        "--log.level=warn"]
        self.process: asyncio.subprocess.Process | None = None
        self.client = httpx.AsyncClient(base_url=self.url, timeout=10)

    @property
    def log(self) -> Path:
        return self.where / "alertmanager.log"

    async def start(self) -> None:
        with self.log.open("wb") as log:  # (the child keeps its own descriptor)
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdout=asyncio.subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"Alertmanager exited: {self.log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if (await self.client.get("/-/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.02)
        raise RuntimeError("Alertmanager did not get ready in 20 s")

    async def post(self, alerts: list[dict[str, Any]], *, ended: bool = False) -> None:
        """Post alerts to its API v2, starting now (or ended now)."""
        now = datetime.now(UTC).isoformat()
        body = [{**alert, ("endsAt" if ended else "startsAt"): now} for alert in alerts]
        answer = await self.client.post("/api/v2/alerts", json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"Alertmanager refused the alerts: {answer.status_code} {answer.text}")

    async def stop(self) -> None:
        await self.client.aclose()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)

    def errors(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if "level=error" in line]


# ------------------------------------------------------------------ the hook's recorder


@dataclass(frozen=True)
class Delivery:
    """One notification as Alertmanager delivered it, and dagbot's answer."""

    at: float
    """When it arrived (``time.monotonic()``)."""
    ms: float
    """Until dagbot's answer (what Alertmanager waits for)."""
    status: int
    """dagbot's HTTP status (0: no answer)."""
    outcome: str
    thread: str
    """The engine's thread id of the group's thread, as dagbot's answer says it (``slack:T:C:ts``)."""
    group: str
    """The group's ``alertname``."""
    notification: str
    """``firing`` or ``resolved``."""
    firing: frozenset[str]
    """The instances of the group's firing alerts."""


@dataclass
class HookRecorder:
    upstream: str
    """dagbot's address."""
    deliveries: list[Delivery] = field(default_factory=list)
    in_flight: int = 0
    _client: httpx.AsyncClient | None = None
    _server: ThreadedServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}{HOOK_PATH}"

    def start(self) -> None:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(base_url=self.upstream, timeout=60) as client:
                self._client = client
                yield

        self._server = ThreadedServer(Starlette(routes=[Route(HOOK_PATH, self.forward, methods=["POST"])],
                                                lifespan=lifespan))
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    async def forward(self, request: Request) -> Response:
        started = time.monotonic()
        self.in_flight += 1
        try:
            body = await request.body()
            headers = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type")}
            assert self._client is not None
            try:
                answer = await self._client.post(HOOK_PATH, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self._record(started, body, 0, {"error": str(exc)})
                return Response(status_code=502)
            try:
                said = answer.json()
            except ValueError:
                said = {}
            self._record(started, body, answer.status_code, said)
            return Response(answer.content, status_code=answer.status_code, media_type="application/json")
        finally:
            self.in_flight -= 1

    def _record(self, started: float, body: bytes, status: int, said: dict[str, Any]) -> None:
        ms = (time.monotonic() - started) * 1000
        payload = json.loads(body)
        alerts = payload.get("alerts") or []
        self.deliveries.append(Delivery(
            at=started, ms=ms, status=status, outcome=str(said.get("outcome", "")),
            thread=str(said.get("thread") or ""),
            group=str((payload.get("groupLabels") or {}).get("alertname", "")),
            notification=str(payload.get("status", "")),
            firing=frozenset(a["labels"].get("instance", "") for a in alerts if a.get("status") == "firing")))


# ------------------------------------------------------------------ the model


class AlertModel(FakeModel):
    """Plans one green read of the site per alert run; answers naming the alert."""

    def plan(self, request: str) -> dict[str, Any]:
        return {"thought": "read the host's status page",
                "nodes": [{"id": "status", "tool": "http_get",
                           "args": {"url": f"{self.site_url}/slow?ms=200&key=alert"}}]}

    def reply(self, role: str, messages: list[dict[str, Any]]) -> dict[str, Any] | str:
        if role == "joiner":
            return f"investigated: {latest_request(messages)[:80]}"
        return super().reply(role, messages)
