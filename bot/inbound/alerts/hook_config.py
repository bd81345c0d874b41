"""What the bot needs to take Alertmanager's notifications: plain values and the group store,
handed down by ``infra`` (from ``DAGBOT_ALERTS_*``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.inbound.alerts.group_threads import AlertGroupThreads
from bot.inbound.alerts.routes import AlertRoutes

MAX_BODY_BYTES = 1_048_576
"""A notification's body larger than this is refused (413): about 2,000 alerts; Alertmanager's
``max_alerts`` in the receiver keeps a group's notification below it."""


@dataclass(frozen=True)
class AlertHookConfig:
    routes: AlertRoutes
    """DAGBOT_ALERTS_FILE: which channel and request each alert group gets."""
    token: str = field(repr=False)
    """DAGBOT_ALERTS_TOKEN: the bearer token Alertmanager sends (``http_config.authorization``);
    empty: only signed notifications are taken."""
    hmac_secret: str = field(default="", repr=False)
    """DAGBOT_ALERTS_HMAC_SECRET: a notification signed with it (``X-Dagbot-Signature``) is taken
    too; empty: none is."""
    pagerduty_secret: str = field(default="", repr=False)
    """DAGBOT_PAGERDUTY_SECRET: the PagerDuty webhook subscription's secret (``POST /hooks/pagerduty``
    is served with it); empty: no PagerDuty hook."""
    runs_per_minute: int = 5
    """DAGBOT_ALERTS_RUNS_PER_MINUTE: runs one route starts at most per minute (the storm limit)."""
    storm_window_seconds: float = 60.0
    """The storm limit's window: ``runs_per_minute`` runs start at most in any such span (shorter
    in tests, which wait for a held run to start)."""
    max_body_bytes: int = MAX_BODY_BYTES
    answer_within_seconds: float = 5.0
    """Longest a notification's answer waits for its work (then 202: it goes on in the background)."""
    claim_retake_seconds: float = 30.0
    """A group whose thread a delivery began to open this long ago and never did (its process
    died) is opened by the next delivery."""

    def __post_init__(self) -> None:
        if not (self.token or self.hmac_secret or self.pagerduty_secret):
            raise ValueError("the alert hook needs a token (DAGBOT_ALERTS_TOKEN), a signing secret "
                             "(DAGBOT_ALERTS_HMAC_SECRET) or PagerDuty's (DAGBOT_PAGERDUTY_SECRET): it takes "
                             "no unauthenticated notification")
        if self.runs_per_minute < 0:
            raise ValueError("DAGBOT_ALERTS_RUNS_PER_MINUTE cannot be negative")

    @property
    def takes_alertmanager(self) -> bool:
        """Is ``POST /hooks/alertmanager`` served (a token or a signing secret is set)?"""
        return bool(self.token or self.hmac_secret)


@dataclass(frozen=True)
class AlertHook:
    """The hook's settings and where it keeps each group's thread."""

    config: AlertHookConfig
    threads: AlertGroupThreads
