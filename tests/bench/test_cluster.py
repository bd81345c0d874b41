"""The cluster benchmark on a small scale: three real ``dagbot serve`` replicas on one PostgreSQL
database, SIGKILLed and restarted while eight threads run, lose no run and run no red call twice.

Timings are the benchmark's business (``python -m bench.cluster``); this only checks the zeros.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster import ClusterConfig, run_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.mark.slow
async def test_killing_replicas_loses_no_run_and_repeats_no_red_call(postgres_server: str,
                                                                      tmp_path: Path) -> None:
    config = ClusterConfig(threads=8, kills=2, seed=11, server_url=postgres_server, stagger_s=14.0,
                           settle_s=90.0, lease_ttl_s=10.0, log_dir=tmp_path, verbose=False)
    figures, diagnosis = await run_cluster(config)  # (the flows end when answered: settle_s is
    # only how long a loaded machine may take before what is missing counts as lost)

    # the second kill is skipped when every run has finished before its time (a loaded machine)
    assert 1 <= figures["kills"] <= 2, diagnosis
    assert figures["kills_holding_threads"] >= 1, f"no kill hit a replica holding a thread: {figures}"
    assert figures["double_red_executions"] == 0, f"{figures}\n{diagnosis}"
    assert figures["red_executions"] <= 8, f"{figures}\n{diagnosis}"
    assert figures["lost_runs"] == 0, f"{figures}\n{diagnosis}"
    assert figures["runs_completed"] == 16, f"{figures}\n{diagnosis}"
    assert figures["red_executions"] == 8, f"{figures}\n{diagnosis}"
