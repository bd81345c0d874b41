"""The first step of validation: a model's raw plan (JSON text or a value) read into nodes.

Every problem of shape is named by node and field; a node that cannot be read at all is left
out of the draft and its label kept (:attr:`agent.plan.mends.contract.Draft.unparsed`), so the
mends and checks that follow still run on the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent.errors import PlanError, PlanProblem
from agent.plan.format import NODE_ID_PATTERN, PlanNode, canonical_node, tool_keys
from agent.plan.limits import PlanLimits
from agent.plan.mends.contract import Draft
from agent.tools.registry import ToolRegistry

_ID = re.compile(NODE_ID_PATTERN)
_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair: JSON's ``\\ud83d`` without its partner (json.loads joins whole pairs)."""
SURROGATE_PROBLEM = ("has half of a UTF-16 surrogate pair (an escape such as \\ud83d without its "
                     "partner), which is no character: write the character itself")


@dataclass(frozen=True)
class Parsed:
    draft: Draft
    thought: str
    problems: list[PlanProblem]
    """Problems of shape found so far (the checks add theirs)."""


def parse_plan(raw: Any, registry: ToolRegistry, limits: PlanLimits) -> Parsed:
    """``raw`` read into a draft; :class:`PlanError` when it is no plan at all."""
    problems: list[PlanProblem] = []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PlanError([PlanProblem(None, None, f"the plan is not valid JSON: {exc}")]) from None
    if not isinstance(raw, Mapping):
        raise PlanError([PlanProblem(None, None, "the plan must be a JSON object with 'nodes'")])
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, list):
        raise PlanError([PlanProblem(None, "nodes",
                                     "the plan needs a list of nodes ([] when no tool is needed)")])
    raw_nodes = with_ids(raw_nodes)
    if len(raw_nodes) > limits.max_nodes:
        raise PlanError([PlanProblem(None, "nodes", (
            f"{len(raw_nodes)} nodes is more than the limit of {limits.max_nodes}; "
            "bundle coupled steps into packages or leave work for a follow-up"))])
    extra = set(raw) - {"thought", "nodes", "answer"}
    if extra:
        problems.append(PlanProblem(None, None, f"unknown top-level field(s): {sorted(extra)}"))
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str):
        problems.append(PlanProblem(None, "answer", "must be a string (the reply, with ${id} references)"))
        answer = None

    problems.extend(PlanProblem(None, field, SURROGATE_PROBLEM)
                    for field in lone_surrogates({"thought": raw.get("thought"), "answer": answer}))
    nodes: list[PlanNode] = []
    unparsed: set[str] = set()
    for index, raw_node in enumerate(raw_nodes):
        label = raw_node.get("id") if isinstance(raw_node, Mapping) else None
        if not isinstance(label, str) or not label or _SURROGATE.search(label):
            label = f"#{index + 1}"
        if halves := lone_surrogates(raw_node):  # no further check: Python's parser refuses them
            problems.extend(PlanProblem(label, field, SURROGATE_PROBLEM) for field in halves)
            unparsed.add(label)
            continue
        if (isinstance(raw_node, Mapping) and "tool" not in raw_node and "package" not in raw_node
                and len(named := tool_keys(raw_node)) > 1):
            problems.append(PlanProblem(label, None, (
                f"names {len(named)} tools ({', '.join(named)}): a node calls one tool, as "
                '{"id": "x", "TOOL": {ARGS}}; make a node for each')))
            unparsed.add(label)
            continue
        raw_node, items_unclear = spelled_out_items(raw_node, registry)
        if items_unclear is not None:
            problems.append(PlanProblem(label, "each", items_unclear))
            unparsed.add(label)
            continue
        try:
            nodes.append(PlanNode.model_validate(raw_node))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(x) for x in err["loc"]) or None
                problems.append(PlanProblem(label, field, err["msg"]))
    draft = Draft(tuple(nodes), answer, frozenset(unparsed))
    return Parsed(draft, str(raw.get("thought") or ""), problems)


def with_ids(raw_nodes: list[Any]) -> list[Any]:
    """``raw_nodes`` in the plan format's fields (:func:`~agent.plan.format.canonical_node`),
    with an id for each node that gives none: its tool's name, or ``package``, numbered when
    an earlier node has it (``read_file_2``). Only earlier nodes count, so a node's id is the
    same while the plan streams as in the whole plan."""
    taken: set[str] = set()
    named = []
    for raw in map(canonical_node, raw_nodes):
        if isinstance(raw, Mapping) and raw.get("id") is None:
            tool = raw.get("tool")
            base = (re.sub(r"[^a-z0-9_]", "_", tool.lower())[:28] if isinstance(tool, str) and tool
                    else "package" if "package" in raw else "node")
            base = base if _ID.match(base) else f"n_{base}"[:28]
            node_id, number = base, 2
            while node_id in taken:
                node_id, number = f"{base}_{number}", number + 1
            raw = {"id": node_id, **{k: v for k, v in raw.items() if k != "id"}}
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            taken.add(raw["id"])
        named.append(raw)
    return named


def item_argument(schema: Mapping[str, Any], args: Mapping[str, Any]) -> str | None:
    """The argument a fan-out's plain item (``"each": ["a.log", "b.log"]``) gives: the one
    required argument ``args`` leaves open, or else the tool's one argument ``args`` leaves
    open; None when that is not one argument (the items must then be objects)."""
    properties = list(schema.get("properties") or {})
    open_required = [name for name in schema.get("required") or () if name not in args]
    if open_required:
        return open_required[0] if len(open_required) == 1 else None
    open_args = [name for name in properties if name not in args]
    return open_args[0] if len(open_args) == 1 else None


def spelled_out_items(raw_node: Any, registry: ToolRegistry) -> tuple[Any, str | None]:
    """``raw_node`` with its fan-out's plain items (a string, a number) written as the argument
    objects they stand for, or why they cannot be (its tool leaves several arguments open)."""
    if not isinstance(raw_node, Mapping) or not isinstance(raw_node.get("each"), list):
        return raw_node, None
    items, tool, args = raw_node["each"], raw_node.get("tool"), raw_node.get("args") or {}
    if all(isinstance(item, Mapping) for item in items) or not isinstance(args, Mapping):
        return raw_node, None
    if not isinstance(tool, str) or tool not in registry:  # the node's problem is its tool: said so
        return {**raw_node, "each": [item if isinstance(item, Mapping) else {} for item in items]}, None
    schema = registry.get(tool).json_schema()
    name = item_argument(schema, args)
    if name is None:
        open_args = ", ".join(a for a in schema.get("properties") or {} if a not in args)
        return raw_node, (f"'{tool}' takes several arguments ({open_args}): write each item as "
                          "an object of them")
    spelled = [item if isinstance(item, Mapping) else {name: item} for item in items]
    return {**raw_node, "each": spelled}, None


def lone_surrogates(value: Any, path: str = "") -> list[str]:
    """Where in a JSON value a string (or key) holds a lone surrogate: dotted paths."""
    if isinstance(value, str):
        return [path or "value"] if _SURROGATE.search(value) else []
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            if _SURROGATE.search(str(key)):  # named by where it is, never quoted
                found.append(path or "value")
            else:
                found.extend(lone_surrogates(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in lone_surrogates(item, f"{path}.{index}" if path else str(index))]
    return []
