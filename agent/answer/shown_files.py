""""Show me notes/x.md": the answer is the file, as read.

A small joiner shown the read of data/vendors.csv for "Show me data/vendors.csv" answered "The
file `data/vendors.csv` has been read successfully." (wide follow-up-priciest), and before that
wrote out a call to read it again. When the request asks only to see one file, and a step of the
plan read that file whole, the answer is that text: every character of it from the result, none
from a model, and no model call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.execution.storable import storable

_SHOW = re.compile(r"^\s*(?:please\s+)?(?:show|print|display|cat|output|give)(?:\s+(?:me|us))?"
                   r"(?:\s+(?:the\s+)?(?:contents?|text)\s+of)?\s+(?:the\s+(?:file\s+)?)?`?(?P<path>[\w./-]+\.\w+)`?"
                   r"\s*(?:,?\s*please)?\s*[.!?]?\s*$", re.IGNORECASE)
"""A request that asks only to see one file (``Show me data/vendors.csv``, ``print the contents
of notes/x.md``)."""


def shown_file(request: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The answer to a request to see one file: that file's text as a step read it whole, in a
    code block under its path; None when the request asks more, or no step read it whole."""
    asked = _SHOW.match(request)
    if asked is None:
        return None
    path = asked.group("path").removeprefix("./")
    for node in plan.get("nodes") or []:
        result = results.get(str(node.get("id"))) or {}
        output = result.get("output")
        if result.get("status") != "done" or not isinstance(output, Mapping):
            continue
        read = str(output.get("path") or "").removeprefix("./")
        if read != path or not isinstance(output.get("content"), str):
            continue
        return _block(path, output["content"], bool(output.get("truncated")), output.get("size"))
    return None


def _block(path: str, content: str, truncated: bool, size: Any) -> str:
    fence = "````" if "```" in content else "```"
    cut = ("" if not truncated else f"\n(the first {len(content.encode()):,} bytes of {size:,})"
           if isinstance(size, int) else "\n(cut: the file is longer)")
    body = content.rstrip("\n") or "(the file is empty)"
    return storable(f"`{path}`:\n{fence}\n{body}\n{fence}{cut}")
