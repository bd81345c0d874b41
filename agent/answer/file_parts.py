"""A request in parts, each about a file of its own: each part is answered from its own file.

"At what time did Lev roll checkout back, per retros/2026-11-27-checkout-retro.md, and what
size did the catalog autoscaler go to according to k8s/events-shop-prod.txt?" was answered
"… the catalog autoscaler went to 1Gi according to k8s/events-shop-prod.txt" (monday
rollback-time-and-catalog-size): ``1Gi`` is the retro's (a memory limit), and the events file
says ``New size: 5``. With both files in one prompt, a small model takes a value from the
wrong one. When the request's questions (split where a new question begins: ", and what …",
"; …", "? …") each name one file, a different one, and the plan read each, the joiner answers
each question with its own file's read alone, and the answer is the parts in order: which
file a value comes from is then the run's fact, not the model's choice.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, cast

from agent.answer.stream import join_reply
from agent.execution.context import EngineContext
from agent.model.llm import TextReply
from agent.model.prompting import joiner_messages
from agent.plan.named_files import READ_FILE, named_files
from agent.state import AgentState

_QUESTION_START = re.compile(
    r",?\s+and\s+(?=(?:also\s+)?(?:what|which|when|where|who|whom|whose|how|why|is|are|was|were|does|do|did"
    r"|at what|in what|on what|for what|by what|from what)\b)"
    r"|;\s+|(?<=\?)\s+", re.I)
"""Where a new question of a request begins."""
_POINTS_BACK = re.compile(r"\b(?:it|its|they|them|their|he|she|him|his|her|those|these|same)\b", re.I)
"""A word of a later question that points back to an earlier one ("…, and when did it end in
y.log?"): that question is not whole alone, and the request is not split."""


@dataclass(frozen=True)
class FilePart:
    """One question of the request, and the read of the one file it names."""

    question: str
    node_id: str
    path: str


def file_parts(request: str, plan: Mapping[str, Any],
               results: Mapping[str, Mapping[str, Any]]) -> list[FilePart]:
    """The request's questions, each with the read that holds its file; [] unless there are
    two or more, each names exactly one file, no two the same, no later one points back to an
    earlier one, and this plan read each (a ``read_file`` node that is done and returned that
    path)."""
    questions = [part.strip(" ,;") for part in _QUESTION_START.split(request) if part.strip(" ,;?")]
    if len(questions) < 2:
        return []
    if any(_POINTS_BACK.search(question) for question in questions[1:]):
        return []
    reads = _reads(plan, results)
    parts: list[FilePart] = []
    for question in questions:
        named = named_files(question)
        if len(named) != 1:
            return []
        path = next(iter(named))
        node_id = reads.get(path)
        if node_id is None or any(part.path == path for part in parts):
            return []
        parts.append(FilePart(question if question.endswith("?") else question + "?", node_id, path))
    return parts


def _reads(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The paths this plan's done reads returned, each with the read's node id (the first)."""
    reads: dict[str, str] = {}
    for node in plan.get("nodes") or []:
        node_id = str(node.get("id"))
        result = results.get(node_id) or {}
        output = result.get("output")
        if node.get("tool") == READ_FILE and result.get("status") == "done" and isinstance(output, Mapping) \
                and isinstance(output.get("path"), str):
            reads.setdefault(output["path"], node_id)
    return reads


def part_state(state: Mapping[str, Any], part: FilePart) -> dict[str, Any]:
    """The joiner's state for one part: its question as the request, its file's read as the
    only node and result."""
    plan = state.get("plan") or {}
    node = next(node for node in plan.get("nodes") or [] if str(node.get("id")) == part.node_id)
    return {**state, "request": part.question, "plan": {"nodes": [node], "thought": ""},
            "results": {part.node_id: (state.get("results") or {})[part.node_id]}}


async def answer_in_parts(ctx: EngineContext, state: AgentState, parts: list[FilePart], red: Collection[str],
                          *, thread_id: str, run_id: str) -> TextReply:
    """The joiner's answer to each part from its own file (no replan offered: every file was
    read), the parts' texts one after the other, streamed as one answer; its text is empty
    when a part's reply is empty or calls a tool (the joiner then answers the whole request)."""
    texts: list[str] = []
    tokens, cut_off = 0, False
    for part in parts:
        own = cast(AgentState, part_state(state, part))
        messages = joiner_messages(own, 0, ctx.settings.prompt_chars, red)
        reply = await join_reply(ctx, messages, [], thread_id=thread_id, run_id=run_id,
                                 written_before="\n\n".join(texts))
        tokens += reply.tokens
        cut_off |= reply.cut_off
        if reply.tool_calls or not reply.text.strip():
            return TextReply(text="", tool_calls=[], tokens=tokens, cut_off=cut_off)
        texts.append(reply.text.strip())
    return TextReply(text="\n\n".join(texts), tool_calls=[], tokens=tokens, cut_off=cut_off)
