"""Drives the real engine (graph, checkpointer, stores) with a scripted LLM and fake tools."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from agent.engine.engine import Engine
from agent.events import RunEvent
from agent.execution.context import EngineSettings
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


@dataclass
class Harness:
    services: Services
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
    log: ToolLog | None = None,
) -> AsyncIterator[Harness]:
    log = log or ToolLog()
    llm = ScriptedChatModel(replies=replies)
    packages = ScriptedPackages()
    config = Settings(DATABASE_URL=database_url, DAGBOT_LEASE_TTL=5)
    async with open_services(
        config, llm=llm, registry=simulated_registry(log), packages=packages,
        engine_config=settings or EngineSettings(decision_poll_seconds=0.2),
    ) as services:
        queue = services.events.open()
        yield Harness(services, llm, log, packages, queue)
