"""A file the plan guessed, and that is not there, is looked for before anything is answered.

"Somewhere in the workspace a config sets statement_timeout_ms. Find it and tell me the value."
was planned as one ``read_file`` of ``config.yaml``, a path neither the request nor the thread
names; no such file exists, and the answer was that failure (bench nightly
find-statement-timeout): the joiner's model did not ask for the replan it was offered. A read
of a path nobody named that failed for want of the file is a guess that missed, not a finding:
when the request names no file of its own that way either, and a search tool is there, the
joiner plans again first, told that the path was a guess and to search for what the request
names. A read of a file the request (or the thread) names that is not there is the answer ("it
does not exist"), and is left alone. Only while replans are left, and never when a human
rejected something of this plan: the replan is the joiner's, bounded as its own are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from agent.plan.named_files import READ_FILE, SEARCH_FILES, named_files

_NO_FILE = "there is no file '"
"""How read_file says a path holds no file (agent/tools/files.py)."""


def guessed_reads(request: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                  earlier: Iterable[Any] = (), tools: Iterable[str] = ()) -> str | None:
    """The replan's feedback when reads of paths nobody named found no file there (``results``:
    this request's, ``earlier``: the thread's runs and requests); else None."""
    if SEARCH_FILES not in set(tools) or named_files(request):
        return None
    held = json.dumps(list(earlier), default=str)
    missed = []
    for node in plan.get("nodes") or []:
        result = results.get(node.get("id")) or {}
        path = (node.get("args") or {}).get("path")
        if node.get("tool") == READ_FILE and result.get("status") == "failed" and isinstance(path, str) \
                and str(result.get("error") or "").startswith(_NO_FILE) and path not in request \
                and path not in held:
            missed.append((path, str(result["error"])))
    if not missed:
        return None
    told = "; ".join(f"'{path}' ({error})" for path, error in missed)
    return (f"No file is at the path the plan guessed: {told}. The request names no file, so find "
            f"what it asks about first: plan a {SEARCH_FILES} node for the words the request names "
            f"(pattern '**/*'), or read a file the error suggests if it is plainly the one meant.")
