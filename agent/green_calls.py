"""Calling a green tool for a plan node: retried (tenacity) when the tool says the failure is
transient, and reusing the result of an identical recent call in the same thread.

Neither applies to red tools: those run at most once, through the execution journal
(:mod:`agent.red_calls`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from agent.context import EngineContext
from agent.errors import TransientToolError
from agent.events import ResultReused, ToolRetrying
from agent.red_calls import invoke_tool
from agent.redaction import scrub_error
from agent.result_cache import ResultCache


async def _red_changes(ctx: EngineContext, thread_id: str, run_id: str) -> int:
    """The thread's red-call count, read from the journal once per run (see ResultCache):
    the run's nodes share one read, also when they start together."""
    reading = ctx.result_cache.counted(thread_id, run_id)
    if reading is None:
        reading = asyncio.ensure_future(ctx.executions.changes(thread_id))
        ctx.result_cache.count(thread_id, run_id, reading)
    try:
        return await asyncio.shield(reading)  # a node stopped does not stop the others' read
    except Exception:
        if ctx.result_cache.counted(thread_id, run_id) is reading:
            ctx.result_cache.count(thread_id, run_id, None)  # the next node reads again
        raise


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
    entry = ctx.result_cache.get(key, ctx.clock(), ttl) if ttl > 0 else None
    red_changes = await _red_changes(ctx, thread_id, run_id) if ttl > 0 else 0
    if entry is not None and entry.red_changes != red_changes:
        ctx.result_cache.drop(key)  # a red call of this thread ran since, maybe on another replica
        entry = None
    if entry is not None:
        age = max(0.0, ctx.clock() - entry.at)
        await ctx.events.publish(ResultReused(thread_id=thread_id, run_id=run_id, node_id=node_id,
                                              tool=tool, age_s=age))
        return GreenCall(entry.output, attempts=0, reused_age_s=age)
    policy = spec.retry or ctx.settings.retry
    epoch = ctx.result_cache.epoch(thread_id)
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
    if ttl > 0:
        ctx.result_cache.put(key, output, ctx.clock(), epoch, red_changes)
    return GreenCall(output, attempts=len(errors) + 1, errors=tuple(errors))
