"""The terminal front end of ``dagbot ask``: events as they happen, y/n for each red node.

Approval prompts never stop the run: stdin is read on a daemon thread, and the
engine keeps running every other branch while a question waits for its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from typing import TextIO

from agent.engine.engine import Engine, Submission
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    NodeFailed,
    NodeFinished,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    PackageAttempt,
    Planning,
    PlanReady,
    PlanRepairing,
    Replanning,
    ResultReused,
    RunEvent,
    RunFailed,
    ToolRetrying,
    Waiting,
)


def render(event: RunEvent) -> str | None:
    match event:
        case Planning(replan=replan):
            return "… planning" + (f" (replan {replan})" if replan else "")
        case PlanRepairing(problems=problems):
            return f"… the plan had {len(problems)} problem(s); asking for a corrected one"
        case PlanReady(plan=plan):
            lines = [f"plan: {plan.get('thought', '')}".rstrip()]
            for node in plan["nodes"]:
                deps = sorted(set(node.get("depends_on", [])))
                what = node.get("tool") or f"package: {node['package']['goal']}"
                lines.append(f"  • {node['id']}: {what}" + (f"  ← {', '.join(deps)}" if deps else ""))
            return "\n".join(lines)
        case NodeStarted(node_id=node_id, label=label):
            return f"▶ {node_id} ({label})"
        case NodeFinished(node_id=node_id, preview=preview):
            return f"✔ {node_id}: {preview}"
        case NodeFailed(node_id=node_id, error=error):
            return f"✖ {node_id}: {error}"
        case NodeRejected(node_id=node_id, reason=reason):
            return f"⛔ {node_id}: {reason}"
        case NodeSkipped(node_id=node_id, reason=reason):
            return f"↷ {node_id}: {reason}"
        case ToolRetrying(node_id=node_id, attempt=n, max_attempts=total, error_gist=gist, delay_s=delay):
            return f"  {node_id}: attempt {n}/{total} failed: {gist}; trying again in {delay:.1f} s"
        case ResultReused(node_id=node_id, age_s=age):
            return f"  {node_id}: reused the result of the same call {age:.0f} s ago"
        case PackageAttempt(node_id=node_id, attempt=n, max_attempts=total, error_gist=gist):
            return f"  {node_id}: attempt {n}/{total}" + (f" failed: {gist}" if gist else "")
        case DecisionRecorded(node_id=node_id, status=status, decided_by=who):
            return f"  {node_id}: {status} by {who}"
        case Waiting(pending=pending):
            return f"  waiting for {len(pending)} approval(s)"
        case Replanning(feedback=feedback):
            return f"↻ replanning: {feedback}"
        case AnswerReady(answer=answer, duration_s=duration, nodes_run=nodes, tokens=tokens):
            return f"\n{answer}\n\n— {duration:.1f}s, {nodes} node(s), {tokens} tokens"
        case RunFailed(error=error):
            return f"\n✖ {error}"
    return None


class LineReader:
    """Lines from stdin, read on a daemon thread so a waiting prompt never blocks exit."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: TextIO) -> None:
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        thread = threading.Thread(target=self._read, args=(loop, stream), daemon=True)
        thread.start()

    def _read(self, loop: asyncio.AbstractEventLoop, stream: TextIO) -> None:
        for line in stream:
            loop.call_soon_threadsafe(self.lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(self.lines.put_nowait, None)


async def ask_in_terminal(
    engine: Engine, events: asyncio.Queue[RunEvent], thread_id: str, request: str, user: str,
    *, auto_approve: bool = False, out: TextIO = sys.stdout,
) -> int:
    """Run one request; returns the exit status (0 answered, 1 failed)."""
    reader = None if auto_approve else LineReader(asyncio.get_running_loop(), sys.stdin)
    prompts: asyncio.Queue[AwaitingApproval] = asyncio.Queue()

    async def answer_prompts() -> None:
        while True:
            approval = await prompts.get()
            args = json.dumps(engine.registry.masked(approval.tool, approval.args), ensure_ascii=False)
            print(f"\n? approve {approval.tool}({args}) for node '{approval.node_id}'"
                  f" — {approval.why}" + (f"\n  note: {approval.note}" if approval.note else "")
                  + "\n  [y/N] ", end="", file=out, flush=True)
            line = "y" if reader is None else await reader.lines.get()
            approved = (line or "").lower() in ("y", "yes")
            reason = None if approved else ("no answer: input closed" if line is None else "declined")
            await engine.decide(approval.approval_id, approved=approved, by=user, reason=reason)

    prompter = asyncio.create_task(answer_prompts())
    taking_over: asyncio.Task[None] | None = None
    if await engine.submit(thread_id, request, requested_by=user) is Submission.QUEUED:
        # the thread's last runner (an earlier `dagbot ask` that was stopped) may still hold its
        # lease: once it lapses, this process takes the thread over and runs the request
        print("… waiting for the thread's earlier run to end", file=out, flush=True)
        taking_over = asyncio.create_task(_take_over_when_lapsed(engine))
    try:
        while True:
            event = await events.get()
            if event.thread_id != thread_id:
                continue
            text = render(event)
            if text:
                print(text, file=out, flush=True)
            if isinstance(event, AwaitingApproval):
                prompts.put_nowait(event)
            if isinstance(event, AnswerReady | RunFailed):
                # the run ends after its last event: its checkpoint and the thread's lease are
                # let go then, so that a follow-up (another process) finds the thread idle
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(engine.idle(), SETTLE_SECONDS)
                return 0 if isinstance(event, AnswerReady) else 1
    finally:
        prompter.cancel()
        if taking_over is not None:
            taking_over.cancel()


SETTLE_SECONDS = 30.0
"""How long `dagbot ask` waits, after the answer, for its run to let go of the thread."""
LAPSED_CHECK_SECONDS = 1.0


async def _take_over_when_lapsed(engine: Engine) -> None:
    """The recovery pass, repeated while this process's request waits (the engine is scoped to
    the thread asked in, so no other thread is touched)."""
    while True:
        await asyncio.sleep(LAPSED_CHECK_SECONDS)
        await engine.recover_lapsed()
