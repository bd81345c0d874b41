"""The scheduler: runs a validated plan as an eager dataflow (design.md §3).

Every node starts the moment its inputs exist, rather than in LangGraph super-steps,
which wait for the slowest node of a wave. Each finished node is saved to the
:class:`~agent.ports.NodeResultStore` at once, so a resumed run skips it.

A ready red node is not dispatched until its approval is decided: the request is a
durable record and the node simply waits as data while every other branch keeps
running. Decisions are read at every scheduling step (woken in-process at once, and
polled for decisions recorded by other processes). When only approvals remain, the
scheduler returns and the graph parks in ``wait``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.audit import SYSTEM, AuditEntry, AuditKind
from agent.context import EngineContext
from agent.errors import ToolError
from agent.events import (
    AwaitingApproval,
    NodeFailed,
    NodeFinished,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    RunEvent,
)
from agent.fan_out import Prefetch, call_tool_node, prefetch
from agent.gateway import GreenToolGateway
from agent.green_calls import call_green
from agent.plan import Plan, PlanNode, node_label
from agent.ports import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    ExecutionStatus,
    NodeResult,
    NodeStatus,
    PackageJob,
)
from agent.readiness import NodeState, is_finished, readiness
from agent.red_calls import audit_outcome, call_approved, describe_error, preview
from agent.references import UnresolvedReference, resolve
from agent.tools.registry import Risk
from agent.validation import call_args, dependencies

UNKNOWN_OUTCOME_NOTE = (
    "The previously approved call was interrupted before it reported back, so its outcome is "
    "unknown. Check whether it took effect before approving it again."
)


@dataclass(frozen=True)
class RunIdentity:
    thread_id: str
    run_id: str
    plan_id: str
    requested_by: str | None
    refused_tools: frozenset[str] = frozenset()
    """Tools the requester may not use (the access policy): package code cannot call them."""


@dataclass
class ExecutionReport:
    results: dict[str, dict[str, Any]]
    pending_approvals: list[str]
    cancelled: bool = False


@dataclass
class _Retry:
    """A red call found another execution already begun: gate the node again."""


def args_digest(tool: str, args: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, "args": args}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class PlanExecutor:
    ctx: EngineContext
    plan: Plan
    ident: RunIdentity
    states: dict[str, NodeState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    records: dict[str, NodeResult] = field(default_factory=dict)
    tasks: dict[asyncio.Task[NodeResult | _Retry], str] = field(default_factory=dict)
    awaiting: dict[str, str] = field(default_factory=dict)
    """Node id → id of the approval it waits for."""
    recheck_approvals: bool = False
    red_running: set[str] = field(default_factory=set)
    """Red nodes whose tool call is in flight."""
    saves: set[asyncio.Task[None]] = field(default_factory=set)
    save_errors: list[BaseException] = field(default_factory=list)
    provisional: bool = False
    """The plan is still being streamed (agent.early_start): only green nodes run, nothing is
    skipped, and the plan grows with :meth:`add`."""
    carried: set[str] = field(default_factory=set)
    """Nodes whose result or running call was taken over from an earlier draft of this plan."""
    prefetched: dict[str, dict[int, Prefetch]] = field(default_factory=dict)
    """Fan-out items started while their node was still being written (node id → item)."""

    def _saved(self, task: asyncio.Task[None]) -> None:
        self.saves.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.save_errors.append(task.exception())  # type: ignore[arg-type]

    async def _flush(self) -> None:
        """Wait until every finished node is durable; fail loudly if one could not be saved."""
        await asyncio.gather(*list(self.saves), return_exceptions=True)
        if self.save_errors:
            raise self.save_errors[0]

    async def run(self) -> ExecutionReport:
        early = self.ctx.early_starts.pop((self.ident.thread_id, self.ident.run_id), None)
        if early is not None:
            await early.settle()
        await self._load()
        if early is not None:
            self._take_over(early)
        wake = self.ctx.wakeups.event(self.ident.thread_id)
        try:
            while True:
                # A wake set while the loop body ran (say during a node's save) stays set and
                # ends the next wait at once; one set before this point is consumed here.
                if wake.is_set():
                    wake.clear()
                    self.recheck_approvals = True
                if self.ident.thread_id in self.ctx.cancelled:
                    await self._cancel()
                    await self._flush()
                    return self._report(cancelled=True)
                if self.recheck_approvals:
                    await self._check_awaiting()
                await self._advance()
                if is_finished(self.plan, self.states) or not self.tasks:
                    await self._flush()
                    return self._report()
                await self._wait_for_change(wake)
        finally:
            for task in self.tasks:
                task.cancel()
            self.drop_prefetched()

    async def _wait_for_change(self, wake: asyncio.Event) -> None:
        waiter = asyncio.create_task(wake.wait())
        timeout = self.ctx.settings.decision_poll_seconds if self.awaiting else None
        try:
            done, _ = await asyncio.wait(
                [*self.tasks, waiter], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        # Approvals are looked at again when woken or at the poll interval, not after every
        # node: a pending approval then costs the green branches nothing.
        self.recheck_approvals = waiter in done or not done
        for task in done:
            if task in self.tasks:
                await self._collect(task)  # type: ignore[arg-type]

    # ------------------------------------------------------------ bookkeeping

    async def _load(self) -> None:
        stored = await self.ctx.results.load(self.ident.thread_id, self.ident.plan_id)
        for node_id, result in stored.items():
            self.records[node_id] = result
            self.states[node_id] = NodeState(result.status.value)
            if result.status is NodeStatus.DONE:
                self.outputs[node_id] = result.output

    async def _emit(self, event_type: type[RunEvent], **fields: Any) -> None:
        await self.ctx.events.publish(
            event_type(thread_id=self.ident.thread_id, run_id=self.ident.run_id, **fields)
        )

    def _save(self, result: NodeResult) -> None:
        # The save runs alongside the children's dispatch rather than before it: a crash in
        # that window only makes this node count as in-flight (re-run if green; a red call
        # is protected by the execution journal). Every save completes before the scheduler
        # returns.
        save = asyncio.create_task(
            self.ctx.results.save(self.ident.thread_id, self.ident.plan_id, result)
        )
        self.saves.add(save)
        save.add_done_callback(self._saved)

    async def _finish(self, result: NodeResult) -> None:
        self._save(result)
        self.records[result.node_id] = result
        self.states[result.node_id] = NodeState(result.status.value)
        self.awaiting.pop(result.node_id, None)
        node_id, error = result.node_id, result.error or ""
        if result.status is NodeStatus.DONE:
            self.outputs[node_id] = result.output
            await self._emit(NodeFinished, node_id=node_id, preview=preview(result.output, 200))
        elif result.status is NodeStatus.FAILED:
            await self._emit(NodeFailed, node_id=node_id, error=error)
        elif result.status is NodeStatus.REJECTED:
            await self._emit(NodeRejected, node_id=node_id, reason=error)
        else:
            await self._emit(NodeSkipped, node_id=node_id, reason=error)

    async def _collect(self, task: asyncio.Task[NodeResult | _Retry]) -> None:
        node_id = self.tasks.pop(task)
        try:
            outcome = task.result()
        except Exception as exc:
            outcome = NodeResult(node_id, NodeStatus.FAILED, error=describe_error(exc))
        if isinstance(outcome, _Retry):
            self.states[node_id] = NodeState.WAITING
            return
        await self._finish(outcome)

    # ------------------------------------------------------------- scheduling

    async def _advance(self) -> None:
        changed = True
        while changed:
            changed = False
            ready = readiness(self.plan, self.states)
            # While the plan streams, a node whose input failed waits for the whole plan: the
            # repair round may still change it.
            for node_id, reason in {} if self.provisional else ready.skip.items():
                await self._finish(NodeResult(node_id, NodeStatus.SKIPPED, error=f"skipped: {reason}"))
                changed = True
            for node_id in ready.ready:
                node = self.plan.node(node_id)
                if node.tool and self.ctx.registry.risk_of(node.tool) is Risk.RED:
                    if self.provisional:  # red nodes wait for the validated plan
                        continue
                    changed |= await self._gate(node)
                else:
                    self._dispatch(node_id, self._run_unapproved(node))

    def _dispatch(self, node_id: str, work: Any) -> None:
        self.states[node_id] = NodeState.RUNNING
        self.tasks[asyncio.create_task(work, name=f"node:{node_id}")] = node_id

    def _resolved_args(self, node: PlanNode) -> dict[str, Any]:
        assert node.tool is not None
        args = resolve(node.args, self.outputs)
        return self.ctx.registry.validate_args(node.tool, args)

    # ------------------------------------------------- streamed plans (early start)

    def add(self, node: PlanNode) -> None:
        """A provisional plan's next node (validated on its own, its dependencies known)."""
        self.plan.nodes.append(node)

    async def run_provisional(self, changed: asyncio.Event, stopping: Callable[[], bool]) -> None:
        """Run the green nodes of the plan as it grows (``changed`` is set at each new node),
        until ``stopping()``; what is still running is left for :meth:`run` to take over."""
        while not stopping() and self.ident.thread_id not in self.ctx.cancelled:
            changed.clear()
            await self._advance()
            await self._wait_for_change(changed)

    async def settle(self) -> None:
        """Before another executor takes this one's work over: its finished nodes are saved."""
        await self._flush()

    def abandon(self) -> None:
        """Nothing will take these calls over: stop them (green calls only: provisional)."""
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()
        self.drop_prefetched()

    def prefetch(self, node_id: str, index: int, tool: str, args: dict[str, Any]) -> None:
        """Start item ``index`` of fan-out ``node_id``, still being written (validated args)."""
        items = self.prefetched.setdefault(node_id, {})
        if index not in items:
            items[index] = prefetch(self.ctx, self.ident.thread_id, self.ident.run_id, node_id, tool, args)

    def drop_prefetched(self, node_id: str | None = None) -> None:
        """Stop the early calls of one node (all nodes when None) that nothing took over."""
        nodes = [node_id] if node_id is not None else list(self.prefetched)
        for dropped in nodes:
            for item in self.prefetched.pop(dropped, {}).values():
                item.task.cancel()

    def carry(self, source: PlanExecutor, node: PlanNode) -> bool:
        """Take ``node``'s work over from ``source``, an executor of an earlier draft of this
        plan, if that draft had the same node with the same inputs: its result if it is done,
        its call if it is running. True when taken over."""
        theirs = source.plan_node(node.id)
        if (node.id in self.states or theirs is None or definition(theirs) != definition(node)
                or not dependencies(node) <= self.carried):
            return False
        if source.states.get(node.id) is NodeState.DONE:
            record = source.records[node.id]
            self.records[node.id], self.outputs[node.id] = record, record.output
            self.states[node.id] = NodeState.DONE
            if source.ident.plan_id != self.ident.plan_id:
                self._save(record)
        else:
            task = next((t for t, running in source.tasks.items() if running == node.id), None)
            if task is None:
                return False
            del source.tasks[task]
            self.tasks[task] = node.id
            self.states[node.id] = NodeState.RUNNING
        self.carried.add(node.id)
        return True

    def _take_over(self, early: PlanExecutor) -> None:
        """Carry over what ``early`` started while the planner streamed; stop the rest."""
        for node_id in [n for n in early.prefetched if n not in self.states]:
            self.prefetched[node_id] = early.prefetched.pop(node_id)
        if early.ident.plan_id == self.ident.plan_id:
            self.carried |= self.states.keys()  # its results are this plan's own, loaded above
        progress = True
        while progress:  # in dependency order, whatever the plan's order
            progress = any([self.carry(early, node) for node in self.plan.nodes])
        early.abandon()

    def plan_node(self, node_id: str) -> PlanNode | None:
        return next((n for n in self.plan.nodes if n.id == node_id), None)

    # -------------------------------------------------------------- approvals

    async def _gate(self, node: PlanNode) -> bool:
        """Decide what a ready red node does now. True when it reached a final state."""
        assert node.tool is not None
        try:
            args = self._resolved_args(node)
        except (UnresolvedReference, ToolError) as exc:
            await self._finish(NodeResult(node.id, NodeStatus.FAILED, error=str(exc)))
            return True
        digest = args_digest(node.tool, args)
        approval = await self.ctx.approvals.latest_for_node(
            self.ident.thread_id, self.ident.plan_id, node.id
        )
        if approval is None or approval.args_digest != digest:
            await self._request(node, args, digest)
            return False
        if approval.is_pending and approval.expires_at <= self.ctx.clock():
            # Overdue but not swept yet: expire it now rather than park on it again.
            expired = await self.ctx.approvals.expire_overdue(self.ctx.clock(), self.ident.thread_id)
            approval = next((a for a in expired if a.id == approval.id), None) or \
                await self.ctx.approvals.get(approval.id) or approval
        if approval.status is ApprovalStatus.PENDING:
            self._await(node.id, approval)
            return False
        if approval.status is not ApprovalStatus.APPROVED:
            await self._finish(NodeResult(node.id, NodeStatus.REJECTED, error=refusal(approval)))
            return True
        execution = await self.ctx.executions.get(approval.id)
        if execution is None:
            self._dispatch(node.id, self._run_approved(node, args, approval))
            return False
        if execution.status is ExecutionStatus.FINISHED:
            await self._finish(NodeResult(node.id, NodeStatus.DONE, output=execution.output))
            return True
        if execution.status is ExecutionStatus.FAILED:
            await self._finish(NodeResult(node.id, NodeStatus.FAILED, error=execution.error))
            return True
        # 'started' with no end: the process stopped mid-call. Never re-run silently.
        await self.ctx.executions.mark_unknown(approval.id)
        if execution.status is ExecutionStatus.STARTED:  # (found so for the first time)
            await audit_outcome(self.ctx, approval, "unknown",
                                "the process stopped during the call; it may or may not have taken effect")
        await self._request(node, args, digest, note=UNKNOWN_OUTCOME_NOTE)
        return False

    def _await(self, node_id: str, approval: Approval) -> None:
        self.states[node_id] = NodeState.AWAITING_APPROVAL
        self.awaiting[node_id] = approval.id

    async def _request(
        self, node: PlanNode, args: dict[str, Any], digest: str, note: str | None = None
    ) -> None:
        assert node.tool is not None
        approval = await self.ctx.approvals.request(ApprovalRequest(
            thread_id=self.ident.thread_id, plan_id=self.ident.plan_id, node_id=node.id,
            tool=node.tool, args=args, args_digest=digest,
            why=node.why or self.plan.thought or "part of the plan",
            requested_by=self.ident.requested_by,
            ttl_seconds=self.ctx.settings.approval_ttl_seconds, note=note, run_id=self.ident.run_id,
        ))
        self._await(node.id, approval)
        await self.ctx.audit.record(AuditEntry(
            thread_id=self.ident.thread_id, run_id=self.ident.run_id, kind=AuditKind.APPROVAL_REQUESTED,
            actor=SYSTEM, detail={"approval_id": approval.id, "node_id": node.id, "tool": node.tool,
                                  "args": self.ctx.registry.masked(node.tool, args),
                                  "requested_by": approval.requested_by, "note": note}))
        await self._emit(
            AwaitingApproval, approval_id=approval.id, node_id=node.id, tool=node.tool, args=args,
            why=approval.why, requested_by=approval.requested_by, expires_at=approval.expires_at,
            note=note,
        )

    async def _check_awaiting(self) -> None:
        if not self.awaiting:
            return
        await self.ctx.approvals.expire_overdue(self.ctx.clock(), self.ident.thread_id)
        for node_id, approval_id in list(self.awaiting.items()):
            approval = await self.ctx.approvals.get(approval_id)
            if approval is None or not approval.is_pending:
                del self.awaiting[node_id]
                self.states[node_id] = NodeState.WAITING  # gate it again with the decision

    # ---------------------------------------------------------------- running

    async def _run_unapproved(self, node: PlanNode) -> NodeResult:
        started = self.ctx.clock()
        await self._emit(NodeStarted, node_id=node.id, label=node_label(node.model_dump(exclude_none=True)))
        if node.package is not None:
            return await self._run_package(node, started)
        assert node.tool is not None
        tool, outputs = node.tool, self.outputs
        calls = [self.ctx.registry.validate_args(tool, resolve(args, outputs)) for args in call_args(node)]
        # items started early are the node's own calls only if nothing had to come first
        early = {} if dependencies(node) else self.prefetched.pop(node.id, {})
        self.drop_prefetched(node.id)
        made = await call_tool_node(self.ctx, self.ident.thread_id, self.ident.run_id, node, calls, early)
        log = [{"attempt": n, "error": e} for n, e in enumerate(made.errors, 1)] or None
        return NodeResult(node.id, NodeStatus.DONE, output=made.output, started_at=started,
                          finished_at=self.ctx.clock(), attempts=made.attempts, attempt_log=log)

    async def _run_approved(
        self, node: PlanNode, args: dict[str, Any], approval: Approval
    ) -> NodeResult | _Retry:
        self.red_running.add(node.id)
        try:
            result = await call_approved(self.ctx, approval, approval.approved_args, self.ctx.events.publish)
        finally:
            self.red_running.discard(node.id)
        return _Retry() if result is None else result

    async def _run_package(self, node: PlanNode, started: float) -> NodeResult:
        assert node.package is not None
        if self.ctx.packages is None:
            return NodeResult(node.id, NodeStatus.FAILED, error=(
                "package nodes need a sandbox, and none is available: install Docker or "
                "bubblewrap (see README, 'Sandbox') and set SANDBOX_BACKEND"))
        job = PackageJob(
            thread_id=self.ident.thread_id, run_id=self.ident.run_id, node_id=node.id,
            goal=node.package.goal, code=node.package.code,
            inputs={dep: self.outputs[dep] for dep in sorted(dependencies(node))},
        )
        async def call(tool: str, args: dict[str, Any]) -> Any:  # retries and reuse, as a tool node
            done = await call_green(self.ctx, self.ident.thread_id, self.ident.run_id, node.id, tool, args)
            return done.output

        gateway = GreenToolGateway(
            self.ctx.registry.without(self.ident.refused_tools),
            self.ctx.settings.sandbox_limits.tool_timeout_seconds, call,
        )
        outcome = await self.ctx.packages.run(job, gateway, self.ctx.events.publish)
        status = NodeStatus.DONE if outcome.ok else NodeStatus.FAILED
        log = [{"attempt": a.attempt, "code": a.code, "error": a.error} for a in outcome.attempts]
        return NodeResult(node.id, status, output=outcome.output, error=outcome.error,
                          started_at=started, finished_at=self.ctx.clock(),
                          attempts=max(1, len(outcome.attempts)), attempt_log=log or None)

    # -------------------------------------------------------------- reporting

    async def _cancel(self) -> None:
        in_flight_red = set(self.red_running)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)  # journals record 'unknown'
        self.tasks.clear()
        for node in self.plan.nodes:
            if not self.states.get(node.id, NodeState.WAITING).is_final:
                error = ("run cancelled while the call was in flight: its outcome is unknown"
                         if node.id in in_flight_red else "run cancelled")
                await self._finish(NodeResult(node.id, NodeStatus.SKIPPED, error=error))

    def _report(self, cancelled: bool = False) -> ExecutionReport:
        settings = self.ctx.settings
        results: dict[str, dict[str, Any]] = {}
        for node_id, record in self.records.items():
            compact: dict[str, Any] = {"status": record.status.value, "attempts": record.attempts}
            if record.error:
                compact["error"] = record.error
            if record.attempt_log:  # what each package attempt ran and how it failed
                compact["attempt_log"] = record.attempt_log
            if record.status is NodeStatus.DONE:
                size = len(json.dumps(record.output, ensure_ascii=False, default=str))
                if size <= settings.inline_output_bytes:
                    compact["output"] = record.output
                else:  # the full output stays in the result store
                    compact["preview"] = preview(record.output, settings.preview_chars)
                    compact["bytes"] = size
            results[node_id] = compact
        return ExecutionReport(
            results=results, pending_approvals=sorted(self.awaiting.values()),
            cancelled=cancelled,
        )


def definition(node: PlanNode) -> str:
    """What a node does, canonically: equal definitions with equal inputs give equal results."""
    return json.dumps({"tool": node.tool, "args": node.args, "each": node.each,
                       "package": node.package.model_dump() if node.package else None,
                       "inputs": sorted(dependencies(node))}, sort_keys=True, ensure_ascii=False)


def refusal(approval: Approval) -> str:
    if approval.status is ApprovalStatus.REJECTED:
        who = f" by {approval.decided_by}" if approval.decided_by else ""
        return f"rejected{who}" + (f": {approval.reason}" if approval.reason else "")
    if approval.status is ApprovalStatus.EXPIRED:
        return "the approval request expired before anyone decided"
    return "the approval request was withdrawn" + (f": {approval.reason}" if approval.reason else "")
