"""Which run a scheduler works for: the thread, the run, the plan and who asked.

A small value of its own so that the scheduler (:mod:`agent.execution.scheduler`) and the parts it
delegates to (:mod:`agent.execution.approval_gate`, :mod:`agent.execution.package_nodes`) share it without
importing one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunIdentity:
    thread_id: str
    run_id: str
    plan_id: str
    requested_by: str | None
    refused_tools: Mapping[str, str] = field(default_factory=dict)
    """Tools the requester may not use (the access policy), with why: package code cannot
    call them either."""
    request: str = ""
    """The request the run answers, for packages that compute what it asks for."""
    follows: str = ""
    """The thread's request before it (a follow-up's few words lean on it)."""
