"""The typed interfaces through which the engine runs package code: a :class:`Sandbox` runs
one script isolated, a :class:`PackageRunner` runs a package node (attempts healed by
reflexion), a :class:`ToolGateway` is what the code may call. ``sandbox`` implements them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agent.events import RunEvent


@dataclass(frozen=True)
class SandboxLimits:
    wall_seconds: float = 30.0
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 64
    output_bytes: int = 256_000
    """Cap for stdout, stderr and the JSON result, each."""
    tool_calls: int = 20
    tool_timeout_seconds: float = 30.0


class ToolGateway(Protocol):
    """What package code may call: green tools only, arguments validated, budgeted."""

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        """Run a green tool; raises ToolNotAllowed / ToolArgumentError / ToolError."""


@dataclass(frozen=True)
class SandboxResult:
    ok: bool
    result: Any = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0


class Sandbox(Protocol):
    """Runs one package script, isolated. Never in-process, never unsandboxed."""

    name: str

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult: ...


@dataclass(frozen=True)
class PackageAttemptRecord:
    attempt: int
    code: str
    error: str | None
    mended_by: str | None = None
    """The runtime mend (sandbox/runtime_mends.py) that wrote this attempt's code from the
    attempt before, or ``goal-values`` (sandbox/goal_values.py) when a compared value was mended
    just before it ran; None when the plan or the reflexion model wrote it as it ran."""
    query: str | None = None
    """The SQL query this attempt's code runs, when the code is a table query the model wrote
    for the person's request (sandbox/table_query.py): what its result computes, in one line."""


@dataclass(frozen=True)
class PackageOutcome:
    ok: bool
    output: Any = None
    error: str | None = None
    attempts: list[PackageAttemptRecord] = field(default_factory=list)


EmitFn = Callable[[RunEvent], Awaitable[None]]


@dataclass(frozen=True)
class PackageJob:
    thread_id: str
    run_id: str
    node_id: str
    goal: str
    code: str
    """Empty: the runner has the code written from ``goal`` and ``inputs`` first (a package
    dagbot added to compute what an answer needs: agent/engine/computed_values.py)."""
    inputs: dict[str, Any]
    request: str = ""
    """The person's request the package is part of."""
    follows: str = ""
    """The thread's request before it, with the start of its answer, when it is a follow-up ("and
    the search team's?")."""
    final: bool = True
    """No other package goes on from its result: it computes what the request asks for."""


@runtime_checkable
class PlanAwarePackages(Protocol):
    """A package runner whose work over some inputs depends on the whole plan (whether another
    package goes on from a package's result: sandbox/table_query.py answers the request only for
    the one that does not)."""

    def needs_whole_plan(self, inputs: dict[str, Any]) -> bool:
        """Whether a package over ``inputs`` waits for the whole plan before it starts."""
        ...


class PackageRunner(Protocol):
    """Runs a package node: sandbox attempts, healed by reflexion (see sandbox/)."""

    max_attempts: int
    """Sandbox attempts per node at most (bounds how long :meth:`run` may take)."""

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome: ...
