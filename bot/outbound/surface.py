"""Where runs show in Slack: :class:`RunSurface`, and the run as this process shows it.

The notifier (:mod:`bot.outbound.notifier`) hands every run event to each surface in turn, with
the run's :class:`RunTracker`, its progress already updated by the event. The surfaces: the
status message and the plan's tasks (:mod:`bot.outbound.progress_surface`), the assistant pane
(:mod:`bot.outbound.assistant`), agent sessions (:mod:`bot.outbound.agent_sessions`), the answer
(:mod:`bot.outbound.answer_surface`), approval messages and their DMs
(:mod:`bot.outbound.approval_messages`), App Home (:mod:`bot.outbound.home`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

from agent.events import AnswerReady, RunEvent, RunFailed
from bot.ground.threads import ThreadRef
from bot.outbound.answer_stream import AnswerStream
from bot.outbound.coalesced_edits import MessageEditor
from bot.outbound.plan_stream import PlanStream
from bot.store import StatusMessage
from bot.views.progress_view import RunProgress


@dataclass
class RunTracker:
    """A run as this process shows it: its status message, its progress, and what the surfaces
    keep of it while it goes on."""

    run_id: str
    thread: ThreadRef
    message: StatusMessage
    progress: RunProgress
    editor: MessageEditor
    """Edits the status message."""
    adopted: bool = False
    """The run began in another process (which may have died after answering it)."""
    stream: AnswerStream | None = None
    """The answer, streamed into the thread while the joiner writes it."""
    plan: PlanStream | None = None
    """The plan's nodes as tasks, streamed into the thread while the run goes on."""
    links: dict[str, str] = field(default_factory=dict)
    """Node id → its approval message (shown with the node's task while it waits)."""

    def slack_stopped(self, stopped: Collection[str]) -> None:
        """Slack stopped these streamed messages (their ``ts``) at the agent session's stop button."""
        for stream in (self.plan, self.stream):
            if stream is not None:
                stream.slack_stopped(stopped)

    def link(self, node_id: str, url: str) -> None:
        """The node's approval message is at ``url``: its task shows the link from now on."""
        self.links[node_id] = url
        if self.plan is not None:
            self.plan.show(self.progress, self.links)


SessionStatusOf = Callable[[ThreadRef, RunProgress], "str | None"]
"""The ``session_status`` a stream's ``chat.stopStream`` carries in a run's thread
(:meth:`bot.outbound.agent_sessions.AgentSessions.kept`); None where the thread has no session."""


def no_session(thread: ThreadRef, progress: RunProgress) -> None:
    return None


def ends_run(event: RunEvent) -> bool:
    """The run's last event: answered, or failed (a cancelled run fails)."""
    return isinstance(event, AnswerReady | RunFailed)


class RunSurface(Protocol):
    """A place in Slack that shows runs."""

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        """Show ``event``. ``run``: the run it is of, as this process shows it (its progress has
        applied the event); None when no run here shows it (it ended, or it is not a Slack
        thread's), as for a late decision on one of its approvals."""
