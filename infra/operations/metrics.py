"""Prometheus metrics and readiness checks of one replica (``GET /metrics``, ``GET /healthz``).

Most figures come from the engine's run events (:meth:`Metrics.observe`, fed by
:meth:`Metrics.watching`); the rest from small seams: every Slack Web API response
(:meth:`Metrics.slack_call`, a retry handler of the bot's client), every sandbox run
(:meth:`Metrics.sandbox` wraps the backend), every LLM call (a LangChain callback handler,
:meth:`Metrics.instrument_llm`). Runs active, parked and queued and approvals pending are
and votes on answers are counted in the database when scraped: they are the same on every
replica.

Each :class:`Metrics` has its own registry (tests stay isolated) and labels everything with
its ``replica``. It implements :class:`bot.ops.Operations` and :class:`bot.ops.SlackCallObserver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import structlog
from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatGeneration, LLMResult
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import distinct, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agent.events import (
    AnswerReady,
    AwaitingApproval,
    DecisionRecorded,
    EventBus,
    LeaseTakenOver,
    NodeFailed,
    NodeFinished,
    NodeStarted,
    PackageAttempt,
    Planning,
    PlanReady,
    RunEvent,
    RunFailed,
)
from agent.ports.sandbox import Sandbox, SandboxLimits, SandboxResult, ToolGateway
from infra.storage.db import ApprovalRow, QueuedRequestRow, SlackAnswerFeedbackRow, ThreadLeaseRow, utc
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.reflexion import NOT_FIXABLE_BY_CODE

if TYPE_CHECKING:
    from infra.tools.mcp.servers import McpServers

log = structlog.get_logger(__name__)

NODE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
MAX_NODES_IN_FLIGHT = 10_000
"""Nodes remembered between their start and end; the oldest go first beyond it."""
DATABASE_UNREACHABLE = "database unreachable"
"""What ``GET /healthz`` says of a database it cannot reach (the details are logged)."""
DECISION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)


def default_replica() -> str:
    """``hostname-pid``: tells apart replicas on one host and restarts of one replica."""
    return f"{socket.gethostname()}-{os.getpid()}"


def tool_of(label: str) -> str:
    """The tool a node runs, from its NodeStarted label (``package: <goal>`` for packages)."""
    return "package" if label.startswith("package:") else label


class Metrics:
    def __init__(self, replica: str | None = None, *, clock: Any = time.time) -> None:
        self.replica = replica or default_replica()
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r, replica_label = self.registry, ("replica",)

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, (*replica_label, *labels), registry=r)

        self.runs_started = counter("dagbot_runs_started", "Runs started (a new request or follow-up).")
        self.runs_finished = counter("dagbot_runs_finished", "Runs ended, by outcome (answered, failed).",
                                     "outcome")
        self.runs = Gauge("dagbot_runs", "Runs by state (active: a runner holds the thread; parked: waiting "
                          "for approvals, no runner; queued: requests waiting for their thread), from the "
                          "database.", (*replica_label, "state"), registry=r)
        self.approvals_pending = Gauge("dagbot_approvals_pending", "Approvals waiting for a decision, "
                                       "from the database.", replica_label, registry=r)
        self.approvals_requested = counter("dagbot_approvals_requested", "Approvals asked for.")
        self.plan_mends = counter("dagbot_plan_mends", "Mends that corrected a model's plan, by name "
                                  "(docs/plan-format.md, \"What dagbot corrects\").", "mend")
        self.package_mends = counter("dagbot_package_mends", "Failed package attempts mended in place, "
                                     "with no model call, by the runtime mend's name (docs/sandbox.md).",
                                     "mend")
        self.answer_feedback = Gauge("dagbot_answer_feedback", "Votes on answers by vote (up, down): one "
                                     "per person and answer, the latest; from the database.",
                                     (*replica_label, "vote"), registry=r)
        self.decision_latency = Histogram(
            "dagbot_approval_decision_seconds", "From an approval's request to its decision, by status "
            "(approved, rejected, expired, withdrawn).", (*replica_label, "status"),
            buckets=DECISION_BUCKETS, registry=r)
        self.node_duration = Histogram(
            "dagbot_node_duration_seconds", "Node run time by tool (package: a package node) and "
            "outcome (ok, failed).", (*replica_label, "tool", "outcome"), buckets=NODE_BUCKETS, registry=r)
        self.llm_calls = counter("dagbot_llm_calls", "LLM calls (planner, joiner, reflexion).")
        self.llm_errors = counter("dagbot_llm_errors", "LLM calls that failed.")
        self.llm_tokens = counter("dagbot_llm_tokens", "LLM tokens, by kind (input, output).", "kind")
        self.sandbox_starts = counter("dagbot_sandbox_starts", "Package sandbox runs started, by backend.",
                                      "backend")
        self.sandbox_failures = counter(
            "dagbot_sandbox_failures", "Package sandbox runs that failed, by backend and kind (code: the "
            "package code raised or timed out; sandbox: the sandbox itself failed).", "backend", "kind")
        self.slack_calls = counter("dagbot_slack_api_calls", "Slack Web API calls (each HTTP attempt, "
                                   "retries included), by method.", "method")
        self.slack_errors = counter("dagbot_slack_api_errors", "Slack Web API calls that failed, by method "
                                    "and error code (ratelimited for HTTP 429).", "method", "error")
        self.slack_ratelimited = counter("dagbot_slack_api_ratelimited", "Slack Web API calls answered "
                                         "with HTTP 429, by method.", "method")
        self.lease_takeovers = counter("dagbot_lease_takeovers", "Threads this replica took over mid-run "
                                       "after their runner's lease lapsed.")
        self.scrape_errors = counter("dagbot_metrics_database_errors", "Scrapes that could not count "
                                     "runs and approvals in the database.")
        self.mcp_servers_up = Gauge("dagbot_mcp_server_up", "1 while an MCP server (DAGBOT_MCP_CONFIG) "
                                    "is connected and its tools listed, else 0.", (*replica_label, "server"),
                                    registry=r)
        self._started: dict[tuple[str, str], tuple[str, float]] = {}
        self._db: AsyncEngine | None = None
        self._sandbox: Sandbox | None = None
        self._mcp: McpServers | None = None

    # ---------------------------------------------------------------- wiring

    def use_database(self, engine: AsyncEngine) -> None:
        """Count runs and approvals in this database when scraped; check it for readiness."""
        self._db = engine

    def instrument_llm(self, llm: BaseChatModel) -> None:
        """Count the model's calls and tokens (a callback handler added to the model)."""
        handler = LlmMeter(self)
        callbacks = llm.callbacks
        if isinstance(callbacks, BaseCallbackManager):
            callbacks.add_handler(handler, inherit=False)
        else:
            llm.callbacks = [*(callbacks or []), handler]

    def use_mcp_servers(self, servers: McpServers) -> None:
        """Say whether each MCP server is up, in ``/metrics`` and in ``/healthz`` (degraded: one
        server down leaves its tools out, and the replica still serves)."""
        self._mcp = servers

    def sandbox(self, sandbox: Sandbox) -> Sandbox:
        """The backend, counting its runs; readiness checks that it can run."""
        self._sandbox = sandbox
        return MeteredSandbox(sandbox, self)

    @contextlib.asynccontextmanager
    async def watching(self, events: EventBus) -> AsyncIterator[None]:
        """Feed the metrics from the run events published while inside."""
        queue = events.open()
        task = asyncio.create_task(self._consume(queue), name="metrics")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            events.close(queue)

    async def _consume(self, queue: asyncio.Queue[RunEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                self.observe(event)
            except Exception:
                log.exception("could not count a run event", event_type=type(event).__name__)

    # ---------------------------------------------------------------- feeds

    def observe(self, event: RunEvent) -> None:
        replica = self.replica
        match event:
            case Planning(replan=0):
                self.runs_started.labels(replica).inc()
            case NodeStarted(node_id=node_id, label=label):
                if len(self._started) >= MAX_NODES_IN_FLIGHT:  # runs that ended on another replica
                    del self._started[next(iter(self._started))]
                self._started[event.run_id, node_id] = (tool_of(label), event.at)
            case NodeFinished(node_id=node_id) | NodeFailed(node_id=node_id):
                started = self._started.pop((event.run_id, node_id), None)
                if started is not None:
                    tool, at = started
                    outcome = "ok" if isinstance(event, NodeFinished) else "failed"
                    self.node_duration.labels(replica, tool, outcome).observe(max(0.0, event.at - at))
            case PlanReady(mends=mends):
                for mend in mends:
                    self.plan_mends.labels(replica, mend).inc()
            case PackageAttempt(mended_by=str(mend), error_gist=None):  # (counted as it starts)
                self.package_mends.labels(replica, mend).inc()
            case AwaitingApproval():
                self.approvals_requested.labels(replica).inc()
            case DecisionRecorded(status=status, requested_at=requested_at) if requested_at is not None:
                self.decision_latency.labels(replica, status).observe(max(0.0, event.at - requested_at))
            case LeaseTakenOver():
                self.lease_takeovers.labels(replica).inc()
            case AnswerReady() | RunFailed():
                outcome = "answered" if isinstance(event, AnswerReady) else "failed"
                self.runs_finished.labels(replica, outcome).inc()
                for key in [k for k in self._started if k[0] == event.run_id]:
                    del self._started[key]

    def slack_call(self, method: str, *, status: int | None, error: str | None) -> None:
        self.slack_calls.labels(self.replica, method).inc()
        if error is not None:
            self.slack_errors.labels(self.replica, method, error).inc()
        if status == 429:
            self.slack_ratelimited.labels(self.replica, method).inc()

    # -------------------------------------------------------- Operations

    async def metrics(self) -> tuple[bytes, str]:
        await self._count_in_database()
        for status in self._mcp.statuses() if self._mcp is not None else []:
            self.mcp_servers_up.labels(self.replica, status.name).set(status.state == "connected")
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    async def degraded(self) -> dict[str, str]:
        statuses = self._mcp.statuses() if self._mcp is not None else []
        return {f"mcp:{s.name}": f"{s.state}" + (f": {s.problem}" if s.problem else "")
                for s in statuses if s.state != "connected"}

    async def checks(self) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        if self._db is not None:
            found["database"] = await self._database_problem()
        if self._sandbox is not None:
            sandbox = self._sandbox
            found["sandbox"] = sandbox.message if isinstance(sandbox, UnavailableSandbox) else None
        return found

    async def _database_problem(self) -> str | None:
        assert self._db is not None
        try:
            async with self._db.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # the details (host, user…) go to the log, not to whoever asks
            log.warning("the health check cannot reach the database", error=f"{type(exc).__name__}: {exc}")
            return DATABASE_UNREACHABLE
        return None

    async def _count_in_database(self) -> None:
        if self._db is None:
            return
        now = utc(self.clock())
        leased = select(ThreadLeaseRow.thread_id).where(ThreadLeaseRow.holder.is_not(None),
                                                        ThreadLeaseRow.expires_at >= now)
        pending = ApprovalRow.status == "pending"
        try:
            async with async_sessionmaker(self._db)() as s:
                active = await s.scalar(select(func.count()).select_from(leased.subquery()))
                parked = await s.scalar(select(func.count(distinct(ApprovalRow.thread_id)))
                                        .where(pending, ApprovalRow.thread_id.not_in(leased)))
                queued = await s.scalar(select(func.count()).select_from(QueuedRequestRow)
                                        .where(QueuedRequestRow.started_at.is_(None)))
                approvals = await s.scalar(select(func.count()).select_from(ApprovalRow).where(pending))
                votes = dict((await s.execute(select(SlackAnswerFeedbackRow.vote, func.count())
                                              .group_by(SlackAnswerFeedbackRow.vote))).tuples().all())
        except Exception:
            log.warning("could not count runs and approvals for the metrics", exc_info=True)
            self.scrape_errors.labels(self.replica).inc()
            return
        for state, count in (("active", active), ("parked", parked), ("queued", queued)):
            self.runs.labels(self.replica, state).set(count or 0)
        self.approvals_pending.labels(self.replica).set(approvals or 0)
        for vote in ("up", "down"):
            self.answer_feedback.labels(self.replica, vote).set(votes.get(vote, 0))


class LlmMeter(BaseCallbackHandler):
    """Counts LLM calls, failures and tokens (from the replies' usage metadata)."""

    run_inline = True

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], **kw: Any) -> None:
        self.metrics.llm_calls.labels(self.metrics.replica).inc()

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kw: Any) -> None:
        self.metrics.llm_calls.labels(self.metrics.replica).inc()

    def on_llm_error(self, error: BaseException, **kw: Any) -> None:
        self.metrics.llm_errors.labels(self.metrics.replica).inc()

    def on_llm_end(self, response: LLMResult, **kw: Any) -> None:
        used = {"input": 0, "output": 0}
        for generations in response.generations:
            for generation in generations:
                usage = getattr(generation.message, "usage_metadata", None) \
                    if isinstance(generation, ChatGeneration) else None
                if usage:
                    used["input"] += int(usage.get("input_tokens", 0))
                    used["output"] += int(usage.get("output_tokens", 0))
        if not any(used.values()):  # models that report usage only in llm_output
            usage = (response.llm_output or {}).get("token_usage") or {}
            used = {"input": int(usage.get("prompt_tokens", 0) or 0),
                    "output": int(usage.get("completion_tokens", 0) or 0)}
        for kind, count in used.items():
            if count:
                self.metrics.llm_tokens.labels(self.metrics.replica, kind).inc(count)


class MeteredSandbox:
    """A sandbox backend whose runs are counted (starts, and failures by kind)."""

    def __init__(self, inner: Sandbox, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self.metrics = metrics

    async def run(self, code: str, inputs: dict[str, Any], tools: ToolGateway,
                  limits: SandboxLimits) -> SandboxResult:
        replica = self.metrics.replica
        self.metrics.sandbox_starts.labels(replica, self.name).inc()
        try:
            result = await self.inner.run(code, inputs, tools, limits)
        except Exception:
            self.metrics.sandbox_failures.labels(replica, self.name, "sandbox").inc()
            raise
        if not result.ok:
            kind = "sandbox" if result.error_type in NOT_FIXABLE_BY_CODE else "code"
            self.metrics.sandbox_failures.labels(replica, self.name, kind).inc()
        return result
