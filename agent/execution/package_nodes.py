"""Package nodes: code the planner wrote, run in the sandbox (:class:`~agent.ports.sandbox.PackageRunner`).

The code gets its dependencies' outputs as ``inputs`` and reaches tools only through a
:class:`~agent.execution.gateway.GreenToolGateway`: green tools, less those the requester may not use,
each call with the retries and result reuse of a tool node (:func:`agent.execution.green_calls.call_green`).
Every attempt the runner made (the reflexion loop) is kept in the node's attempt log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from agent.errors import ToolError
from agent.execution.context import EngineContext
from agent.execution.fan_out import Prefetch
from agent.execution.gateway import GreenToolGateway
from agent.execution.green_calls import call_green
from agent.execution.red_calls import describe_error
from agent.execution.redaction import scrub_error
from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.ports.sandbox import PackageJob, SandboxLimits
from agent.ports.stores import NodeResult, NodeStatus
from agent.run_identity import RunIdentity

PACKAGE_TIMED_OUT = "the package did not finish within"
"""How a package's failure begins when it ran out of time (no attempt of it is logged)."""

NO_SANDBOX = ("package nodes need a sandbox, and none is available: install Docker or "
              "bubblewrap (see docs/sandbox.md) and set SANDBOX_BACKEND")
ATTEMPT_MARGIN_SECONDS = 120.0
"""Per attempt, beyond its wall time: starting and removing the sandbox, and the reflexion
model's rewrite. Only a backstop: a package runner past it is stuck, not slow."""


def package_deadline(limits: SandboxLimits, attempts: int) -> float:
    """How long a package node's runner may take before the node fails anyway."""
    return max(1, attempts) * (limits.wall_seconds + ATTEMPT_MARGIN_SECONDS)


async def run_package(ctx: EngineContext, ident: RunIdentity, node: PlanNode,
                      outputs: Mapping[str, Any], started: float,
                      early: dict[int, Prefetch] | None = None, final: bool = True) -> NodeResult:
    """Run package node ``node``, whose dependencies' outputs are in ``outputs``, started at
    ``started``; its result, failed when there is no sandbox. ``early``: calls its code makes,
    started while it was written; a call of the code with the same tool and arguments takes
    one over, the rest are stopped. ``final``: no other package goes on from its result."""
    assert node.package is not None
    early = early or {}
    try:
        return await _run_package(ctx, ident, node, outputs, started, early, final)
    finally:
        for unused in early.values():
            unused.task.cancel()


async def _run_package(ctx: EngineContext, ident: RunIdentity, node: PlanNode, outputs: Mapping[str, Any],
                       started: float, early: dict[int, Prefetch], final: bool) -> NodeResult:
    assert node.package is not None
    if ctx.packages is None:
        return NodeResult(node.id, NodeStatus.FAILED, error=NO_SANDBOX)
    job = PackageJob(
        thread_id=ident.thread_id, run_id=ident.run_id, node_id=node.id,
        goal=node.package.goal, code=node.package.code,
        inputs={dep: outputs[dep] for dep in sorted(dependencies(node))},
        request=ident.request, follows=ident.follows, final=final,
    )
    async def call(tool: str, args: dict[str, Any]) -> Any:  # retries and reuse, as a tool node
        taken = next((i for i, p in early.items() if p.tool == tool and p.args == args), None)
        if taken is not None:
            with contextlib.suppress(Exception):  # failed: called again, with its retries
                return (await early.pop(taken).task).output
        try:
            done = await call_green(ctx, ident.thread_id, ident.run_id, node.id, tool, args)
        except Exception as exc:  # the code sees the error (as the gateway words it), secrets masked
            said = str(exc) if isinstance(exc, ToolError) else f"tool '{tool}' failed: {describe_error(exc)}"
            raise ToolError(scrub_error(ctx, said, tool, [args])) from None
        return done.output

    gateway = GreenToolGateway(
        ctx.registry.without(ident.refused_tools), ctx.settings.sandbox_limits.tool_timeout_seconds, call,
        refused=ident.refused_tools,
    )
    deadline = package_deadline(ctx.settings.sandbox_limits, ctx.packages.max_attempts)
    bound = asyncio.timeout(deadline)  # a stuck runner must not hold the engine's run for ever
    try:
        async with bound:
            outcome = await ctx.packages.run(job, gateway, ctx.events.publish)
    except TimeoutError:
        if not bound.expired():
            raise
        return NodeResult(node.id, NodeStatus.FAILED, started_at=started, finished_at=ctx.clock(),
                          error=f"{PACKAGE_TIMED_OUT} {deadline:g} s (its wall-time "
                                "limit for each attempt, plus a margin) and was stopped")
    status = NodeStatus.DONE if outcome.ok else NodeStatus.FAILED
    log = [{"attempt": a.attempt, "code": a.code, "error": a.error,
            **({"mended_by": a.mended_by} if a.mended_by else {}),
            **({"query": a.query} if a.query else {})} for a in outcome.attempts]
    error = None if outcome.error is None else scrub_error(ctx, outcome.error)
    return NodeResult(node.id, status, output=outcome.output, error=error,
                      started_at=started, finished_at=ctx.clock(),
                      attempts=max(1, len(outcome.attempts)), attempt_log=log or None)
