"""Slack's stop button on an agent session: ``agent_session_stopped`` cancels the thread's run.

Slack sends the event when someone clicks the stop button shown while a session is
``processing``; its payload names the ``user``, the ``channel`` and ``thread_ts`` of the session
and ``streaming_message_ts``: the app's streams Slack stopped at the click. Those keep what
they show: the run's streams are told, so that they neither stop them again (Slack would refuse)
nor post the plan anew. It is the Cancel button of the run's status message, clicked by that user: the
same permission check (the requester, or someone the policy lets approve every tool), the same
cancel, the same private replies when it changes nothing. The session then leaves
``processing`` as the run ends (:mod:`bot.outbound.agent_sessions`); with no run going in the thread,
it is set ``active`` at once, since Slack leaves that to the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Protocol

import structlog

from bot.ground.threads import ThreadRef
from bot.outbound.agent_sessions import AgentSessions
from bot.store import StatusMessageRecords

log = structlog.get_logger(__name__)


class CancelClick(Protocol):
    """A click on a status message's Cancel button (:meth:`bot.inbound.interactions.Interactions.cancel`)."""

    def __call__(self, user: str, thread_key: str, channel: str, message_ts: str | None,
                 thread_ts: str | None) -> Awaitable[None]: ...


class SessionStop:
    def __init__(self, *, store: StatusMessageRecords, cancel: CancelClick, sessions: AgentSessions,
                 streams_stopped: Callable[[str, Collection[str]], None] = lambda key, stopped: None) -> None:
        self.store = store
        self.cancel = cancel
        self.sessions = sessions
        self.streams_stopped = streams_stopped
        """Tells the thread's runs which of their streamed messages Slack stopped
        (:meth:`bot.outbound.notifier.Notifier.streams_stopped`)."""

    async def stopped(self, team: str, event: Mapping[str, Any]) -> None:
        """``agent_session_stopped``: cancel the run going in the session's thread, as ``user``."""
        user, channel, thread_ts = event.get("user"), event.get("channel"), event.get("thread_ts")
        if not (user and channel and thread_ts):
            log.warning("an agent_session_stopped event without its user, channel or thread",
                        user=user, channel=channel, thread_ts=thread_ts)
            return
        thread = ThreadRef(team, channel, thread_ts)
        stopped = event.get("streaming_message_ts") or []
        if isinstance(stopped, list) and stopped:
            self.streams_stopped(thread.key, {str(ts) for ts in stopped})
        unfinished = await self.store.unfinished_status_messages(thread_key=thread.key)
        running = next((m for m in unfinished if m.run_id is not None), None)
        if running is None:
            self.sessions.release(thread)
        log.info("agent session stopped", thread_id=thread.key, user=user, running=running is not None)
        # (no status message: the Cancel path tells the user there is nothing left to cancel)
        await self.cancel(user, thread.key, channel, running.ts if running else None, thread_ts)
