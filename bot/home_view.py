"""The App Home tab of one person (pure rendering): their active runs, the approvals waiting
for them with the same Approve/Reject/Edit buttons as in the thread, and their recent runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import messages as say
from bot.blocks import Block, clip, context, divider, fit, header, section
from bot.mrkdwn import escape
from bot.reply_view import RunLine

MAX_VIEW_BLOCKS = 100
MAX_APPROVALS = 8
"""Approvals shown in full (with buttons); more are counted."""


@dataclass(frozen=True)
class RecentLine:
    link: str
    request: str
    at: float
    outcome: str


def run_line(run: RunLine) -> str:
    return f"• <{run.link}|{escape(clip(run.request, 80)) or 'request'}> — {run.state}"


def home_view(active: list[RunLine], approvals: list[list[Block]], more_approvals: int,
              recent: list[RecentLine]) -> dict[str, Any]:
    """``approvals``: each approval's message blocks, as the thread shows them."""
    blocks: list[Block] = [header(say.HOME_TITLE), context(say.HOME_INTRO)]
    blocks += [divider(), section(say.ACTIVE_RUNS_TITLE)]
    blocks.append(section("\n".join(run_line(r) for r in active[:20]) if active else say.NO_ACTIVE_RUNS))
    blocks += [divider(), section(say.HOME_APPROVALS_TITLE)]
    if not approvals:
        blocks.append(section(say.NO_PENDING_APPROVALS))
    for shown in approvals[:MAX_APPROVALS]:
        blocks.extend(shown)
        blocks.append(divider())
    if more_approvals:
        blocks.append(context(say.more_approvals(more_approvals)))
    blocks += [divider(), section(say.HOME_RECENT_TITLE)]
    lines = [f"• <{r.link}|{escape(clip(r.request, 80)) or 'request'}> — {r.outcome}, {say.slack_date(r.at)}"
             for r in recent]
    blocks.append(section("\n".join(lines) if lines else say.NO_RECENT_RUNS))
    return {"type": "home", "blocks": fit(blocks, keep_last=2)[:MAX_VIEW_BLOCKS]}
