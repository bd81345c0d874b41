"""bench.e2e's MCP mode: what a call to a green tool costs when an MCP server serves it,
against the same tool registered directly.

    python -m bench.e2e --mcp [--quick]      (the same as python -m bench.e2e_mcp [--quick])

One dagbot (:func:`infra.wiring.open_services` on a fresh SQLite file, an instant scripted
model) with two copies of one instant tool (:mod:`bench.mcp_lookup`): ``lookup``, registered
directly (DAGBOT_TOOLS), and ``bench__lookup``, served by the SDK's FastMCP over stdio in a
process of its own (DAGBOT_MCP_CONFIG, configured green). The two ways alternate, so a drift in
the machine's load falls on both. Figures (milliseconds):

- ``mcp_call_overhead_ms``: p50 and p99 of a call one at a time, as tool nodes and package code
  make it (the gateway: arguments checked against the schema, the tool invoked), MCP minus
  direct; and each way's own p50/p99 (``direct_call_ms``, ``mcp_call_ms``);
- ``mcp_concurrent_overhead_ms_per_call``: 8 calls at once, the batch's time over 8, MCP minus
  direct (median over batches);
- ``mcp_engine_overhead_ms_per_call``: through the engine, a plan of 8 parallel nodes of the
  tool from request to answer: (median MCP − median direct) / 8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from agent.events import AnswerReady, RunFailed
from agent.execution.gateway import GreenToolGateway
from bench.common import percentile
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import Services, open_services

DIRECT, MCP = "lookup", "bench__lookup"
FAN_OUT = 8


def model_reply(messages: list[BaseMessage]) -> str | dict[str, Any]:
    """The planner: FAN_OUT parallel nodes of the tool the request names; the joiner: 'done'."""
    last = messages[-1].text
    if "## Results" in last:
        return "done"
    tool = MCP if f"via {MCP}" in last else DIRECT
    return {"thought": "parallel lookups", "nodes": [
        {"id": f"n{i}", "tool": tool, "args": {"key": f"k{i}"}} for i in range(FAN_OUT)]}


@asynccontextmanager
async def two_ways(folder: Path) -> AsyncIterator[Services]:
    config = folder / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"bench": {
        "command": sys.executable, "args": ["-m", "bench.mcp_lookup"], "green": ["lookup"]}}}))
    settings = Settings(database_url=f"sqlite:///{folder}/bench.sqlite", tools="bench.mcp_lookup",
                        mcp_config=config)
    llm = ScriptedChatModel(replies=[model_reply], repeat_last=True, record=False)
    async with open_services(settings, llm=llm) as services:
        if MCP not in services.registry:
            problems = services.mcp.problems if services.mcp else []
            raise RuntimeError(f"the MCP server did not start: {problems}")
        yield services


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def one_at_a_time(gateway: GreenToolGateway, calls: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {DIRECT: [], MCP: []}
    for i in range(calls):
        for name in (DIRECT, MCP) if i % 2 else (MCP, DIRECT):
            times[name].append(await timed(lambda n=name, k=f"k{i}": gateway.call(n, {"key": k})))  # type: ignore[misc]
    return times


async def batches(gateway: GreenToolGateway, count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {DIRECT: [], MCP: []}
    for i in range(count):
        for name in (DIRECT, MCP) if i % 2 else (MCP, DIRECT):
            async def batch(n: str = name) -> None:
                await asyncio.gather(*(gateway.call(n, {"key": f"k{j}"}) for j in range(FAN_OUT)))
            times[name].append(await timed(batch) / FAN_OUT)
    return times


async def through_the_engine(services: Services, requests: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {DIRECT: [], MCP: []}
    for i in range(requests):
        for name in (DIRECT, MCP) if i % 2 else (MCP, DIRECT):
            times[name].append(await timed(lambda n=name: answer(services, f"look up the keys via {n}")))  # type: ignore[misc]
    return times


async def answer(services: Services, request: str) -> None:
    thread = f"mcp-bench:{uuid.uuid4().hex}"
    queue = services.events.open(thread)
    try:
        await services.engine.ask(thread, request)
        while not queue.empty():
            event = queue.get_nowait()
            if isinstance(event, AnswerReady):
                return
            if isinstance(event, RunFailed):
                raise RuntimeError(f"the run failed: {event.error}")
    finally:
        services.events.close(queue)
    raise RuntimeError("the run gave no answer")


def spread(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3)}


async def same_answers(gateway: GreenToolGateway) -> None:
    """Both ways give the same answer (MCP's as its structured content), or nothing is measured."""
    direct, mcp = await gateway.call(DIRECT, {"key": "k"}), await gateway.call(MCP, {"key": "k"})
    if mcp.get("structured") != direct:
        raise RuntimeError(f"the two ways answer differently: {direct!r} and {mcp!r}")


async def measure(calls: int, batch_count: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        async with two_ways(Path(folder)) as services:
            gateway = GreenToolGateway(services.registry, timeout_seconds=30)
            await same_answers(gateway)
            await one_at_a_time(gateway, 20)  # warm-up
            await through_the_engine(services, 2)
            single = await one_at_a_time(gateway, calls)
            together = await batches(gateway, batch_count)
            engine = await through_the_engine(services, requests)
    direct, mcp = spread(single[DIRECT]), spread(single[MCP])
    return {
        "mcp_call_overhead_ms": {k: round(mcp[k] - direct[k], 3) for k in ("p50", "p99")},
        "direct_call_ms": direct, "mcp_call_ms": mcp,
        "mcp_concurrent_overhead_ms_per_call": round(
            statistics.median(together[MCP]) - statistics.median(together[DIRECT]), 3),
        "mcp_engine_overhead_ms_per_call": round(
            (statistics.median(engine[MCP]) - statistics.median(engine[DIRECT])) / FAN_OUT, 3),
        "engine_request_ms": {"direct": round(statistics.median(engine[DIRECT]), 1),
                              "mcp": round(statistics.median(engine[MCP]), 1)},
        "calls": calls, "batches": batch_count, "requests": requests,
    }


async def main(quick: bool) -> dict[str, Any]:
    result = await measure(*((300, 40, 10) if quick else (2000, 200, 40)))
    print(f"one green tool, instant, called directly and through a FastMCP server over stdio; "
          f"{result['calls']} calls each way one at a time, {result['batches']} batches of {FAN_OUT}, "
          f"{result['requests']} requests of {FAN_OUT} parallel nodes")
    print(f"{'':<34}{'direct':>10}{'MCP':>10}{'overhead':>10}")
    for pct in ("p50", "p99"):
        print(f"{'one call, ' + pct + ' (ms)':<34}{result['direct_call_ms'][pct]:>10.3f}"
              f"{result['mcp_call_ms'][pct]:>10.3f}{result['mcp_call_overhead_ms'][pct]:>10.3f}")
    print(f"{'8 at once, per call (ms)':<34}{'':>20}{result['mcp_concurrent_overhead_ms_per_call']:>10.3f}")
    print(f"{'engine request, 8 nodes (ms)':<34}{result['engine_request_ms']['direct']:>10.1f}"
          f"{result['engine_request_ms']['mcp']:>10.1f}{result['mcp_engine_overhead_ms_per_call']:>10.3f}"
          " (per call)")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and requests, in a few seconds")
    asyncio.run(main(parser.parse_args().quick))
