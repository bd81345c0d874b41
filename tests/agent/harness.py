"""Drives the real engine (graph, checkpointer, stores) with a scripted LLM and fake tools.

``harness(MEMORY, ...)`` builds it on the in-memory stores (infra/emulators/memory_stores.py)
and LangGraph's InMemorySaver, with no database: for tests of the engine's logic. Tests of what
it keeps across processes (crashes, restarts, replicas, what a database refuses) give it a
database URL; tests/infra/test_store_contract.py holds both kinds of store to one contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.memory import InMemorySaver

from agent.engine.engine import Engine
from agent.engine.graph import build_graph
from agent.events import EventBus, RunEvent
from agent.execution.context import EngineContext, EngineSettings
from agent.ports.sandbox import PackageRunner
from agent.tools.registry import ToolRegistry
from infra.emulators.memory_standing import MemoryStandingApprovals
from infra.emulators.memory_stores import MemoryStore
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import Services, open_services
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry


def finish(answer: str) -> str:
    """The joiner's reply that answers: its text."""
    return answer


def replan(feedback: str) -> dict[str, Any]:
    """The joiner's reply that asks for a new plan: a call of the ``replan`` tool."""
    return {"feedback": feedback}


MEMORY = "memory"
"""In place of a database URL: the engine on the in-memory stores."""
LEASE_TTL_SECONDS = 5.0


@dataclass
class MemoryServices:
    """What :func:`infra.wiring.open_services` gives, on the in-memory stores."""

    engine: Engine
    events: EventBus
    store: MemoryStore
    registry: ToolRegistry


@asynccontextmanager
async def memory_services(
    llm: BaseChatModel, registry: ToolRegistry, *, packages: PackageRunner | None = None,
    engine_config: EngineSettings | None = None, context: Callable[[EngineContext], EngineContext] | None = None,
) -> AsyncIterator[MemoryServices]:
    """The engine as :func:`infra.wiring.open_services` wires it on SQLite (one process, leases
    with a TTL, no signals), on the in-memory stores and checkpointer."""
    store, events = MemoryStore(), EventBus()
    ctx = EngineContext(
        llm=llm, registry=registry, approvals=store, audit=store, executions=store.journal,
        results=store, packages=packages, standing=MemoryStandingApprovals(store), events=events,
        settings=engine_config or EngineSettings(),
    )
    if context is not None:  # (as open_services does)
        ctx = context(ctx)
    engine = Engine(build_graph(InMemorySaver()), ctx, store, store, store,
                    lease_ttl_seconds=LEASE_TTL_SECONDS)
    try:
        yield MemoryServices(engine, events, store, registry)
    finally:
        await engine.close()


@dataclass
class Harness:
    services: Services | MemoryServices
    llm: ScriptedChatModel
    log: ToolLog
    packages: ScriptedPackages
    queue: asyncio.Queue[RunEvent]
    events: list[RunEvent] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.services.engine

    def drain(self) -> list[RunEvent]:
        while not self.queue.empty():
            self.events.append(self.queue.get_nowait())
        return self.events

    async def next_event(self, kind: type[RunEvent], timeout: float = 30, **match: Any) -> Any:
        """Wait for the next event of a kind (and field values), keeping all events seen."""
        async def find() -> RunEvent:
            while True:
                event = await self.queue.get()
                self.events.append(event)
                if isinstance(event, kind) and all(getattr(event, k) == v for k, v in match.items()):
                    return event
        return await asyncio.wait_for(find(), timeout)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.drain()]

    def labels(self) -> list[str]:
        """Events as 'Kind:node' strings, for asserting order."""
        out = []
        for event in self.drain():
            node = getattr(event, "node_id", None)
            out.append(f"{type(event).__name__}:{node}" if node else type(event).__name__)
        return out


@asynccontextmanager
async def harness(
    database_url: str, replies: list[Any], *, settings: EngineSettings | None = None,
    log: ToolLog | None = None, context: Callable[[EngineContext], EngineContext] | None = None,
) -> AsyncIterator[Harness]:
    """``database_url``: :data:`MEMORY` for the in-memory stores. ``context``: what the test
    changes in the engine's context before the engine is built (its clock, say)."""
    log = log or ToolLog()
    llm = ScriptedChatModel(replies=replies)
    packages = ScriptedPackages()
    async with services_on(database_url, llm, simulated_registry(log), packages=packages,
                           engine_config=settings or EngineSettings(decision_poll_seconds=0.2),
                           context=context) as services:
        queue = services.events.open()
        yield Harness(services, llm, log, packages, queue)


@asynccontextmanager
async def services_on(
    database_url: str, llm: BaseChatModel, registry: ToolRegistry, *, packages: PackageRunner | None = None,
    engine_config: EngineSettings | None = None, context: Callable[[EngineContext], EngineContext] | None = None,
) -> AsyncIterator[Services | MemoryServices]:
    """The engine on a database (:func:`infra.wiring.open_services`, leases of 5 s) or, given
    :data:`MEMORY`, on the in-memory stores."""
    if database_url == MEMORY:
        async with memory_services(llm, registry, packages=packages, engine_config=engine_config,
                                   context=context) as memory:
            yield memory
        return
    config = Settings(database_url=database_url, lease_ttl_seconds=LEASE_TTL_SECONDS)
    async with open_services(config, llm=llm, registry=registry, packages=packages,
                             engine_config=engine_config, context=context) as services:
        yield services


async def asked_once(llm: BaseChatModel, registry: ToolRegistry, thread: str, request: str) -> list[RunEvent]:
    """The events of one ``engine.ask`` of ``request`` on the in-memory engine with ``registry``:
    all it emitted until the run finished or parked."""
    async with services_on(MEMORY, llm, registry) as services:
        events = services.events.open()
        await services.engine.ask(thread, request)
        seen: list[RunEvent] = []
        while not events.empty():
            seen.append(events.get_nowait())
        await asyncio.sleep(0)
    return seen
