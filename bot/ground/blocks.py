"""Block Kit building blocks that respect Slack's limits (pure functions)."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
"""A Home tab or modal may have twice a message's blocks."""
MAX_CONTEXT_ELEMENTS = 10
MESSAGE_TEXT_LIMIT = 40_000
NOTIFICATION_TEXT_LIMIT = 3000
"""The plain ``text`` beside blocks is what notifications show; keep it short."""


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def context(*texts: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [
        mrkdwn(t, CONTEXT_TEXT_LIMIT) for t in texts[:MAX_CONTEXT_ELEMENTS] if t
    ] or [mrkdwn(" ")]}
    if block_id:
        block["block_id"] = block_id
    return block


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    if len(value) > BUTTON_VALUE_LIMIT:
        raise ValueError("button value too long")
    element: dict[str, Any] = {"type": "button", "text": plain(text, BUTTON_TEXT_LIMIT),
                               "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def line_sections(lines: list[str], limit: int = SECTION_TEXT_LIMIT) -> list[Block]:
    """Lines grouped into as few sections as fit; an over-long line is clipped."""
    sections: list[Block] = []
    current: list[str] = []
    size = 0
    for line in (clip(x, limit) for x in lines):
        if current and size + len(line) + 1 > limit:
            sections.append(section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        sections.append(section("\n".join(current)))
    return sections


def fit(blocks: list[Block], *, keep_last: int = 0, limit: int = MAX_BLOCKS) -> list[Block]:
    """At most ``limit`` blocks (a message's, by default): drop from the middle, keep the last
    ``keep_last`` blocks."""
    if len(blocks) <= limit:
        return blocks
    tail = blocks[len(blocks) - keep_last:] if keep_last else []
    head = blocks[: limit - keep_last - 1]
    dropped = len(blocks) - len(head) - len(tail)
    return [*head, context(f"… {dropped} more not shown"), *tail]


def notification(text: str) -> str:
    return clip(text, NOTIFICATION_TEXT_LIMIT)
