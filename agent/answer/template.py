"""A plan's ``answer`` template: the reply written by the planner, results filled in.

When a reply is only results in a fixed sentence ("The difference is ${diff.value}."), the
planner writes it with the plan and the joiner's model call is skipped: one model call per
request instead of two. The template is used only when every node finished with its output
in the state; a failure, a rejection, a skipped node or a field the output lacks sends the
run to the joiner model as before, which can explain what happened or replan. So does a
reference to a whole record (a tool's JSON object, or a list of them): pasted into a sentence
it is raw JSON, not an answer ("logs/app.log has {"path": …, "content": …}"); the joiner
writes from it instead, as it does when the template names a result in a ``${…}`` this format
cannot fill (``${x.rows[0]['open']}``), and a reference to nothing (a package's ``null``
result: "The average p99 is null." says nothing; the joiner says what is missing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from agent.execution.storable import storable
from agent.plan.references import REFERENCE, UnresolvedReference, malformed_reference_ids, path_parts, resolve


def templated_answer(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The plan's answer with the results filled in, or None when the joiner must answer."""
    template = plan.get("answer")
    if not isinstance(template, str) or not template.strip():
        return None
    node_ids = {node.get("id") for node in plan.get("nodes") or []}
    if set(results) != node_ids or malformed_reference_ids(template, results):
        return None
    if any(result.get("status") != "done" or "output" not in result for result in results.values()):
        return None  # failed, rejected, skipped, or too large to keep in the state
    outputs = {node_id: result["output"] for node_id, result in results.items()}
    sentence = REFERENCE.fullmatch(template.strip()) is None  # (``${log.content}`` alone: the file itself)
    try:
        if any(_unfit(resolve(match.group(0), outputs), sentence) for match in REFERENCE.finditer(template)):
            return None
        value = resolve(template, outputs)
    except UnresolvedReference:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
    return storable(text) if text.strip() else None  # the state keeps it (agent.execution.storable)


def _unfit(value: Any, sentence: bool = True) -> bool:
    """Nothing (null), a JSON object, or a list holding one: no value for a sentence; nor, in a
    sentence, a text of several lines (aimed day-and-acme: "The amount invoiced on 2026-11-05
    was ${invoice_amount.content}" filled with the whole CSV the read returned)."""
    if value is None:
        return True
    if sentence and isinstance(value, str) and "\n" in value.strip():
        return True
    if isinstance(value, list):
        return any(isinstance(item, Mapping) for item in value)
    return isinstance(value, Mapping)


def invented_values(answer: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]
                    ) -> str | None:
    """Why the results hold no value for the plan's sentence, when ``answer`` is that sentence
    completed anyway: a node it names has no output (it failed, was rejected or skipped), no
    such field (a search that found nothing: ``${hits.matches.0.text}``), null for it (a package
    that computed nothing), or a ``${…}`` no result fills (``${p99:.2f}``), and the joiner wrote
    a value from nowhere (bench.quality average-p99: the package failed and a 1.5B joiner wrote
    "… is 100 ms."; find-runbook: "Its first step is to navigate to the Introduction")."""
    template = plan.get("answer")
    if not isinstance(template, str) or not answer:
        return None
    pattern, position, missing = "", 0, {}
    for placeholder in _PLACEHOLDER.finditer(template):
        pattern += re.escape(template[position:placeholder.start()]) + r"(.+?)"
        position = placeholder.end()
        if (why := _no_value(placeholder.group(0), results)) is not None:
            missing[placeholder.group(0)] = why
    pattern += re.escape(template[position:].rstrip(" .")) + r"[ .]*"
    if not missing or re.fullmatch(pattern, answer.strip(), re.S) is None:
        return None
    return "; ".join(missing.values())


_PLACEHOLDER = re.compile(r"\$\{[^{}]{1,200}\}")
"""A ``${…}`` in a sentence: a reference, or something written like one."""


def _no_value(placeholder: str, results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why no result fills ``placeholder``, or None when one does."""
    match = REFERENCE.fullmatch(placeholder)
    # ${p99:.2f}, no reference: the joiner may still have read p99's value itself
    named = {match.group(1)} if match else malformed_reference_ids(placeholder, results)
    if len(named) != 1 or not named <= results.keys():
        return None
    [node_id] = named
    result = results[node_id]
    if result.get("status") != "done" or "output" not in result:
        return f"`{node_id}` {result.get('status', 'did not run')}{_last_line(result.get('error'))}"
    try:
        if resolve(placeholder if match else "${" + node_id + "}", {node_id: result["output"]}) is None:
            return f"`{node_id}` computed nothing"
    except UnresolvedReference:
        # (said for a person too: "I could not complete that: …", never a ${…} of the plan's)
        path = ".".join(path_parts(match.group(2) or "")) if match else ""
        return f"`{node_id}` has no {path} in its result" if path else f"`{node_id}` has nothing for it"
    return None


def _last_line(error: Any) -> str:
    """An error's last line (a traceback's exception), for a sentence."""
    lines = str(error or "").strip().splitlines()
    return f": {lines[-1][:300]}" if lines else ""
