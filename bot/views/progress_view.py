"""A run as the status message shows it: a pure reducer over the engine's run events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    NodeFailed,
    NodeFinished,
    NodeProposed,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    PackageAttempt,
    Planning,
    PlanReady,
    Replanning,
    ResultReused,
    RunCancelled,
    RunEvent,
    RunFailed,
    ToolRetrying,
    Waiting,
)
from agent.plan.format import PACKAGE_LABEL, node_label
from agent.plan.mends.pipeline import corrections
from agent.plan.readiness import NodeState

STANDING_DECISION = "approved by the standing approval given"
"""A node's decision when a standing grant approved its call ("… by @x" follows)."""


class Phase(StrEnum):
    QUEUED = "queued"
    PLANNING = "planning"
    RUNNING = "running"
    WAITING = "waiting"
    """Only approvals remain; the run is parked."""
    REPLANNING = "replanning"
    ANSWERED = "answered"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (Phase.ANSWERED, Phase.FAILED, Phase.CANCELLED)


UNDONE = (NodeState.REJECTED, NodeState.FAILED, NodeState.SKIPPED)
"""How a node may end without having run to its end."""


@dataclass
class NodeView:
    id: str
    label: str
    state: NodeState = NodeState.WAITING
    detail: str | None = None
    """Why it failed, was rejected or skipped: plain text, often untrusted (a tool's error,
    a reject reason), escaped where it is shown."""
    decision: str | None = None
    """"approved" or "rejected" by ``decided_by``: shown before ``detail`` as a mention the
    bot makes itself."""
    decided_by: str | None = None
    attempt: int = 0
    max_attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    output: str = ""
    """A preview of what it produced (untrusted), once done."""

    @property
    def is_package(self) -> bool:
        return self.label.startswith(PACKAGE_LABEL)

    def say(self, detail: str | None) -> None:
        """What the node's line says now (no decision any more)."""
        self.detail, self.decision, self.decided_by = detail, None, None



_MOVING = (NodeStarted, NodeFinished, NodeFailed, NodeRejected, NodeSkipped, PackageAttempt, ToolRetrying)


