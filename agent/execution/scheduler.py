"""The scheduler: runs a validated plan as an eager dataflow (docs/approvals.md).

Every node starts the moment its inputs exist, rather than in LangGraph super-steps,
which wait for the slowest node of a wave. Each finished node is saved to the
:class:`~agent.ports.stores.NodeResultStore` at once, so a resumed run skips it.

A ready red node is not dispatched until its approval is decided (:mod:`agent.execution.approval_gate`
says what it does now): the request is a durable record and the node simply waits as data
while every other branch keeps running. Decisions are read at every scheduling step (woken
in-process at once, and polled for decisions recorded by other processes). When only
approvals remain, the scheduler returns and the graph parks in ``wait``.

While the planner still streams the plan, a provisional executor runs its green nodes
(:mod:`agent.execution.early_start`); the scheduler of the validated plan takes that work over.
Package nodes run in the sandbox (:mod:`agent.execution.package_nodes`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.errors import ToolArgumentError, ToolError
from agent.events import (
    NodeFailed,
    NodeFinished,
    NodeRejected,
    NodeSkipped,
    NodeStarted,
    RunCancelled,
    RunEvent,
)
from agent.execution.approval_gate import ApprovalGate, Cleared, Waiting, args_digest, refusal
from agent.execution.context import EngineContext
from agent.execution.fan_out import Prefetch, call_tool_node, prefetch
from agent.execution.named_recipients import unknown_recipients, with_named_recipients
from agent.execution.package_nodes import run_package
from agent.execution.red_calls import call_approved, describe_error, preview
from agent.execution.redaction import scrub_error
from agent.execution.report import ExecutionReport, untrusted_sources
from agent.execution.storable import storable_result
from agent.plan.edges import call_args, dependencies, upstream
from agent.plan.format import Plan, PlanNode, node_label
from agent.plan.readiness import NodeState, is_finished, readiness
from agent.plan.references import (
    UnresolvedReference,
    is_whole_reference,
    resolve,
    text_form,
    valueless_references,
)
from agent.ports.sandbox import PlanAwarePackages
from agent.ports.stores import Approval, NodeResult, NodeStatus
from agent.run_identity import RunIdentity
from agent.tools.registry import Risk

__all__ = ["ExecutionReport", "PlanExecutor", "RunIdentity", "args_digest", "definition", "refusal"]
"""Also from here: the run's identity (:mod:`agent.run_identity`), the report
(:mod:`agent.execution.report`), and the approval gate's argument digest and refusal text
(:mod:`agent.execution.approval_gate`)."""


@dataclass
class _Retry:
    """A red call found another execution already begun: gate the node again."""


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
    unsaved: list[NodeResult] = field(default_factory=list)
    """Finished nodes' results not handed to the store yet."""
    saving: asyncio.Task[None] | None = None
    """The one save in flight: it takes every result finished meanwhile in its next call."""
    save_errors: list[BaseException] = field(default_factory=list)
    provisional: bool = False
    """The plan is still being streamed (agent.execution.early_start): only green nodes run, nothing is
    skipped, and the plan grows with :meth:`add`."""
    carried: set[str] = field(default_factory=set)
    """Nodes whose result or running call was taken over from an earlier draft of this plan."""
    prefetched: dict[str, dict[int, Prefetch]] = field(default_factory=dict)
    """Fan-out items started while their node was still being written (node id → item)."""
    waits_for_plan: dict[str, bool] = field(default_factory=dict)
    """Ready packages asked whether they wait for the whole plan (their inputs are final): the
    runner reads their inputs once, not at every step while the plan streams."""
    gate: ApprovalGate = field(init=False)
    """What each ready red node does now, from its approval and the execution journal."""

    def __post_init__(self) -> None:
        self.gate = ApprovalGate(self.ctx, self.plan, self.ident)

    async def _save_unsaved(self) -> None:
        while self.unsaved:
            batch, self.unsaved = self.unsaved, []
            try:
                await self.ctx.results.save(self.ident.thread_id, self.ident.plan_id, *batch)
            except Exception as exc:
                self.save_errors.append(exc)

    async def _flush(self) -> None:
        """Wait until every finished node is durable; fail loudly if one could not be saved."""
        while self.saving is not None and not self.saving.done():
            await asyncio.shield(self.saving)
        if self.save_errors:
            raise self.save_errors[0]

    async def run(self) -> ExecutionReport:
        early = self.ctx.state.early_starts.pop((self.ident.thread_id, self.ident.run_id), None)
        if early is not None:
            await early.settle()
        await self._load()
        if isinstance(early, PlanExecutor):  # the only kind of provisional run there is
            self._take_over(early)
        wake = self.ctx.state.wakeups.event(self.ident.thread_id)
        try:
            while True:
                # A wake set while the loop body ran (say during a node's save) stays set and
                # ends the next wait at once; one set before this point is consumed here.
                if wake.is_set():
                    wake.clear()
                    self.recheck_approvals = True
                if self.ident.thread_id in self.ctx.state.cancelled:
                    await self._emit(RunCancelled, by=self.ctx.state.cancelled[self.ident.thread_id])
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
        planned = {node.id for node in self.plan.nodes}
        for node_id, result in stored.items():
            if node_id not in planned:  # started early from a draft's node the plan left out
                continue
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
        # returns. Results finished while a save is in flight go together in the next one
        # (nodes finishing together cost one transaction, not one each).
        self.unsaved.append(result)
        if self.saving is None or self.saving.done():
            self.saving = asyncio.create_task(self._save_unsaved(), name="node-results")

    async def _finish(self, result: NodeResult) -> None:
        result = storable_result(result)  # what the result store and the checkpoint accept
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
                elif self.provisional and self._needs_whole_plan(node):
                    continue
                else:
                    self._dispatch(node_id, self._run_unapproved(node))

    def _needs_whole_plan(self, node: PlanNode) -> bool:
        """A package whose runner's work over its inputs depends on the whole plan (a table
        answered by a query for the request, unless another package goes on from it)."""
        packages = self.ctx.packages
        if node.package is None or not isinstance(packages, PlanAwarePackages):
            return False
        if node.id not in self.waits_for_plan:
            inputs = {dep: self.outputs[dep] for dep in dependencies(node)}
            self.waits_for_plan[node.id] = packages.needs_whole_plan(inputs)
        return self.waits_for_plan[node.id]

    def _dispatch(self, node_id: str, work: Any) -> None:
        self.states[node_id] = NodeState.RUNNING
        self.tasks[asyncio.create_task(work, name=f"node:{node_id}")] = node_id

    def _resolved_args(self, node: PlanNode) -> dict[str, Any]:
        assert node.tool is not None
        args = resolve(node.args, self.outputs)
        for name in self.ctx.registry.text_args(node.tool) & set(args):
            if not isinstance(args[name], str) and is_whole_reference(node.args[name]):
                args[name] = text_form(args[name])  # "${count}" in a text argument: 7 as "7"
        if addressed := self.ctx.registry.address_args(node.tool):  # "to": "the facilitator"
            args = with_named_recipients(args, addressed, (
                self.outputs.get(step) for step in sorted(upstream(self.plan.nodes, node.id))))
            if unknown := unknown_recipients(args, addressed):
                raise ToolArgumentError(f"no result gives an address for {', '.join(map(repr, unknown))}: "
                                        "nothing was sent, and no approval asked")
        return self.ctx.registry.validate_args(node.tool, args)

    # ------------------------------------------------- streamed plans (early start)

    def add(self, node: PlanNode) -> None:
        """A provisional plan's next node (validated on its own, its dependencies known)."""
        self.plan.nodes.append(node)

    async def run_provisional(self, changed: asyncio.Event, stopping: Callable[[], bool],
                              progressed: Callable[[], None] = lambda: None) -> None:
        """Run the green nodes of the plan as it grows (``changed`` is set at each new node),
        until ``stopping()``; what is still running is left for :meth:`run` to take over.
        ``progressed`` is called each time nodes have started or finished."""
        while not stopping() and self.ident.thread_id not in self.ctx.state.cancelled:
            changed.clear()
            await self._advance()
            progressed()
            await self._wait_for_change(changed)

    async def settle(self) -> None:
        """Before another executor takes this one's work over: its finished nodes are saved."""
        await self._flush()

    def finished(self) -> dict[str, dict[str, Any]]:
        """The nodes done so far, each as the thread's state keeps a result (compact)."""
        done = {node_id: record for node_id, record in self.records.items()
                if record.status is NodeStatus.DONE}
        return ExecutionReport.of(done, (), self.ctx.settings,
                                  untrusted=untrusted_sources(self.plan, self.ctx.registry)).results

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

    def prefetch_call(self, node_id: str, tool: str, args: dict[str, Any]) -> Prefetch | None:
        """Start a call that package ``node_id``, still being written, will make (validated
        args), unless it was started already; the call started."""
        calls = self.prefetched.setdefault(node_id, {})
        if any(p.tool == tool and p.args == args for p in calls.values()):
            return None
        ident = self.ident
        calls[len(calls)] = prefetch(self.ctx, ident.thread_id, ident.run_id, node_id, tool, args,
                                     frozenset(self.outputs))
        return calls[len(calls) - 1]

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
            # its results are this plan's own, loaded above, but for a node the validated plan
            # changed (a mend) and every node computed from one (tuning deploy-counts: a mend
            # dropped a count's filter, and a package's result from the filtered count stayed)
            nodes = self.plan.nodes
            changed = {node.id for node in nodes if (theirs := early.plan_node(node.id)) is not None
                       and definition(theirs) != definition(node)}
            stale = changed | {node.id for node in nodes if upstream(nodes, node.id) & changed}
            for node_id in stale & self.states.keys():
                del self.states[node_id]
                self.records.pop(node_id, None)
                self.outputs.pop(node_id, None)
            self.carried |= self.states.keys()
        progress = True
        while progress:  # in dependency order, whatever the plan's order
            progress = any([self.carry(early, node) for node in self.plan.nodes])
        early.abandon()

    def plan_node(self, node_id: str) -> PlanNode | None:
        return next((n for n in self.plan.nodes if n.id == node_id), None)

    # -------------------------------------------------------------- approvals

    async def _gate(self, node: PlanNode) -> bool:
        """Decide what a ready red node does now. True when it reached a final state. A change
        fed a value that is none (a package that set no ``result``: wide 5xx-to-file wrote
        ``null`` to the report) fails without asking anyone: there is nothing to change with."""
        if valueless := valueless_references(node.args, self.outputs):
            # (named by its step, not as ``${…}``: the error reaches the person's reply as it is)
            steps = ", ".join(f"`{node_id}`" for node_id in valueless)
            error = (f"{steps} computed nothing, so there is nothing to change with; not run, and no "
                     "approval asked")
            await self._finish(NodeResult(node.id, NodeStatus.FAILED, error=error))
            return True
        try:
            args = self._resolved_args(node)
        except (UnresolvedReference, ToolError) as exc:
            error = scrub_error(self.ctx, str(exc), node.tool, [node.args])
            await self._finish(NodeResult(node.id, NodeStatus.FAILED, error=error))
            return True
        verdict = await self.gate.verdict(node, args)
        if isinstance(verdict, Waiting):
            self.states[node.id] = NodeState.AWAITING_APPROVAL
            self.awaiting[node.id] = verdict.approval.id
            return False
        if isinstance(verdict, Cleared):
            self._dispatch(node.id, self._run_approved(node, args, verdict.approval))
            return False
        await self._finish(verdict)
        return True

    async def _check_awaiting(self) -> None:
        for node_id in await self.gate.decided(self.awaiting):
            del self.awaiting[node_id]
            self.states[node_id] = NodeState.WAITING  # gate it again with the decision

    # ---------------------------------------------------------------- running

    async def _run_unapproved(self, node: PlanNode) -> NodeResult:
        started = self.ctx.clock()
        await self._emit(NodeStarted, node_id=node.id, label=node_label(node.model_dump(exclude_none=True)))
        if node.package is not None:
            # calls started early are its own only if everything it depends on was done then
            started_early = self.prefetched.pop(node.id, {})
            early = {index: call for index, call in started_early.items()
                     if dependencies(node) <= call.after}
            for stale in started_early.keys() - early.keys():
                started_early[stale].task.cancel()
            final = not any(n.package is not None and node.id in dependencies(n) for n in self.plan.nodes)
            return await run_package(self.ctx, self.ident, node, self.outputs, started, early, final)
        assert node.tool is not None
        tool, outputs = node.tool, self.outputs
        written, calls = call_args(node), list[dict[str, Any]]()
        try:
            calls = [self.ctx.registry.validate_args(tool, resolve(args, outputs)) for args in written]
            # items started early are the node's own calls only if nothing had to come first
            early = {} if dependencies(node) else self.prefetched.pop(node.id, {})
            self.drop_prefetched(node.id)
            made = await call_tool_node(self.ctx, self.ident.thread_id, self.ident.run_id, node, calls, early)
        except Exception as exc:  # its text may quote the calls' secret arguments
            error = scrub_error(self.ctx, describe_error(exc), tool, [*written, *calls])
            return NodeResult(node.id, NodeStatus.FAILED, error=error)
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

    # ------------------------------------------------------- cancelling, reporting

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
        return ExecutionReport.of(self.records, self.awaiting.values(), self.ctx.settings, cancelled,
                                  untrusted_sources(self.plan, self.ctx.registry))


def definition(node: PlanNode) -> str:
    """What a node does, canonically: equal definitions with equal inputs give equal results."""
    return json.dumps({"tool": node.tool, "args": node.args, "each": node.each,
                       "package": node.package.model_dump() if node.package else None,
                       "inputs": sorted(dependencies(node))}, sort_keys=True, ensure_ascii=False)

