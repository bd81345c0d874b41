"""The status message of a run: plan, node states, attempts, elapsed time (pure rendering)."""

from __future__ import annotations

from agent.plan.readiness import NodeState
from bot.ground.action_ids import APPROVE_ALL_ACTION, CANCEL_ACTION
from bot.ground.blocks import Block, actions, button, clip, context, fit, line_sections, notification, section
from bot.ground.mrkdwn import escape
from bot.views import wording as say
from bot.views.progress_view import NodeView, Phase, RunProgress
from bot.views.standing_view import APPROVE_ALL_BUTTON

DETAIL_CHARS = 240


def node_detail(node: NodeView, limit: int, people: frozenset[str] = frozenset()) -> str:
    """What happened to the node, as mrkdwn: who decided (a mention the bot makes), then the
    detail (untrusted: escaped, but for mentions of ``people``)."""
    detail = escape(clip(node.detail or "", limit), people)
    if node.decision is None:
        return detail
    decided = f"{node.decision} by {say.user(node.decided_by)}"
    return f"{decided}: {detail}" if detail else decided


def refused_notes(progress: RunProgress) -> list[str]:
    """A line for each red node nobody approved (below an answer or a failure)."""
    return [say.refused_note(n.id, escape(clip(n.label, 120)), node_detail(n, 500, progress.people()) or None)
            for n in progress.refused()]


def node_line(node: NodeView, people: frozenset[str] = frozenset()) -> str:
    line = f"{say.NODE_ICONS[node.state.value]} `{node.id}` {escape(clip(node.label, 120))}"
    if node.max_attempts > 1 or node.attempt > 1:
        line += f" · attempt {node.attempt}/{max(node.attempt, node.max_attempts)}"
    if node.started_at and node.finished_at:
        line += f" · {say.duration(node.finished_at - node.started_at)}"
    if node.state is NodeState.AWAITING_APPROVAL:
        line += " — awaiting approval"
    elif node.detail or node.decision:
        line += f" — {node_detail(node, DETAIL_CHARS, people)}"
    return line


def title(progress: RunProgress) -> str:
    text = say.PHASE_TITLES[progress.phase.value]
    if progress.phase is Phase.ANSWERED and (counts := progress.undone()):
        text = say.answered_not_all_done(counts)  # "Done" would say every step ran
    elif progress.phase is Phase.REPLANNING and progress.note:
        text += f": {escape(clip(progress.note, 500), progress.people())}"
    elif progress.phase is Phase.FAILED and progress.note:
        text += f": {escape(clip(progress.note, 1500), progress.people())}"
    elif progress.phase is Phase.CANCELLED and progress.cancelled_by:
        text += f" by {say.user(progress.cancelled_by)}"
    return text


def summary(progress: RunProgress, now: float) -> str:
    parts = [f"Elapsed {say.duration(progress.elapsed(now))}"]
    if progress.nodes:
        done = progress.count(NodeState.DONE)
        parts.append(", ".join([f"{done}/{len(progress.nodes)} nodes done",
                                *(f"{n} {state}" for n, state in progress.undone())]))
    if progress.replans:
        parts.append(f"replan {progress.replans}")
    return " · ".join(parts)


def render_status(progress: RunProgress, now: float, thread_key: str,
                  *, node_lines: bool = True) -> tuple[str, list[Block]]:
    """The message text (for notifications) and blocks; a Cancel button while the run is active
    (and "Approve all" while several of its approvals wait).
    Without ``node_lines`` (the plan is streamed in a message of its own: :mod:`bot.outbound.plan_stream`)
    it is the heading, the plan's thought, the summary and Cancel."""
    heading = title(progress)
    blocks: list[Block] = [section(heading)]
    if progress.undelivered:
        blocks.append(section(say.reply_not_posted(progress.undelivered,
                                                   answered=progress.phase is Phase.ANSWERED)))
    if progress.thought:
        blocks.append(section(f"_{escape(clip(progress.thought, 1000))}_"))
    if progress.corrections:
        blocks.append(context(say.plan_corrected(progress.corrections)))
    if node_lines:
        people = progress.people()
        blocks.extend(line_sections([node_line(n, people) for n in progress.nodes.values()]))
    tail: list[Block] = []
    if progress.phase is not Phase.QUEUED:
        tail.append(context(summary(progress, now)))
    if progress.is_active and progress.phase is not Phase.QUEUED:
        controls = [button(say.CANCEL_BUTTON, CANCEL_ACTION, thread_key, style="danger")]
        if progress.count(NodeState.AWAITING_APPROVAL) > 1:  # several approvals wait: one click for all
            controls.insert(0, button(APPROVE_ALL_BUTTON, APPROVE_ALL_ACTION, thread_key, style="primary"))
        tail.append(actions(*controls, block_id="run_controls"))
    return notification(heading), fit(blocks + tail, keep_last=len(tail))


def render_queued_cancelled() -> tuple[str, list[Block]]:
    return say.CANCELLED_BEFORE_START, [section(f"{say.PHASE_TITLES['cancelled']} — "
                                                f"{say.CANCELLED_BEFORE_START}")]
