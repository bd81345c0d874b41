"""A package runner fake: scripted outputs per node. It never executes package code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.events import PackageAttempt
from agent.ports.sandbox import EmitFn, PackageAttemptRecord, PackageJob, PackageOutcome, ToolGateway


@dataclass
class ScriptedPackages:
    outputs: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)
    jobs: list[PackageJob] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)
    """A node's output as a table query's (its attempt records the SQL, as sandbox/table_query.py's do)."""
    max_attempts: int = 1
    rewritten: set[str] = field(default_factory=set)
    """Nodes whose code failed once and whose output came from the reflexion model's rewrite."""

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        self.jobs.append(job)
        await emit(PackageAttempt(thread_id=job.thread_id, run_id=job.run_id, node_id=job.node_id,
                                  attempt=1, max_attempts=1))
        produce = self.outputs.get(job.node_id)
        if produce is None:
            return PackageOutcome(ok=False, error="no scripted output",
                                  attempts=[PackageAttemptRecord(1, job.code, "no scripted output")])
        if job.node_id in self.rewritten:
            return PackageOutcome(ok=True, output=produce(job.inputs), attempts=[
                PackageAttemptRecord(1, job.code, "KeyError: 'rows'"), PackageAttemptRecord(2, "result = 1", None)])
        return PackageOutcome(ok=True, output=produce(job.inputs),
                              attempts=[PackageAttemptRecord(1, job.code, None,
                                                             query=self.queries.get(job.node_id))])
