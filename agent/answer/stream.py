"""Streaming the joiner's answer while the model writes it.

The joiner's reply is the model's text content (Markdown); it may call ``replan`` instead.
Streamed, the text so far (stripped) is published as :class:`~agent.events.AnswerDelta` each
time it grows. Front ends may show it as it comes; the :class:`~agent.events.AnswerReady`
that ends the run stays the answer that counts: the model may still call ``replan`` after
some text (a :class:`~agent.events.Replanning` event then follows the deltas), or the joiner
may fall back to another text.

A model that does not stream answers whole (no deltas); when a stream fails before it began,
the reply is asked again without streaming, and a model that refused to stream is not asked
to stream again (:mod:`agent.execution.stream_refusal`, as for the planner).

A reasoning model served without a reasoning parser writes its thinking into the text, in a
leading ``<think>…</think>`` block: it is neither streamed nor part of the answer
(:func:`without_thinking`). Nor are the untrusted-content delimiters a model copied from its
prompt (:func:`agent.model.untrusted.without_wrappers`): the answer shows the data only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent.events import AnswerDelta
from agent.execution.context import EngineContext
from agent.execution.storable import storable
from agent.execution.stream_refusal import ask_whole
from agent.model.llm import LLMUnavailable, StreamRefused, TextReply, call_text, stream_text
from agent.model.untrusted import without_wrappers


async def join_reply(ctx: EngineContext, messages: list[BaseMessage], tools: Sequence[dict[str, Any]],
                     *, thread_id: str, run_id: str, written_before: str = "") -> TextReply:
    """The joiner's reply, its text published as it grows (see the module docstring), after
    ``written_before`` (the parts of the answer already written, :mod:`agent.answer.file_parts`)."""
    if ctx.state.stream_refused:
        return _storable(await call_text(ctx.llm, messages, tools))
    shown = ""
    before = f"{written_before}\n\n" if written_before else ""

    async def on_text(received: str) -> None:
        nonlocal shown
        text = without_wrappers(without_thinking(received)).strip()  # the answer if the text ends here
        if len(text) > len(shown):
            shown = text
            await ctx.events.publish(AnswerDelta(thread_id=thread_id, run_id=run_id, text=before + text))

    try:
        return _storable(await stream_text(ctx.llm, messages, tools, on_text))
    except StreamRefused as refused:  # asked again whole (agent.execution.stream_refusal)
        return _storable(await ask_whole(ctx, refused, lambda: call_text(ctx.llm, messages, tools),
                                         "joiner's reply"))


REWORD = ("That is the results list as the prompt shows it, not an answer a person can read. Answer the "
          "request now in one to three plain sentences: state the values it asks for as the results give "
          "them (no JSON, no list of steps, no node ids).")
"""Said to the joiner once, after a reply that pasted the results list: a small model wrote
``- note_read: done → {"path": …, "content": …}`` for "who was the incident commander?", and
the person got dagbot's summary of every step instead of a sentence (wide find-wal)."""


SAY_WHAT = ("That answer only repeats the request: it says nothing the results say. Answer the request now "
            "in one to three plain sentences with what the results hold that answers it: quote the line, "
            "name or value that does (no JSON, no list of steps, no node ids).")
"""Said to the joiner once, after a reply that said nothing the results hold (:func:`agent.answer.
vetting.says_nothing`): "why won't the new search pod get scheduled?" was answered "The new search
pod is not scheduled because it is in the `k8s/events-shop-prod.txt` file." (monday
search-unscheduled), when the file's line said why."""


async def reworded(ctx: EngineContext, messages: list[BaseMessage], pasted: str,
                   *, thread_id: str, run_id: str, told: str = REWORD) -> TextReply | None:
    """The joiner's second reply, told (``told``) what was wrong with its first (``pasted``: by
    default, that it was the results list); with no tools (no replan: the results hold the
    answer). None when the model cannot be reached."""
    try:
        return await join_reply(ctx, [*messages, AIMessage(pasted), HumanMessage(told)], [],
                                thread_id=thread_id, run_id=run_id)
    except LLMUnavailable:
        return None


def _storable(reply: TextReply) -> TextReply:
    """The reply as the thread's state can keep it (its text, without thinking, becomes the
    answer)."""
    return dataclasses.replace(reply, text=storable(without_wrappers(without_thinking(reply.text))),
                               tool_calls=storable(reply.tool_calls))


_THINK, _THOUGHT = "<think>", "</think>"


def without_thinking(text: str) -> str:
    """``text`` without a leading ``<think>…</think>`` block; nothing while it is still open
    (the rest of the text has not begun)."""
    start = text.lstrip()
    if not start.startswith(_THINK):
        return text
    _, closed, rest = start.partition(_THOUGHT)
    return rest if closed else ""
