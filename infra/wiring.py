"""Wires settings, database, checkpointer, tools, LLM, sandbox and engine together."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agent.engine.engine import Engine
from agent.engine.graph import build_graph
from agent.errors import ConfigurationError
from agent.events import EventBus
from agent.execution.context import EngineContext, EngineSettings, PlanOutput
from agent.execution.redaction import Redactor
from agent.model.output_probe import probe_plan_output
from agent.ports.ownership import ThreadLease, ThreadSignals
from agent.ports.sandbox import PackageRunner
from agent.tools.registry import RetryPolicy, ToolRegistry
from infra.operations.metrics import Metrics, default_replica
from infra.settings import Settings, url_credentials
from infra.storage.checkpoint import open_checkpointer
from infra.storage.db import create_engine, is_sqlite
from infra.storage.engine_store import SqlStore
from infra.storage.journal_store import ExecutionJournalView
from infra.storage.migrate import prepare_schema
from infra.storage.notify import PostgresSignals
from infra.storage.ownership import AdvisoryLeases
from infra.storage.standing_store import SqlStandingApprovals
from infra.tools.toolbox import build_registry

if TYPE_CHECKING:
    from infra.tools.mcp.servers import McpServers

log = structlog.get_logger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    events: EventBus
    store: SqlStore
    registry: ToolRegistry
    mcp: McpServers | None = None
    """The MCP servers (DAGBOT_MCP_CONFIG) whose tools are in ``registry``, when it has any."""

    def awaited_tool(self, name: str) -> bool:
        """``name`` is not registered, but may be a tool of an MCP server that is not up (yet):
        a policy naming it is not refused (one server down must not stop dagbot), and its
        rules apply once the server lists its tools."""
        server = self.mcp.awaited_server(name) if self.mcp is not None else None
        if server is not None:
            log.warning("the policy names a tool of an MCP server that is not up: its rules apply "
                        "once the server is", tool=name, server=server)
        return server is not None


def build_llm(settings: Settings) -> BaseChatModel:
    """The planner/joiner/reflexion model: any OpenAI-compatible endpoint.

    Without OPENAI_API_KEY, a custom OPENAI_BASE_URL (a local server) gets a placeholder key;
    OpenAI itself would refuse every call, so that is a configuration error up front. The local
    model (DAGBOT_LOCAL_MODEL) is such a server, once :func:`infra.local_model.use.open_local_model`
    has started it and pointed the settings at it; on a CPU it gets longer to answer.
    """
    from infra.local_model.use import uses_local_model
    from infra.openai_client import ChatOpenAIWithRole

    if uses_local_model(settings):
        raise ConfigurationError("DAGBOT_LOCAL_MODEL is set but its server was not started "
                                 "(infra.local_model.use.open_local_model starts it)")
    key = settings.openai_api_key.get_secret_value()
    if not key and not settings.openai_base_url:
        raise ConfigurationError(
            "OPENAI_API_KEY is not set: set it (and OPENAI_BASE_URL for an OpenAI-compatible "
            "server other than OpenAI's), in the environment or in .env"
        )
    # a CPU may read a long prompt for minutes before the first piece of a streamed reply
    waits: dict[str, Any] = {"timeout": MODEL_TIMEOUT_SECONDS}
    if settings.local_model:
        waits = {"timeout": LOCAL_MODEL_TIMEOUT_SECONDS, "stream_chunk_timeout": LOCAL_MODEL_TIMEOUT_SECONDS}
    return ChatOpenAIWithRole(
        model=settings.model, base_url=settings.openai_base_url,
        api_key=SecretStr(key or PLACEHOLDER_KEY), temperature=0, max_retries=2, **waits,
        **self_hosted_sampling(settings),
    )


SEED = 42
"""The seed a server dagbot did not start is asked to sample with, as the local model's is."""


