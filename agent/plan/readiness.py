"""Which nodes may start: a pure function of the plan and the nodes' states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from agent.plan.edges import dependencies
from agent.plan.format import Plan


class NodeState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = {NodeState.DONE, NodeState.FAILED, NodeState.REJECTED, NodeState.SKIPPED}
_BLOCKING = {NodeState.FAILED, NodeState.REJECTED, NodeState.SKIPPED}


@dataclass(frozen=True)
class Readiness:
    ready: list[str] = field(default_factory=list)
    """Waiting nodes whose dependencies are all done, in plan order."""
    skip: dict[str, str] = field(default_factory=dict)
    """Waiting nodes that can never run, with the reason."""

    @property
    def nothing_to_do(self) -> bool:
        return not self.ready and not self.skip


def readiness(plan: Plan, states: Mapping[str, NodeState]) -> Readiness:
    ready: list[str] = []
    skip: dict[str, str] = {}
    for node in plan.nodes:
        if states.get(node.id, NodeState.WAITING) is not NodeState.WAITING:
            continue
        deps = sorted(dependencies(node))
        blocked = [d for d in deps if states.get(d, NodeState.WAITING) in _BLOCKING]
        if blocked:
            skip[node.id] = ", ".join(
                f"'{d}' was {states[d].value}" for d in blocked
            )
        elif all(states.get(d) is NodeState.DONE for d in deps):
            ready.append(node.id)
    return Readiness(ready=ready, skip=skip)


def is_finished(plan: Plan, states: Mapping[str, NodeState]) -> bool:
    return all(states.get(n.id, NodeState.WAITING).is_final for n in plan.nodes)


def critical_path(plan: Plan, cost: Mapping[str, float]) -> float:
    """Length of the longest dependency chain, weighting each node by ``cost``."""
    finish: dict[str, float] = {}

    def end(node_id: str) -> float:
        if node_id not in finish:
            deps = dependencies(plan.node(node_id))
            finish[node_id] = max((end(d) for d in deps), default=0.0) + cost.get(node_id, 0.0)
        return finish[node_id]

    return max((end(n.id) for n in plan.nodes), default=0.0)
