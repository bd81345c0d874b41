"""Marks on a model's reply that stopped early: cut off by the output limit, or stopped as it
repeated itself (a small model caught in a loop). The planner's text ends with the mark, so the
repair round sees where it stopped and why."""

from __future__ import annotations

import json
import re
from typing import Any

CUT_OFF = " …[cut off here: the reply reached the model's output limit]"
"""Appended to a reply cut off by the model's output limit: the repair round sees where."""

REPEATING = " …[stopped here: the reply wrote the same line over and over]"
"""Appended to a plan stopped as it wrote one line again and again (:func:`repeating_line`)."""
_REPEATS = 6
_LINE_BREAK = re.compile(r"\\n|\n")
"""A line's end in a plan's text: a newline, or one written in a JSON string (``\\n``)."""


def repeating_line(text: str) -> str | None:
    """What ``text`` ends with again and again, when a small model is caught in a loop: one
    line (no short one) :data:`_REPEATS` times in a row, once complete (bench.quality
    follow-up-read: ``result = result['changes'][0]['details']['description']`` until the
    output limit, twice), or a longer piece, such as a whole node, three times in a row
    (average-p99: the same package node, again and again, on one line). Only the text's end is
    read, so the growing text can be checked after every piece."""
    lines = _LINE_BREAK.split(text[-(_REPEATS + 1) * 400:])[:-1]  # the last one may go on
    last = [line.strip() for line in lines[-_REPEATS:]]
    if len(last) == _REPEATS and len(last[0]) >= 12 and last.count(last[0]) == _REPEATS:
        return last[0]
    return _repeating_piece(text)


_PIECE = (40, 2_000)
"""The shortest and longest piece :func:`_repeating_piece` looks for."""


def _repeating_piece(text: str) -> str | None:
    """The piece ``text`` ends with three times in a row, of :data:`_PIECE` characters: its
    period is where its last 40 characters were seen before."""
    shortest, longest = _PIECE
    end = text[-shortest:]
    if len(text) < 3 * shortest:
        return None
    before = text.rfind(end, max(len(text) - longest - shortest, 0), len(text) - shortest)
    period = len(text) - shortest - before if before >= 0 else 0
    if period < shortest or 3 * period > len(text):
        return None
    piece = text[-period:]
    return piece if text[-2 * period:-period] == piece and text[-3 * period:-2 * period] == piece else None


def stopped_repeating(text: str) -> bool:
    """Whether the stream of ``text`` was stopped as it repeated a line: it ends so, and is no
    whole JSON (a reply that ended on its own is)."""
    if repeating_line(text) is None:
        return False
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return True
    return False


def was_repeating(draft: Any) -> bool:
    """Whether ``draft`` is a plan stopped as it repeated itself: its text ends with :data:`REPEATING`."""
    return isinstance(draft, str) and draft.endswith(REPEATING)

TOO_DEEP = " …[nested too deeply to read]"
"""Ends the start of arguments nested deeper than JSON can be read here (the repair round)."""


def was_cut_off(draft: Any) -> bool:
    """Whether ``draft`` (a :class:`StructuredReply`'s data) is a reply the model's output
    limit cut off: its text ends with :data:`CUT_OFF`."""
    return isinstance(draft, str) and draft.endswith(CUT_OFF)
