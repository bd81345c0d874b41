"""What the scheduler hands back to the graph: each node's result in compact form, and the
approvals the plan still waits for.

The compact results become the thread's checkpointed ``results`` (and, through them, what the
joiner and later follow-ups read), so a large output is not copied there: above
``inline_output_bytes`` only a preview and its size are kept, and the full output stays in the
:class:`~agent.ports.stores.NodeResultStore`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.execution.context import EngineSettings
from agent.execution.red_calls import preview
from agent.plan.edges import dependencies
from agent.plan.format import Plan
from agent.ports.stores import NodeResult, NodeStatus
from agent.tools.registry import ToolRegistry

PACKAGE = "package"
"""The source a package's untrusted output is marked with."""
_TOOLS_USED = re.compile(r"\btools\b(?:\s*\.\s*([A-Za-z_]\w*))?")


@dataclass
class ExecutionReport:
    results: dict[str, dict[str, Any]]
    """Node id → compact result: status, attempts, error, attempt log, output or preview."""
    pending_approvals: list[str]
    """The ids of the approvals the plan waits for, sorted (none when it ran to its end)."""
    cancelled: bool = False

    @classmethod
    def of(cls, records: Mapping[str, NodeResult], pending_approvals: Iterable[str],
           settings: EngineSettings, cancelled: bool = False,
           untrusted: Mapping[str, str] | None = None) -> ExecutionReport:
        """``untrusted``: the nodes whose output comes from outside, each with its source
        (:func:`untrusted_sources`)."""
        sources = untrusted or {}
        return cls(
            results={node_id: compact(record, settings, sources.get(node_id))
                     for node_id, record in records.items()},
            pending_approvals=sorted(pending_approvals), cancelled=cancelled,
        )


def untrusted_sources(plan: Plan, registry: ToolRegistry) -> dict[str, str]:
    """The plan's nodes whose output comes from outside dagbot, each with where from: a tool
    node whose tool says so (:attr:`~agent.tools.registry.ToolSpec.untrusted_output`), and a
    package that reads such a node's output or may call such a tool (its code uses ``tools``
    other than as ``tools.NAME`` of a tool whose output is dagbot's own). Decided from the
    registry and the plan's shape, never from what a model says."""
    def from_outside(tool: str | None) -> bool:
        return tool is None or tool not in registry or registry.get(tool).untrusted_output

    sources: dict[str, str] = {}
    for node in plan.nodes:
        if node.tool is not None and from_outside(node.tool):
            sources[node.id] = node.tool
    for _ in plan.nodes:  # until nothing changes: a package reading a package that reads one
        before = len(sources)
        for node in plan.nodes:
            if node.package is None or node.id in sources:
                continue
            if dependencies(node) & sources.keys() or any(
                    from_outside(m.group(1)) for m in _TOOLS_USED.finditer(node.package.code)):
                sources[node.id] = PACKAGE
        if len(sources) == before:
            break
    return sources


def compact(record: NodeResult, settings: EngineSettings, untrusted: str | None = None) -> dict[str, Any]:
    """A node's result as the thread's state keeps it; ``untrusted``: where its output (or its
    failure's words) came from, when from outside dagbot (marked so in prompts)."""
    result: dict[str, Any] = {"status": record.status.value, "attempts": record.attempts}
    if untrusted is not None and record.status in (NodeStatus.DONE, NodeStatus.FAILED):
        result["untrusted"] = untrusted
    if record.error:
        result["error"] = record.error
    if record.attempt_log:  # what each package attempt ran and how it failed
        result["attempt_log"] = record.attempt_log
    if record.status is NodeStatus.DONE:
        size = len(json.dumps(record.output, ensure_ascii=False, default=str))
        if size <= settings.inline_output_bytes:
            result["output"] = record.output
        else:  # the full output stays in the result store
            result["preview"] = preview(record.output, settings.preview_chars)
            result["bytes"] = size
    return result
