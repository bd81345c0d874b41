"""Engine benchmark: synthetic plans with simulated tool latencies through the real graph.

    python -m bench.dag [--quick] [--db postgres|sqlite]

Prints a table, then one JSON line of figures:
- makespan_over_critical_path: mean over the suite; the critical path is the physical limit
- speedup_vs_sequential: sum of node latencies / makespan, on the parallel plans
- green_delay_ratio_with_pending_approval: a green branch's time while a red node waits,
  over the same branch without the red node
- engine_overhead_ms_per_node: zero-latency chain on PostgreSQL, wall time per node
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import StructuredTool

from agent.events import NodeFinished, NodeStarted, RunEvent
from agent.execution.context import EngineSettings
from agent.plan.format import Plan
from agent.plan.readiness import critical_path
from agent.tools.registry import Risk, ToolRegistry
from bench.common import scratch_database
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import Services, open_services

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def registry() -> ToolRegistry:
    async def sim(ms: int, tag: str = "") -> str:
        await asyncio.sleep(ms / 1000)
        return f"{tag or 'node'} took {ms} ms"

    async def change(ms: int, tag: str = "") -> str:
        await asyncio.sleep(ms / 1000)
        return "changed"

    reg = ToolRegistry()
    reg.add(StructuredTool.from_function(coroutine=sim, name="sim", description="Simulated lookup."),
            Risk.GREEN)
    reg.add(StructuredTool.from_function(coroutine=change, name="change", description="Simulated change."),
            Risk.RED)
    return reg


def node(node_id: str, ms: int, deps: list[str] | None = None, tool: str = "sim") -> dict[str, Any]:
    return {"id": node_id, "tool": tool, "args": {"ms": ms, "tag": node_id}, "depends_on": deps or []}


def random_dag(rng: random.Random, size: int) -> dict[str, Any]:
    """A layered random DAG: 2-5 nodes per layer, each depending on 1-2 nodes of earlier layers."""
    nodes: list[dict[str, Any]] = []
    earlier: list[str] = []
    while len(nodes) < size:
        layer: list[dict[str, Any]] = []
        for _ in range(min(rng.randint(2, 5), size - len(nodes))):
            node_id = f"n{len(nodes) + len(layer)}"
            deps = rng.sample(earlier, k=min(len(earlier), rng.randint(1, 2))) if earlier else []
            layer.append(node(node_id, rng.randint(50, 400), sorted(deps)))
        nodes.extend(layer)
        earlier.extend(n["id"] for n in layer)
    return {"thought": "random layered DAG", "nodes": nodes}


def fan_in(width: int, ms: int = 200) -> dict[str, Any]:
    lookups = [node(f"q{i}", ms + 25 * i) for i in range(width)]
    return {"thought": f"{width} parallel lookups then a join",
            "nodes": [*lookups, node("join", 50, [n["id"] for n in lookups])]}


def suite(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(7)
    plans = [("llmcompiler 2+join", fan_in(2)), ("llmcompiler 8+join", fan_in(8))]
    for i in range(4 if quick else 8):
        plans.append((f"random #{i + 1}", random_dag(rng, rng.randint(8, 20))))
    return plans


@dataclass
class Measured:
    makespan: float
    critical: float
    total: float


@asynccontextmanager
async def services(url: str) -> AsyncIterator[tuple[Services, ScriptedChatModel]]:
    llm = ScriptedChatModel()
    config = Settings(database_url=url)
    async with open_services(config, llm=llm, registry=registry(),
                             engine_config=EngineSettings(decision_poll_seconds=1.0)) as svc:
        yield svc, llm


async def run_plan(svc: Services, llm: ScriptedChatModel, plan: dict[str, Any],
                   stop_when: set[str] | None = None) -> list[RunEvent]:
    """Run a plan; returns its events. With stop_when, returns once those nodes finished."""
    thread = f"bench:{uuid.uuid4().hex}"
    llm.replies[:] = [plan, "done"]
    queue = svc.events.open(thread)
    events: list[RunEvent] = []
    try:
        await svc.engine.submit(thread, "bench")
        wanted = set(stop_when or [n["id"] for n in plan["nodes"]])
        while wanted:
            event = await queue.get()
            events.append(event)
            if isinstance(event, NodeFinished):
                wanted.discard(event.node_id)
        if stop_when is None:
            await svc.engine.idle()
        else:
            await svc.engine.cancel(thread, "bench")
            await svc.engine.idle()
    finally:
        svc.events.close(queue)
    return events


def span(events: list[RunEvent], nodes: set[str] | None = None) -> float:
    starts = [e.at for e in events if isinstance(e, NodeStarted) and (nodes is None or e.node_id in nodes)]
    ends = [e.at for e in events if isinstance(e, NodeFinished) and (nodes is None or e.node_id in nodes)]
    return max(ends) - min(starts)


async def measure(svc: Services, llm: ScriptedChatModel, plan: dict[str, Any]) -> Measured:
    events = await run_plan(svc, llm, plan)
    costs = {n["id"]: n["args"]["ms"] / 1000 for n in plan["nodes"]}
    return Measured(makespan=span(events), critical=critical_path(Plan.model_validate(plan), costs),
                    total=sum(costs.values()))


async def green_delay(svc: Services, llm: ScriptedChatModel) -> float:
    chain = [node("g1", 100), node("g2", 100, ["g1"]), node("g3", 100, ["g2"])]
    red = node("red", 10, tool="change")
    ratios = []
    for _ in range(3):
        alone = span(await run_plan(svc, llm, {"nodes": chain}))
        waiting = span(await run_plan(svc, llm, {"nodes": [red, *chain]}, stop_when={"g1", "g2", "g3"}),
                       {"g1", "g2", "g3"})
        ratios.append(waiting / alone)
    return statistics.mean(ratios)


async def overhead_per_node(svc: Services, llm: ScriptedChatModel, length: int = 20) -> float:
    chain = [node("c0", 0)] + [node(f"c{i}", 0, [f"c{i - 1}"]) for i in range(1, length)]
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        await run_plan(svc, llm, {"nodes": chain})
        samples.append((time.perf_counter() - started) / length)
    return statistics.median(samples) * 1000


async def main(quick: bool, db: str) -> dict[str, object]:
    with scratch_database(PG_URL, "dagbot_bench") as pg_url:
        url = pg_url if db == "postgres" else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
        async with services(url) as (svc, llm):
            print(f"{'plan':<22}{'nodes':>6}{'critical s':>12}{'makespan s':>12}{'ratio':>8}{'speedup':>9}")
            ratios, speedups = [], []
            for name, plan in suite(quick):
                m = await measure(svc, llm, plan)
                ratio, speedup = m.makespan / m.critical, m.total / m.makespan
                ratios.append(ratio)
                speedups.append(speedup)
                print(f"{name:<22}{len(plan['nodes']):>6}{m.critical:>12.3f}{m.makespan:>12.3f}"
                      f"{ratio:>8.3f}{speedup:>9.2f}")
            delay = await green_delay(svc, llm)
        async with services(pg_url) as (pg_svc, pg_llm):
            overhead = await overhead_per_node(pg_svc, pg_llm)
    figures = {
        "makespan_over_critical_path": round(statistics.mean(ratios), 4),
        "makespan_over_critical_path_worst": round(max(ratios), 4),
        "speedup_vs_sequential": round(statistics.mean(speedups), 2),
        "green_delay_ratio_with_pending_approval": round(delay, 4),
        "engine_overhead_ms_per_node": round(overhead, 2),
        "database": db,
    }
    print(f"green branch with a pending approval / without: {delay:.3f}")
    print(f"engine overhead per node (PostgreSQL, zero-latency chain): {overhead:.1f} ms")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller suite, under 60 s")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.db))
