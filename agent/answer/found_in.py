"""An answer to "which file…?" names the file the run found it in.

"How long do we cache search results? It's set in one of the configs in the workspace; tell me
which file and the value." was answered with the value alone (morning find-cache-ttl): the search
had found it in one file, and the answer never said which. The file is a fact of the run, not of
the model's wording: when the request asks which file (or where something is set) and the
answer names no file the run found, while the run found exactly one, the answer gets a line
naming it. Found means a search's match, or a read of a file the request does not name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.plan.named_files import READ_FILE, SEARCH_FILES, named_files

_ASKS_FILE = re.compile(
    r"\b(?:which|what)\s+(?:\w+\s+)?(?:file|config|configuration|manifest)s?\b"
    r"(?!\s+(?:has|have|holds?)\s+(?:the\s+)?most)"
    r"|\b(?:in|from)\s+(?:which|what)\s+(?:one|file)\b"
    r"|\bwhere\b[^.?!]*\b(?:set|defined|configured|declared|specified|kept|stored)\b", re.I)


def asks_which_file(request: str) -> bool:
    """Whether ``request`` asks which file something is in, or where it is set."""
    return bool(_ASKS_FILE.search(request))


def found_files(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]], request: str) -> list[str]:
    """The files the run found: those its searches matched in, and those it read that the
    request does not name, in the order found."""
    named = named_files(request)
    found: dict[str, None] = {}
    for node in plan.get("nodes") or []:
        result = results.get(str(node.get("id"))) or {}
        output = result.get("output")
        if result.get("status") != "done" or not isinstance(output, Mapping):
            continue
        if node.get("tool") == SEARCH_FILES:
            for match in output.get("matches") or []:
                if isinstance(match, Mapping) and isinstance(match.get("path"), str):
                    found.setdefault(match["path"])
        elif node.get("tool") == READ_FILE and (path := output.get("path")) and str(path) not in named:
            found.setdefault(str(path))
    return list(found)


def with_file_told(answer: str, request: str, plan: Mapping[str, Any],
                   results: Mapping[str, Mapping[str, Any]]) -> str:
    """``answer``, with a line naming the one file the run found when ``request`` asks which
    file and ``answer`` names none of those found."""
    if not answer or not asks_which_file(request):
        return answer
    found = found_files(plan, results, request)
    if any(path in answer or path.rsplit("/", 1)[-1] in answer for path in found) or len(found) != 1:
        return answer
    return f"{answer}\n\nFound in `{found[0]}`."
