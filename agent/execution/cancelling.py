"""What a cancel did (:meth:`agent.engine.engine.Engine.cancel`), so its caller shows exactly that."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.ports.stores import Approval


class CancelOutcome(StrEnum):
    STOPPED = "stopped"
    """The thread's run was stopped."""
    DEQUEUED = "dequeued"
    """The request still waited in the thread's queue: only it was dropped."""
    TOO_LATE = "too_late"
    """The request's run is over (or was never queued): nothing changed."""


@dataclass(frozen=True)
class Cancelled:
    outcome: CancelOutcome
    withdrawn: tuple[Approval, ...] = ()
    """The stopped run's approvals, withdrawn."""
    dropped: tuple[str, ...] = ()
    """The keys of the queued requests dropped (never started): the request itself when it
    was still queued, or the same requester's follow-ups queued behind a stopped run."""
