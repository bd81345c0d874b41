"""dagbot's reply from the lines a read holds that match the request, when the model's answers
said nothing the read holds.

"why won't the new search pod get scheduled? it's in k8s/events-shop-prod.txt" was answered "The
new search pod is not scheduled because it is in the `k8s/events-shop-prod.txt` file." twice,
the second time told that it said nothing (monday search-unscheduled); the file's line that says
why (``FailedScheduling pod/search-… 0/6 nodes are available: 2 Insufficient memory, …``) was
in the results all along. The lines of each text read that share the most of the request's own
words (a word's stem found in the line: ``schedul`` in ``FailedScheduling``) are what dagbot
shows instead, as the file wrote them: at least two of the request's words, and a few lines at
most, or none (a request whose words every line shares is no question of one line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.plan.named_files import named_files

_MOST_LINES = 5
_FEWEST_WORDS = 2
_WORD = re.compile(r"[a-z][a-z0-9_-]*[a-z0-9]")
_PLAIN_TEXT = """
about after again also any are been before being both but can could did does doing done each either every
for from get gets got had has have having here how into its just more most much need not now off once only
other our out over same should some still such than that the their them then there these they this those
through too very was were what when where which while who whom whose why will with would you your won
file files line lines tell show give find look read says said it's
"""
_PLAIN = frozenset(_PLAIN_TEXT.split())
"""Words of a question, not of what it asks about."""


def matching_lines_reply(request: str, results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """dagbot's reply with the lines of each text read (a result's ``content``) that share the
    most of ``request``'s words, or None when no read has such lines."""
    stems = _stems(request)
    if len(stems) < _FEWEST_WORDS:
        return None
    shown = []
    for result in results.values():
        output = result.get("output") if result.get("status") == "done" else None
        if not isinstance(output, Mapping) or not isinstance(content := output.get("content"), str):
            continue
        lines = [line.rstrip() for line in content.splitlines() if line.strip()]
        scores = [sum(stem in line.lower() for stem in stems) for line in lines]
        best = max(scores, default=0)
        picked = [line for line, score in zip(lines, scores, strict=True) if score == best]
        if best >= _FEWEST_WORDS and len(picked) <= _MOST_LINES and len(picked) < len(lines):
            path = str(output.get("path") or "the file read")
            block = "\n".join(picked).replace("```", "'''")
            shown.append(f"The lines of `{path}` that match the request:\n```\n{block}\n```")
    if not shown:
        return None
    return ("I could not word an answer from what was read, so here is what it says.\n\n"
            + "\n\n".join(shown))


def _stems(request: str) -> set[str]:
    """The request's own words (paths aside), each as a stem: ``scheduled`` as ``schedul``."""
    text = request.lower()
    for path in named_files(request):
        text = text.replace(path.lower(), " ")
    words = {word for word in _WORD.findall(text) if len(word) >= 3 and word not in _PLAIN}
    return {re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 5 else word for word in words}
