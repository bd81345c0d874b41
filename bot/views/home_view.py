"""The App Home tab of one person (pure rendering): their active runs, the approvals waiting
for them with the same Approve/Reject/Edit buttons as in the thread, their standing approvals
(if any, each with Revoke), and their recent runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.ground.blocks import MAX_VIEW_BLOCKS, Block, context, divider, fit, header, section
from bot.views import wording as say
from bot.views.reply_view import RunLine, request_link

MAX_APPROVALS = 8
"""Approvals shown in full (with buttons); more are counted."""


@dataclass(frozen=True)
class RecentLine:
    link: str
    request: str
    at: float
    outcome: str


def run_line(run: RunLine) -> str:
    return f"• {request_link(run.link, run.request)} — {run.state}"


def home_view(active: list[RunLine], approvals: list[list[Block]], more_approvals: int,
              recent: list[RecentLine], standing: list[Block] | None = None) -> dict[str, Any]:
    """``approvals``: each approval's message blocks, as the thread shows them. Each is shown
    whole (never without its buttons) while the view has room; the rest are counted.
    ``standing``: the blocks listing the person's standing approvals (bot.views.standing_view)."""
    head: list[Block] = [header(say.HOME_TITLE), context(say.HOME_INTRO)]
    head += [divider(), section(say.ACTIVE_RUNS_TITLE)]
    head.append(section("\n".join(run_line(r) for r in active[:20]) if active else say.NO_ACTIVE_RUNS))
    head += [divider(), section(say.HOME_APPROVALS_TITLE)]
    lines = [f"• {request_link(r.link, r.request)} — {r.outcome}, {say.slack_date(r.at)}" for r in recent]
    tail = [*(standing or []), divider(), section(say.HOME_RECENT_TITLE),
            section("\n".join(lines) if lines else say.NO_RECENT_RUNS)]
    room = MAX_VIEW_BLOCKS - len(head) - len(tail) - 1  # (1: the note counting those not shown)
    body: list[Block] = [] if approvals else [section(say.NO_PENDING_APPROVALS)]
    shown = 0
    for blocks in approvals[:MAX_APPROVALS]:
        if len(body) + len(blocks) + 1 > room:
            break
        body += [*blocks, divider()]
        shown += 1
    if more := more_approvals + len(approvals) - shown:
        body.append(context(say.more_approvals(more)))
    return {"type": "home", "blocks": fit(head + body + tail, keep_last=len(tail), limit=MAX_VIEW_BLOCKS)}
