"""Starting plan nodes while the planner is still writing the plan (LLMCompiler's task
fetching unit).

The planner's reply is streamed (:func:`agent.model.llm.stream_structured`). Each node whose JSON
object is complete is validated on its own, as the next node of the plan so far: its id, its
tool and the arguments against the tool's schema, or its package code, and its dependencies,
which must be nodes already accepted. An accepted green node (tool or package) starts as
soon as its inputs exist, run by a provisional :class:`~agent.execution.scheduler.PlanExecutor`; red
nodes, and nodes depending on a node not (yet) accepted, wait for the whole plan. A fan-out
(``each``) being written starts each item as soon as that item is complete.

When the reply ends, the whole plan is validated as before. If it is valid, the scheduler
takes the provisional executor's work over (results saved under the same plan id, calls in
flight continue). If it is not, nothing red has run, and the repair round's plan reuses the
green work of every node it keeps unchanged (same definition, same inputs), done or running;
the rest is stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from langchain_core.messages import BaseMessage

from agent.errors import PlanError, ToolError
from agent.events import NodeProposed
from agent.execution.context import EngineContext
from agent.execution.scheduler import PlanExecutor, RunIdentity
from agent.execution.stream_refusal import ask_whole
from agent.model.llm import StreamRefused, StructuredReply, call_structured, stream_structured
from agent.model.tool_schemas import json_schema_format
from agent.plan.code_calls import call_key, calls_so_far
from agent.plan.edges import dependencies
from agent.plan.format import Plan, PlanNode, WrittenPlan, canonical_node, node_label, plan_json_schema
from agent.plan.limits import PlanLimits
from agent.plan.parsing import item_argument, with_ids
from agent.plan.references import referenced_ids
from agent.plan.validation import validate_plan
from agent.tools.registry import Risk, ToolRegistry


@dataclass(frozen=True)
class Draft:
    """The plan's arguments received so far, parsed once (pydantic-core's partial mode)."""

    nodes: list[Any]
    open_last: bool
    """Whether the last node may still be incomplete."""
    text: str = ""
    """The arguments received so far."""

    @property
    def complete(self) -> list[Any]:
        """The nodes whose JSON objects are complete: an element of ``nodes`` is complete once
        the next one has begun, or the list or the whole reply has ended."""
        return self.nodes[:-1] if self.open_last else self.nodes

    @property
    def being_written(self) -> dict[str, Any] | None:
        node = self.nodes[-1] if self.open_last and self.nodes else None
        return node if isinstance(node, dict) and node else None

    def fan_out(self) -> tuple[dict[str, Any], list[Any]] | None:
        """The node still being written, if it is a fan-out whose ``each`` is being written (the
        last key so far, so every key before it is complete), with the items already complete."""
        node = self.being_written
        if node is None or list(node)[-1] != "each":
            return None
        items = node["each"]
        if not isinstance(items, list):
            return None
        return (node, items) if items and _closed_item(self.text, items) else (node, items[:-1])

    def call_written(self) -> dict[str, Any] | None:
        """The node still being written, if it is one tool call whose ``args`` (its last key so
        far) have just closed: its call is known, though more keys (``depends_on``, ``each``)
        may follow."""
        node = self.being_written
        if (node is None or "tool" not in node or "each" in node or list(node)[-1] != "args"
                or not isinstance(node["args"], dict) or _open_containers(self.text) != _IN_A_NODE):
            return None
        return node

    def package(self) -> tuple[str, str] | None:
        """The node still being written, if it is a package whose ``code`` is being written (its
        last key so far): its id and the code so far."""
        node = self.being_written
        if node is None or not isinstance(node_id := node.get("id"), str):
            return None
        package = node.get("package")
        if not isinstance(package, dict) or not package or list(package)[-1] != "code":
            return None
        code = package["code"]
        return (node_id, code) if isinstance(code, str) else None


def read_draft(arguments: str) -> Draft:
    """The ``nodes`` in the plan's arguments received so far (each with its id:
    :func:`~agent.plan.validation.with_ids`), and whether the last one may still grow."""
    try:
        value = pydantic_core.from_json(arguments)
        closed = True
    except ValueError:
        try:
            value = pydantic_core.from_json(arguments, allow_partial="trailing-strings")
        except ValueError:
            return Draft([], False)
        closed = False
    if not isinstance(value, dict) or not isinstance(value.get("nodes"), list):
        return Draft([], False)
    # a key after "nodes": its list is closed
    return Draft(with_ids(value["nodes"]), not closed and list(value)[-1] == "nodes", arguments)


_IN_A_NODE = 3
"""Containers open while a node's own keys are written: the plan, its ``nodes``, the node."""


