"""Streaming the joiner's answer while the model writes it.

The joiner's reply is a forced tool call (``{"action": ..., "answer": ...}``); streamed, its
arguments arrive as growing JSON text. Parsed with pydantic-core's partial mode, the
``answer`` string so far is published as :class:`~agent.events.AnswerDelta` each time it
grows, once ``action`` says ``finish`` (a reply that asks for a replan shows nothing). Front
ends may show it as it comes; the :class:`~agent.events.AnswerReady` that ends the run stays
the answer that counts (the joiner may still fall back to another text).

A model that does not stream answers whole (no deltas); one that refuses to stream is asked
again without streaming, and not asked to stream again (as the planner does).
"""

from __future__ import annotations

from typing import Any

import pydantic_core
import structlog
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from agent.context import EngineContext
from agent.events import AnswerDelta
from agent.llm import StreamRefused, StructuredReply, call_structured, stream_structured

log = structlog.get_logger(__name__)


def answer_so_far(arguments: str) -> str | None:
    """The ``answer`` text in the joiner's partial arguments, once ``action`` is ``finish``."""
    try:
        value: Any = pydantic_core.from_json(arguments, allow_partial="trailing-strings")
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("action") != "finish":
        return None
    answer = value.get("answer")
    return answer if isinstance(answer, str) and answer else None


async def join_reply(ctx: EngineContext, messages: list[BaseMessage], schema: type[BaseModel], name: str,
                     *, thread_id: str, run_id: str) -> StructuredReply:
    """The joiner's reply, its answer published as it grows (see the module docstring)."""
    if ctx.planner_stream_refused:
        return await call_structured(ctx.llm, messages, schema, name)
    shown = ""

    async def on_arguments(arguments: str) -> None:
        nonlocal shown
        text = answer_so_far(arguments)
        if text is not None and len(text) > len(shown):
            shown = text
            await ctx.events.publish(AnswerDelta(thread_id=thread_id, run_id=run_id, text=text))

    try:
        return await stream_structured(ctx.llm, messages, schema, name, on_arguments)
    except StreamRefused as refused:
        ctx.planner_stream_refused = str(refused)
        log.warning("the model does not stream the joiner's reply; answering without streaming "
                    "from now on", reason=str(refused))
        return await call_structured(ctx.llm, messages, schema, name)
