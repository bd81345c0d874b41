"""Running an approved red call at most once, through the execution journal.

The scheduler calls an approved red node through :func:`call_approved`; so does the runner
when a decision resumes a parked thread, before the graph itself resumes (the scheduler then
finds the node's result saved and goes on from there). Either way the journal row written
before the call is what makes it once-only: a second caller finds it and backs off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from agent.errors import ToolError, ToolOutcomeUnknown, ToolTimeout
from agent.events import NodeFailed, NodeFinished, NodeStarted, RunEvent
from agent.execution.context import EngineContext
from agent.execution.redaction import scrub_error
from agent.execution.storable import storable
from agent.plan.references import UnresolvedReference
from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.stores import Approval, NodeResult, NodeStatus
from agent.tools.registry import to_jsonable

Emit = Callable[[RunEvent], Awaitable[None]]


async def invoke_tool(ctx: EngineContext, tool: str, args: dict[str, Any]) -> Any:
    """Run a tool with the node timeout; its output as JSON-ready data."""
    spec = ctx.registry.get(tool)
    timeout = ctx.settings.node_timeout_seconds
    try:
        return storable(to_jsonable(await asyncio.wait_for(spec.tool.ainvoke(args), timeout)))
    except TimeoutError:
        raise ToolTimeout(f"'{tool}' did not finish within {timeout:.0f}s") from None


async def _change_world(ctx: EngineContext, approval: Approval, args: dict[str, Any]) -> Any:
    """The red call itself. What the thread read before it, or reads while it runs, may be
    stale once it has run: the thread's reusable results are dropped on both sides."""
    ctx.state.result_cache.forget(approval.thread_id)
    try:
        return await invoke_tool(ctx, approval.tool, args)
    finally:
        ctx.state.result_cache.forget(approval.thread_id)


async def call_approved(
    ctx: EngineContext, approval: Approval, args: dict[str, Any], emit: Emit
) -> NodeResult | None:
    """Run the approved call once. None when the journal shows it was begun already."""
    if not await ctx.executions.begin(approval.id, approval.thread_id, approval.node_id):
        return None
    ctx.state.red_in_flight.add(approval.id)  # until its outcome is journalled
    try:
        return await _call_begun(ctx, approval, args, emit)
    finally:
        ctx.state.red_in_flight.discard(approval.id)


async def _call_begun(
    ctx: EngineContext, approval: Approval, args: dict[str, Any], emit: Emit
) -> NodeResult:
    await ctx.audit.record(AuditEntry(
        thread_id=approval.thread_id, run_id=approval.run_id, kind=AuditKind.RED_START, actor=SYSTEM,
        detail={"approval_id": approval.id, "node_id": approval.node_id, "tool": approval.tool,
                "args": ctx.registry.masked(approval.tool, args), "approved_by": approval.decided_by,
                "edited_by": approval.edited_by}))
    node_id, started = approval.node_id, ctx.clock()
    await emit(NodeStarted(thread_id=approval.thread_id, run_id=approval.run_id, node_id=node_id,
                           label=approval.tool))
    try:
        output = await _change_world(ctx, approval, args)
    except (asyncio.CancelledError, ToolOutcomeUnknown) as exc:
        # Stopped mid-call (cancel, the node timeout, the tool's server gone): it may have taken effect.
        await asyncio.shield(ctx.executions.mark_unknown(approval.id))
        why = ("cancelled during the call" if isinstance(exc, asyncio.CancelledError)
               else scrub_error(ctx, str(exc), approval.tool, [args]))
        await asyncio.shield(audit_outcome(ctx, approval, "unknown", why))
        if isinstance(exc, asyncio.CancelledError):
            raise
        return NodeResult(node_id, NodeStatus.FAILED, started_at=started,
                          error=f"{why}; its outcome is unknown, check before trying again")
    except Exception as exc:
        error = scrub_error(ctx, describe_error(exc), approval.tool, [args])
        await ctx.executions.finish(approval.id, ok=False, error=error)
        await audit_outcome(ctx, approval, "failed", error)
        return NodeResult(node_id, NodeStatus.FAILED, error=error, started_at=started)
    await ctx.executions.finish(approval.id, ok=True, output=output)
    await audit_outcome(ctx, approval, "finished")
    return NodeResult(node_id, NodeStatus.DONE, output=output, started_at=started,
                      finished_at=ctx.clock())


async def start_approved(ctx: EngineContext, approval: Approval) -> None:
    """The runner's head start: call an approved node of a parked thread and save its result
    where the scheduler will load it, announcing it as the scheduler would."""
    result = await call_approved(ctx, approval, approval.approved_args, ctx.events.publish)
    if result is None:
        return
    await ctx.results.save(approval.thread_id, approval.plan_id, result)
    fields: dict[str, Any] = {"thread_id": approval.thread_id, "run_id": approval.run_id,
                              "node_id": approval.node_id}
    if result.status is NodeStatus.DONE:
        await ctx.events.publish(NodeFinished(**fields, preview=preview(result.output, 200)))
    else:
        await ctx.events.publish(NodeFailed(**fields, error=result.error or ""))


async def audit_outcome(ctx: EngineContext, approval: Approval, outcome: str,
                        error: str | None = None) -> None:
    """Record how a red call ended: finished, failed or unknown (the tool's output is not
    recorded: it may hold anything)."""
    await ctx.audit.record(AuditEntry(
        thread_id=approval.thread_id, run_id=approval.run_id, kind=AuditKind.RED_OUTCOME, actor=SYSTEM,
        detail={"approval_id": approval.id, "node_id": approval.node_id, "tool": approval.tool,
                "outcome": outcome, "error": error}))


def preview(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text)} chars]"


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ToolError | UnresolvedReference):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