def self_hosted_sampling(settings: Settings) -> dict[str, Any]:
    """For a server at OPENAI_BASE_URL, what dagbot's own local model server is started with:
    replies capped at DAGBOT_REPLY_TOKENS (``max_completion_tokens``: a small model can repeat
    itself until its context is full, minutes on a CPU) and a fixed seed. OpenAI's own models
    get neither (a reasoning model's thinking counts against the cap)."""
    if not settings.openai_base_url:
        return {}
    capped = {"max_completion_tokens": settings.reply_tokens} if settings.reply_tokens else {}
    return {"seed": SEED, **capped}


PLACEHOLDER_KEY = "unused"
MODEL_TIMEOUT_SECONDS = 120
LOCAL_MODEL_TIMEOUT_SECONDS = 600
"""Two CPU cores read a full prompt (~7,000 tokens) and write a capped reply (1,024 tokens) in
minutes, not seconds."""


def model_secrets(settings: Settings, llm: BaseChatModel) -> Redactor:
    """What the model is reached with and must never be shown: OPENAI_API_KEY and the
    credentials in OPENAI_BASE_URL, and the same of a model handed in ready-made."""
    keys, urls = [settings.openai_api_key.get_secret_value()], [settings.openai_base_url or ""]
    own_key, own_url = getattr(llm, "openai_api_key", None), getattr(llm, "openai_api_base", None)
    if isinstance(own_key, SecretStr) and own_key.get_secret_value() != PLACEHOLDER_KEY:
        keys.append(own_key.get_secret_value())
    if isinstance(own_url, str):
        urls.append(own_url)
    return Redactor([*keys, *(found for url in urls for found in url_credentials(url))])


def plan_output(settings: Settings) -> PlanOutput:
    """DAGBOT_PLAN_OUTPUT; ``auto``: the plan's JSON schema for the local model (llama.cpp holds
    the reply to it, so a small model cannot write anything but a plan), else the forced tool
    call, which every OpenAI-compatible server takes, until :func:`open_services` has asked the
    server whether it holds replies to a schema (:mod:`agent.model.output_probe`)."""
    if settings.plan_output != "auto":
        return settings.plan_output
    return "json_schema" if settings.local_model is not None else "tool_call"


def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(max_replans=settings.max_replans,
                          approval_ttl_seconds=settings.approval_ttl_seconds,
                          standing_approval_ttl_seconds=settings.standing_approval_ttl_seconds,
                          sandbox_limits=settings.sandbox_limits(),
                          stream_planner=settings.stream_planner,
                          plan_output=plan_output(settings),
                          prompt_chars=settings.prompt_chars,
                          retry=RetryPolicy(attempts=settings.tool_attempts),
                          result_cache_seconds=settings.result_cache_ttl_seconds,
                          file_shapes=settings.file_shapes)


OWNERSHIP_CHECK_SECONDS = 1.0
"""PostgreSQL: how often a runner checks that its process still holds the thread's lock
(a lost lock connection stops its runs within this)."""
DECISION_POLL_SAFETY_SECONDS = 5.0
"""PostgreSQL: decisions arrive by signal; a running plan still polls this rarely, in case
a signal was lost while a listener reconnected."""


def holder_id(settings: Settings) -> str:
    """``<replica>:<random>``: which process holds a thread, readable in ``thread_leases``."""
    return f"{(settings.replica or default_replica())[:40]}:{uuid.uuid4().hex[:16]}"


