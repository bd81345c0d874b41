"""bench.e2e's MCP mode on a small scale: the tool served by a FastMCP server over stdio and
registered directly give the same answers, through the gateway and the engine, and the figures
are all there. What they are is the benchmark's business (``python -m bench.e2e --mcp``)."""

from __future__ import annotations

import pytest

from bench.e2e_mcp import measure

pytestmark = pytest.mark.timeout(120)


async def test_both_ways_answer_and_every_figure_is_given() -> None:
    result = await measure(calls=4, batch_count=2, requests=1)
    assert set(result["mcp_call_overhead_ms"]) == {"p50", "p99"}
    assert set(result["direct_call_ms"]) == set(result["mcp_call_ms"]) == {"p50", "p99"}
    for key in ("mcp_concurrent_overhead_ms_per_call", "mcp_engine_overhead_ms_per_call"):
        assert isinstance(result[key], float)
    assert (result["calls"], result["batches"], result["requests"]) == (4, 2, 1)
