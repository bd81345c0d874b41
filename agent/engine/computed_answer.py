"""Values computed for the request itself: the joiner only words them.

A small joiner shown every result, a value that answers the request among them, pasted the
results list back as its answer ("- computed: done → 30" for "what share of the runs
failed?"), or replanned into "I can't" with the per-team totals in hand (bench.quality's data
set; dev longest-pipeline). Whether such a value answers the request is not the joiner's to
judge when the code that computed it was written for the request: a table query the model
wrote shown the request (sandbox/table_query.py, its SQL in the attempt log), or the package
dagbot added to compute the request (:mod:`agent.engine.computed_values`). So when every node
of the plan finished, nothing was to change, and each final package is such a one, the joiner
is shown only those values, the query behind each, and the request, with no replan offered:
what is left to it is the wording. Its answer is held to the results as any other
(:func:`agent.answer.grounded.false_statements`), and must state every value it was given (a
dozen at most): worded with one team's total of four, it gives way to dagbot's own reply, the
values as computed and the query behind them (:func:`computed_reply`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.model.prompt_budget import RESULT_CHARS, clip_end, sendable
from agent.model.prompting import REQUEST_CHARS, clip_value, prompt_text
from agent.plan.references import referenced_ids
from agent.plan.uncomputed import is_computing, rewritten_values
from agent.ports.stores import NodeStatus
from agent.state import AgentState


@dataclass(frozen=True)
class ComputedValue:
    """A final package's value, computed by code written for the request."""

    node_id: str
    output: Any
    query: str | None
    """The SQL query that computed it (None: dagbot's package, code written for the request)."""


def request_values(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                   red_tools: Collection[str]) -> list[ComputedValue]:
    """The plan's final packages' values when each was computed for the request, every node
    finished (but packages of the plan's own that dagbot's computing package stood in for), no
    node was to change anything, and every result the answer needs is such a value (no read is
    final); [] otherwise (the joiner answers as always)."""
    nodes = [node for node in plan.get("nodes") or [] if isinstance(node, Mapping)]

    def done(node: Mapping[str, Any]) -> bool:
        return (results.get(str(node.get("id"))) or {}).get("status") == NodeStatus.DONE.value
    # the plan's own packages that failed, when dagbot's computing package did what they were for
    # (aimed failed-backups: a filter in JavaScript failed, the query found b-102 and b-105, and
    # the joiner, offered a replan for the failure, planned a guess)
    # (and those whose value a rewrite written from their goal alone gave: aimed day-and-acme)
    gave_way = ({str(node.get("id")) for node in nodes if "package" in node and not done(node)}
                | rewritten_values(plan, results)
                if any(is_computing(node) and done(node) for node in nodes) else set())
    # and a package that failed referring only to nodes the plan lacks: it computed from nothing,
    # so it was no step of the answer (weekend multi-domain-certs: an ``output`` package printing
    # ``${certificates_with_multiple_domains_json}``, a variable of another package's code, failed
    # three times, and the joiner, shown the query's certificates, named none of them)
    ids = {str(node.get("id")) for node in nodes}
    gave_way |= {str(node.get("id")) for node in nodes if "package" in node and not done(node)
                 and (refs := referenced_ids(node)) and not refs & ids
                 and not {str(dep) for dep in node.get("depends_on") or []} & ids}
    if not nodes or any((not done(node) and str(node.get("id")) not in gave_way)
                        or node.get("tool") in red_tools for node in nodes):
        return []
    needed = {str(dep) for node in nodes for dep in node.get("depends_on") or []}
    for node in nodes:
        needed |= referenced_ids({key: node.get(key) for key in ("args", "each", "package")})
    values = []
    for node in nodes:
        node_id = str(node.get("id"))
        if node_id in needed or node_id in gave_way:
            continue
        if "package" not in node:
            return []  # a read no step took: the answer needs it as it is (a fact asked beside a sum)
        result = results[node_id]
        query = _query(result)
        if "output" not in result or (query is None and not is_computing(node)):
            return []  # a value too large to show, or code written for the planner's goal
        values.append(ComputedValue(node_id, result["output"], query))
    return values


