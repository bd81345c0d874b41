"""SANDBOX_CONCURRENCY: however many package runs are asked for at once, at most that many
sandboxes exist on the host at a time, and every run still completes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits, SandboxResult, ToolGateway
from sandbox.slots import SandboxSlots
from tests.sandbox.conftest import usable_backend

pytestmark = pytest.mark.bwrap


class Watched:
    """The real backend, noting how many of its runs are under way whenever one starts."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.name = inner.name
        self.under_way = 0
        self.seen: list[int] = []

    async def run(self, code: str, inputs: dict[str, Any], tools: ToolGateway,
                  limits: SandboxLimits) -> SandboxResult:
        self.under_way += 1
        self.seen.append(self.under_way)
        try:
            return await self.inner.run(code, inputs, tools, limits)
        finally:
            self.under_way -= 1


async def test_at_most_the_slots_of_sandboxes_run_at_once(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    backend = Watched(usable_backend("bwrap"))
    slots = SandboxSlots(backend, 2)
    outcomes = await asyncio.gather(*(
        slots.run("import time\ntime.sleep(0.3)\nresult = inputs['n']", {"n": n}, gateway, limits)
        for n in range(6)))
    assert [o.result for o in outcomes] == list(range(6)) and all(o.ok for o in outcomes)
    assert len(backend.seen) == 6 and max(backend.seen) == 2  # two at a time, never more
    assert backend.under_way == 0


def test_a_sandbox_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        SandboxSlots(usable_backend("bwrap"), 0)
