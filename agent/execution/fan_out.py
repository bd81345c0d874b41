"""A tool node's calls: one, or one per item of a fan-out (``each``), all at once.

Every call goes through :func:`agent.execution.green_calls.call_green` (retries, result reuse), so a
fan-out run again after a failure calls only the items that failed when the others' results
are still fresh. The node is done when every call is; its output is the list of the calls'
outputs in item order. If any call fails, the node fails, its error naming each failed item.

While the plan streams, a fan-out's items can start before the node is complete
(:mod:`agent.execution.early_start`): such a started call is a :class:`Prefetch`. The node, once
complete and valid, takes each one over whose arguments turn out the same (the shared
``args`` may still have changed them) and makes the rest of its calls itself; a node with
dependencies takes none, since its calls must come after them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from agent.errors import ToolError
from agent.execution.context import EngineContext
from agent.execution.green_calls import GreenCall, call_green
from agent.execution.red_calls import describe_error
from agent.plan.format import PlanNode

_SHOWN_FAILURES = 5


@dataclass(frozen=True)
class Prefetch:
    """A call started while its node was still being written: a fan-out's item, or a call
    a package's code will make (:mod:`agent.plan.code_calls`)."""

    args: dict[str, Any]
    task: asyncio.Task[GreenCall]
    tool: str = ""
    after: frozenset[str] = frozenset()
    """The nodes that were done when it started: a package takes it over only if its
    dependencies are among them (a call its code makes after a red node must follow it)."""


def prefetch(ctx: EngineContext, thread_id: str, run_id: str, node_id: str, tool: str,
             args: dict[str, Any], after: frozenset[str] = frozenset()) -> Prefetch:
    task = asyncio.create_task(call_green(ctx, thread_id, run_id, node_id, tool, args),
                               name=f"prefetch:{node_id}")
    # a call no node takes over is dropped: its failure is nobody's to report
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return Prefetch(args, task, tool, after)


@dataclass(frozen=True)
class ToolCalls:
    output: Any
    attempts: int
    errors: tuple[str, ...]
    """The transient errors that were retried, in order."""


def _gist(args: dict[str, Any]) -> str:
    text = json.dumps(args, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:80] + "…"


async def call_tool_node(ctx: EngineContext, thread_id: str, run_id: str, node: PlanNode,
                         calls: list[dict[str, Any]], started: dict[int, Prefetch] | None = None,
                         ) -> ToolCalls:
    """Make a green tool node's calls (``calls``: each call's validated arguments), taking
    over the ``started`` ones (by item index; a single call's is item 0) whose arguments are
    the same."""
    assert node.tool is not None
    tool = node.tool
    started = started or {}
    if node.each is None:
        early = started.pop(0, None)
        for unused in started.values():
            unused.task.cancel()
        if early is not None and early.args == calls[0]:
            one = await early.task
        else:
            if early is not None:
                early.task.cancel()
            one = await call_green(ctx, thread_id, run_id, node.id, tool, calls[0])
        return ToolCalls(one.output, max(1, one.attempts), one.errors)
    pending: list[Awaitable[GreenCall]] = []
    for index, args in enumerate(calls):
        early = started.pop(index, None)
        if early is not None and early.args == args:
            pending.append(early.task)
        else:
            pending.append(call_green(ctx, thread_id, run_id, node.id, tool, args))
    for unused in started.values():
        unused.task.cancel()
    done: list[GreenCall | BaseException] = await asyncio.gather(*pending, return_exceptions=True)
    failed = [(i, args, r) for i, (args, r) in enumerate(zip(calls, done, strict=True))
              if isinstance(r, BaseException)]
    if failed:
        shown = "; ".join(f"item {i} {_gist(ctx.registry.masked(tool, args))}: {describe_error(exc)}"
                          for i, args, exc in failed[:_SHOWN_FAILURES])
        more = f"; and {len(failed) - _SHOWN_FAILURES} more" if len(failed) > _SHOWN_FAILURES else ""
        raise ToolError(f"{len(failed)} of {len(calls)} calls failed: {shown}{more}")
    results = [r for r in done if isinstance(r, GreenCall)]
    return ToolCalls([r.output for r in results], max(1, max(r.attempts for r in results)),
                     tuple(e for r in results for e in r.errors))
