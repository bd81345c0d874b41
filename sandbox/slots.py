"""A cap on how many sandboxes run at once in this process (``SANDBOX_CONCURRENCY``).

Each sandbox has its own memory, CPU, pid and output limits, but a plan may hold dozens of
package nodes and many threads run at once: without a cap the host's share grows with them.
With it, the worst case is the per-sandbox limits times the cap. A run waits for a slot before
its sandbox starts, so the wait does not count against its wall time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent.ports.sandbox import Sandbox, SandboxLimits, SandboxResult, ToolGateway


class SandboxSlots:
    """A :class:`~agent.ports.sandbox.Sandbox` that runs at most ``slots`` of ``inner`` at once."""

    def __init__(self, inner: Sandbox, slots: int) -> None:
        if slots < 1:
            raise ValueError("a sandbox needs at least one slot")
        self.inner = inner
        self.name = inner.name
        self.slots = slots
        self._free = asyncio.Semaphore(slots)

    async def run(self, code: str, inputs: dict[str, Any], tools: ToolGateway,
                  limits: SandboxLimits) -> SandboxResult:
        async with self._free:
            return await self.inner.run(code, inputs, tools, limits)

    def __getattr__(self, name: str) -> Any:  # the backend's own attributes (cgroups, probe…)
        return getattr(self.inner, name)
