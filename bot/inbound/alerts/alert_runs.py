"""An alert route's runs in a thread: started as a person's request is, and withdrawn when the
thread's alert session ends.

A run is started through :meth:`bot.inbound.intake.Intake.start` by the route's requester (no
person: :mod:`bot.access.unattended`), its request Slack-escaped as a person's comes, so that the
status message shows it as written.

**The end of an alert session** (its group resolved, its incident resolved): the requests of
the route still waiting in the thread's queue are dropped, and their status messages say they
were cancelled before they started (as a Cancel click on a queued request does); the run under
way, if any, goes on to its answer. Nothing of the thread itself closes: a person may still ask
in it. Alert threads are in channels, which have no Slack agent session
(:func:`bot.outbound.agent_sessions.has_session`): the session that ends is dagbot's, whose state
the group's row keeps (``resolved``: nothing more starts until it fires again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from bot.ground.mrkdwn import escape
from bot.ground.threads import ThreadRef
from bot.inbound.intake import Intake
from bot.store import StatusMessage, StatusMessageRecords

log = structlog.get_logger(__name__)


class WaitingRequests(Protocol):
    """The engine's queue, as far as ending a session needs it
    (:meth:`agent.engine.engine.Engine.withdraw_waiting`)."""

    async def withdraw_waiting(self, thread_id: str, requested_by: str) -> list[str]: ...


class AlertRuns:
    def __init__(self, *, intake: Intake, queue: WaitingRequests, store: StatusMessageRecords,
                 cancel_queued: Callable[[list[StatusMessage]], Awaitable[None]]) -> None:
        self.intake = intake
        self.queue = queue
        self.store = store
        self.cancel_queued = cancel_queued
        """Shows dropped requests' status messages as cancelled before they started
        (:meth:`bot.outbound.notifier.Notifier.cancel_queued`)."""

    async def start(self, thread: ThreadRef, request: str, requester: str, key: str, *, fresh: bool) -> bool:
        """Start the run of ``request`` in the thread (``key``: its queue key, so that a redelivery
        queues nothing). False: Slack refused its status message, and it did not start."""

        async def refused(text: str) -> None:  # (nobody to tell in Slack: the route is no person)
            log.warning("an alert's run did not start", requester=requester, thread_id=thread.key, why=text)

        submission = await self.intake.start(thread, escape(request), requester, fresh=fresh, respond=refused,
                                             key=key)
        return submission is not None

    async def end_session(self, thread: ThreadRef, requester: str) -> int:
        """End the thread's alert session: drop ``requester``'s requests still waiting in its
        queue (the run under way goes on); how many were dropped."""
        dropped = set(await self.queue.withdraw_waiting(thread.key, requester))
        if dropped:
            unfinished = await self.store.unfinished_status_messages(thread_key=thread.key)
            await self.cancel_queued([m for m in unfinished if m.request_key in dropped])
            log.info("alert session ended: waiting runs withdrawn", thread_id=thread.key,
                     withdrawn=len(dropped))
        return len(dropped)
