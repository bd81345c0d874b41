"""Calling a green tool for a plan node: retried (tenacity) when the tool says the failure is
transient, and reusing the result of an identical recent call in the same thread.

Neither applies to red tools: those run at most once, through the execution journal
(:mod:`agent.execution.red_calls`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from agent.errors import TransientToolError
from agent.events import ResultReused, ToolRetrying
from agent.execution.context import EngineContext
from agent.execution.red_calls import describe_error, invoke_tool
from agent.execution.redaction import scrub_error
from agent.execution.result_cache import ResultCache

log = structlog.get_logger(__name__)


def _red_changes(ctx: EngineContext, thread_id: str, run_id: str) -> asyncio.Future[int]:
    """The thread's red-call count, read from the journal once per run (see ResultCache):
    the run's nodes share one read, also when they start together."""
    reading = ctx.state.result_cache.counted(thread_id, run_id)
    if reading is None:
        reading = asyncio.ensure_future(ctx.executions.changes(thread_id))
        ctx.state.result_cache.count(thread_id, run_id, reading)
    return reading


async def _counted(ctx: EngineContext, thread_id: str, run_id: str,
                   reading: asyncio.Future[int]) -> int | None:
    """The count read, or None if it could not be (the next node reads again)."""
    try:
        return await asyncio.shield(reading)  # a node stopped does not stop the others' read
    except Exception as exc:
        if ctx.state.result_cache.counted(thread_id, run_id) is reading:
            ctx.state.result_cache.count(thread_id, run_id, None)
        log.warning("could not read the thread's red-call count: results not reused",
                    thread_id=thread_id, error=describe_error(exc))
        return None


@dataclass(frozen=True)
class GreenCall:
    output: Any
    attempts: int = 1
    errors: tuple[str, ...] = ()
    """The transient errors of the attempts that failed, in order."""
    reused_age_s: float | None = None
    """Set when an earlier identical call's result was taken instead of calling."""


async def call_green(
    ctx: EngineContext, thread_id: str, run_id: str, node_id: str, tool: str, args: dict[str, Any],
    draw: Callable[[], float] = random.random,
) -> GreenCall:
    """Run a green node's tool call (``args`` validated) under its retry policy, or reuse the
    result of the same call made in this thread within DAGBOT_RESULT_CACHE_TTL."""
    spec = ctx.registry.get(tool)
    ttl = ctx.settings.result_cache_seconds if spec.cacheable else 0.0
    key = ResultCache.key(thread_id, tool, args)
    entry = ctx.state.result_cache.get(key, ctx.clock(), ttl) if ttl > 0 else None
    # The count is read alongside the call, not before it: a new entry is kept once it is in
    # (it is the run's, read as the run's first green call started).
    reading = _red_changes(ctx, thread_id, run_id) if ttl > 0 else None
    if entry is not None and reading is not None and entry.red_changes != await _counted(
            ctx, thread_id, run_id, reading):
        ctx.state.result_cache.drop(key)  # a red call of this thread ran since, maybe on another replica
        entry = None
    if entry is not None:
        age = max(0.0, ctx.clock() - entry.at)
        await ctx.events.publish(ResultReused(thread_id=thread_id, run_id=run_id, node_id=node_id,
                                              tool=tool, age_s=age))
        return GreenCall(entry.output, attempts=0, reused_age_s=age)
    policy = spec.retry or ctx.settings.retry
    epoch = ctx.state.result_cache.epoch(thread_id)
    errors: list[str] = []  # scrubbed: kept in the attempt log and shown

    async def attempt() -> Any:
        try:
            return await invoke_tool(ctx, tool, args)
        except TransientToolError as exc:
            errors.append(scrub_error(ctx, str(exc), tool, [args]))
            raise

    async def announce(state: RetryCallState) -> None:
        await ctx.events.publish(ToolRetrying(
            thread_id=thread_id, run_id=run_id, node_id=node_id, attempt=state.attempt_number,
            max_attempts=policy.attempts, error_gist=errors[-1][:200], delay_s=state.upcoming_sleep))

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(TransientToolError), stop=stop_after_attempt(policy.attempts),
        wait=lambda state: policy.delay(state.attempt_number, draw()), before_sleep=announce,
        reraise=True)
    try:
        output: Any = await retrying(attempt)
    except TransientToolError as exc:
        tried = f" (tried {len(errors)} times)" if len(errors) > 1 else ""
        raise TransientToolError(errors[-1] + tried) from exc
    if reading is not None:  # kept for reuse once the count is in; the node does not wait for it
        at = ctx.clock()

        def keep(counted: asyncio.Future[int | None]) -> None:
            if not counted.cancelled() and (red_changes := counted.result()) is not None:
                ctx.state.result_cache.put(key, output, at, epoch, red_changes)

        if reading.done() and not reading.cancelled() and reading.exception() is None:
            ctx.state.result_cache.put(key, output, at, epoch, reading.result())  # known: kept now
        else:
            asyncio.ensure_future(_counted(ctx, thread_id, run_id, reading)).add_done_callback(keep)
    return GreenCall(output, attempts=len(errors) + 1, errors=tuple(errors))
