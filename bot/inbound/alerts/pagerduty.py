"""PagerDuty's v3 webhooks, read strictly (pure): the signature, the event, and the labels an
incident is routed by.

Each delivery is one event, ``{"event": {"id", "event_type", "resource_type", "occurred_at",
"agent", "data"}}``, signed in ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body with
the subscription's secret>``; while a secret is rotated PagerDuty sends several comma-separated
signatures, and one matching is enough. dagbot reads the incident events (``incident.*``):
``data`` is the incident itself, or (``incident.annotated``, ``incident.responder.added`` …) an
object naming it in ``data.incident``.

An incident is routed like an alert group, by labels made from it (:func:`incident_labels`):
``source`` (``pagerduty``), ``alertname`` and ``title`` (its title), ``service``, ``urgency``,
``priority`` (e.g. ``P1``), ``escalation_policy``, ``status``, ``incident_number``, ``incident_id``
and ``url``. Its thread's row is keyed ``pagerduty:<incident id>`` (:func:`incident_group`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "x-pagerduty-signature"
GROUP_PREFIX = "pagerduty:"
MAX_TEXT_CHARS = 4096
"""A title, a note or a name longer than this is clipped (PagerDuty's own limits are lower)."""


class PagerDutyError(ValueError):
    """Not a PagerDuty v3 webhook event dagbot reads: the message says why, for the sender."""


def signature_matches(header: str | None, body: bytes, secret: str) -> bool:
    """Does one of the header's ``v1=<hex>`` signatures match the body? Constant time each."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    found = False
    for part in (header or "").split(","):
        version, _, given = part.strip().partition("=")
        if version == "v1" and hmac.compare_digest(given.strip().lower().encode(), expected):
            found = True
    return found


class _Reference(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = ""
    summary: str = ""
    html_url: str = ""


class Incident(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    title: str = ""
    number: int | None = None
    status: str = ""
    urgency: str = ""
    html_url: str = ""
    service: _Reference | None = None
    priority: _Reference | None = None
    escalation_policy: _Reference | None = None


class IncidentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    event_type: str = Field(min_length=1, max_length=128)
    resource_type: str = ""
    occurred_at: str = ""
    agent: _Reference | None = None
    incident: Incident
    note: str = ""
    """What an ``incident.annotated`` event's note says (empty for other events)."""

    @property
    def group(self) -> str:
        return incident_group(self.incident.id)

    @property
    def who(self) -> str:
        return self.agent.summary if self.agent is not None else ""


def incident_group(incident_id: str) -> str:
    """The row key of an incident's thread (32 characters at most, as every group's)."""
    key = GROUP_PREFIX + incident_id
    if len(key) <= 32:
        return key
    return GROUP_PREFIX + hashlib.blake2b(incident_id.encode(), digest_size=11).hexdigest()


def _clipped(value: Any) -> Any:
    """Every string in a JSON value, clipped to :data:`MAX_TEXT_CHARS` (nothing else changed)."""
    if isinstance(value, str):
        return value[:MAX_TEXT_CHARS]
    if isinstance(value, dict):
        return {key: _clipped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clipped(item) for item in value]
    return value


def parse_event(body: bytes) -> IncidentEvent | str:
    """The incident event in a body; the event's type when it is no incident event (dagbot leaves
    it alone); or :class:`PagerDutyError` saying what is wrong."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PagerDutyError(f"the body is not JSON ({exc})") from None
    event = data.get("event") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        raise PagerDutyError("the body must be a JSON object with 'event': a PagerDuty v3 webhook payload")
    event_type = event.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise PagerDutyError("event.event_type is missing: not a PagerDuty v3 webhook payload")
    if not event_type.startswith("incident."):
        return event_type
    found = event.get("data")
    if not isinstance(found, dict):
        raise PagerDutyError("event.data is missing: an incident event names its incident there")
    incident = found if found.get("type") in ("incident", "incident_reference") else found.get("incident")
    note = found.get("content") if event_type == "incident.annotated" else ""
    try:
        return IncidentEvent.model_validate(_clipped({**event, "incident": incident, "note": note or ""}))
    except ValidationError as exc:
        problems = [f"event.{_where(error['loc'])}: {error['msg']}" for error in exc.errors()[:5]]
        raise PagerDutyError("not a PagerDuty v3 incident event: " + "; ".join(problems)) from None


def _where(loc: tuple[int | str, ...]) -> str:
    parts = ["data" if part == "incident" else str(part) for part in loc]
    return ".".join(parts) or "(top level)"


def incident_labels(incident: Incident) -> dict[str, str]:
    """What routes match an incident by, and its request is filled in from."""
    labels = {"source": "pagerduty", "alertname": incident.title, "title": incident.title,
              "incident_id": incident.id, "status": incident.status, "urgency": incident.urgency,
              "url": incident.html_url,
              "incident_number": str(incident.number) if incident.number is not None else "",
              "service": incident.service.summary if incident.service else "",
              "priority": incident.priority.summary if incident.priority else "",
              "escalation_policy": incident.escalation_policy.summary if incident.escalation_policy else ""}
    return {key: value for key, value in labels.items() if value}
