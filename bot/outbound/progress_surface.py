"""A run's progress in its thread: the status message, and where Slack streams, the plan's tasks.

Status edits go through the run's :class:`~bot.outbound.coalesced_edits.MessageEditor`
(coalesced, 429-aware). Where Slack streams, the plan's nodes are shown as tasks in a streamed
message of their own (:mod:`bot.outbound.plan_stream`), started with the run's first node, and
the status message keeps its heading and Cancel; elsewhere, for a run adopted from another
process, or once the stream is refused, the status message lists the nodes. When the run ends,
the tasks' final states end the stream, before the answer is posted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from agent.events import AnswerDelta, RunEvent
from bot.ground.features import SlackFeatures
from bot.ground.poster import SlackPoster
from bot.outbound.plan_stream import AppendPacer, PlanStream
from bot.outbound.surface import RunTracker, SessionStatusOf, ends_run, no_session
from bot.views.progress_view import Phase
from bot.views.status_view import render_status


class ProgressSurface:
    """:class:`~bot.outbound.surface.RunSurface`: the status message and the plan's tasks."""

    def __init__(self, *, poster: SlackPoster, features: SlackFeatures, stream_plan: bool = True,
                 stream_interval: float = 1.0, clock: Callable[[], float] = time.time,
                 session_status: SessionStatusOf = no_session) -> None:
        self.poster = poster
        self.session_status = session_status
        self.features = features
        self.stream_plan = stream_plan
        self.stream_interval = stream_interval
        self.clock = clock
        self.plan_pacer = AppendPacer()
        """Paces the appends of all the plans streaming at once (Slack's tier)."""

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        if run is None or isinstance(event, AnswerDelta):  # (a preview of the answer: not progress)
            return
        self.show_plan(run)
        self.show(run)
        if ends_run(event) and run.plan is not None:  # the tasks' final states, before the answer
            await run.plan.finish(run.progress, run.links)

    def show_plan(self, run: RunTracker) -> None:
        """Offer the run to its plan stream (started with the run's first node, where Slack
        streams and the run began in this process)."""
        if run.plan is None and (not self.stream_plan or run.adopted or not run.progress.nodes):
            return
        if run.plan is None:
            run.plan = PlanStream(self.poster.client, run.thread, run.progress.requested_by, self.features,
                                  interval=self.stream_interval, pacer=self.plan_pacer,
                                  on_fallback=lambda: self.show(run),
                                  session_status=lambda: self.session_status(run.thread, run.progress))
        run.plan.show(run.progress, run.links)

    def show(self, run: RunTracker) -> None:
        """Show the run as it stands in its status message (the node lines too, unless the
        plan streams)."""
        lines = run.plan is None or not run.plan.live
        text, blocks = render_status(run.progress, self.clock(), run.thread.key, node_lines=lines)
        run.editor.show(text, blocks)

    def tick(self, runs: Iterable[RunTracker]) -> None:
        """Refresh the elapsed time of runs that are visibly working."""
        for run in runs:
            if run.progress.phase in (Phase.PLANNING, Phase.RUNNING, Phase.REPLANNING):
                self.show(run)