def _open_containers(text: str) -> int:
    """How many JSON objects and arrays are open at the end of ``text`` (-1: inside a string)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return -1 if in_string else depth


def _closed_item(text: str, items: list[Any]) -> bool:
    """Whether the last of ``items``, those of the fan-out being written in ``text`` (a draft's
    arguments so far), is a string whose closing quote has arrived: it is still there when
    strings not closed yet are left out. (An object's or a number's end cannot be told before
    what follows it: they wait for the next item, or the node's end.)"""
    if not isinstance(items[-1], str):
        return False
    try:
        value = pydantic_core.from_json(text, allow_partial=True)
        each = canonical_node(value["nodes"][-1])["each"]
    except (ValueError, LookupError, TypeError):
        return False
    return isinstance(each, list) and len(each) == len(items)


def complete_nodes(arguments: str) -> list[Any]:
    """The nodes whose JSON objects are complete in the plan's arguments received so far."""
    return read_draft(arguments).complete


def accept(raw: Any, accepted: list[PlanNode], registry: ToolRegistry, limits: PlanLimits,
           refused: Mapping[str, str] | None = None) -> PlanNode | None:
    """``raw`` validated as the next node after ``accepted``, or None if it is not valid so
    (``refused``: tools the requester may not use, as :func:`validate_plan` takes them)."""
    if not isinstance(raw, dict):
        return None
    nodes = [n.model_dump(exclude_none=True) for n in accepted]
    try:
        plan = validate_plan({"nodes": [*nodes, raw]}, registry, limits, refused=refused, partial=True)
    except PlanError:
        return None
    node = plan.nodes[-1]
    return node if node.id == raw.get("id") else None  # an id given twice waits for the whole plan


class EarlyStart:
    """Runs the green nodes of one streamed draft of a plan as they arrive."""

    def __init__(self, ctx: EngineContext, ident: RunIdentity, refused: Mapping[str, str]) -> None:
        self.ctx = ctx
        self.refused = refused
        self.key = (ident.thread_id, ident.run_id)
        self.executor = PlanExecutor(ctx, Plan(nodes=[]), ident, provisional=True)
        previous = ctx.state.early_starts.pop(self.key, None)
        self.previous = previous if isinstance(previous, PlanExecutor) else None
        """The run's previous draft (the repair round replaces an invalid plan)."""
        self.offered = 0
        self.changed = asyncio.Event()
        self.stopping = False
        self.code: tuple[str, str] | None = None
        """The package being written, and its code so far."""
        self.pump = asyncio.create_task(
            self.executor.run_provisional(self.changed, lambda: self.stopping, self._start_code_calls),
            name=f"early-start:{ident.thread_id}")

    async def offer(self, arguments: str) -> None:
        """The plan's arguments received so far: take in the nodes completed since last time."""
        draft = read_draft(arguments)
        for raw in draft.complete[self.offered:]:
            self.offered += 1
            node_id = raw["id"] if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            if node_id is not None:
                await self.ctx.events.publish(NodeProposed(
                    thread_id=self.key[0], run_id=self.key[1], node_id=node_id, label=node_label(raw)))
            node = accept(raw, self.executor.plan.nodes, self.ctx.registry, self.ctx.settings.plan_limits,
                          self.refused)
            if node_id is not None and (node is None or (node.tool is not None and dependencies(node))):
                self.executor.drop_prefetched(node_id)  # its early calls are not its own: stop them
            if node is None:
                continue
            self.executor.add(node)
            if self.previous is not None:
                self.executor.carry(self.previous, node)
            self.changed.set()
        if (writing := draft.fan_out()) is not None:
            self._start_items(*writing)
        elif (call := draft.call_written()) is not None:
            self._start_items(call, [{}])  # its one call, as item 0 of a fan-out would be
        self.code = draft.package()
        self._start_code_calls()

    def _start_code_calls(self) -> None:
        """Start the calls a package still being written will make, as far as its complete
        statements tell them (:func:`agent.plan.code_calls.calls_so_far`) with the inputs done
        so far: green tools the requester may use, with valid arguments. The package takes over
        those its code makes when it runs; a call is the same whatever started it, as a
        reused result is. Again as inputs and calls finish (the stream may be waiting)."""
        if self.code is None or self.stopping:
            return
        node_id, code = self.code
        if any(n.id == node_id for n in self.executor.plan.nodes):
            return
        started = self.executor.prefetched.get(node_id, {}).values()
        outputs = {call_key(p.tool, p.args): p.task.result().output for p in started
                   if p.task.done() and not p.task.cancelled() and p.task.exception() is None}

        def made(tool: str, args: dict[str, Any]) -> Any:
            try:
                return outputs[call_key(tool, self.ctx.registry.validate_args(tool, args))]
            except (KeyError, ToolError) as exc:
                raise LookupError(tool) from exc

        for call in calls_so_far(code, self.executor.outputs, made):
            if (call.tool not in self.ctx.registry or call.tool in self.refused
                    or self.ctx.registry.risk_of(call.tool) is not Risk.GREEN):
                continue
            try:
                valid = self.ctx.registry.validate_args(call.tool, call.args)
            except ToolError:
                continue
            if (started_now := self.executor.prefetch_call(node_id, call.tool, valid)) is not None:
                started_now.task.add_done_callback(lambda _: self.changed.set())  # its result: read next

    def _start_items(self, raw: dict[str, Any], items: list[Any]) -> None:
        """Start the complete items of a fan-out still being written (or the one call of a tool
        node whose ``args`` have closed), when it is sure they are calls it will make (green,
        allowed, no dependency so far, valid arguments). Its ``args`` or a ``depends_on`` may
        still come after ``each`` (``each`` or ``depends_on`` after ``args``): the node then takes
        over only the calls whose arguments are still the same, and none if it has dependencies."""
        node_id, tool, args = raw.get("id"), raw.get("tool"), raw.get("args", {})
        if (not isinstance(node_id, str) or not isinstance(tool, str) or tool not in self.ctx.registry
                or self.ctx.registry.risk_of(tool) is not Risk.GREEN or tool in self.refused
                or not isinstance(args, dict) or "depends_on" in raw
                or any(n.id == node_id for n in self.executor.plan.nodes)):
            return
        plain = item_argument(self.ctx.registry.get(tool).json_schema(), args)
        for index, item in enumerate(items[:self.ctx.settings.plan_limits.max_each]):
            if not isinstance(item, dict):  # a plain item: the value of the one open argument
                if plain is None or isinstance(item, list):
                    continue
                item = {plain: item}
            if referenced_ids(merged := {**args, **item}):
                continue
            try:
                valid = self.ctx.registry.validate_args(tool, merged)
            except ToolError:
                continue
            self.executor.prefetch(node_id, index, tool, valid)

    async def close(self) -> None:
        """The reply has ended: stop starting nodes and leave the work for the scheduler."""
        self.stopping = True
        self.changed.set()
        try:
            await self.pump
        finally:
            if self.offered == 0 and self.previous is not None:
                # nothing streamed (the model answered whole): the previous draft's work is
                # still what the plan may reuse
                self.ctx.state.early_starts[self.key] = self.previous
            else:
                if self.previous is not None:
                    self.previous.abandon()
                self.ctx.state.early_starts[self.key] = self.executor

    def abandon(self) -> None:
        """The planner failed or was stopped: stop everything started for this run."""
        self.stopping = True
        self.pump.cancel()
        self.executor.abandon()
        if self.previous is not None:
            self.previous.abandon()


def discard(ctx: EngineContext, thread_id: str, run_id: str) -> None:
    """The run ends without a scheduler to take work over (it failed): stop what is left."""
    executor = ctx.state.early_starts.pop((thread_id, run_id), None)
    if executor is not None:
        executor.abandon()


async def plan_reply(ctx: EngineContext, messages: list[BaseMessage], ident: RunIdentity,
                     refused: Mapping[str, str] | None = None) -> StructuredReply:
    """The planner's reply. Streamed, its nodes started as they arrive, unless the settings
    say otherwise or the model does not stream (then whole, as :func:`call_structured`).
    ``refused``: tools the requester may not use (the access policy): never started early."""
    constrained = None
    if ctx.settings.plan_output == "json_schema":
        specs = [spec for spec in ctx.registry if spec.name not in (refused or {})]
        usable = {spec.name: list(spec.json_schema().get("properties") or {}) for spec in specs}
        plain = [spec.name for spec in specs if item_argument(spec.json_schema(), {}) is not None]
        constrained = json_schema_format(plan_json_schema(usable, plain), "plan")
    if not ctx.settings.stream_planner or ctx.state.stream_refused:
        return await call_structured(ctx.llm, messages, WrittenPlan, "plan", constrained)
    early = EarlyStart(ctx, ident, refused or {})
    try:
        try:
            reply = await stream_structured(ctx.llm, messages, WrittenPlan, "plan", early.offer, constrained)
        except StreamRefused as refusal:  # asked again whole (agent.execution.stream_refusal)
            reply = await ask_whole(ctx, refusal, lambda: call_structured(
                ctx.llm, messages, WrittenPlan, "plan", constrained), "planner's reply")
    except BaseException:
        early.abandon()
        raise
    await early.close()
    return reply
