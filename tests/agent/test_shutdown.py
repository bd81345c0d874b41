"""A stopping process lets a red call under way finish, within a grace, before it cuts its
runs off: cut off, the call's outcome is unknown and a person is asked about it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.events import AwaitingApproval, NodeStarted
from agent.execution.context import EngineSettings
from agent.ports.stores import ExecutionStatus
from agent.tools.registry import Risk
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import open_services
from tests.agent.harness import Harness
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

RELEASE = {"nodes": [{"id": "ship", "tool": "release", "args": {"version": "1.2"}}]}


class ReleaseArgs(BaseModel):
    version: str


@asynccontextmanager
async def engine(database_url: str, released: asyncio.Event) -> AsyncIterator[Harness]:
    log = ToolLog()

    async def release(version: str) -> str:
        log.calls.append(("release", {"version": version}))
        await released.wait()  # a release takes a while
        return f"released {version}"

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=release, name="release", description="Release.",
                                              args_schema=ReleaseArgs), Risk.RED)
    llm = ScriptedChatModel(replies=[RELEASE])
    async with open_services(Settings(database_url=database_url), llm=llm, registry=registry,
                             packages=ScriptedPackages(),
                             engine_config=EngineSettings(decision_poll_seconds=0.2)) as services:
        yield Harness(services, llm, log, ScriptedPackages(), services.events.open())


async def releasing(h: Harness) -> str:
    await h.engine.submit("s1", "release 1.2", requested_by="U1")
    asked = await h.next_event(AwaitingApproval, node_id="ship")
    await h.engine.decide(asked.approval_id, approved=True, by="U1")
    await h.next_event(NodeStarted, node_id="ship")
    return str(asked.approval_id)


async def test_a_shutdown_waits_for_the_red_call_under_way(sqlite_url: str) -> None:
    released = asyncio.Event()
    async with engine(sqlite_url, released) as h:
        approval_id = await releasing(h)
        closing = asyncio.create_task(h.engine.close(red_grace_seconds=30))
        await asyncio.sleep(0.3)
        assert not closing.done()  # the release is still running: the process waits for it
        released.set()
        await asyncio.wait_for(closing, 10)
        execution = await h.engine.ctx.executions.get(approval_id)
        assert execution is not None and execution.status is ExecutionStatus.FINISHED
        assert execution.output == "released 1.2"


async def test_a_red_call_longer_than_the_grace_is_cut_off_and_its_outcome_unknown(sqlite_url: str) -> None:
    released = asyncio.Event()
    async with engine(sqlite_url, released) as h:
        approval_id = await releasing(h)
        await asyncio.wait_for(h.engine.close(red_grace_seconds=0.2), 10)
        execution = await h.engine.ctx.executions.get(approval_id)
        assert execution is not None and execution.status is ExecutionStatus.UNKNOWN
        assert len(h.engine.ctx.state.red_in_flight) == 0
