"""A run's plan as Slack's streamed tasks (pure): one task per plan node, in plan order.

Each node is a ``task_update`` chunk: its id (the node's; ``node.r2`` for a node of the second
replan, so a new plan adds tasks instead of overwriting the old plan's), a title (the node's id
and its label: the tool, or the package's goal), a status, and what the status message's line
says of it: ``pending`` (waiting; a red node waiting for approval says so, with a link to its
approval message as a source), ``in_progress`` (running: its attempts, retries and reused
results as details), ``complete`` (a one-line summary of its output, as code) or ``error`` (why: its
error, who rejected it and why, or why it was skipped). Untrusted text (tool output, errors,
reasons) is made safe as an answer is (:func:`bot.ground.mrkdwn.safe_markdown`). The plan's title
counts its steps and says how the run stands. :class:`bot.outbound.plan_stream.PlanStream` sends what
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent.plan.readiness import NodeState
from bot.ground.blocks import clip
from bot.ground.mrkdwn import safe_markdown
from bot.views import wording as say
from bot.views.progress_view import NodeView, Phase, RunProgress

TASK_TEXT_CHARS = 256
"""Slack: a task's details and output."""
TITLE_CHARS = 120
OUTPUT_CHARS = 120
"""A finished node's output, summed up on one line."""
PENDING, IN_PROGRESS, COMPLETE, ERROR = "pending", "in_progress", "complete", "error"
STATUSES = {
    NodeState.WAITING: PENDING, NodeState.AWAITING_APPROVAL: PENDING, NodeState.RUNNING: IN_PROGRESS,
    NodeState.DONE: COMPLETE, NodeState.FAILED: ERROR, NodeState.REJECTED: ERROR, NodeState.SKIPPED: ERROR,
}
WAITING_FOR_APPROVAL = "waiting for approval"
APPROVAL_SOURCE = "Approval message"
PHASE_NOTES = {Phase.WAITING: "waiting for approval", Phase.REPLANNING: "replanning", Phase.ANSWERED: "done",
               Phase.FAILED: "failed", Phase.CANCELLED: "cancelled"}
NOT_RUN = {Phase.CANCELLED: "not run: the run was cancelled", Phase.FAILED: "not run: the run failed"}
STOPPED = {Phase.CANCELLED: "stopped: the run was cancelled", Phase.FAILED: "stopped: the run failed"}
DROPPED = "not run: the plan changed"
CONTINUED = "continued in the next message ↓"


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    status: str
    details: str = ""
    output: str = ""
    link: str = ""
    """Its approval message, while it waits for one."""

    @property
    def is_final(self) -> bool:
        return self.status in (COMPLETE, ERROR)

    def chunk(self) -> dict[str, Any]:
        """The task whole, as a ``task_update`` chunk (empty fields left out)."""
        chunk: dict[str, Any] = {"type": "task_update", "id": self.id, "title": self.title,
                                 "status": self.status}
        if self.details:
            chunk["details"] = self.details
        if self.output:
            chunk["output"] = self.output
        if self.link:
            chunk["sources"] = [{"type": "url", "url": self.link, "text": APPROVAL_SOURCE}]
        return chunk


def task_id(node_id: str, replan: int) -> str:
    """Node ids are ``[a-z][a-z0-9_]*``: a dot never clashes with one."""
    return f"{node_id}.r{replan}" if replan else node_id


def one_line(text: str, people: frozenset[str], limit: int = TASK_TEXT_CHARS) -> str:
    return clip(" ".join(safe_markdown(text, people).split()), limit)


def as_code(text: str) -> str:
    """Output shown as written (a code span: no heading, list or link made of it)."""
    return f"`{text.replace('`', chr(0x2CB))}`" if text else ""


