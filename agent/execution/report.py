"""What the scheduler hands back to the graph: each node's result in compact form, and the
approvals the plan still waits for.

The compact results become the thread's checkpointed ``results`` (and, through them, what the
joiner and later follow-ups read), so a large output is not copied there: above
``inline_output_bytes`` only a preview and its size are kept, and the full output stays in the
:class:`~agent.ports.stores.NodeResultStore`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.execution.context import EngineSettings
from agent.execution.red_calls import preview
from agent.ports.stores import NodeResult, NodeStatus


@dataclass
class ExecutionReport:
    results: dict[str, dict[str, Any]]
    """Node id → compact result: status, attempts, error, attempt log, output or preview."""
    pending_approvals: list[str]
    """The ids of the approvals the plan waits for, sorted (none when it ran to its end)."""
    cancelled: bool = False

    @classmethod
    def of(cls, records: Mapping[str, NodeResult], pending_approvals: Iterable[str],
           settings: EngineSettings, cancelled: bool = False) -> ExecutionReport:
        return cls(
            results={node_id: compact(record, settings) for node_id, record in records.items()},
            pending_approvals=sorted(pending_approvals), cancelled=cancelled,
        )


def compact(record: NodeResult, settings: EngineSettings) -> dict[str, Any]:
    """A node's result as the thread's state keeps it."""
    result: dict[str, Any] = {"status": record.status.value, "attempts": record.attempts}
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
