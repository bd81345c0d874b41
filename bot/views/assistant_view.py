"""What the assistant pane shows (pure): suggested prompts from the registered tools, the
thread's title, and the "is …" status while a run goes on."""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.plan.readiness import NodeState
from agent.tools.registry import Risk, ToolSpec
from bot.ground.blocks import clip
from bot.views import wording as say
from bot.views.progress_view import Phase, RunProgress

MAX_PROMPTS = 4
"""Slack shows up to four suggested prompts."""
PROMPT_TITLE_CHARS = 75
TITLE_CHARS = 120
STATUS_CHARS = 120


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".")


def suggested_prompts(tools: Iterable[ToolSpec]) -> list[dict[str, str]]:
    """Up to four prompts, one per tool, read-only (green) tools first: the person may try them
    without anyone having to approve anything."""
    ordered = sorted(tools, key=lambda spec: (spec.risk is not Risk.GREEN, spec.name))
    prompts = []
    for spec in ordered[:MAX_PROMPTS]:
        what = first_sentence(spec.description) or spec.name
        prompts.append({"title": clip(f"{spec.name}: {what}", PROMPT_TITLE_CHARS),
                        "message": say.suggested_prompt(spec.name, what, red=spec.risk is Risk.RED)})
    return prompts


def thread_title(request: str) -> str:
    return clip(" ".join(request.split()), TITLE_CHARS)


def status_text(progress: RunProgress) -> str:
    """The pane's "is …" line for the run's phase; empty once nothing is going on (clears it)."""
    match progress.phase:
        case Phase.PLANNING:
            return say.STATUS_PLANNING
        case Phase.REPLANNING:
            return say.STATUS_REPLANNING
        case Phase.RUNNING:
            running = [f"{n.id} ({n.label})" for n in progress.nodes.values() if n.state is NodeState.RUNNING]
            return clip(say.status_running(running), STATUS_CHARS)
    return ""
