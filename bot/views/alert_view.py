"""What an alert group's thread says: its root message, new alerts, resolutions, and a run not
started because of the storm limit; and the summary a storm gets in its route's channel (pure).

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
from bot.ground.threads import permalink
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


def _asked(request: str | None, queued: bool = False) -> list[Block]:
    """The run's request, quoted (its values came from the alerts: escaped); ``queued``: it
    waits for the route's storm limit."""
    if request is None:
        return []
    quoted = "\n".join(f">{line}" for line in escape(clip(request, SECTION_TEXT_LIMIT - 100)).splitlines())
    lead = ("I'll look into it as soon as this alert route's storm limit lets me (queued):" if queued
            else "I'm looking into it:")
    return [section(f"{lead}\n{quoted}")]


def _reply(heading: str, blocks: list[Block], footer: str = "") -> Reply:
    tail = [context(footer)] if footer else []
    return Reply(notification(heading), fit([section(heading), *blocks, *tail], keep_last=len(tail)))


def _firing_count(count: int) -> str:
    return f"{count} alert{'s' if count != 1 else ''} firing"


def group_opened(alerts: Sequence[ShownAlert], route: str, request: str | None, *, truncated: int = 0,
                 source: str = "", queued: bool = False) -> Reply:
    """The root message of a group's thread; ``request``: what its run is asked (None: no run;
    ``queued``: it waits for the storm limit)."""
    firing = sum(1 for alert in alerts if alert.status == "firing") + truncated
    heading = (f":rotating_light: *{_firing_count(firing)}* · alert route `{route}` — reply in this thread "
               "to ask me about it.")
    footer = f"From Alertmanager {_shown(source)}" if source else ""
    return _reply(heading, [*_listing(alerts, truncated), *_asked(request, queued)], footer)


def new_alerts(alerts: Sequence[ShownAlert], request: str | None, *, again: bool,
               queued: bool = False) -> Reply:
    """A notification of the group brings alerts its thread has not shown (or fires again);
    ``request``: what the follow-up run is asked (None: no run)."""
    heading = (f":rotating_light: *Firing again: {_firing_count(len(alerts))}*" if again
               else f":rotating_light: *{len(alerts)} more alert{'s' if len(alerts) != 1 else ''} "
                    "firing in this group*")
    return _reply(heading, [*_listing(alerts), *_asked(request, queued)])


def some_resolved(resolved: Sequence[ShownAlert], count: int, still_firing: int) -> Reply:
    """``count`` of the group's alerts resolved (``resolved``: those the notification lists,
    which Alertmanager sends with ``send_resolved``); others still fire."""
    heading = (f":large_green_circle: {count} alert{'s' if count != 1 else ''} of this group resolved; "
               f"{_firing_count(still_firing)}.")
    return _reply(heading, _listing(resolved))


def group_resolved(withdrawn: int = 0, *, what: str = "every alert of this group has resolved") -> Reply:
    """Every alert of the group resolved (or ``what`` else ended it): its alert session ends,
    nothing more starts for it unless it fires again; ``withdrawn``: waiting runs dropped."""
    text = (f":white_check_mark: *Resolved* — {what}. I start nothing more for it unless it fires again"
            + (f"; {withdrawn} investigation{'s' if withdrawn != 1 else ''} still waiting to start "
               f"{'were' if withdrawn != 1 else 'was'} withdrawn" if withdrawn else "")
            + ". Reply in this thread to ask me about it.")
    return Reply(text, [section(text)])


def storm_limited(route: str) -> Reply:
    """A run not started because the storm limit is 0: said in the thread, never dropped silently."""
    text = (f":warning: I did not start an investigation: alerts start no run "
            f"(DAGBOT_ALERTS_RUNS_PER_MINUTE is 0), for the alert route `{route}` as for every route. "
            "Mention me in this thread to investigate.")
    return Reply(text, [section(text)])


class HeldRun(Protocol):
    """A run the storm limit held back, as its route's storm summary lists it."""

    @property
    def channel(self) -> str: ...

    @property
    def root_ts(self) -> str: ...

    @property
    def request(self) -> str: ...


HELD_STATES = {"waiting": ":hourglass_flowing_sand: waiting", "started": ":arrow_forward: started",
               "resolved": ":white_check_mark: resolved before it started",
               "not_started": ":x: not started (Slack refused its status message)"}