def _query(result: Mapping[str, Any]) -> str | None:
    """The query that computed a package's output: its last attempt's, when that one ran one."""
    log = result.get("attempt_log") or []
    last = log[-1] if log and isinstance(log[-1], Mapping) else {}
    query = last.get("query") if last.get("error") is None else None
    return query if isinstance(query, str) and query.strip() else None


def computed_answer_messages(state: AgentState, values: Sequence[ComputedValue],
                             chars: int = RESULT_CHARS) -> list[BaseMessage]:
    """The joiner's prompt when the plan's values were computed for the request
    (:mod:`agent.engine.computed_answer`): those values, the query behind each, the request."""
    shown = []
    for value in values:
        how = f" (computed by `{clip_end(value.query, 600)}`)" if value.query else ""
        shown.append(f"### {value.node_id}{how}\n{clip_value(_listed(value.output), chars)}")
    earlier = state.get("history") or []
    follows = (f"\n(It follows the request: {clip_end(str(earlier[-1]['request']), REQUEST_CHARS)})"
               if earlier else "")
    body = "## Computed values\n" + "\n\n".join(shown) + f"\n\n## Request\n{state['request']}{follows}"
    return [SystemMessage(prompt_text("computed_answer.md")), HumanMessage(sendable(body))]


def _listed(value: Any) -> str:
    """A computed value as plain lines: ``key: value`` for a mapping, one item a line for a list."""
    if isinstance(value, Mapping):
        return "\n".join(f"- {key}: {_one(item)}" for key, item in value.items()) or "(none)"
    if isinstance(value, list):
        return "\n".join(f"- {_one(item)}" for item in value) or "(none)"
    return _one(value)


def _one(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


_MOST_VALUES = 12
"""Past this many values, an answer may sum them up: only a shorter list is held to each."""
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_GROUPED = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)


def missing_values(answer: str, values: Sequence[ComputedValue]) -> list[str]:
    """The values (a number, a name, a query's groups) an answer leaves out, when there are at
    most :data:`_MOST_VALUES`; a number counts as stated rounded as the answer writes it, or as a
    percentage of a share."""
    leaves = [leaf for value in values
              for leaf in _leaves(value.output, keys=bool(value.query and _GROUPED.search(value.query)))]
    if len(leaves) > _MOST_VALUES:
        return []
    written = [(float(m.group().replace(",", "")), len(m.group().partition(".")[2]))
               for m in _NUMBER.finditer(answer)]
    lowered = answer.lower()
    missing = []
    for leaf in leaves:
        if isinstance(leaf, bool) or leaf is None:
            continue
        if isinstance(leaf, int | float):
            if not any(_rounds_to(leaf, number, places) or _rounds_to(leaf * 100, number, places)
                       for number, places in written):
                missing.append(json.dumps(leaf))
        elif str(leaf).strip().lower() not in lowered:
            missing.append(str(leaf))
    return missing


def computed_reply(values: Sequence[ComputedValue]) -> str:
    """dagbot's own answer from values computed for the request: each as computed, with the
    query that computed it."""
    parts = []
    for value in values:
        how = f" (`{_one_line(value.query, 300)}`)" if value.query else ""
        listed = _listed(value.output)
        lead = "Computed from the data" + how
        parts.append(f"{lead}:\n{listed}" if "\n" in listed or listed.startswith("- ")
                     else f"{lead}: **{listed}**")
    return "\n\n".join(dict.fromkeys(parts))  # (two packages that computed the same: said once)


def _one_line(query: str, limit: int) -> str:
    """A query on one line, cut with a bare "…" past ``limit`` (a count of what was left out
    is a number no result holds: "…[39 characters left out]…" was taken for a stated value)."""
    line = " ".join(query.split())
    return line if len(line) <= limit else line[:limit].rstrip() + "…"


def _rounds_to(value: float, written: float, places: int) -> bool:
    return abs(round(value, places) - written) < 1e-9 or abs(value - written) < 1e-9


def _leaves(value: Any, keys: bool) -> list[Any]:
    """The values ``value`` holds; with ``keys``, a mapping's keys too (a query's groups: the
    teams of a total per team; otherwise keys are labels, ``orders_total``)."""
    if isinstance(value, Mapping):
        return [leaf for key, item in value.items()
                for leaf in [*([key] if keys else []), *_leaves(item, False)]]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item, False)]
    return [value]
