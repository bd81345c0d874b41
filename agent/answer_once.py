"""At most one answer per run.

The graph's ``answer`` node publishes :class:`~agent.events.AnswerReady`; its checkpoint is
written after. A run stopped in between (its process died, or the checkpoint could not be
written) is taken over from before that node, which would publish the same answer again,
once more at every take-over. So the engine's event sink records each run's answer in the
result store before publishing it (under the run's id and the node id ``answer``: plan ids
and run ids are distinct), and publishes no second answer for a run that has one recorded,
whichever process runs it. The record also tells the engine's error boundary
(:mod:`agent.run_end`) that a run stopped after its answer was given: answered, not failed.
"""

from __future__ import annotations

import structlog

from agent.events import AnswerReady, EventSink, RunEvent
from agent.ports import NodeResult, NodeResultStore, NodeStatus

log = structlog.get_logger(__name__)

ANSWER = "answer"
"""The node id a run's published answer is recorded under (the plan id is the run's id)."""


async def published_answer(results: NodeResultStore, thread_id: str, run_id: str) -> str | None:
    """The answer published for the run, or None if none was."""
    recorded = (await results.load(thread_id, run_id)).get(ANSWER) if run_id else None
    return str(recorded.output) if recorded is not None else None


class AnswerOnce:
    """An event sink that passes every event on, except a second answer for the same run."""

    def __init__(self, inner: EventSink, results: NodeResultStore) -> None:
        self.inner = inner
        self.results = results

    async def publish(self, event: RunEvent) -> None:
        if isinstance(event, AnswerReady) and event.run_id:
            if await published_answer(self.results, event.thread_id, event.run_id) is not None:
                log.info("the run's answer was published already; not again",
                         thread_id=event.thread_id, run_id=event.run_id)
                return
            await self.results.save(event.thread_id, event.run_id, NodeResult(
                ANSWER, NodeStatus.DONE, output=event.answer, finished_at=event.at))
        await self.inner.publish(event)