SHOWN_HELD = 25
"""Held runs listed in one storm summary at most (then how many more)."""


def storm_summary(route: str, limit: int, held: Sequence[tuple[HeldRun, str]], *, over: bool) -> Reply:
    """The one message a storm of a route gets in its channel: each run the storm limit held
    back (oldest first, with its state: a key of :data:`HELD_STATES`) and its thread; ``over``:
    none waits any more."""
    count = len(held)
    groups = f"{count} alert group{'s' if count != 1 else ''}"
    waiting = sum(1 for _, state in held if state == "waiting")
    if over:
        heading = (f":white_check_mark: *The storm of the alert route `{route}` is over*: {groups} "
                   f"{'were' if count != 1 else 'was'} queued past its limit; none waits any more.")
    else:
        heading = (f":hourglass_flowing_sand: *{groups} queued for `{route}`* ({waiting} waiting): past its "
                   f"storm limit of {limit} run{'s' if limit != 1 else ''} a minute "
                   "(DAGBOT_ALERTS_RUNS_PER_MINUTE), each starts in its thread as the limit allows.")
    lines = [f"• <{permalink(run.channel, run.root_ts)}|{_shown(run.request, 100)}> — {HELD_STATES[state]}"
             for run, state in held[:SHOWN_HELD]]
    more = count - len(lines)
    tail = [context(f"… and {more} more")] if more else []
    return Reply(notification(heading), fit([section(heading), *line_sections(lines), *tail],
                                            keep_last=len(tail)))


# ------------------------------------------------------------------ PagerDuty incidents

INCIDENT_EVENTS = {"incident.acknowledged": ":eyes: *Acknowledged* in PagerDuty",
                   "incident.unacknowledged": ":eyes: *Unacknowledged* in PagerDuty",
                   "incident.annotated": ":memo: *A note* in PagerDuty",
                   "incident.reassigned": ":busts_in_silhouette: *Reassigned* in PagerDuty",
                   "incident.escalated": ":arrow_up: *Escalated* in PagerDuty",
                   "incident.delegated": ":busts_in_silhouette: *Delegated* in PagerDuty",
                   "incident.priority_updated": ":label: *Priority changed* in PagerDuty",
                   "incident.responder.added": ":raising_hand: *A responder was added* in PagerDuty",
                   "incident.status_update_published": ":loudspeaker: *A status update* in PagerDuty"}


def _link(url: str, label: str) -> str:
    """A link to PagerDuty (its own address, from a signed event), or the label alone."""
    safe = url.startswith("https://") and not any(c in url for c in "|<> \n")
    return f"<{url}|{label}>" if safe else label


def incident_opened(labels: Mapping[str, str], route: str, request: str | None, *,
                    queued: bool = False) -> Reply:
    """The root message of a PagerDuty incident's thread (``labels``: its routing labels)."""
    number = f" #{_shown(labels['incident_number'], 20)}" if labels.get("incident_number") else ""
    heading = (f":pager: *{_link(labels.get('url', ''), f'PagerDuty incident{number}')}* · alert route "
               f"`{route}` — reply in this thread to ask me about it.")
    facts = " · ".join(f"{key}=`{_shown(labels[key])}`" for key in ("service", "urgency", "priority",
                                                                      "escalation_policy") if labels.get(key))
    title = f":red_circle: *{_shown(labels.get('title') or '(no title)', 300)}*"
    title += f" {facts}" if facts else ""
    return _reply(heading, [*line_sections([title]), *_asked(request, queued)])


def incident_event(event_type: str, who: str, note: str = "") -> Reply:
    """A later event of the incident, as a note in its thread (``note``: an annotation's text)."""
    said = INCIDENT_EVENTS.get(event_type, f":information_source: *{_shown(event_type, 100)}* in PagerDuty")
    text = said + (f" by {_shown(who, 100)}" if who else "") + "."
    blocks = [section(text)] + ([section(f">{_shown(note, 2000)}")] if note else [])
    return Reply(notification(text), blocks)


def incident_again(request: str | None, *, queued: bool = False) -> Reply:
    """The incident triggered again (or was reopened) after it resolved."""
    return _reply(":rotating_light: *Triggered again* in PagerDuty", _asked(request, queued))
