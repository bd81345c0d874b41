"""Keeping the planner's and the joiner's prompts within a size the model takes.

A prompt past the model's context window is refused whole (HTTP 400), and a thread whose
history is too long would fail that way at every message until its old runs age out. So each
prompt is fitted to a budget of characters (``EngineSettings.prompt_chars``), giving up, in
this order, until it fits:

1. the oldest earlier runs of the thread, one at a time;
2. the length of each result shown (earlier plans' and this plan's);
3. the middle of whatever sections are still too long, the longest first: the request and
   this plan's results are clipped, with a marker saying how much was left out, never
   dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

RESULT_CHARS = 1_200
"""Characters of one result (or earlier answer) shown while the prompt fits."""
SHORTER_RESULTS = (600, 300, 150, 80)
"""What a result is clipped to, in turn, once every earlier run is left out."""
DEFAULT_PROMPT_CHARS = 80_000
"""About 20,000 to 27,000 tokens (text, or JSON and logs): a 32k-token model takes it with room
to answer; a smaller local model needs less."""
MIN_ROOM = 4_000
"""The least a prompt's body is given, however long its system prompt."""

_SURROGATE = re.compile("[\ud800-\udfff]")

Sections = Callable[[int, int], Sequence[str]]
"""(earlier runs kept, characters per result) → the prompt body's sections, in order."""


def left_out(count: int) -> str:
    return f" …[{count:,} characters left out]… "


def clip_middle(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: its head and its end, and how much was left out
    between them (the end stays, as a cut-off marker there must)."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(left_out(len(text))), 0)
    head = keep * 2 // 3
    tail = keep - head
    return text[:head] + left_out(len(text) - keep) + (text[-tail:] if tail else "")


def clip_end(text: str, limit: int) -> str:
    """``text`` within about ``limit`` characters: its head, and how much was left out."""
    return text if len(text) <= limit else text[:limit] + left_out(len(text) - limit).rstrip()


def share(sections: Sequence[str], room: int) -> list[str]:
    """Each section clipped (:func:`clip_middle`) so that together they fit ``room``: the short
    ones stay whole, the long ones share what is left evenly."""
    limits = [len(s) for s in sections]
    left = max(room - 2 * max(len(sections) - 1, 0), 0)  # the blank lines between them
    for count, index in enumerate(sorted(range(len(sections)), key=lambda i: limits[i])):
        fair = left // (len(sections) - count)
        limits[index] = min(limits[index], fair)
        left -= limits[index]
    return [clip_middle(section, limit) for section, limit in zip(sections, limits, strict=True)]


def fitted(sections_for: Sections, runs: int, room: int) -> str:
    """The body made by ``sections_for`` within ``room`` characters (see the module), from
    ``runs`` earlier runs of the thread at most."""
    tries = [(kept, RESULT_CHARS) for kept in range(runs, -1, -1)]
    tries += [(0, chars) for chars in SHORTER_RESULTS]
    sections: list[str] = []
    for kept, result_chars in tries:
        sections = [s for s in sections_for(kept, result_chars) if s]
        body = "\n\n".join(sections)
        if len(body) <= room:
            return body
    return "\n\n".join(share(sections, room))


def sendable(text: str) -> str:
    """``text`` as the model's client can send it: a lone surrogate (half of a UTF-16 pair, as
    a model may write ``\\ud83d`` alone) cannot be encoded, so it is shown as its escape."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
