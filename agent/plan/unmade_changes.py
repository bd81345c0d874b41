"""A change the request commands, to a target it names, is made by some step, or planned again.

"Email the total of the processed column in ops/queues.csv to data@example.com" was drafted with
a ``write_file`` to the path ``data@example.com``; the repair round wrote it again, the stand-in
was left out (:mod:`agent.plan.asked_changes`), and the plan that ran computed the total and
sent nothing. "Put that queue's depth in reports/depth.txt", a follow-up, lost its
``write_file`` in the repair of a broken query. Both answers were a value and "nothing was
changed": what was asked for was never done, nor asked to be approved.

So a change counts as asked for when a verb that commands it opens the request or one of its
clauses (:func:`agent.tools.effects.commanded_effects`) and the request names its target: a
workspace file to write, an address to mail, a URL to post to. When a red tool here does it and
no red step of the plan does (ran, failed, rejected or waiting: any of those is the change
planned), the draft is told so in its repair round (a draft of no step too: an answer from the
thread is no mail), and a plan that ran without it is planned again before anything is
answered (while replans are left, never after a human rejected a step, and not when a tool
failed: what it was to read may not be there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from agent.errors import PlanProblem
from agent.plan.uncomputed import is_computing
from agent.tools.effects import EFFECT_NAMES, commanded_effects
from agent.tools.registry import Risk, ToolRegistry

_TARGETS = {
    "write": re.compile(r"(?<![\w@/.-])(?:[\w-]+/)*[\w-]+\.[a-z]{1,5}\b(?!@)", re.I),
    "send": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "post": re.compile(r"\bhttps?://\S+", re.I),
    "record": re.compile(r"\b[\w.-]+\s+table\b|\btable\s+[\w.-]+", re.I),
}
"""The target each checked change names: a file (``reports/depth.txt``), an address, a URL, a
table ("in the deploys table")."""
_UPDATE = re.compile(r"^\s*UPDATE\b", re.I)


def unmade_changes(plan: Mapping[str, Any], request: str, registry: ToolRegistry) -> dict[str, list[str]]:
    """The changes ``request`` commands, to a target it names, that a red tool of ``registry``
    makes and no red step of ``plan`` does: each effect with the tools that make it, the one that
    does nothing else first (``send_email`` before ``http_post``, which also sends). A plan of no
    step makes none either: fresh follow-up-slowest's "Email that service's name to
    sre@example.com" was answered from the thread with the name, and nothing was sent."""
    red = registry.names(Risk.RED)
    tools = [str(node.get("tool")) for node in plan.get("nodes") or [] if isinstance(node, Mapping)]
    made = {effect for tool in tools if tool in red for effect in registry.effects_of(tool) or ()}
    unmade: dict[str, list[str]] = {}
    for effect in sorted(commanded_effects(request) - made):
        target = _TARGETS.get(effect)
        # the tool that does only this first: told "http_post or send_email", a replan posted the mail
        makers = sorted((name for name in red if effect in (registry.effects_of(name) or ())),
                        key=lambda name: len(registry.effects_of(name) or ()))
        if target is not None and target.search(request) and makers:
            unmade[effect] = makers
    return unmade


def unmade_problems(plan: Mapping[str, Any], request: str, registry: ToolRegistry) -> list[PlanProblem]:
    """A problem of the draft for each change :func:`unmade_changes` finds."""
    return [PlanProblem(None, "nodes", f"{_told(effect, tools)}: add a {tools[0]} node for it")
            for effect, tools in unmade_changes(plan, request, registry).items()]


