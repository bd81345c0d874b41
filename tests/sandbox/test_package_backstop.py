"""A package runner that never returns (a sandbox stuck in its teardown) cannot hold the
engine's run for ever: the node fails once the runner is past every attempt's wall time plus
a margin, and the run goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.engine.engine import ThreadStatus
from agent.events import NodeFailed
from agent.execution import package_nodes
from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway
from tests.agent.harness import finish

from .test_engine_packages import sandboxed_engine


class StuckSandbox:
    name = "stuck"

    async def run(self, code: str, inputs: dict[str, Any], tools: ToolGateway,
                  limits: SandboxLimits) -> SandboxResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_package_runner_that_never_returns_fails_the_node(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(package_nodes, "package_deadline", lambda limits, attempts: 1.0)
    plan = {"nodes": [{"id": "pkg", "package": {"goal": "anything", "code": "result = 1"}}]}
    async with sandboxed_engine(sqlite_url, tmp_path, StuckSandbox(), [plan, finish("gave up")],
                                attempts=1) as h:
        await asyncio.wait_for(h.engine.ask("stuck", "do it"), 60)
        failed = [e for e in h.drain() if isinstance(e, NodeFailed)]
        assert [e.node_id for e in failed] == ["pkg"]
        assert "did not finish within 1 s" in str(failed[0].error)
        assert await h.engine.status("stuck") is ThreadStatus.IDLE
