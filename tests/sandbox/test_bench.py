"""bench/sandbox.py: how many runs its figures are over, what it reports without a backend."""

from __future__ import annotations

from typing import Any

import pytest

from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway
from bench import sandbox as bench
from tests.sandbox.conftest import usable_backend


class CountingSandbox:
    """Answers at once: ``result = 1`` runs, and the bridge script's list of durations."""

    name = "counting"

    def __init__(self) -> None:
        self.codes: list[str] = []

    async def run(
        self, code: str, inputs: dict[str, Any], tools: ToolGateway, limits: SandboxLimits
    ) -> SandboxResult:
        self.codes.append(code)
        if code == "result = 1":
            return SandboxResult(ok=True, result=1)
        return SandboxResult(ok=True, result=[0.5] * limits.tool_calls)


@pytest.fixture
def no_state_run(monkeypatch: pytest.MonkeyPatch) -> None:
    async def sizes(sandbox: Any) -> dict[str, int]:
        return {"packaged_state_bytes": 1, "split_state_bytes": 2}

    monkeypatch.setattr(bench, "state_sizes", sizes)


@pytest.mark.parametrize("quick", [True, False])
async def test_cold_start_figures_are_over_20_runs_in_both_modes(
    quick: bool, no_state_run: None, capsys: pytest.CaptureFixture[str],
) -> None:
    docker, bwrap = CountingSandbox(), CountingSandbox()
    figures = await bench.main(quick, {"docker": (docker, None), "bwrap": (bwrap, None)})
    for backend in (docker, bwrap):
        assert backend.codes.count("result = 1") == 1 + 20  # one warm-up, then 20 timed runs
    assert "docker cold start" in capsys.readouterr().out
    assert figures["docker_start_p50_ms"] is not None and figures["bwrap_start_p95_ms"] is not None


async def test_an_unavailable_backend_reports_null_figures_and_its_reason(
    no_state_run: None, capsys: pytest.CaptureFixture[str],
) -> None:
    bwrap = CountingSandbox()
    figures = await bench.main(True, {"docker": (None, "no Docker engine answers"),
                                      "bwrap": (bwrap, None)})
    for key in ("docker_start_p50_ms", "docker_start_p95_ms", "docker_bridge_p50_ms"):
        assert key in figures and figures[key] is None
    assert figures["bwrap_start_p50_ms"] is not None
    assert figures["packaged_state_bytes"] == 1
    assert "docker: unavailable: no Docker engine answers" in capsys.readouterr().out


async def test_with_no_backend_every_figure_is_null(capsys: pytest.CaptureFixture[str]) -> None:
    figures = await bench.main(True, {"docker": (None, "no engine"), "bwrap": (None, "no bwrap")})
    assert figures == {
        "docker_start_p50_ms": None, "docker_start_p95_ms": None, "docker_bridge_p50_ms": None,
        "bwrap_start_p50_ms": None, "bwrap_start_p95_ms": None, "bwrap_bridge_p50_ms": None,
        "bwrap_cgroup_p50_ms": None, "docker_orphan_stop_s": None, "bridge_roundtrip_p50_ms": None,
        "packaged_state_bytes": None, "split_state_bytes": None,
    }
    out = capsys.readouterr().out
    assert "bwrap: unavailable: no bwrap" in out and "docker: unavailable: no engine" in out


@pytest.mark.slow
async def test_the_state_size_figures_compare_the_same_work() -> None:
    """Packaged and split both fetch the 1 MB page and count its words (state_sizes raises
    if their counts differ); only the split run carries the page in the engine's state."""
    sizes = await bench.state_sizes(usable_backend("bwrap-hostfs"))
    assert sizes["packaged_state_bytes"] < 50_000, sizes
    assert sizes["split_state_bytes"] > 900_000, sizes


def test_the_cgroup_cost_is_measured_for_bwrap_only() -> None:
    costs = bench.cgroup_costs(usable_backend("bwrap"), 3)
    assert costs is not None and len(costs) == 3
    assert bench.cgroup_costs(CountingSandbox(), 3) is None


@pytest.mark.docker
def test_the_orphan_stop_is_measured_for_docker_only() -> None:
    stops = bench.orphan_stops(usable_backend("docker"), 1)
    assert stops is not None and len(stops) == 1  # it raises if the container ran on
    assert bench.orphan_stops(CountingSandbox(), 1) is None
