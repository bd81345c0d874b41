"""A follow-up's change whose content the plan reads nothing for is fed from the file the thread read.

"Who ran the incident review in notes/incident-review-2026-11-19.md?", then "mail them the
still-open action items at amara@example.com", was planned as a lone ``send_email`` whose body was
the model's sentence ("Please review the still-open action items in the incident review
report."): no read, no package, nothing of the file in the mail (bench nightly
follow-up-mail-facilitator). A plan is written before anything runs, and a follow-up's planner
sees the thread's results only in part. When a plan is only changes (nothing it reads could feed
them), a change's content takes nothing from any node and holds no line or number of the
thread's results, and the thread read exactly one file, that content is what dagbot's computing
package computes for the request from that file (unless the request gives the words itself: "tell ops
that the deploy is done"): the file is read again, the package (empty
code, which the sandbox writes from the request) computes, and the content is its value. The
approver sees the content before anything is sent or written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.plan.format import PackageSpec, PlanNode, free_id, read_id
from agent.plan.input_fields import BODY_KEYS
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.named_files import READ_FILE, named_files
from agent.plan.uncomputed import COMPUTING_GOAL
from agent.tools.registry import Risk

COMPUTED = "computed"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MESSAGE = re.compile(r"\b(?:that|saying|to say|telling|with the (?:text|words))\b|['\"`]", re.I)
"""A request giving the change's words itself ("tell ops that the deploy is done", "write 'ok'"):
the content is the model's to write, not a value to compute."""
_WORD = re.compile(r"\w+")
_RUN = 4
"""Words in a row that a content holding them took from the thread (not the model's own words)."""


def thread_fed_changes(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each unfed change's content computed from the one file the thread read."""
    registry = context.registry
    if context.request is None or _MESSAGE.search(context.request) or READ_FILE not in registry \
            or not draft.nodes or any(
            node.tool is None or node.tool not in registry or registry.risk_of(node.tool) is not Risk.RED
            for node in draft.nodes):
        return draft
    paths = {str((call.get("args") or {}).get("path")) for call in context.earlier_calls.values()
             if call.get("tool") == READ_FILE and "${" not in str((call.get("args") or {}).get("path"))}
    held = _held_texts(context.known)
    unfed = [node for node in draft.nodes if (key := _content_key(node)) and not _fed(node.args[key], held)]
    if len(paths) != 1 or not unfed:
        return draft
    [path] = paths
    taken = {node.id for node in draft.nodes} | set(context.earlier_calls)
    read = PlanNode(id=free_id(read_id(path), taken), tool=READ_FILE, args={"path": path})
    computed = PlanNode(id=free_id(COMPUTED, taken | {read.id}), depends_on=[read.id],
                        package=PackageSpec(goal=f"{COMPUTING_GOAL} {context.request.strip()}", code=""))
    fed = [node.model_copy(update={"args": {**node.args, _content_key(node): f"${{{computed.id}}}"}})
           if node in unfed else node for node in draft.nodes]
    return draft.with_nodes([read, computed, *fed])


def _content_key(node: PlanNode) -> str:
    """The argument holding what a change sends or writes ("" for none, or one written as a
    reference, or a fan-out's)."""
    if node.each is not None:
        return ""
    return next((key for key in BODY_KEYS if isinstance(node.args.get(key), str)
                 and "${" not in node.args[key] and node.args[key].strip()), "")


def _held_texts(known: Iterable[Any]) -> tuple[set[tuple[str, ...]], set[str]]:
    """The runs of four words and the numbers of the thread's results and answers."""
    text = "\n".join(_strings(list(known)))
    return _runs(text), set(_NUMBER.findall(text))


def _fed(content: str, held: tuple[set[tuple[str, ...]], set[str]]) -> bool:
    """Whether ``content`` holds four words in a row or a number of the thread's (it passes
    something on). A file's name is no value passed on: "Please review the still-open action
    items from … notes/incident-review-2026-11-19.md." holds the read's path, and its 2026, 11
    and 19 counted as the thread's numbers (nightly follow-up-mail-facilitator, as run)."""
    for name in sorted(named_files(content), key=len, reverse=True):
        content = content.replace(name, " ")
    runs, numbers = held
    return bool(_runs(content) & runs) or bool(set(_NUMBER.findall(content)) & numbers)


def _runs(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + _RUN]) for i in range(len(words) - _RUN + 1)}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield json.dumps(value, default=str)


THREAD_FED_CHANGES = Mend(
    name="thread-fed-changes", fix=thread_fed_changes, partial_safe=False,  # the request, the thread
    slip="a change's content took nothing from any result; dagbot computes it from the file the thread read")
