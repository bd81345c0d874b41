"""What the graph's nodes need from outside, passed as LangGraph's runtime context."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from agent.events import EventSink, NullSink
from agent.ports import (
    ApprovalStore,
    ExecutionJournal,
    NodeResultStore,
    PackageRunner,
    SandboxLimits,
)
from agent.tools.registry import ToolRegistry
from agent.validation import PlanLimits


@dataclass(frozen=True)
class EngineSettings:
    max_replans: int = 2
    """Joiner-requested replans per request (DAGBOT_MAX_REPLANS)."""
    approval_ttl_seconds: float = 24 * 3600
    """Pending approvals expire (count as rejected) after this (DAGBOT_APPROVAL_TTL)."""
    node_timeout_seconds: float = 300.0
    """A single tool node running longer than this fails."""
    decision_poll_seconds: float = 1.0
    """How often a running plan looks for decisions recorded by other processes."""
    inline_output_bytes: int = 4_000
    """Outputs larger than this stay in the result store; state keeps a preview."""
    preview_chars: int = 1_500
    plan_limits: PlanLimits = field(default_factory=PlanLimits)
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)


class Wakeups:
    """In-process signal that something changed for a thread (a decision, a cancel)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, thread_id: str) -> asyncio.Event:
        return self._events.setdefault(thread_id, asyncio.Event())

    def wake(self, thread_id: str) -> None:
        self.event(thread_id).set()


@dataclass
class EngineContext:
    llm: BaseChatModel
    registry: ToolRegistry
    approvals: ApprovalStore
    executions: ExecutionJournal
    results: NodeResultStore
    packages: PackageRunner | None = None
    """None: package nodes fail with a message saying how to enable a sandbox."""
    events: EventSink = field(default_factory=NullSink)
    settings: EngineSettings = field(default_factory=EngineSettings)
    wakeups: Wakeups = field(default_factory=Wakeups)
    clock: Callable[[], float] = time.time
    cancelled: set[str] = field(default_factory=set)
    """Threads whose run was cancelled: nothing more is dispatched for them."""