@dataclass
class RunProgress:
    request: str
    requested_by: str | None
    started_at: float
    phase: Phase = Phase.PLANNING
    thought: str = ""
    corrections: list[str] = field(default_factory=list)
    """What dagbot corrected in the model's plan, as a person reads it (shown with the plan)."""
    nodes: dict[str, NodeView] = field(default_factory=dict)
    replans: int = 0
    plan_replan: int = 0
    """The replan whose plan :attr:`nodes` shows (``replans`` is ahead while the new one is made)."""
    note: str | None = None
    """The replanning feedback, or the failure."""
    finished_at: float | None = None
    duration_s: float | None = None
    nodes_run: int = 0
    tokens: int = 0
    cancelled: bool = False
    """A :class:`~agent.events.RunCancelled` came: the failure that ends the run shows as its
    cancel, whether or not the event names who (a runner that heard of the cancel from
    another process, or from the database, names nobody)."""
    cancelled_by: str | None = None
    """Who cancelled the run, as its :class:`~agent.events.RunCancelled` names them."""
    undelivered: str | None = None
    """Why Slack refused to post the run's answer (or failure message), even after retries."""
    proposed: set[str] = field(default_factory=set)
    """Nodes of the plan being streamed, shown (and maybe started) before it is validated."""
    deciders: set[str] = field(default_factory=set)
    """Who approved or rejected one of its nodes."""
    mentionable: frozenset[str] = frozenset()
    """Users the access policy names (whom its refusals name), besides the run's own people."""

    @property
    def is_active(self) -> bool:
        return not self.phase.is_final

    def elapsed(self, now: float) -> float:
        return max(0.0, (self.finished_at or now) - self.started_at)

    def count(self, state: NodeState) -> int:
        return sum(1 for node in self.nodes.values() if node.state is state)

    def undone(self) -> list[tuple[int, str]]:
        """How many nodes were rejected, failed or were skipped (those that were): a run that
        answered with any of them did not do every step, and its status and plan say so."""
        return [(n, state.value) for state in UNDONE if (n := self.count(state))]

    def refused(self) -> list[NodeView]:
        """Red nodes that did not run because nobody approved them."""
        return [n for n in self.nodes.values() if n.state is NodeState.REJECTED]

    # ----------------------------------------------------------------- events

    def apply(self, event: RunEvent) -> None:
        node = self.nodes.get(getattr(event, "node_id", ""))
        match event:
            case Planning(replan=replan):
                self.phase = Phase.REPLANNING if replan else Phase.PLANNING
                self.replans = replan
            case NodeProposed(node_id=node_id, label=label):
                if not self.proposed:  # the first node of a new plan: the old plan's view goes
                    self.nodes, self.plan_replan = {}, self.replans
                self.proposed.add(node_id)
                self.nodes.setdefault(node_id, NodeView(node_id, label))
            case PlanReady(plan=plan, added=added) if added:  # the plan that ran, and nodes dagbot added
                for n in plan.get("nodes", []):
                    if n["id"] in added:
                        self.nodes[n["id"]] = NodeView(n["id"], node_label(n))
                self.phase = Phase.RUNNING
            case PlanReady(plan=plan, mends=mends):
                self.thought = str(plan.get("thought") or "")
                self.corrections = corrections(mends)
                self.nodes = {n["id"]: self._streamed(n) or NodeView(n["id"], node_label(n))
                              for n in plan.get("nodes", [])}
                self.phase, self.proposed, self.plan_replan = Phase.RUNNING, set(), self.replans
            case NodeStarted() if node:
                node.state, node.started_at = NodeState.RUNNING, event.at
            case NodeFinished(preview=preview) if node:
                node.state, node.finished_at, node.output = NodeState.DONE, event.at, preview
            case NodeFailed(error=error) if node:
                node.state, node.finished_at = NodeState.FAILED, event.at
                node.say(error)
            case NodeRejected(reason=reason) if node:
                node.state, node.finished_at = NodeState.REJECTED, event.at
                # a rejection seen here (who, and why) or an expiry says more than the engine's reason
                if node.decision != "rejected" and not (node.decision is None and node.detail):
                    node.say(reason)
            case NodeSkipped(reason=reason) if node:
                node.state = NodeState.SKIPPED
                node.say(reason)
            case PackageAttempt(attempt=attempt, max_attempts=total, error_gist=gist) if node:
                node.attempt, node.max_attempts = attempt, total
                if gist:
                    node.say(f"attempt {attempt} failed: {gist}")
            case ToolRetrying(error_gist=gist, delay_s=delay) if node and node.is_package:
                # a call made by the package's code: the package's own attempts are not counted here
                node.say(f"a tool call failed: {gist}; trying again in {delay:.1f} s")
            case ToolRetrying(attempt=attempt, max_attempts=total, error_gist=gist, delay_s=delay) if node:
                node.attempt, node.max_attempts = attempt + 1, total
                node.say(f"attempt {attempt} failed: {gist}; trying again in {delay:.1f} s")
            case ResultReused(age_s=age) if node and not node.is_package:  # (a package's reads: not news)
                node.say(f"reused the result of the same call {age:.0f} s ago")
            case AwaitingApproval() if node:
                node.state = NodeState.AWAITING_APPROVAL
                node.say(None)
            case DecisionRecorded() if node:
                self._decided(node, event)
            case Waiting():
                self.phase = Phase.WAITING
            case Replanning(feedback=feedback, replan=replan):
                self.phase, self.note, self.replans = Phase.REPLANNING, feedback, replan
            case AnswerReady(duration_s=duration, nodes_run=nodes_run, tokens=tokens):
                self.phase, self.finished_at = Phase.ANSWERED, event.at
                self.duration_s, self.nodes_run, self.tokens = duration, nodes_run, tokens
            case RunCancelled(by=by):
                self.cancelled, self.cancelled_by = True, by
            case RunFailed(error=error):
                self.phase = Phase.CANCELLED if self.cancelled else Phase.FAILED
                self.finished_at, self.note = event.at, error
        if self.phase is Phase.WAITING and isinstance(event, _MOVING):
            self.phase = Phase.RUNNING  # the parked run was resumed

    def _streamed(self, node: Mapping[str, Any]) -> NodeView | None:
        """The view of a node shown while the plan streamed (it may have run already)."""
        view = self.nodes.get(node["id"])
        if view is None or node["id"] not in self.proposed or view.label != node_label(node):
            return None
        return view

    def _decided(self, node: NodeView, event: DecisionRecorded) -> None:
        if event.decided_by:
            self.deciders.add(event.decided_by)
        if event.status == "approved":
            node.state = NodeState.WAITING
            decision = STANDING_DECISION if event.standing_grant else "approved"
            node.detail, node.decision, node.decided_by = None, decision, event.decided_by
        elif event.status == "rejected":
            node.state = NodeState.REJECTED
            node.detail, node.decision, node.decided_by = event.reason or None, "rejected", event.decided_by
        elif event.status == "expired":
            node.state = NodeState.REJECTED
            node.say("the approval request expired")
        else:
            node.state = NodeState.REJECTED
            node.say("the approval request was withdrawn")

    def people(self) -> frozenset[str]:
        """The users untrusted text about this run may mention (no one else, and no group):
        who asked, who decided on its approvals, and the users the access policy names."""
        return frozenset(p for p in (self.requested_by, *self.deciders) if p) | self.mentionable

    # ---------------------------------------------------------------- restart

    @classmethod
    def from_state(cls, values: Mapping[str, Any], awaiting: set[str]) -> RunProgress:
        """Rebuild the view of a run from the engine's checkpointed state (after a restart).

        ``awaiting`` holds the ids of nodes with a pending approval.
        """
        progress = cls(request=str(values.get("request") or ""),
                       requested_by=values.get("requested_by"),
                       started_at=float(values.get("started_at") or 0.0))
        plan = values.get("plan")
        if not plan:
            return progress
        progress.apply(PlanReady(thread_id="", run_id="", plan=plan))
        for node_id, result in (values.get("results") or {}).items():
            view = progress.nodes.get(node_id)
            if view is None:
                continue
            view.state = NodeState(result.get("status", "waiting"))
            view.detail = result.get("error")
            view.attempt = int(result.get("attempts") or 0)
        for node_id in awaiting:
            if node_id in progress.nodes and not progress.nodes[node_id].state.is_final:
                progress.nodes[node_id].state = NodeState.AWAITING_APPROVAL
        progress.phase = Phase.WAITING if awaiting else Phase.RUNNING
        return progress
