"""Slack's agent sessions: each agent conversation's status beside it, kept in step with its runs.

An agent conversation (Slack's agent messaging experience, ``features.agent_view``; or a thread
of the older assistant pane) is a thread in the app's DM with someone. Slack shows each such
thread's *session*, with a status and a title, and a stop button while it is ``processing``.
:func:`session_status` says which status a run's progress calls for:

- ``processing`` while the run plans and executes; the call that makes the session gives it
  the request, shortened, as its title (Slack ignores the title of later calls, so a thread
  is titled after its first request, as the pane's threads are);
- ``suspended`` while only approvals are left: every node still to run waits for a human;
- ``active`` when the run ends, answered, failed or cancelled (by Cancel or the stop button):
  the thread stays open to follow-ups, so dagbot never sets ``closed``.

:class:`AgentSessions` calls ``agents.sessions.setStatus`` only when that status changes, in
a background task per thread (a slow or rate-limited call holds up no status message), and
the latest status wins: one overtaken while a call was under way is never sent. A refusal is
logged and the run goes on; one saying the method is unavailable (an app not declared an
agent, a scope, ``not_allowed``) switches it off for the process (:mod:`bot.ground.features`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.events import AnswerDelta, RunEvent
from bot.ground.background_tasks import TaskSet
from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import error_code
from bot.ground.threads import ThreadRef
from bot.outbound.surface import RunTracker
from bot.views.assistant_view import thread_title
from bot.views.progress_view import Phase, RunProgress

log = structlog.get_logger(__name__)


class SessionStatus(StrEnum):
    ACTIVE = "active"
    PROCESSING = "processing"
    SUSPENDED = "suspended"
    CLOSED = "closed"


def session_status(progress: RunProgress) -> SessionStatus | None:
    """The status a run's session shows now (None: a queued request, which changes nothing)."""
    if progress.phase is Phase.QUEUED:
        return None
    if progress.phase is Phase.WAITING:
        return SessionStatus.SUSPENDED
    return SessionStatus.ACTIVE if progress.phase.is_final else SessionStatus.PROCESSING


def has_session(thread: ThreadRef) -> bool:
    """Sessions are those of agent conversations: threads in the app's DM with someone."""
    return thread.channel.startswith("D")


@dataclass(frozen=True)
class _Wanted:
    thread: ThreadRef
    status: SessionStatus
    title: str | None


class AgentSessions:
    def __init__(self, *, client: AsyncWebClient, features: SlackFeatures, tasks: TaskSet) -> None:
        self.client = client
        self.features = features
        self.tasks = tasks
        self._wanted: dict[str, _Wanted] = {}
        """Thread key → the status to set next."""
        self._sent: dict[str, SessionStatus] = {}
        """Thread key → the status last sent (forgotten once a thread's session is ``active``)."""
        self._warned: set[str] = set()

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        """:class:`~bot.outbound.surface.RunSurface`: the session of the run's thread, if it has one."""
        if run is not None and not isinstance(event, AnswerDelta):
            self.show(run.thread, run.progress)

    def show(self, thread: ThreadRef, progress: RunProgress) -> None:
        """A run event changed ``progress``: set its thread's session status, if it changed."""
        status = session_status(progress)
        if status is None or not self._applies(thread):
            return
        wanted = self._wanted.get(thread.key)
        if status is (wanted.status if wanted else self._sent.get(thread.key)):
            return
        making = status is SessionStatus.PROCESSING and progress.request
        self._want(_Wanted(thread, status, thread_title(progress.request) if making else None))

    def kept(self, thread: ThreadRef, progress: RunProgress) -> str | None:
        """The ``session_status`` a ``chat.stopStream`` in the thread must carry (None: the thread
        has no session, leave it out). Slack sets the session to this status with the stop, and
        to ``active`` when none is given: a message stopped mid-run (an answer going on in a new
        message, a draft withdrawn for a replan, a full plan message) would otherwise take the
        session out of ``processing``, and its stop button away, while the run goes on."""
        status = session_status(progress)
        if status is None or not self._applies(thread):
            return None
        return status.value

    def release(self, thread: ThreadRef) -> None:
        """Take the thread's session out of ``processing`` (to ``active``) whatever dagbot last set:
        its stop button was clicked with no run going here."""
        if self._applies(thread):
            self._sent.pop(thread.key, None)
            self._want(_Wanted(thread, SessionStatus.ACTIVE, None))

    def _applies(self, thread: ThreadRef) -> bool:
        return has_session(thread) and self.features.available(Feature.SESSIONS, thread.channel)

    def _want(self, wanted: _Wanted) -> None:
        key = wanted.thread.key
        idle = key not in self._wanted
        self._wanted[key] = wanted
        if idle:
            self.tasks.spawn(self._send(key), name=f"agent-session:{key}")

    async def _send(self, key: str) -> None:
        """Send the thread's wanted statuses, latest first, until none is left to send."""
        try:
            while (wanted := self._wanted.get(key)) is not None:
                if wanted.status is not self._sent.get(key) and self._applies(wanted.thread):
                    self._sent[key] = wanted.status
                    await self._set(wanted)
                if self._wanted.get(key) is wanted:  # nothing new was wanted meanwhile
                    del self._wanted[key]
                    if wanted.status is SessionStatus.ACTIVE:
                        self._sent.pop(key, None)
        finally:
            self._wanted.pop(key, None)  # (gone already, unless this failed: the next change starts anew)

    async def _set(self, wanted: _Wanted) -> None:
        thread = wanted.thread
        try:
            response = await self.client.agents_sessions_setStatus(
                channel_id=thread.channel, thread_ts=thread.root_ts, status=wanted.status.value,
                title=wanted.title)
        except SlackApiError as exc:
            error = error_code(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        else:
            warning = str(response.get("warning") or "")
            # (e.g. missing_agent_session_stopped_event_subscription: the stop button does nothing)
            if warning and warning not in self._warned:
                self._warned.add(warning)
                log.warning("Slack warns about agent sessions", warning=warning)
            return
        if not self.features.refused(Feature.SESSIONS, error, thread.channel):
            log.warning("an agent session status was not set", thread_id=thread.key,
                        status=wanted.status.value, error=error)
