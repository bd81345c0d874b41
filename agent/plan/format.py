"""The plan: dagbot's public, documented JSON format (docs/plan-format.md).

Models only; validation lives in :mod:`agent.plan.validation`, readiness in
:mod:`agent.plan.readiness`, ``${id}`` references in :mod:`agent.plan.references`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.tools.registry import RESERVED_NAMES

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


def free_id(wanted: str, taken: Collection[str]) -> str:
    """``wanted`` (cut to leave room for a number within an id's 32 characters), or, when
    ``taken`` has it, the first of ``wanted_2``, ``wanted_3``… it does not."""
    wanted = wanted[:28]
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}_{number}" in taken:
        number += 1
    return f"{wanted}_{number}"


def read_id(path: str) -> str:
    """A node id for the read of ``path``: its file name's stem (``access/users.json``: ``users``),
    ``read_…`` when the stem is empty or opens with a digit."""
    stem = re.sub(r"[^a-z0-9_]+", "_", path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()).strip("_")
    return stem if stem and not stem[0].isdigit() else f"read_{stem}".rstrip("_")

PACKAGE_LABEL = "package: "
NODE_FIELDS = RESERVED_NAMES
"""A node's own keys; any other key of a node, as the planner writes it, is a tool's name
(the registry refuses a tool named like one)."""


class PackageSpec(BaseModel):
    """A short Python script bundling a tightly coupled chain, run in the sandbox."""

    model_config = ConfigDict(extra="forbid")

    goal: str
    """What the script must achieve, in one sentence."""
    code: str
    """Python 3: ``inputs`` maps each dependency id to its output, ``tools.NAME(**kw)`` calls a
    green tool, and the JSON-serialisable value assigned to ``result`` is the node's output."""


# The planner's prompt (agent/prompts/planner.md) explains every field, so the schema sent to the
# model carries structure only: descriptions here would cost prompt tokens twice.


class PlanNode(BaseModel):
    """One node: exactly one of ``tool`` (a single tool call, or one per ``each`` item) or
    ``package``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Unique, matching ``NODE_ID_PATTERN``."""
    tool: str | None = None
    """Name of a registered tool."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Tool arguments; ``${id}`` or ``${id.field}`` refers to another node's output."""
    each: list[dict[str, Any]] | None = None
    """Fan-out (green tools only): the tool is called once per item, in parallel, with ``args``
    updated by the item; the node's output is the list of the calls' outputs, in item order."""
    package: PackageSpec | None = None
    depends_on: list[str] = Field(default_factory=list)
    why: str | None = None
    """Why the plan needs this node; shown on approval requests."""


class Plan(BaseModel):
    """A plan: nodes (tool calls or packages) and the edges between them."""

    model_config = ConfigDict(extra="forbid")

    # Field order is the order a model writes them in: nodes first, so the first ones can start
    # while the rest of the plan is still being generated.
    nodes: list[PlanNode]
    answer: str | None = None
    """Only when the reply is the results in a fixed sentence: that sentence with ``${}``
    references, sent as is with no joiner model call (:mod:`agent.answer.template`)."""
    thought: str = ""
    """Optional: why this decomposition, in one sentence (shown in the status message)."""

    def node(self, node_id: str) -> PlanNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]


class WrittenNode(BaseModel):
    """A node as the planner writes it: a tool's name with its args (or a list: one call per
    item), or a package."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, dict[str, Any] | list[Any]] = Field(init=False)

    id: str | None = None
    package: PackageSpec | None = None
    depends_on: list[str] = Field(default_factory=list)
    why: str | None = None


class WrittenPlan(BaseModel):
    """A plan: nodes (tool calls or packages) and the edges between them."""

    nodes: list[WrittenNode]
    answer: str | None = None
    thought: str = ""


def tool_keys(raw: Mapping[str, Any]) -> list[str]:
    """The keys of a node, as the planner writes it, that name a tool (not a field of a node)."""
    return [key for key in raw if key not in NODE_FIELDS]


def canonical_node(raw: Any) -> Any:
    """A node as the planner writes it, its tool's name the key of its arguments
    (``{"id": "log", "read_file": {"path": "app.log"}}``) or of its fan-out's items
    (``{"search": ["a", "b"]}``), in the plan format's fields: ``tool`` with ``args`` or ``each``,
    in the key's place (a node being streamed keeps its keys' order). Anything else as it is: a
    node naming ``tool`` or ``package``, or naming several tools, is validation's to judge."""
    if not isinstance(raw, Mapping) or "tool" in raw or "package" in raw or len(tool_keys(raw)) != 1:
        return raw
    canonical: dict[str, Any] = {}
    for key, value in raw.items():
        if key in NODE_FIELDS:
            canonical[key] = value
        else:
            canonical["tool"] = key
            canonical["each" if isinstance(value, list) else "args"] = value
    return canonical


def plan_json_schema(tools: Mapping[str, Sequence[str]], plain_items: Collection[str] = ()) -> dict[str, Any]:
    """The plan format, as the planner writes it (:func:`canonical_node`), as a JSON schema a
    server can hold a model's output to. ``tools``: each tool's name and its arguments' names;
    ``plain_items``: the tools whose fan-out items may be
    plain values (one argument open: :func:`agent.plan.validation.item_argument`). A model held
    to it cannot name a tool that does not exist or an argument its tool does not take, mix a
    tool and a package in one node, or write anything but JSON. Every node has an ``id`` here
    (an id-less fan-out is the plan format's, not the schema's: held to a schema without it, a
    small model left out the ids of nodes that others read). What a schema cannot say
    (values fit their types, which a ``${}`` reference stands in for; references name nodes; no
    cycles) stays validation's."""
    node_id = {"type": "string", "pattern": NODE_ID_PATTERN}
    depends_on = {"type": "array", "items": {"type": "string"}}

    def tool_node(name: str, arguments: Sequence[str]) -> dict[str, Any]:
        args = {"type": "object", "properties": {arg: {} for arg in arguments}, "additionalProperties": False}
        item = {"anyOf": [args, {"type": ["string", "number"]}]} if name in plain_items else args
        return {"type": "object", "properties": {
            "id": node_id, name: {"anyOf": [args, {"type": "array", "items": item}]},
            "depends_on": depends_on, "why": {"type": "string"}},
            "required": ["id", name], "additionalProperties": False}

    package_node = {"type": "object", "properties": {
        "id": node_id,
        "package": {"type": "object", "properties": {"goal": {"type": "string"}, "code": {"type": "string"}},
                    "required": ["goal", "code"], "additionalProperties": False},
        "depends_on": depends_on},
        "required": ["id", "package"], "additionalProperties": False}
    nodes = {"anyOf": [*(tool_node(name, args) for name, args in tools.items()), package_node]}
    return {"type": "object", "properties": {
        "nodes": {"type": "array", "items": nodes}, "answer": {"type": "string"},
        "thought": {"type": "string"}}, "required": ["nodes"], "additionalProperties": False}


def node_label(node: Mapping[str, Any]) -> str:
    """What the status message calls a node, from its JSON (validated or still being
    streamed): its tool (``search ×8`` for a fan-out), or its package's goal."""
    if isinstance(node.get("tool"), str):
        each = node.get("each")
        return f"{node['tool']} ×{len(each)}" if isinstance(each, list) else str(node["tool"])
    package = node.get("package")
    goal = package.get("goal") if isinstance(package, Mapping) else None
    return f"{PACKAGE_LABEL}{goal or ''}"
