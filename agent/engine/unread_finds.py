"""A file a search found, for a request that asks to read it, is read before anything is answered.

``search_files`` returns only the lines that match. "Read the runbook in the runbooks folder and
tell me its first step" was planned as a search for "runbook" there; it found the runbook's
title line, and the joiner answered from that line as if it were the first step. The request
asked to read a file the plan never read. So when the request asks to read (the verb "read":
"show me the ERROR lines" asks for lines, which a search finds), or to find a file and tell
something of it ("Find the note that mentions etcd and tell me who chaired that meeting": a
search for "etcd" found one line of it, and the chair's line was in no match), this plan's searches found
lines in a few files (at most :data:`MOST_FILES`: more is no one file the request means), and
no result of the request or of the thread read any of them, the joiner plans again before it
answers, told which ``read_file`` node to add, as a node to copy. Only while replans are left,
and never when a human rejected something of this plan: the replan is the joiner's, bounded as
its own are. So too, whatever the request's verb, when the answer states what no result holds
(:func:`unread_for_values`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.plan.named_files import READ_FILE, SEARCH_FILES, read_node_id

MOST_FILES = 2
"""More files than this found: the request does not say which one it means."""
_READING = re.compile(r"\bread\b", re.I)
"""The verb that asks for a file whole ("show me the ERROR lines" asks for lines, which a search
finds; "open" is as often what incidents are)."""
_FINDING_A_FILE = re.compile(
    r"\b(?:find|locate|look for|search for)\s+(?:the|a|an|which)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:file|note|notes|doc|document|runbook|page|readme|config|manifest|report|review|postmortem)s?"
    r"\s+(?:that|which|where|with|mentioning|containing|about)\b.*?(?:\band\b|\bthen\b|[,;:])\s*"
    r"(?:tell|show|give|say|list|what|who|when|which|how|where)\b", re.I | re.S)
"""A request to find a file and then tell something of it ("Find the note that mentions etcd and
tell me who chaired that meeting"): what it asks is in the file found, not only in the lines
that matched."""
_FOUND_PATH = re.compile(r'"path":\s*"((?:[^"\\]|\\.)+)"')


def unread_finds(request: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                 earlier: Iterable[Any] = (), tools: Iterable[str] = ()) -> str | None:
    """The replan's feedback when ``request`` asks to read and this ``plan``'s searches found
    files nothing read (``results``: this request's, ``earlier``: the thread's runs); else None."""
    if READ_FILE not in set(tools) or not (_READING.search(request) or _FINDING_A_FILE.search(request)):
        return None
    if not (found := unread_found_files(plan, results, earlier)):
        return None
    return (f"The search found {', '.join(found)}, but a search returns only the lines that match, and the "
            f"request asks to read the file: plan the node {read_nodes(found)} and answer from its content.")


def unread_for_values(why: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                      earlier: Iterable[Any] = (), tools: Iterable[str] = ()) -> str | None:
    """The replan's feedback when the answer states what no result holds (``why``: the check's
    words) and this ``plan``'s searches found lines in a few files that nothing read: what the
    answer needed is in the files, not in the matched lines (monday find-sessions-type: a
    search for "change" found terraform/plan.txt's "unchanged" lines, and the answer made up
    the node types the plan's other lines held). None otherwise."""
    if READ_FILE not in set(tools) or not (found := unread_found_files(plan, results, earlier)):
        return None
    return (f"The answer was not sent: {why}. The search found {', '.join(found)}, but a search returns only "
            f"the lines that match: plan the node {read_nodes(found)} and answer from its content.")


def unread_found_files(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                       earlier: Iterable[Any] = ()) -> list[str]:
    """The files this ``plan``'s searches found lines in, when they are a few (at most
    :data:`MOST_FILES`) and no result of the request or of the thread read any of them; else none."""
    found: list[str] = []
    for node in plan.get("nodes") or []:
        result = results.get(node.get("id")) or {}
        if node.get("tool") == SEARCH_FILES and result.get("status") == "done":
            found += [p for p in _paths(result) if p not in found]
    if not found or len(found) > MOST_FILES:
        return []
    held = json.dumps([list(results.values()), list(earlier)], default=str).replace('\\"', '"')
    return [] if any(_was_read(path, held) for path in found) else found


def read_nodes(paths: list[str]) -> str:
    """``read_file`` nodes of ``paths``, to copy."""
    return " and ".join(json.dumps({"id": _node_id(path, i), READ_FILE: {"path": path}})
                        for i, path in enumerate(paths))


def _paths(result: Mapping[str, Any]) -> list[str]:
    shown = result.get("output", result.get("preview"))
    if isinstance(shown, Mapping):
        return list(dict.fromkeys(str(m.get("path")) for m in shown.get("matches") or []
                                  if isinstance(m, Mapping) and m.get("path")))
    return list(dict.fromkeys(json.loads(f'"{p}"') for p in _FOUND_PATH.findall(str(shown or ""))))


def _was_read(path: str, held: str) -> bool:
    """A result holds the file's content: read_file's output is ``{"path": …, "content": …}``."""
    quoted = json.dumps(path)
    return re.search(re.escape(f'"path": {quoted}, "content"'), held) is not None


def _node_id(path: str, index: int) -> str:
    return read_node_id(path) if index == 0 else f"{read_node_id(path)}_{index + 1}"