def is_openai_client(llm: BaseChatModel) -> bool:
    """Whether ``llm`` is LangChain's OpenAI client. Its library (and OpenAI's SDK: 1.2 s of
    CPU at every start) is loaded only where such a client was built, so that the playground's
    demo model, a scripted model and a command that stops on a bad setting never load it."""
    if "langchain_openai" not in sys.modules:
        return False
    from langchain_openai.chat_models.base import BaseChatOpenAI

    return isinstance(llm, BaseChatOpenAI)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    llm: BaseChatModel | None = None,
    registry: ToolRegistry | None = None,
    packages: PackageRunner | None = None,
    engine_config: EngineSettings | None = None,
    holder: str | None = None,
    metrics: Metrics | None = None,
    thread_scope: Callable[[str], bool] | None = None,
    context: Callable[[EngineContext], EngineContext] | None = None,
) -> AsyncIterator[Services]:
    """Everything a front end needs; closes it all on exit. With ``metrics``, the model's calls,
    the run events and the database feed them. ``thread_scope``: the only threads the engine's
    recovery may resume or drain (default: every thread in the database). ``context``: the
    front end's part of the engine's context, given before the engine is built and fixed from
    then on (the Slack bot's access policy, :meth:`bot.app.SlackAccess.engine_context`; a test's
    clock)."""
    await asyncio.to_thread(prepare_schema, settings.database_url)
    other_connections = settings.db_connections // 2  # the rest go to the checkpointer
    db = create_engine(settings.database_url, connections=other_connections)
    store = SqlStore(db)
    events = EventBus()
    try:
        checkpoint_connections = settings.db_connections - other_connections
        if not is_sqlite(settings.database_url):
            log.info("database connections", most=settings.db_connections + 2,
                     checkpointer=checkpoint_connections, other=other_connections,
                     lock_and_listener=2)
        async with open_checkpointer(settings.database_url, checkpoint_connections) as saver:
            # DAGBOT_MCP_CONFIG's servers join the registry built here, not one handed in
            mcp_config = settings.mcp_config if registry is None else None
            registry = registry or build_registry(settings)
            llm = llm or build_llm(settings)
            # a server dagbot did not start (OPENAI_BASE_URL or OpenAI's): ask it once
            probe = (is_openai_client(llm) and settings.plan_output == "auto"
                     and settings.local_model is None)
            shared = not is_sqlite(settings.database_url)  # replicas may share it
            tuned = engine_config or engine_settings(settings)
            if probe and engine_config is None:
                probed = await probe_plan_output(llm)
                log.info("plan output", mode=probed.mode, why=probed.why)
                tuned = dataclasses.replace(tuned, plan_output=probed.mode)
            if shared and engine_config is None:
                tuned = dataclasses.replace(
                    tuned, decision_poll_seconds=DECISION_POLL_SAFETY_SECONDS)
            ctx = EngineContext(
                llm=llm, registry=registry, approvals=store, audit=store,
                executions=ExecutionJournalView(store), results=store, packages=packages,
                standing=SqlStandingApprovals(db), events=events, settings=tuned,
                redactor=model_secrets(settings, llm),
            )
            if context is not None:
                ctx = context(ctx)
            holder = holder or holder_id(settings)
            async with AsyncExitStack() as stack:
                mcp = None
                if mcp_config is not None:  # (the MCP SDK is loaded only then)
                    from infra.tools.mcp.servers import open_mcp_servers

                    mcp = await stack.enter_async_context(open_mcp_servers(mcp_config, registry))
                leases: ThreadLease = store
                signals: ThreadSignals | None = None
                lease_ttl = settings.lease_ttl_seconds
                if shared:
                    leases = await stack.enter_async_context(
                        AdvisoryLeases(settings.database_url, db))
                    signals = await stack.enter_async_context(
                        PostgresSignals(settings.database_url, db, origin=holder))
                    lease_ttl = OWNERSHIP_CHECK_SECONDS * 3  # the runner checks every ttl/3
                engine = Engine(build_graph(saver), ctx, leases, store, store, holder=holder,
                                lease_ttl_seconds=lease_ttl, signals=signals, scope=thread_scope)
                if isinstance(signals, PostgresSignals):
                    signals.on_reconnect = engine.wake_all
                stack.push_async_callback(engine.close)
                if metrics is not None:
                    metrics.instrument_llm(llm)
                    metrics.use_database(db)
                    if mcp is not None:
                        metrics.use_mcp_servers(mcp)
                    await stack.enter_async_context(metrics.watching(events))
                yield Services(settings=settings, engine=engine, events=events, store=store,
                               registry=registry, mcp=mcp)
    finally:
        await db.dispose()