def unmade_feedback(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]], request: str,
                    registry: ToolRegistry) -> str | None:
    """The replan's feedback when the plan that ran made none of a change the request commands;
    None when it did, when one of its tools failed, or when it had no step (an answer the repair
    round was told about already: it stands)."""
    nodes = [node for node in plan.get("nodes") or [] if isinstance(node, Mapping)]
    if not nodes:
        return None
    tools = {str(node.get("id")) for node in nodes if node.get("tool")}
    if any(node_id in tools and result.get("status") == "failed" for node_id, result in results.items()):
        return None
    unmade = unmade_changes(plan, request, registry)
    if not unmade:
        return _unrecorded(nodes, results, request, registry)
    told = "; ".join(_told(effect, makers) for effect, makers in unmade.items())
    copy = _node_to_copy(nodes, results, request, unmade, registry)
    node = f" The values computed for the request are in this node: plan it as it is, {copy}" if copy else ""
    return (f"{told}. Plan that change now, with the values it needs written as the results above give "
            f"them (or computed in a package from what was read), and an answer that says what it did.{node}")


def _unrecorded(nodes: list[Mapping[str, Any]], results: Mapping[str, Mapping[str, Any]], request: str,
                registry: ToolRegistry) -> str | None:
    """The replan's feedback when the request commands a record and every step that records rows
    ran an UPDATE that changed no row: nothing was recorded (tuning record-deploy: "Record in the
    deploys table that search 1.8.1 was deployed on 2026-11-23 with status ok" ran as an UPDATE of
    the rows of 1.8.1 on that day, and there were none). None otherwise."""
    if "record" not in commanded_effects(request):
        return None
    red = registry.names(Risk.RED)
    steps = [node for node in nodes
             if node.get("tool") in red and "record" in (registry.effects_of(str(node.get("tool"))) or ())]
    if not steps or not all(_updated_nothing(node, results) for node in steps):
        return None
    named = ", ".join(f"`{node.get('id')}`" for node in steps)
    return (f"{named} changed no row: its UPDATE matched none, so nothing was recorded. The request asks to "
            f"record rows: plan a {steps[0].get('tool')} node that INSERTs the new row with the values the "
            "request gives, and an answer that says what it did.")


def _updated_nothing(node: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> bool:
    result = results.get(str(node.get("id"))) or {}
    output = result.get("output")
    args = node.get("args") or {}
    return (result.get("status") == "done" and isinstance(output, Mapping) and output.get("rowcount") == 0
            and any(isinstance(value, str) and _UPDATE.match(value) for value in args.values()))


_LONGEST_VALUE = 2000


def _node_to_copy(nodes: list[Mapping[str, Any]], results: Mapping[str, Mapping[str, Any]], request: str,
                  unmade: dict[str, list[str]], registry: ToolRegistry) -> str | None:
    """The change's node written out, when one change is unmade, the request names one target
    for it, and dagbot's package computed the request's values (broad mail-owners: the owners
    were computed, and the replan, told to write them, mailed "Please review the action items in
    the attached file"): its tool's first required argument the target, its last the computed
    value, any between them the request. None otherwise."""
    if len(unmade) != 1:
        return None
    [(effect, makers)] = unmade.items()
    targets = list(dict.fromkeys(m.group(0) for m in _TARGETS[effect].finditer(request)))
    computed = [results[str(node.get("id"))].get("output") for node in nodes
                if is_computing(node) and (results.get(str(node.get("id"))) or {}).get("status") == "done"]
    required = list(registry.get(makers[0]).json_schema().get("required") or ())
    if len(targets) != 1 or len(computed) != 1 or len(required) < 2:
        return None
    value = as_text(computed[0])
    if not value or len(value) > _LONGEST_VALUE:
        return None
    args = {required[0]: targets[0], **{name: request[:120] for name in required[1:-1]}, required[-1]: value}
    return json.dumps({"id": effect, makers[0]: args}, ensure_ascii=False)


def as_text(value: Any) -> str:
    """A computed value as a change (a file, a mail) writes it: a list one item a line, an object
    one field a line."""
    if isinstance(value, list):
        return "\n".join(as_text(item) for item in value)
    if isinstance(value, Mapping):
        return "\n".join(f"{key}: {as_text(item)}" for key, item in value.items())
    return "" if value is None else str(value)


def _told(effect: str, tools: list[str]) -> str:
    wanted = EFFECT_NAMES.get(effect, effect)
    return f"the request asks to {wanted} ({tools[0]} does it), and no step of the plan does"
