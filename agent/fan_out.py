"""A tool node's calls: one, or one per item of a fan-out (``each``), all at once.

Every call goes through :func:`agent.green_calls.call_green` (retries, result reuse), so a
fan-out run again after a failure calls only the items that failed when the others' results
are still fresh. The node is done when every call is; its output is the list of the calls'
outputs in item order. If any call fails, the node fails, its error naming each failed item.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from agent.context import EngineContext
from agent.errors import ToolError
from agent.green_calls import GreenCall, call_green
from agent.plan import PlanNode
from agent.red_calls import describe_error

_SHOWN_FAILURES = 5


@dataclass(frozen=True)
class ToolCalls:
    output: Any
    attempts: int
    errors: tuple[str, ...]
    """The transient errors that were retried, in order."""


def fan_out_label(node: PlanNode) -> str:
    return f"{node.tool} ×{len(node.each)}" if node.each is not None else str(node.tool)


def _gist(args: dict[str, Any]) -> str:
    text = json.dumps(args, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:80] + "…"


async def call_tool_node(ctx: EngineContext, thread_id: str, run_id: str, node: PlanNode,
                         calls: list[dict[str, Any]]) -> ToolCalls:
    """Make a green tool node's calls (``calls``: each call's validated arguments)."""
    assert node.tool is not None
    tool = node.tool
    if node.each is None:
        one = await call_green(ctx, thread_id, run_id, node.id, tool, calls[0])
        return ToolCalls(one.output, max(1, one.attempts), one.errors)
    done: list[GreenCall | BaseException] = await asyncio.gather(
        *(call_green(ctx, thread_id, run_id, node.id, tool, args) for args in calls),
        return_exceptions=True)
    failed = [(i, args, r) for i, (args, r) in enumerate(zip(calls, done, strict=True))
              if isinstance(r, BaseException)]
    if failed:
        shown = "; ".join(f"item {i} {_gist(args)}: {describe_error(exc)}"
                          for i, args, exc in failed[:_SHOWN_FAILURES])
        more = f"; and {len(failed) - _SHOWN_FAILURES} more" if len(failed) > _SHOWN_FAILURES else ""
        raise ToolError(f"{len(failed)} of {len(calls)} calls failed: {shown}{more}")
    results = [r for r in done if isinstance(r, GreenCall)]
    return ToolCalls([r.output for r in results], max(1, max(r.attempts for r in results)),
                     tuple(e for r in results for e in r.errors))
