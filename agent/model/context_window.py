"""A model that refuses a prompt as longer than its context window."""

from __future__ import annotations

import re

from agent.model.llm import ModelError

_TOO_LONG_STATUS = frozenset({400, 413})
_TOO_LONG = re.compile(
    r"context_length_exceeded|maximum context length|context (length|window|size)\b.{0,40}\bexceed"
    r"|exceeds?\b.{0,40}\bcontext (length|window|size)|too many tokens|prompt is too long",
    re.I | re.S)

TOO_LONG_FOR_MODEL = (
    "This conversation or request is too long for the model: it cannot take it all in at once. "
    "Start a new thread, or shorten the request (for example, give a smaller piece of a log or "
    "file, or ask for less at once).")
"""What the user is told: never the server's words, which may quote the request's key."""


def exceeds_context(error: ModelError) -> bool:
    """Whether the model refused the prompt as too long for its context window."""
    return error.status in _TOO_LONG_STATUS and bool(_TOO_LONG.search(error.detail))
