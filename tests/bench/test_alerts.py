"""bench.alerts on a small scale: a storm of 20 alerts through the real Alertmanager into dagbot
(built in this process, on its own database) adds up: every group gets one thread, the storm
limit holds the runs back, every run started answers, every thread hears its group resolve.
Timings are the benchmark's business (``python -m bench.alerts``)."""

from __future__ import annotations

import json
import math

import pytest

from bench.alerts import QUICK, StormConfig, run_storm, storm_config
from tests.bot.test_alertmanager_real import alertmanager_binary

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

FIGURES = {"alerts", "groups", "routes", "runs_per_minute", "notifications", "outcomes", "hook_errors",
           "hook_ack_p50_ms", "hook_ack_p99_ms", "hook_ack_max_ms", "threads_opened", "runs_started",
           "follow_up_runs", "storm_limited", "storm_limited_groups", "threads_without_run", "answers", "model_calls",
           "model_calls_by_role", "slack_calls", "threads_resolved", "resolve_notifications",
           "resolve_ack_p99_ms", "storm_s", "resolve_s", "alertmanager_errors"}


def test_quick_is_the_small_storm_and_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    config = storm_config(["--quick", "--in-process", "--database-url", "postgresql://h/db"])
    assert (config.alerts, config.seconds, config.groups, config.runs_per_minute) == (
        QUICK.alerts, QUICK.seconds, QUICK.groups, QUICK.runs_per_minute)
    assert config.in_process and config.server_url == "postgresql://h/db"
    assert storm_config(["--runs-per-minute", "0"]).runs_per_minute == 0
    with pytest.raises(SystemExit):
        storm_config(["--alerts", "3", "--groups", "5"])
    assert "--alerts must be at least --groups" in capsys.readouterr().err


async def test_a_quick_storm_opens_a_thread_a_group_and_its_figures_add_up(postgres_url: str) -> None:
    alertmanager_binary()  # (skips where Alertmanager is not installed, fails in CI)
    config = StormConfig(**{**QUICK.__dict__, "database_url": postgres_url, "in_process": True})
    figures = await run_storm(config)

    assert set(figures) >= FIGURES, FIGURES - set(figures)
    assert json.loads(json.dumps(figures)) == figures  # (the JSON line)
    assert (figures["alerts"], figures["groups"]) == (20, 6)
    assert figures["hook_errors"] == 0 and figures["alertmanager_errors"] == 0, figures
    outcomes = figures["outcomes"]
    assert sum(outcomes.values()) == figures["notifications"] >= figures["groups"]
    # one thread a group, opened once however many notifications the group had
    assert figures["threads_opened"] == figures["groups"], figures
    # a run is started only by a notification that says so, and at most the storm limit allows
    started_by_hook = outcomes.get("opened", 0) + outcomes.get("followed_up", 0)
    minutes = math.ceil((figures["storm_s"] + figures["resolve_s"]) / 60)
    assert figures["runs_started"] <= figures["threads_opened"] + outcomes.get("followed_up", 0)
    assert started_by_hook <= figures["runs_started"] <= figures["routes"] * figures["runs_per_minute"] * minutes
    # (6 groups on 2 routes, 2 runs a route: two groups' threads open without one)
    assert 1 <= outcomes.get("opened", 0) <= figures["routes"] * figures["runs_per_minute"], figures
    assert figures["storm_limited"] > 0 and figures["storm_limited_groups"] > 0, figures
    # each thread opened with its run, or with its run held back (and none never had one unless held)
    assert outcomes.get("opened", 0) + figures["storm_limited_groups"] == figures["threads_opened"], figures
    assert figures["threads_without_run"] <= figures["storm_limited_groups"]
    # every run planned once and answered once
    assert figures["answers"] == figures["runs_started"]
    assert figures["model_calls_by_role"].get("plan") == figures["runs_started"], figures
    assert figures["model_calls_by_role"].get("joiner") == figures["runs_started"], figures
    assert figures["model_calls"] == sum(figures["model_calls_by_role"].values())
    # and every thread heard its group resolve
    assert figures["threads_resolved"] == figures["threads_opened"]
    assert figures["resolve_notifications"] >= figures["groups"]
    assert figures["hook_ack_p50_ms"] <= figures["hook_ack_p99_ms"] <= figures["hook_ack_max_ms"]
