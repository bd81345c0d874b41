"""Alertmanager's webhook payload, version 4 (its ``webhook_config`` receiver), read strictly.

Alertmanager sends one notification per alert group::

    {"version": "4", "groupKey": "{}:{alertname=\\"NodeDown\\"}", "truncatedAlerts": 0,
     "status": "firing", "receiver": "dagbot",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "http://alertmanager:9093",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2024-05-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://prometheus:9090/graph?...", "fingerprint": "a1b2c3d4e5f60718"}]}

``status`` is ``firing`` while any alert of the group fires, ``resolved`` once all have (sent
only with ``send_resolved``). Anything that does not read as such a payload is a
:class:`PayloadError`, whose message says where and what (the hook answers it with 400).
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SUPPORTED_VERSION = "4"
MAX_LABEL_CHARS = 4096
"""A label or annotation value longer than this is not Alertmanager's (it is refused, not cut)."""


class PayloadError(ValueError):
    """Not an Alertmanager webhook payload dagbot reads: the message says why, for the sender."""


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: str = Field(default="", alias="startsAt")
    ends_at: str = Field(default="", alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""
    """Alertmanager's id of the alert (its label set's hash); :attr:`identity` when it sent none."""

    @property
    def identity(self) -> str:
        """The alert's fingerprint, or one made from its labels (the same labels: the same alert)."""
        if self.fingerprint:
            return self.fingerprint
        labels = json.dumps(self.labels, sort_keys=True, separators=(",", ":"))
        return hashlib.blake2b(labels.encode(), digest_size=8).hexdigest()

    @property
    def firing(self) -> bool:
        return self.status == "firing"


class Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: str
    group_key: str = Field(alias="groupKey", min_length=1, max_length=8192)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[Alert] = Field(min_length=1)
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)

    @property
    def firing(self) -> list[Alert]:
        """The alerts of the group that fire now."""
        return [alert for alert in self.alerts if alert.firing]

    @property
    def firing_fingerprints(self) -> frozenset[str]:
        return frozenset(alert.identity for alert in self.firing)


def parse_notification(body: bytes) -> Notification:
    """The notification in a request's body, or :class:`PayloadError` saying what is wrong."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object: Alertmanager's webhook payload")
    version = data.get("version")
    if version != SUPPORTED_VERSION:
        raise PayloadError(f"version {version!r} is not one dagbot reads: it reads Alertmanager's webhook "
                           f"payload version {SUPPORTED_VERSION!r}")
    try:
        notification = Notification.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(error['loc'])}: {error['msg']}" for error in exc.errors()[:5]]
        more = len(exc.errors()) - len(problems)
        raise PayloadError("not an Alertmanager webhook payload: " + "; ".join(problems)
                           + (f"; and {more} more" if more > 0 else "")) from None
    too_long = next((key for alert in notification.alerts for values in (alert.labels, alert.annotations)
                     for key, value in values.items() if len(value) > MAX_LABEL_CHARS), None)
    if too_long is not None:
        raise PayloadError(f"the value of {too_long!r} is longer than {MAX_LABEL_CHARS} characters")
    return notification


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
