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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.references import REFERENCE, mapped_strings, referenced_ids

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
    if not meant:
        return draft

    def written(text: str) -> str:
        return REFERENCE.sub(lambda m: meant.get(m.group(1), m.group(0)), text)

    nodes = [node.model_copy(update={
        "args": mapped_strings(node.args, written),
        "each": None if node.each is None else mapped_strings(node.each, written),
        "depends_on": [d for d in node.depends_on if d not in meant]}) for node in draft.nodes]
    mended = draft.with_nodes(nodes).with_answer(None if draft.answer is None else written(draft.answer))
    return draft if mended == draft else mended


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
    for run in list(known)[:-1]:
        results = run[2] if isinstance(run, list | tuple) and len(run) == 3 else None
        if not isinstance(results, Mapping):
            continue
        for result in results.values():
            if isinstance(result, Mapping) and result.get("status") == "done":
                for leaf in _leaves(result.get("output")):
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
    slip="a value an earlier request in this thread found was written as if it were a step; the "
         "value was put in its place")
