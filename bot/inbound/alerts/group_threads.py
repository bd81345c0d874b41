"""Which thread each alert group lives in, across restarts and replicas: a port ``infra``
implements (in SQL, and in memory for tests).

A group's row is written before its root message is posted (a claim: ``root_ts`` None), so that
two deliveries of one group open one thread; a claim whose process died is taken over once it
is older than the caller says. Afterwards the row keeps what the thread last said about the
group, its firing alerts and status, and changes only by a compare-and-set, so that each change
is acted on once however many deliveries bring it.

It also keeps the runs the storm limit held back (:class:`QueuedAlertRun`), until one process
takes each to start it, or the group's resolution drops them: a restart loses none; and the storm
limit's budget itself (:meth:`AlertGroupThreads.storm_budget`), which every replica shares.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.inbound.alerts.storm import StormBudget

GroupStatus = Literal["firing", "resolved"]


def group_id(receiver: str, group_key: str) -> str:
    """The row's key for Alertmanager's ``groupKey`` (of any length), per receiver: 32 characters."""
    return hashlib.blake2b(f"{receiver}\0{group_key}".encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class AlertGroupState:
    """What a thread last said about its group."""

    firing: frozenset[str]
    """The fingerprints of the alerts that fired."""
    status: GroupStatus


@dataclass(frozen=True)
class AlertGroupThread:
    id: str
    """:func:`group_id`."""
    group_key: str
    """Alertmanager's ``groupKey``, for people reading the table."""
    route: str
    channel: str
    state: AlertGroupState
    claimed_at: float
    root_ts: str | None = None
    """The thread's root message; None while its opener has not posted it."""


@dataclass(frozen=True)
class QueuedAlertRun:
    """A run of a group's thread that waits for its route's storm limit to let it start."""

    key: str
    """Its queue key in the engine (32 characters): one queued run per key."""
    group: str
    """:func:`group_id` (or another source's group key, such as ``pagerduty:<incident>``)."""
    route: str
    channel: str
    root_ts: str
    """The thread it runs in."""
    request: str
    queued_at: float


class AlertGroupThreads(Protocol):
    async def alert_group(self, group: str) -> AlertGroupThread | None: ...

    async def claim_alert_group(self, thread: AlertGroupThread, *, stale_before: float) -> bool:
        """Record ``thread`` (not opened yet) if the group has no row, or take over a row not
        opened since before ``stale_before`` (its opener died). False: another delivery has it."""

    async def alert_group_opened(self, group: str, root_ts: str) -> None:
        """Its root message is posted: the thread is the group's."""

    async def release_alert_group(self, group: str) -> None:
        """Forget a claim whose root message could not be posted (a retry may claim it again)."""

    async def change_alert_group(self, group: str, was: AlertGroupState, now: AlertGroupState, *,
                                 at: float) -> bool:
        """Set the group's state to ``now`` (at time ``at``) if it is ``was``: True for the one
        caller that did."""

    async def queue_alert_run(self, run: QueuedAlertRun) -> bool:
        """Keep a run the storm limit held back; False if one with its key is kept already."""

    async def queued_alert_runs(self, route: str | None = None) -> list[QueuedAlertRun]:
        """The runs held back (of ``route``; None: of every route), oldest first."""

    async def take_queued_alert_run(self, key: str) -> bool:
        """Remove a held run to start it: True for the one caller that did."""

    async def drop_queued_alert_runs(self, group: str) -> list[QueuedAlertRun]:
        """Remove the group's held runs (it resolved): those removed."""

    def storm_budget(self, limit: int, window: float) -> StormBudget:
        """The storm limit's budget, ``limit`` runs per route in any ``window`` seconds, counted
        in this store: shared by every process that uses it."""
