"""A follow-up that names no file looks in the file the thread is about, not in one named nowhere.

"did a deploy-prod run fail in ci/workflow-runs.json?", answered from that file, then "who kicked
it off, and when?" in the same thread: the 1.5B model planned two searches of
``oncall/pages-2026-11.csv``, a path neither request, nor any answer or result of the thread,
names (monday follow-up-deploy-failer); the searches found nothing, the replan read that file, and
the answer said nothing matched.

A path no one wrote is a guess. Where the follow-up names no file of its own, and the thread's
earlier runs read exactly one file, the one reading under which the step looks where the
conversation is is that file: the guessed path is replaced by it. A path the thread names
anywhere (an earlier result listed it, say), a pattern with a wildcard (a search of the
workspace), or a thread that read several files, is left alone; so is every red call.
"""

from __future__ import annotations

import json
from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext, with_args
from agent.plan.named_files import LIST_FILES, READ_FILE, SEARCH_FILES, named_files

_LOOKING = {READ_FILE: ("path",), SEARCH_FILES: ("pattern", "path"), LIST_FILES: ("pattern", "path")}
"""The green file tools, and the arguments that say which file they look in."""
_WILDCARDS = frozenset("*?[")


def thread_file(context: MendContext) -> str | None:
    """The one file the thread's earlier runs read (None for none, or several)."""
    read = {str(call.get("args", {}).get("path")) for call in context.earlier_calls.values()
            if call.get("tool") == READ_FILE and isinstance(call.get("args"), dict)
            and isinstance(call["args"].get("path"), str)}
    return read.pop() if len(read) == 1 else None


def _guessed(value: Any, thread_text: str, request: str) -> bool:
    """Is ``value`` a file's path that neither the request nor anything the thread holds names?"""
    return (isinstance(value, str) and not _WILDCARDS & set(value) and named_files(value) == {value}
            and value not in request and value not in thread_text)


def followed_files(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each green file tool's step looking in the thread's file where it looked
    in a path named nowhere."""
    request = context.request
    if request is None or not context.earlier_calls or named_files(request):
        return draft
    if (file := thread_file(context)) is None:
        return draft
    thread_text = json.dumps(list(context.known), default=str)

    def aimed(node: PlanNode) -> PlanNode:
        looking = _LOOKING.get(node.tool or "", ())
        return with_args(node, lambda args: {
            key: file if key in looking and _guessed(value, thread_text, request) else value
            for key, value in args.items()})

    return draft.with_nodes(aimed(node) for node in draft.nodes)


THREAD_FILES = Mend(
    name="thread-files", fix=followed_files, partial_safe=False,  # the thread's earlier runs
    slip="a follow-up that names no file looked in a file nobody named; it looks in the file this "
         "thread is about instead")
