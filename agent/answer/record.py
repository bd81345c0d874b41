"""Which runs gave their answer.

The engine's event sink records each run's answer in the result store once it has been
published (under the run's id and the node id ``answer``: plan ids and run ids are distinct).
The engine's error boundary (:mod:`agent.engine.run_end`) reads it: a run that stopped after its
answer was given ended answered, not failed.

A run taken over from before its ``answer`` node's checkpoint (its process died, or the
checkpoint could not be written) publishes its answer again: answers are delivered at least
once, never lost. Whoever shows them keeps one per run (the Slack bot marks the message that
answers a run and skips a second answer for it).
"""

from __future__ import annotations

from agent.events import AnswerReady, EventSink, RunEvent
from agent.ports.stores import NodeResult, NodeResultStore, NodeStatus

ANSWER = "answer"
"""The node id a run's published answer is recorded under (the plan id is the run's id)."""


async def published_answer(results: NodeResultStore, thread_id: str, run_id: str) -> str | None:
    """The answer published for the run, or None if none was."""
    recorded = (await results.load(thread_id, run_id)).get(ANSWER) if run_id else None
    return str(recorded.output) if recorded is not None else None


class AnswerRecorder:
    """An event sink that passes every event on and records each answer once it is passed on."""

    def __init__(self, inner: EventSink, results: NodeResultStore) -> None:
        self.inner = inner
        self.results = results

    async def publish(self, event: RunEvent) -> None:
        await self.inner.publish(event)
        if isinstance(event, AnswerReady) and event.run_id:
            await self.results.save(event.thread_id, event.run_id, NodeResult(
                ANSWER, NodeStatus.DONE, output=event.answer, finished_at=event.at))
