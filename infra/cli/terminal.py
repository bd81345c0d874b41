"""The terminal front end of ``dagbot ask``: events as they happen, y/n for each red node.

Approval prompts never stop the run: stdin is read on a daemon thread, and the
engine keeps running every other branch while a question waits for its answer (an event
printed meanwhile goes above the question, which is asked again below it). A "no" asks why,
and the reason is recorded with the rejection. The answer is Markdown, shown as a terminal
shows it (rich): bold, lists and code, not their asterisks and backticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from typing import TextIO

from rich.console import Console
from rich.markdown import Markdown

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
        case PlanReady(plan=plan, added=added):
            lines = [f"plan: {plan.get('thought', '')}".rstrip()] if not added else ["plan: a step added"]
            for node in plan["nodes"]:
                if added and node["id"] not in added:
                    continue
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
        case AnswerReady(duration_s=duration, nodes_run=nodes, tokens=tokens):
            return f"— {duration:.1f}s, {nodes} node(s), {tokens} tokens"  # (below the answer)
        case RunFailed(error=error):
            return f"\n✖ {error}"
    return None


class Screen:
    """What ``dagbot ask`` prints: event lines, the answer's Markdown, and questions that wait
    for a line of input while event lines keep coming."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.question: str | None = None
        """The question waiting for its answer, if one is: asked again (in short) below a line
        printed meanwhile."""

    def line(self, text: str) -> None:
        if self.question is not None:  # keep the question below what happened meanwhile
            print(f"\n{text}\n{self.question}", end="", file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)

    def ask(self, question: str, again: str | None = None) -> None:
        self.question = again or question
        print(question, end="", file=self.out, flush=True)

    def answered(self) -> None:
        self.question = None

    def markdown(self, text: str) -> None:
        console = Console(file=self.out, highlight=False)
        with console.capture() as captured:
            console.print(Markdown(text))
        shown = captured.get()
        if not console.is_terminal:  # (rich pads each line to the width: nobody sees it on a screen)
            shown = "\n".join(line.rstrip() for line in shown.splitlines()) + "\n"
        print(f"\n{shown}", file=self.out, flush=True)


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
    screen = Screen(out)
    asked: set[str] = set()
    """The approvals asked here: the terminal's question says they wait, no other line need."""

    async def answer(question: str, again: str | None = None) -> str | None:
        screen.ask(question, again)
        try:
            return "y" if reader is None else await reader.lines.get()
        finally:
            screen.answered()

    async def answer_prompts() -> None:
        while True:
            approval = await prompts.get()
            args = json.dumps(engine.registry.masked(approval.tool, approval.args), ensure_ascii=False)
            line = await answer(f"\n? approve {approval.tool}({args}) for node '{approval.node_id}'"
                                f" — {approval.why}" + (f"\n  note: {approval.note}" if approval.note else "")
                                + "\n  [y/N] ", f"? approve {approval.tool} for node '{approval.node_id}' "
                                "(above)? [y/N] ")
            approved = (line or "").lower() in ("y", "yes")
            reason = None
            if not approved:
                why = None if line is None else await answer("  why not? (shown with the rejection; "
                                                             "Enter to skip) ")
                reason = "no answer: input closed" if line is None or why is None else (why.strip() or None)
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
            if isinstance(event, AnswerReady):
                screen.markdown(event.answer)
            if isinstance(event, AwaitingApproval):
                asked.add(event.approval_id)
            text = None if isinstance(event, Waiting) and set(event.pending) <= asked else render(event)
            if text:
                screen.line(text)
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
