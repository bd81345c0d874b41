"""Markdown (what LLMs write) to Slack mrkdwn, escaping, and splitting long text for blocks."""

from __future__ import annotations

import re

# Slack control sequences that must survive escaping: mentions, channels, groups, links.
_CONTROL = re.compile(r"<(?:[@#][A-Z0-9]+(?:\|[^<>]*)?|![a-z^A-Z0-9|]+|(?:https?|mailto):[^<>\s]+)>")
_FENCE = "```"


def escape(text: str) -> str:
    """Escape &, < and > except inside Slack's own <…> control sequences."""
    out, last = [], 0
    for match in _CONTROL.finditer(text):
        out.append(_escape_plain(text[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")


def markdown_to_mrkdwn(text: str) -> str:
    """Convert common Markdown to mrkdwn; code spans and fenced blocks are left as they are."""
    parts = text.split(_FENCE)
    for i in range(0, len(parts), 2):  # even parts are outside fenced code
        parts[i] = _convert_prose(parts[i])
    for i in range(1, len(parts), 2):
        parts[i] = escape(parts[i])
    return _FENCE.join(parts)


def _convert_prose(text: str) -> str:
    pieces = _INLINE_CODE.split(text)
    for i, piece in enumerate(pieces):
        if i % 2:
            pieces[i] = escape(piece)
            continue
        piece = _LINK.sub(lambda m: f"\x02{m.group(2)}|{m.group(1)}\x03", piece)
        piece = escape(piece).replace("\x02", "<").replace("\x03", ">")
        piece = _HEADING.sub(lambda m: f"\x01{m.group(1)}\x01", piece)
        piece = _BULLET.sub(lambda m: f"{m.group(1)}• ", piece)
        piece = _BOLD.sub(lambda m: f"\x01{m.group(2)}\x01", piece)
        piece = _ITALIC.sub(lambda m: f"_{m.group(1)}_", piece)
        piece = _STRIKE.sub(lambda m: f"~{m.group(1)}~", piece)
        pieces[i] = piece.replace("\x01", "*")
    return "".join(pieces)


def split_text(text: str, limit: int) -> list[str]:
    """Split into chunks of at most ``limit`` characters, at paragraph or line breaks when
    possible, closing and reopening a fenced code block that straddles a split."""
    if limit < 32:
        raise ValueError("limit too small to split text sensibly")
    budget = limit - len(_FENCE) * 2 - 2  # room to close and reopen a fence
    chunks: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        cut = _cut_point(rest, budget)
        chunk, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        if chunk.count(_FENCE) % 2:  # the cut falls inside a fenced block
            chunk += "\n" + _FENCE
            rest = _FENCE + "\n" + rest
        chunks.append(chunk)
    if rest:
        chunks.append(rest)
    return chunks or [""]


def _cut_point(text: str, budget: int) -> int:
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, budget // 2, budget)
        if cut > 0:
            return cut + len(separator)
    return budget
