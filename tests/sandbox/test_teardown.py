"""A run always ends, on every backend, whatever the sandbox left unread in its pipes: after a
protocol error, or when the wall time runs out while the package keeps printing during a
slow tool call, the host stops reading frames; the run must still return a clear error and
leave no run cgroup behind."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import Sandbox, SandboxLimits, SandboxResult
from agent.tools.registry import ToolRegistry
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.cgroup import _run_prefix

from .test_channel_limits import FORGE

BOUND_SECONDS = 40.0
"""Far beyond what any of these runs needs; reaching it means the run hung."""


def own_run_cgroups(sandbox: Sandbox) -> list[Path]:
    """This process's run cgroups that exist now (none on docker)."""
    if not isinstance(sandbox, BwrapSandbox) or sandbox.cgroups is None:
        return []
    prefix = _run_prefix(sandbox.cgroups.identity)
    return [path for base in set(sandbox.cgroups.bases.values())
            for path in base.glob(f"{prefix}*")]


async def bounded_run(sandbox: Sandbox, code: str, gateway: Any,
                      limits: SandboxLimits) -> SandboxResult:
    try:
        return await asyncio.wait_for(sandbox.run(code, {}, gateway, limits), BOUND_SECONDS)
    except TimeoutError:
        raise AssertionError(f"the run did not end within {BOUND_SECONDS:g} s") from None


async def test_an_oversized_frame_with_more_output_behind_it_ends_the_run(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + "os.write(4, struct.pack('>I', 0xFFFFFFF0) + b'x' * 300_000)\nresult = 1\n"
    outcome = await bounded_run(sandbox, code, gateway, limits)
    assert outcome.error_type == "SandboxProtocolError"
    assert "exceeds" in (outcome.error or "")
    assert own_run_cgroups(sandbox) == []


async def test_a_frame_that_is_not_json_with_more_output_behind_it_ends_the_run(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    code = FORGE + (
        "bad = b'{not json'\n"
        "os.write(4, struct.pack('>I', len(bad)) + bad + b'y' * 300_000)\nresult = 1\n"
    )
    outcome = await bounded_run(sandbox, code, gateway, limits)
    assert outcome.error_type == "SandboxProtocolError"
    assert "not JSON" in (outcome.error or "")
    assert own_run_cgroups(sandbox) == []


async def test_the_wall_time_running_out_during_a_slow_call_while_printing_ends_the_run(
    sandbox: Sandbox, registry: ToolRegistry, limits: SandboxLimits
) -> None:
    code = (
        "import threading, time\n"
        "def chatter():\n"
        "    time.sleep(0.5)  # the call below is in flight by now\n"
        "    for i in range(2000):\n"
        "        print('progress line %05d ' % i + '.' * 80, flush=True)\n"
        "threading.Thread(target=chatter, daemon=True).start()\n"
        "result = tools.slow(seconds=30)\n"
    )
    short = replace(limits, wall_seconds=4, tool_timeout_seconds=30, output_bytes=256_000)
    slow_gateway = GreenToolGateway(registry, 30)
    outcome = await bounded_run(sandbox, code, slow_gateway, short)
    assert outcome.error_type == "TimeLimitExceeded"
    assert own_run_cgroups(sandbox) == []
