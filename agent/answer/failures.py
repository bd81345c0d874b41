"""A step that failed is never left out of the answer.

The joiner's model decides what to say, and a small one skipped what failed: "the consumer with
the highest lag is billing-events" (the first item of the file) after the package that was to
find it had failed, and "copy: skipped" for a copy whose source did not exist, without why. An
answer must say what failed and why, so each step of the plan that failed is checked against
it: the answer tells the failure when it holds at least half of the words of the error's first
line (its node's id aside: "'postmortem' was failed" says nothing of why). Each failure it does
not tell is added under it, in dagbot's own words (:mod:`agent.answer.facts`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.answer.facts import failure_line

_WORD = re.compile(r"[A-Za-z][\w./-]*[A-Za-z0-9]")
_COMMON = frozenset({
    "the", "and", "for", "with", "was", "were", "has", "had", "have", "not", "this", "that", "from", "into",
    "its", "but", "are", "did", "does", "any", "there", "what", "which", "use", "see", "you", "your"})
NOTE = "Not done, and why:"


def with_failures_told(answer: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str:
    """``answer``, with a line for each step of ``plan`` that failed and that it does not tell."""
    if not answer:
        return answer
    nodes = {node.get("id"): node for node in plan.get("nodes") or []}
    said = {word.lower() for word in _WORD.findall(answer)}
    untold = [failure_line(node_id, nodes.get(node_id) or {}, result) for node_id, result in results.items()
              if result.get("status") == "failed"
              and not _told(said, node_id, str(result.get("error") or ""))]
    return f"{answer}\n\n{NOTE}\n" + "\n".join(untold) if untold else answer


def _told(said: set[str], node_id: str, error: str) -> bool:
    first = error.strip().splitlines()[0] if error.strip() else ""
    words = {w.lower().strip("./-") for w in _WORD.findall(first)} - _COMMON - {node_id.lower()}
    words.discard("")
    return not words or 2 * len(words & said) >= len(words)
