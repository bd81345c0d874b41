"""What an alert group's thread says: its root message, new alerts, resolutions, and a run not
started because of the storm limit (pure).

Labels and annotations come from whoever sends alerts: untrusted. They are escaped
(:func:`bot.ground.mrkdwn.escape`), so a value shows as written and nothing in it is parsed: no
mention, no broadcast, no link whose label hides its address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.ground.blocks import (
    SECTION_TEXT_LIMIT,
    Block,
    clip,
    context,
    fit,
    line_sections,
    notification,
    section,
)
from bot.ground.mrkdwn import escape
from bot.views import wording as say
from bot.views.reply_view import Reply

SHOWN_ALERTS = 20
"""Alerts listed in one message at most (then how many more)."""
VALUE_CHARS = 500
"""A label's or annotation's value is clipped to this many characters in a listing."""


class ShownAlert(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def annotations(self) -> Mapping[str, str]: ...

    @property
    def starts_at(self) -> str: ...


def _shown(text: str, limit: int = VALUE_CHARS) -> str:
    """An alert's text as mrkdwn that shows it as written, on one line."""
    return escape(clip(" ".join(text.split()), limit).replace("`", "'"))


def _since(starts_at: str) -> str:
    try:
        started = datetime.fromisoformat(starts_at)
    except ValueError:
        return ""
    return f" since {say.slack_date(started.timestamp())}" if started.year > 1 else ""


def alert_lines(alert: ShownAlert) -> list[str]:
    """One alert: its name and labels on a line, then each annotation quoted."""
    labels = dict(alert.labels)
    name = labels.pop("alertname", "") or "(no alertname)"
    icon = ":red_circle:" if alert.status == "firing" else ":large_green_circle:"
    shown = " · ".join(f"{_shown(key, 100)}=`{_shown(value)}`" for key, value in sorted(labels.items()))
    since = _since(alert.starts_at) if alert.status == "firing" else ""
    lines = [f"{icon} *{_shown(name, 200)}* ({alert.status}{since})" + (f" {shown}" if shown else "")]
    lines += [f">*{_shown(key, 100)}*: {_shown(value)}" for key, value in sorted(alert.annotations.items())]
    return lines


def _listing(alerts: Sequence[ShownAlert], truncated: int = 0) -> list[Block]:
    lines = [line for alert in alerts[:SHOWN_ALERTS] for line in alert_lines(alert)]
    more = len(alerts) - min(len(alerts), SHOWN_ALERTS) + truncated
    blocks = line_sections(lines)
    if more:
        blocks.append(context(f"… and {more} more alert{'s' if more > 1 else ''} in this group"))
    return blocks


def _asked(request: str | None) -> list[Block]:
    """The run's request, quoted (its values came from the alerts: escaped)."""
    if request is None:
        return []
    quoted = "\n".join(f">{line}" for line in escape(clip(request, SECTION_TEXT_LIMIT - 100)).splitlines())
    return [section(f"I'm looking into it:\n{quoted}")]


def _reply(heading: str, blocks: list[Block], footer: str = "") -> Reply:
    tail = [context(footer)] if footer else []
    return Reply(notification(heading), fit([section(heading), *blocks, *tail], keep_last=len(tail)))


def _firing_count(count: int) -> str:
    return f"{count} alert{'s' if count != 1 else ''} firing"


def group_opened(alerts: Sequence[ShownAlert], route: str, request: str | None, *, truncated: int = 0,
                 source: str = "") -> Reply:
    """The root message of a group's thread; ``request``: what its run is asked (None: no run)."""
    firing = sum(1 for alert in alerts if alert.status == "firing") + truncated
    heading = (f":rotating_light: *{_firing_count(firing)}* · alert route `{route}` — reply in this thread "
               "to ask me about it.")
    footer = f"From Alertmanager {_shown(source)}" if source else ""
    return _reply(heading, [*_listing(alerts, truncated), *_asked(request)], footer)


def new_alerts(alerts: Sequence[ShownAlert], request: str | None, *, again: bool) -> Reply:
    """A notification of the group brings alerts its thread has not shown (or fires again);
    ``request``: what the follow-up run is asked (None: no run)."""
    heading = (f":rotating_light: *Firing again: {_firing_count(len(alerts))}*" if again
               else f":rotating_light: *{len(alerts)} more alert{'s' if len(alerts) != 1 else ''} "
                    "firing in this group*")
    return _reply(heading, [*_listing(alerts), *_asked(request)])


def some_resolved(resolved: Sequence[ShownAlert], count: int, still_firing: int) -> Reply:
    """``count`` of the group's alerts resolved (``resolved``: those the notification lists,
    which Alertmanager sends with ``send_resolved``); others still fire."""
    heading = (f":large_green_circle: {count} alert{'s' if count != 1 else ''} of this group resolved; "
               f"{_firing_count(still_firing)}.")
    return _reply(heading, _listing(resolved))


def group_resolved() -> Reply:
    """Every alert of the group resolved: nothing more starts for it (unless it fires again)."""
    text = ":white_check_mark: *Resolved* — every alert of this group has resolved."
    return Reply(text, [section(text)])


def storm_limited(route: str, limit: int) -> Reply:
    """A run the storm limit did not let start: said in the thread, never dropped silently."""
    text = (f":warning: I did not start an investigation: the alert route `{route}` has started {limit} "
            f"run{'s' if limit != 1 else ''} in the last minute, its limit (DAGBOT_ALERTS_RUNS_PER_MINUTE). "
            "Mention me in this thread to investigate.")
    return Reply(text, [section(text)])
