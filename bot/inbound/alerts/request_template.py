"""A route's request, filled in from the alerts it is about (pure).

``{name}`` stands for the label, else the annotation, of that name: the one value every firing
alert of the group has, or their different values joined (``host1:9100, host2:9100``). Besides
labels and annotations: ``{status}``, ``{receiver}`` and ``{count}`` (the firing alerts). A name
no alert has stays as written (``{instance}``), so the request shows what is missing; nothing
else in the template is read (no ``{0}``, no formatting), so no template can fail.

Values come from whoever sends alerts: each is made one line, without backticks, and clipped,
so that it stays a value inside the sentence the operator wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.inbound.alerts.payload import Notification

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
VALUE_CHARS = 200
"""A value longer than this is clipped (with an ellipsis)."""
MAX_VALUES = 5
"""Different values of one name shown at most (then how many more)."""


def one_line(value: str, limit: int = VALUE_CHARS) -> str:
    """A value from an alert as it may stand inside a sentence: one line, no backticks, clipped."""
    text = " ".join(value.replace("`", "'").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def alert_values(notification: Notification) -> dict[str, str]:
    """What each ``{name}`` stands for in a notification's request."""
    alerts = notification.firing or notification.alerts
    values: dict[str, str] = {}
    for source in ("labels", "annotations"):
        seen: dict[str, list[str]] = {}
        for alert in alerts:
            for key, value in getattr(alert, source).items():
                if value not in seen.setdefault(key, []):
                    seen[key].append(value)
        for key, found in seen.items():
            if key not in values:
                shown = [one_line(v) for v in found[:MAX_VALUES]]
                more = len(found) - len(shown)
                values[key] = ", ".join(shown) + (f" and {more} more" if more else "")
    values.update(status=notification.status, receiver=one_line(notification.receiver),
                  count=str(len(notification.firing)))
    return values


def render_request(template: str, values: Mapping[str, str], runbook: str | None = None) -> str:
    """The request: the template with each known ``{name}`` replaced; then the runbook, if any."""
    request = PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)
    if runbook:
        request += f"\nFollow the runbook {runbook} (a file in the workspace)."
    return request
