"""A run's answer as Slack messages (pure): the LLM's Markdown in ``markdown`` blocks, split at
Slack's limits without breaking code blocks, the last message ending with the refused nodes,
the footer and 👍/👎 feedback buttons.

The answer is the model's text, or a template filled with tools' output: untrusted. It is
made safe (:func:`bot.ground.mrkdwn.safe_markdown`) before it is sent, streamed or not: no special
mention pings, no link hides its address, and only the run's own people may be mentioned
(:meth:`bot.views.progress_view.RunProgress.people`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ground.action_ids import FEEDBACK_ACTION
from bot.ground.blocks import Block, clip, context, line_sections, notification, plain
from bot.ground.mrkdwn import escape, safe_markdown, split_text
from bot.views import wording as say
from bot.views.progress_view import RunProgress
from bot.views.reply_view import Reply
from bot.views.status_view import refused_notes

MARKDOWN_LIMIT = 12_000
"""Slack: the cumulative limit of all markdown blocks' text in one message."""
ANSWER_PART_CHARS = 11_500
"""One answer message's Markdown (room left for a fence closed and reopened at a split)."""
FEEDBACK_BLOCK = "feedback:"
"""The feedback block's id: ``feedback:<run id>``."""


def markdown(text: str) -> Block:
    return {"type": "markdown", "text": clip(text, MARKDOWN_LIMIT) or " "}


def feedback_block(run_id: str) -> Block:
    """Thumbs up/down (Slack's feedback buttons); each button's value is ``up|down:<run id>``."""
    def choice(vote: str, label: str, icon: str) -> dict[str, object]:
        return {"text": plain(icon, 75), "value": f"{vote}:{run_id}", "accessibility_label": label}

    return {"type": "context_actions", "block_id": f"{FEEDBACK_BLOCK}{run_id}", "elements": [{
        "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
        "positive_button": choice("up", say.FEEDBACK_GOOD, "👍"),
        "negative_button": choice("down", say.FEEDBACK_BAD, "👎"),
    }]}


def answer_body(answer: str, people: frozenset[str] = frozenset()) -> str:
    """The Markdown the answer shows, made safe (what a stream of it must add up to);
    ``people``: whose mentions stay (:meth:`bot.views.progress_view.RunProgress.people`)."""
    return safe_markdown(answer.strip(), people).strip() or "(no answer)"


def answer_tail(progress: RunProgress, note: str = "", run_id: str | None = None) -> list[Block]:
    """What follows the answer's text in its last message: refused nodes, the footer (duration,
    nodes, tokens and ``note``) and, given the run's id, the feedback buttons."""
    notes = refused_notes(progress)
    footer = say.answer_footer(progress.duration_s or 0.0, progress.nodes_run, progress.tokens, escape(note))
    tail = [*line_sections(notes)[:1], context(footer)]
    if run_id:
        tail.append(feedback_block(run_id))
    return tail


def answer_messages(answer: str, progress: RunProgress, note: str = "",
                    run_id: str | None = None) -> list[Reply]:
    """The answer over as many messages as Slack's limits need (one markdown block each)."""
    people = progress.people()
    parts = split_text(answer_body(answer, people), ANSWER_PART_CHARS)
    replies = []
    for number, part in enumerate(parts, 1):
        blocks = [markdown(part)]
        if len(parts) > 1:
            blocks.append(context(say.answer_continued(number, len(parts))))
        if number == len(parts):
            blocks.extend(answer_tail(progress, note, run_id))
        # the text beside the blocks (notifications, read as mrkdwn): the same safe text, with
        # no special mention, no labelled link, no mention but of the run's own people
        replies.append(Reply(notification(part), blocks))
    return replies


@dataclass(frozen=True)
class StreamedAnswer:
    """An answer whole, to finish its stream with (:mod:`bot.outbound.answer_delivery`)."""

    body: str
    """Its Markdown, made safe: what the stream adds up to, once complete."""
    tail: list[Block]
    """What follows the text in its last message (:func:`answer_tail`)."""


def streamed_answer(answer: str, progress: RunProgress, note: str = "",
                    run_id: str | None = None) -> StreamedAnswer:
    return StreamedAnswer(answer_body(answer, progress.people()), answer_tail(progress, note, run_id))


def withdrawn_answer() -> tuple[str, list[Block]]:
    """What a withdrawn streamed draft shows when Slack would not delete it."""
    return notification(say.ANSWER_WITHDRAWN), [context(say.ANSWER_WITHDRAWN)]


def without_feedback(replies: list[Reply]) -> list[Reply]:
    return [Reply(r.text, [b for b in r.blocks if b.get("type") != "context_actions"]) for r in replies]
