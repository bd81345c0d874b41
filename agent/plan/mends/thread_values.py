"""A follow-up's plan that writes a value the thread already holds as a reference to a node.

"Which service in slo/latency.csv has the highest p95_ms?" was answered ``search``, computed by a
package; the follow-up "Email that service's name to sre@example.com" was planned by a 1.5B
model as a mail whose body is ``${search.name}``: the value itself taken for a node's id. No node
of the plan or of the thread's earlier runs has that id, so the plan was refused, and after the
repair round (the same reference, ``depends_on: ["search"]`` added) nothing was sent.

The one reading under which the plan works is plain: where the id a reference names is no node
of this plan or of an earlier run, and is (in any letter case) a value an earlier run of this
thread computed or was given as a short text, the reference means that value. Only such a whole
value counts (a package's result, an item or field of it): a word inside a file's text does not.
The approver sees the value in the mail as with any change.

A field is taken for a node alike: "Which ticket in data/tickets.json has been open the
longest?" was computed as ``{"ticket": "SUP-14", "longest_open": 72.75}``, and "Email its key to
…" was planned as a mail whose body is ``${tickets.ticket}``: ``tickets`` the earlier run's read
of the file, which has no field ``ticket``. Where a reference names a field (one level) that the
node it names does not have (an earlier run's node, recalled into this plan or not), or names
no node at all, and exactly one short value of the thread's earlier results is held under that
field's name, the reference means that value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.references import PACKAGE_RESULT, REFERENCE, mapped_strings, referenced_ids

_VALUE_CHARS = 64
"""A value longer than this is a text, not a name a reference could be mistaken for."""
_LEAVES = 200


def thread_values(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each reference to an id that is no node but a short value of an earlier run
    written as that value (its node's ``depends_on`` on the id dropped)."""
    if context.request is None or not context.known:
        return draft
    have = {node.id for node in draft.nodes} | set(context.earlier_calls)
    values = _earlier_values(context.known)
    meant = {node_id: values[node_id] for node in draft.nodes for node_id in _unknown_ids(node, have)
             if node_id in values}
    meant.update({node_id: values[node_id] for node_id in referenced_ids(draft.answer or "")
                  if node_id not in have and node_id in values})
    by_id = {node.id: node for node in draft.nodes}
    own = set(by_id)
    outputs = _earlier_outputs(context.known)
    fields = _earlier_fields(context.known)

    def value_of(match: re.Match[str]) -> str:
        node_id, path = match.group(1), match.group(2)
        if node_id in meant:
            return meant[node_id]
        name = path[1:].lower() if re.fullmatch(r"\.[A-Za-z_]\w*", path) else ""
        if name and name != PACKAGE_RESULT and name in fields \
                and (node_id not in own or _recalled(by_id[node_id], context.earlier_calls.get(node_id))) \
                and not _has_field(outputs.get(node_id), name):
            return fields[name]
        return match.group(0)

    def written(text: str) -> str:
        return REFERENCE.sub(value_of, text)

    def mended_node(node: PlanNode) -> PlanNode:
        if node.package is not None:  # code reads inputs, not references
            return node
        args = mapped_strings(node.args, written)
        each = None if node.each is None else mapped_strings(node.each, written)
        was, now = referenced_ids([node.args, node.each or []]), referenced_ids([args, each or []])
        return node.model_copy(update={"args": args, "each": each, "depends_on": [
            d for d in node.depends_on if d in own or not (d in meant or (d in was and d not in now))]})

    mended = draft.with_nodes(mended_node(node) for node in draft.nodes).with_answer(
        None if draft.answer is None else written(draft.answer))
    return draft if mended == draft else mended


def _recalled(node: PlanNode, call: Mapping[str, Any] | None) -> bool:
    """Whether ``node`` is the earlier run's ``call`` brought back into this plan (its tool and
    arguments), not a node of this plan's own that has the same id."""
    return call is not None and node.tool is not None and call.get("tool") == node.tool \
        and call.get("args") == node.args


def _has_field(output: Any, name: str) -> bool:
    return isinstance(output, Mapping) and any(str(key).lower() == name for key in output)


def _earlier_runs_results(known: Any) -> list[Mapping[str, Any]]:
    runs = [run[2] for run in list(known)[:-1] if isinstance(run, list | tuple) and len(run) == 3]
    return [results for results in runs if isinstance(results, Mapping)]


def _earlier_done_outputs(known: Any) -> list[Any]:
    """The outputs of the thread's earlier runs' nodes that are done."""
    return [result.get("output") for results in _earlier_runs_results(known) for result in results.values()
            if isinstance(result, Mapping) and result.get("status") == "done"]


def _earlier_outputs(known: Any) -> dict[str, Any]:
    """The outputs of the thread's earlier runs' nodes, by id (a later run's over an earlier's)."""
    return {node_id: result.get("output") for results in _earlier_runs_results(known)
            for node_id, result in results.items() if isinstance(result, Mapping)}


def _earlier_fields(known: Any) -> dict[str, str]:
    """The short values the thread's earlier results hold under a field's name (lower case),
    for the names that hold one value only."""
    seen: dict[str, set[str]] = {}
    for output in _earlier_done_outputs(known):
        if not isinstance(output, Mapping):
            continue
        for key, value in list(output.items())[:_LEAVES]:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                continue
            if len(str(value)) <= _VALUE_CHARS and "\n" not in str(value):
                seen.setdefault(str(key).lower(), set()).add(str(value))
    return {name: next(iter(values)) for name, values in seen.items() if len(values) == 1}


def _unknown_ids(node: PlanNode, have: set[str]) -> set[str]:
    if node.package is not None:  # code reads inputs, not references
        return set()
    named = {*referenced_ids(node.args), *referenced_ids(node.each or []), *node.depends_on}
    return named - have


def _earlier_values(known: Any) -> dict[str, str]:
    """The short texts earlier runs' nodes returned (a result, an item or field of one), keyed by
    the id a reference to them would be written with (lower case): this run's own results and
    the earlier requests and answers are not values a reference stands for."""
    values: dict[str, str] = {}
    for output in _earlier_done_outputs(known):
        for leaf in _leaves(output):
            if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", leaf) and len(leaf) <= _VALUE_CHARS:
                values.setdefault(leaf.lower(), leaf)
    return values


def _leaves(output: Any) -> list[str]:
    """The texts of an output that are whole values: itself, its items, its fields' values, one
    level down (a file's ``content`` is one long text and is no name)."""
    if isinstance(output, str):
        return [output]
    items: list[Any] = (list(output.values()) if isinstance(output, Mapping)
                        else output if isinstance(output, list) else [])
    leaves = [item for item in items[:_LEAVES] if isinstance(item, str)]
    for item in items[:_LEAVES]:
        if isinstance(item, Mapping):
            leaves.extend(v for v in list(item.values())[:_LEAVES] if isinstance(v, str))
    return leaves


THREAD_VALUES = Mend(
    name="thread-values", fix=thread_values, partial_safe=False,  # the thread's earlier runs
    slip="a value an earlier request in this thread found was written as if it were a step, or a "
         "step's field; the value was put in its place")
