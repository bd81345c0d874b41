"""Ending a run that the graph could not end: the engine's error boundary.

A run ends in the graph's ``answer`` or ``fail`` node. When driving it raises anything else (a
bug, a value a store refuses, a database error), or the recovery pass gives up on a run whose
take-overs keep failing (:mod:`agent.engine.recovery`), the runner ends it here, under the thread's
lease: the thread's state is written as the ``fail`` node writes it, so the run is over (the
lease is released, queued follow-ups start, the recovery pass leaves it alone); the run's
pending approvals are withdrawn; and :class:`~agent.events.RunFailed` tells the user, in
words they can act on. A run that stopped after its answer was published
(:mod:`agent.answer.record`) is ended as answered instead, and nothing more is published.

The state written replaces any string or float of the run's state that a store would refuse
(:mod:`agent.execution.storable`), so that a bad value cannot keep the run from ending.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

from agent.answer.record import published_answer
from agent.events import DecisionRecorded, RunFailed
from agent.execution.context import EngineContext
from agent.execution.early_start import discard
from agent.execution.storable import storable
from agent.state import PastRun

INTERNAL_ERROR = (
    "dagbot hit an internal error while running this request and stopped it ({error}). Nothing "
    "more will run for it. Ask again to retry; if it fails the same way, tell whoever runs dagbot "
    '(its log says "run failed unexpectedly", with the details).')
GAVE_UP = (
    "dagbot stopped this request: its run was interrupted and failed every time it was resumed "
    "({tries} times), so it will not be tried again. Nothing more will run for it. Ask again to "
    "retry; if it keeps failing, tell whoever runs dagbot.")


def internal_error(exc: BaseException) -> str:
    """What the user is told of an unexpected exception: its type and first line, short."""
    lines = str(exc).strip().splitlines()
    gist = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return INTERNAL_ERROR.format(error=gist if len(gist) <= 200 else gist[:200] + "…")


async def end_run(graph: CompiledStateGraph[Any, Any, Any, Any], ctx: EngineContext, config: RunnableConfig,
                  snapshot: StateSnapshot, why: str) -> bool:
    """End the run that ``snapshot`` (the thread's latest) shows under way or parked: as failed,
    ``why`` being what the user is told, or as answered if its answer was published. False
    when the thread has no run going (nothing is written)."""
    if not snapshot.tasks:
        return False
    values = dict(snapshot.values)
    thread_id = str(config["configurable"]["thread_id"])
    run_id = str(values.get("run_id") or "")
    discard(ctx, thread_id, run_id)  # calls started while the plan streamed
    answered = await published_answer(ctx.results, thread_id, run_id)
    text = storable(why) if answered is None else answered
    update: dict[str, Any] = {
        key: storable(value) for key, value in values.items()
        if isinstance(value, str | float) and storable(value) is not value}
    request = storable(str(values.get("request") or ""))
    update |= {"pending_approvals": [], "messages": [AIMessage(text)],
               "history": [PastRun(request=request, answer=text, results=values.get("results") or {})]}
    update["failure" if answered is None else "answer"] = text
    await graph.aupdate_state(config, update, as_node="fail" if answered is None else "answer")
    for approval in await ctx.approvals.withdraw(thread_id, "its run failed"):
        await ctx.events.publish(DecisionRecorded(
            thread_id=thread_id, run_id=approval.run_id or run_id, approval_id=approval.id,
            node_id=approval.node_id, status=approval.status.value, decided_by=approval.decided_by,
            reason=approval.reason, requested_at=approval.requested_at))
    if answered is None:
        await ctx.events.publish(RunFailed(thread_id=thread_id, run_id=run_id, error=text))
    return True
