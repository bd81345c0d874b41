"""The playground's alert hook and its test alert: the page's "Fire a test alert" button.

Unless DAGBOT_ALERTS_FILE names routes of the operator's, the playground writes a routes file of
its own (``alerts.yml`` in its directory: one route, taking every alert group to its channel)
and makes a token for the run (DAGBOT_ALERTS_TOKEN's, when that is set), so that the bot serves
``POST /hooks/alertmanager`` as ``dagbot serve`` does (:mod:`infra.cli.alert_hook`).

:class:`TestAlert` is what the button sends: Alertmanager's webhook payload (version 4,
:mod:`bot.inbound.alerts.payload`) for one alert, ``CheckoutLatencyHigh``, firing and then
resolved, POSTed to the bot's hook with the bearer token (or signed, where only
DAGBOT_ALERTS_HMAC_SECRET is set), as Alertmanager's webhook receiver sends it. Each firing is a
new alert group, so each opens a thread of its own; Resolve resolves the newest.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from bot.inbound.alerts.hook import SIGNATURE_HEADER, body_signature
from bot.inbound.alerts.hook_config import AlertHookConfig
from infra.playground.standin import CHANNELS
from infra.settings import Settings

ROUTES_FILE = "alerts.yml"
ROUTE_NAME = "playground"
REQUEST = "Investigate {alertname} on {instance}: {summary}"
ROUTES = f"""\
# The playground's alert routes (written at each start; DAGBOT_ALERTS_FILE names yours instead).
routes:
  - name: {ROUTE_NAME}                  # no match: every alert group comes here
    channel: {next(iter(CHANNELS))}
    request: "{REQUEST}"
    read_only: true                     # its runs use green (read-only) tools only
"""
ALERT_NAME = "CheckoutLatencyHigh"
LABELS = {"alertname": ALERT_NAME, "instance": "checkout-1:9100", "service": "checkout", "severity": "page"}
ANNOTATIONS = {"summary": "checkout p99 is 870 ms, above its 400 ms SLO",
               "description": "The 99th percentile of checkout's request latency has been above 400 ms "
                              "for 5 minutes."}
NOT_ENDED = "0001-01-01T00:00:00Z"
"""Alertmanager's ``endsAt`` of an alert that still fires."""


def with_alert_hook(settings: Settings) -> Settings:
    """The settings with the playground's own routes and a token, unless DAGBOT_ALERTS_FILE is set."""
    if settings.alerts_file is not None:
        return settings
    settings.playground_dir.mkdir(parents=True, exist_ok=True)
    routes = settings.playground_dir / ROUTES_FILE
    routes.write_text(ROUTES, encoding="utf-8")
    given = settings.alerts_token.get_secret_value().strip() if settings.alerts_token else ""
    return settings.model_copy(update={"alerts_file": routes,
                                       "alerts_token": SecretStr(given or secrets.token_hex(16))})


def notification(group: str, status: str, starts_at: str, ends_at: str = NOT_ENDED) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) for the test alert of the group ``group``."""
    alert = {"status": status, "labels": LABELS, "annotations": ANNOTATIONS, "startsAt": starts_at,
             "endsAt": ends_at, "generatorURL": "http://prometheus.example:9090/graph?g0.expr=checkout_p99",
             "fingerprint": hashlib.blake2b(group.encode(), digest_size=8).hexdigest()}
    return {"version": "4", "groupKey": f'{{}}:{{alertname="{ALERT_NAME}", test="{group}"}}',
            "truncatedAlerts": 0, "status": status, "receiver": "dagbot",
            "groupLabels": {"alertname": ALERT_NAME}, "commonLabels": LABELS,
            "commonAnnotations": ANNOTATIONS, "externalURL": "http://alertmanager.example:9093",
            "alerts": [alert]}


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TestAlert:
    """Fires the test alert at the bot's hook, and resolves it; what the hook answered comes back."""

    __test__ = False  # (not a test class, whatever pytest thinks of its name)

    def __init__(self, config: AlertHookConfig, clock: Any = time.time) -> None:
        self.config = config
        self.clock = clock
        self.hook_url = ""
        """The bot's ``POST /hooks/alertmanager`` (known once the bot serves)."""
        self.firing: tuple[str, float] | None = None
        """The newest test group that fires: its id and when it started."""

    @property
    def available(self) -> bool:
        """Does the bot take Alertmanager's notifications (a token or a signing secret)?"""
        return self.config.takes_alertmanager

    def state(self) -> dict[str, Any]:
        """What the page's button shows."""
        return {"hook": self.available, "firing": self.firing is not None, "alertname": ALERT_NAME}

    async def fire(self) -> dict[str, Any]:
        group, started = secrets.token_hex(4), self.clock()
        answer = await self.send(notification(group, "firing", _stamp(started)))
        if answer["status"] in (200, 202):
            self.firing = (group, started)
        return answer

    async def resolve(self) -> dict[str, Any]:
        if self.firing is None:
            return {"status": None, "outcome": "nothing_firing"}
        group, started = self.firing
        payload = notification(group, "resolved", _stamp(started), _stamp(self.clock()))
        payload["alerts"][0]["status"] = "resolved"
        answer = await self.send(payload)
        if answer["status"] in (200, 202):
            self.firing = None
        return answer

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to the hook as Alertmanager does; the hook's status and answer."""
        body = httpx.Request("POST", "http://x", json=payload).content
        headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager (the dagbot playground)"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        else:
            headers[SIGNATURE_HEADER] = "sha256=" + body_signature(self.config.hmac_secret, body)
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(self.hook_url, content=body, headers=headers)
        try:
            answer = response.json()
        except ValueError:
            answer = {"error": response.text[:200]}
        answer = answer if isinstance(answer, dict) else {}
        _, channel, ts = ["", "", *str(answer.get("thread", "")).rsplit(":", 2)][-3:]  # slack:T:C:ts
        return {**answer, "status": response.status_code, "payload": payload,
                **({"channel": channel, "ts": ts} if ts else {})}
