"""What became of an alert notification or a PagerDuty event (the hooks' answers say it), and
the queue key of the run a change of a group starts."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from bot.inbound.alerts.group_threads import AlertGroupState


class Outcome(enum.StrEnum):
    """What became of a notification (the hook's answer says it)."""

    UNROUTED = "unrouted"  # no route takes the group: nothing posted
    OPENED = "opened"  # a new thread, and its run
    FOLLOWED_UP = "followed_up"  # new alerts (or firing again) in the group's thread, and a run
    QUEUED = "queued"  # said in the thread; its run waits for the route's storm limit
    LIMITED = "limited"  # said in the thread; the storm limit is 0, so no run starts
    PARTLY_RESOLVED = "partly_resolved"  # some alerts resolved: a note
    RESOLVED = "resolved"  # every alert resolved: a note, no run
    UNCHANGED = "unchanged"  # the thread says it already: nothing
    UNKNOWN_GROUP = "unknown_group"  # resolved, for a group that has no thread: nothing
    NOTED = "noted"  # a later event of a PagerDuty incident: a note in its thread
    RUN_NOT_STARTED = "run_not_started"  # said in the thread, but Slack refused the run's status message
    BUSY = "busy"  # another delivery is opening the group's thread: Alertmanager should retry
    NOT_POSTED = "not_posted"  # Slack refused the root message: Alertmanager should retry


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    route: str | None = None
    thread: str | None = None
    """The engine's thread id of the group's thread."""
    error: str | None = None
    """Slack's error, when it refused the root message."""


def run_key(group: str, state: AlertGroupState, at: float) -> str:
    """The engine's queue key of the run a group's change to ``state`` (at ``at``, the time its
    one winner recorded it) starts: a retry of that start queues nothing, and the same alerts
    firing again later are a run of their own (a key is the run's id in the engine)."""
    text = f"{group}:{state.status}:{','.join(sorted(state.firing))}:{at!r}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