def node_task(node: NodeView, replan: int, people: frozenset[str], link: str = "") -> Task:
    """The node as a task: what its status line says, in a task's fields."""
    meta = []
    if node.max_attempts > 1 or node.attempt > 1:
        meta.append(f"attempt {node.attempt}/{max(node.attempt, node.max_attempts)}")
    if node.started_at and node.finished_at:
        meta.append(say.duration(node.finished_at - node.started_at))
    decided = f"{node.decision} by {say.user(node.decided_by)}" if node.decision else ""
    detail = one_line(node.detail or "", people)
    status = STATUSES[node.state]
    output = ""
    if node.state is NodeState.AWAITING_APPROVAL:
        meta.append(WAITING_FOR_APPROVAL)
    elif node.state is NodeState.DONE:
        meta.extend([decided, detail])  # e.g. an attempt that failed, a result reused
        output = as_code(one_line(node.output, people, OUTPUT_CHARS))
    elif node.state is NodeState.REJECTED:  # who rejected it and why, or why nobody could
        output = clip(f"{decided}: {detail}" if decided and detail else decided or detail, TASK_TEXT_CHARS)
    elif status == ERROR:
        meta.append(decided)
        output = detail  # the error, or why it was skipped
    else:
        meta.extend([decided, detail])
    return Task(id=task_id(node.id, replan), title=clip(f"{node.id}: {node.label}", TITLE_CHARS),
                status=status, details=clip(" · ".join(m for m in meta if m), TASK_TEXT_CHARS), output=output,
                link=link if node.state is NodeState.AWAITING_APPROVAL else "")


def plan_tasks(progress: RunProgress, links: Mapping[str, str]) -> list[Task]:
    """The current plan's tasks, in plan order (``links``: node id → its approval message)."""
    people = progress.people()
    return [node_task(node, progress.plan_replan, people, links.get(node.id, ""))
            for node in progress.nodes.values()]


def plan_title(progress: RunProgress, steps: int) -> str:
    title = f"Plan: {steps} step{'s' if steps != 1 else ''}"
    if progress.replans:
        title += f" (replanned {progress.replans}×)"
    note = PHASE_NOTES.get(progress.phase)
    if progress.phase is Phase.ANSWERED and (counts := progress.undone()):
        note = ", ".join(["answered", *(f"{n} {state}" for n, state in counts)])  # not "done"
    return f"{title} — {note}" if note else title


def merged(known: Mapping[str, Task], current: list[Task]) -> dict[str, Task]:
    """The tasks shown so far (in the order they first came) updated with the current plan's;
    one no longer in the plan (an earlier plan's, or a node the planner dropped) that never
    finished is shown as not run."""
    tasks = {tid: task if task.is_final else replace(task, status=ERROR, output=DROPPED, link="")
             for tid, task in known.items()}
    tasks.update((task.id, task) for task in current)
    return tasks


def settled(tasks: Mapping[str, Task], phase: Phase) -> dict[str, Task]:
    """The tasks as a run that ended leaves them: one that had not finished did not run (or
    was stopped) because the run failed or was cancelled."""
    def final(task: Task) -> Task:
        if task.is_final:
            return task
        why = (STOPPED if task.status == IN_PROGRESS else NOT_RUN).get(phase, DROPPED)
        return replace(task, status=ERROR, output=why, link="")
    return {tid: final(task) for tid, task in tasks.items()}


def continued_below(task: Task) -> Task:
    """An unfinished task as the full message it went on from leaves it: no longer running there."""
    return replace(task, status=PENDING, details=CONTINUED, output="", link="")


def changes(shown: Mapping[str, Task], shown_title: str, tasks: Mapping[str, Task],
            title: str) -> list[dict[str, Any]]:
    """The chunks that bring a stream showing ``shown`` under ``shown_title`` to ``tasks``
    under ``title``: the title if it changed, then each task that is new or changed."""
    chunks: list[dict[str, Any]] = [{"type": "plan_update", "title": title}] if title != shown_title else []
    chunks.extend(task.chunk() for tid, task in tasks.items() if shown.get(tid) != task)
    return chunks
