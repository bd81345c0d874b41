"""Benchmark: an alert storm through a real Alertmanager into ``dagbot serve``.

    python -m bench.alerts [--quick] [--alerts N] [--seconds S] [--groups G]
                           [--runs-per-minute N] [--database-url URL] [--drain]

100 alerts (``--quick``: 20) are posted to Debian's real ``prometheus-alertmanager`` at an even
pace over 10 s (2 s), one at a time, dealt in turn to 20 alert groups (6) that two routes share
(bench/alerts_world.py). Alertmanager groups them by ``alertname`` and delivers each group to
the hook of one ``dagbot serve`` (the real console script, in a process of its own, on a fresh
PostgreSQL database), which posts to the emulated Slack (infra/emulators/slack/) and plans with
a stateless fake model over the OpenAI wire; the runs read a local site with ``http_get``.
Each new alert of a group reaches dagbot in the group's next notification (Alertmanager's
``group_interval``, 1 s here), so a group's thread gets follow-ups while the storm lasts, and
the storm limit (``DAGBOT_ALERTS_RUNS_PER_MINUTE``: 5, dagbot's default; ``--quick``: 2) holds
most of them back. Once every group's thread shows all its alerts and every run started has
answered (with ``--drain``: and every group's run the limit queued, about a minute later), all
the alerts end, and the benchmark waits for each thread to say so.

Every notification passes a recorder on its own thread that forwards it and times dagbot's
answer, which is what Alertmanager waits for (dagbot answers when the thread's message is
posted and its run has started, 5 s at most). The emulated Slack answers at once and without
rate limits, so the figure is dagbot's own time: with Slack's real latency add its round trips
(a root message and a status message for a group that opens a run).

Prints a summary, then one JSON line:
- hook_ack_p50_ms / hook_ack_p99_ms / hook_ack_max_ms: the storm's notifications (goal p99 ≤ 300,
  as for Slack's 3 s acks), and the median by what dagbot answered (hook_ack_p50_ms_by_outcome);
  resolve_ack_p99_ms: the notifications that ended the groups
- notifications, outcomes (what dagbot answered each: ``opened``, ``followed_up``, ``limited``…),
  hook_errors (answers other than 200/202)
- threads_opened (root messages), other_channel_messages (dagbot's other messages in the routes'
  channels: the storm limit's summaries), runs_started (status messages), follow_up_runs (runs in a
  thread after its first), storm_limited (notifications whose run the storm limit held back:
  queued, or not started at a limit of 0),
  storm_limited_groups (threads opened without a run: the limit held it back),
  threads_without_run (still none when the alerts ended), answers, threads_resolved
- model_calls (and by role), slack_calls, from the first alert to the last answer; storm_s (that
  long), drain_s (``--drain``: from then until every group's run had started and answered)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.alerts_app import Dagbot, dagbot_in_process, dagbot_process, dagbot_settings
from bench.alerts_world import (
    GROUP_INTERVAL_S,
    GROUP_WAIT_S,
    ROUTE_CHANNELS,
    Alertmanager,
    AlertModel,
    Delivery,
    HookRecorder,
    alertmanager_binary,
    group_names,
    routes_file,
    storm,
)
from bench.cluster_fakes import Site
from bench.common import percentile, scratch_database
from bot.views.wording import PHASE_TITLES
from infra.emulators.model_server import USAGE, ModelServer
from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import Message
from infra.operations.logging import configure_logging

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "bench-alerts-token-0123456789abcdef"
OK_ANSWERS = (200, 202)


@dataclass(frozen=True)
class StormConfig:
    alerts: int = 100
    seconds: float = 10.0
    groups: int = 20
    runs_per_minute: int = 5
    server_url: str = PG_URL
    """The PostgreSQL server the benchmark's database is created on (and dropped from)."""
    database_url: str | None = None
    """A database of dagbot's to use instead (e.g. a test's, migrated already), left as it is."""
    within_s: float = 120.0
    """How long each phase may take before the benchmark gives up, saying what it waited for."""
    in_process: bool = False
    """dagbot in the benchmark's process (bench/alerts_app.py) instead of ``dagbot serve``."""
    drain: bool = False
    """After the storm, wait until every group's queued run has started and answered (about a
    minute: the storm limit's window) before the alerts end."""


QUICK = StormConfig(alerts=20, seconds=2.0, groups=6, runs_per_minute=2)
"""``--quick``: a storm for the test suite, a few seconds long."""


def is_status(message: Message) -> bool:
    return message.is_from_bot and message.thread_ts is not None and any(
        text.startswith(title) for text, _ in message.versions for title in PHASE_TITLES.values())


def is_answer(message: Message) -> bool:
    return message.is_from_bot and ":stopwatch:" in message.content


class Storm:
    """The benchmark's world, and what it saw."""

    def __init__(self, config: StormConfig, slack: SlackServer, recorder: HookRecorder) -> None:
        self.config = config
        self.slack = slack
        self.recorder = recorder
        self.alerts = storm(config.alerts, config.groups)
        self.expected = {name: frozenset(a["labels"]["instance"] for a in self.alerts
                                         if a["labels"]["alertname"] == name)
                         for name in group_names(config.groups)}

    # -------------------------------------------------------------- what Slack shows

    def top_level(self) -> list[Message]:
        channels = set(ROUTE_CHANNELS.values())
        return [m for m in self.slack.messages
                if m.is_from_bot and m.thread_ts is None and m.channel in channels]

    def roots(self) -> list[Message]:
        """The groups' threads' root messages: those dagbot's answers name (not its other
        messages in the channels, such as the storm limit's summaries)."""
        named = {d.thread.rpartition(":")[2] for d in list(self.recorder.deliveries) if d.thread}
        return [m for m in self.top_level() if m.ts in named]

    def in_threads(self) -> list[Message]:
        return [m for m in self.slack.messages if m.is_from_bot and m.thread_ts is not None]

    def runs(self) -> list[Message]:
        return [m for m in self.in_threads() if is_status(m)]

    def answers(self) -> list[Message]:
        return [m for m in self.in_threads() if is_answer(m)]

    def resolved_threads(self) -> set[str]:
        return {m.thread_ts or "" for m in self.in_threads() if "*Resolved*" in m.content}

    # -------------------------------------------------------------- waiting

    async def wait(self, probe: Callable[[], bool], what: str, app: Dagbot,
                   missing: Callable[[], str] = lambda: "", within: float | None = None) -> None:
        """Until ``probe()``; fails after ``within`` (``within_s``) seconds saying ``what`` is
        ``missing()``."""
        deadline = time.monotonic() + (within or self.config.within_s)
        while not probe():
            if not app.alive:
                raise RuntimeError(f"dagbot exited while waiting for {what}\n{app.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench.alerts: timed out waiting for {what}: {missing()}\n{app.tail()}")
            await asyncio.sleep(0.05)

    def unresolved(self) -> str:
        threads = [m for m in self.roots() if m.ts not in self.resolved_threads()]
        return "; ".join(f"{m.channel}/{m.ts} says: " + " | ".join(
            r.content[:120] for r in self.slack.thread(m.channel, m.ts)[1:]) for m in threads)

    def delivered(self, notification: str) -> bool:
        """Every group's last notification of this kind (``firing``: with all its alerts) has
        been answered, and none is on its way."""
        shown: dict[str, frozenset[str]] = {}
        for delivery in list(self.recorder.deliveries):
            if delivery.notification == notification and delivery.status in OK_ANSWERS:
                shown[delivery.group] = shown.get(delivery.group, frozenset()) | delivery.firing
        if notification == "firing":
            done = all(shown.get(name, frozenset()) >= alerts for name, alerts in self.expected.items())
        else:
            done = set(shown) >= set(self.expected)
        return done and self.recorder.in_flight == 0

    def every_group_ran(self) -> bool:
        ran = {m.thread_ts for m in self.runs()}
        return all(m.ts in ran for m in self.roots())

    def settled(self) -> bool:
        return len(self.answers()) >= len(self.runs())


async def send(manager: Alertmanager, alerts: list[dict[str, Any]], seconds: float) -> float:
    """Post the alerts one at a time at an even pace over ``seconds``; returns how long it took."""
    started = time.monotonic()
    pace = seconds / max(1, len(alerts))
    for number, alert in enumerate(alerts):
        await asyncio.sleep(max(0.0, started + number * pace - time.monotonic()))
        await manager.post([alert])
    return time.monotonic() - started


async def run_storm(config: StormConfig) -> dict[str, Any]:
    """The whole benchmark: set up, the storm, its end; returns the figures."""
    binary = alertmanager_binary()
    workdir = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    async with AsyncExitStack() as stack:
        database_url = config.database_url or stack.enter_context(
            scratch_database(config.server_url, "dagbot_alerts"))
        slack = await stack.enter_async_context(
            SlackServer(channels={channel: route for route, channel in ROUTE_CHANNELS.items()}))
        site = Site()
        await site.start()
        stack.push_async_callback(site.stop)
        model = AlertModel(site.url)
        # (the planner's reply streamed as a whole, each call in one delta, as Ollama does)
        model.server = stack.enter_context(ModelServer(model, stream="whole", json_schema="ignore",
                                                       usage=USAGE, role=model.role_of))
        settings = dagbot_settings(slack, model.server.url, database_url, routes_file(workdir), TOKEN,
                                   config.runs_per_minute)
        app = await stack.enter_async_context(
            dagbot_in_process(settings) if config.in_process else dagbot_process(settings, workdir))
        recorder = HookRecorder(app.url)
        recorder.start()
        stack.callback(recorder.stop)
        manager = Alertmanager(binary, workdir, recorder.url, TOKEN)
        stack.push_async_callback(manager.stop)
        await manager.start()
        return await measure(Storm(config, slack, recorder), manager, recorder, app, model)


async def measure(world: Storm, manager: Alertmanager, recorder: HookRecorder, replica: Dagbot,
                  model: AlertModel) -> dict[str, Any]:
    assert model.server is not None
    calls_before, served_before = len(world.slack.calls), len(model.server.served)
    started = time.monotonic()
    sending = await send(manager, world.alerts, world.config.seconds)
    await world.wait(lambda: world.delivered("firing"), "every group's thread to show its alerts",
                     replica)
    await world.wait(world.settled, "every run started to answer", replica)
    storm_done = time.monotonic()
    drain_s = None
    if world.config.drain:  # (a minute a window of the storm limit: a window per limit's worth of runs)
        windows = math.ceil(world.config.groups / max(1, len(ROUTE_CHANNELS) * world.config.runs_per_minute))
        await world.wait(lambda: world.every_group_ran() and world.settled(),
                         "every group's queued run to start and answer", replica,
                         within=world.config.within_s + 60 * windows * 2)
        drain_s = time.monotonic() - storm_done
    during = list(recorder.deliveries)
    model_calls = Counter(served.role for served in model.server.served[served_before:])
    slack_calls = len(world.slack.calls) - calls_before

    ending = time.monotonic()
    await manager.post(world.alerts, ended=True)
    opened = {m.ts for m in world.roots()}
    await world.wait(lambda: world.resolved_threads() >= opened and world.delivered("resolved"),
                     "every thread to say its group resolved", replica, world.unresolved)
    resolving = [d for d in recorder.deliveries if d.at >= ending]
    return figures(world, during, resolving, sending=sending, model_calls=model_calls,
                   slack_calls=slack_calls, storm_s=storm_done - started, drain_s=drain_s,
                   resolve_s=time.monotonic() - ending, alertmanager_errors=len(manager.errors()))


def figures(world: Storm, during: list[Delivery], resolving: list[Delivery], *, sending: float,
            model_calls: Counter[str], slack_calls: int, storm_s: float, drain_s: float | None,
            resolve_s: float, alertmanager_errors: int) -> dict[str, Any]:
    acks = [d.ms for d in during]
    outcomes = Counter(d.outcome or f"http_{d.status}" for d in during)
    runs = world.runs()
    threads_with_runs = {m.thread_ts for m in runs}
    roots = world.roots()
    first: dict[str, str] = {}  # thread id → what dagbot answered the notification that opened it
    for delivery in sorted(during, key=lambda d: d.at):
        first.setdefault(delivery.thread, delivery.outcome)
    return {
        "bench": "alerts", "alerts": len(world.alerts), "send_s": round(sending, 2),
        "groups": world.config.groups, "routes": len(ROUTE_CHANNELS),
        "runs_per_minute": world.config.runs_per_minute,
        "alertmanager": {"group_by": ["alertname"], "group_wait_s": GROUP_WAIT_S,
                         "group_interval_s": GROUP_INTERVAL_S},
        "notifications": len(during), "outcomes": dict(sorted(outcomes.items())),
        "hook_errors": sum(1 for d in [*during, *resolving] if d.status not in OK_ANSWERS),
        "hook_ack_p50_ms": round(percentile(acks, 50), 1), "hook_ack_p99_ms": round(percentile(acks, 99), 1),
        "hook_ack_max_ms": round(max(acks, default=0.0), 1),
        "hook_ack_p50_ms_by_outcome": {
            outcome: round(percentile([d.ms for d in during if (d.outcome or f"http_{d.status}") == outcome],
                                      50), 1) for outcome in sorted(outcomes)},
        "threads_opened": len(roots), "other_channel_messages": len(world.top_level()) - len(roots),
        "runs_started": len(runs),
        "follow_up_runs": len(runs) - len(threads_with_runs),
        "storm_limited": outcomes.get("queued", 0) + outcomes.get("limited", 0),
        "storm_limited_groups": sum(1 for thread, outcome in first.items()
                                    if thread and outcome in ("queued", "limited")),
        "threads_without_run": sum(1 for m in roots if m.ts not in threads_with_runs),
        "answers": len(world.answers()),
        "model_calls": sum(model_calls.values()), "model_calls_by_role": dict(sorted(model_calls.items())),
        "slack_calls": slack_calls, "storm_s": round(storm_s, 2),
        "drain_s": None if drain_s is None else round(drain_s, 2),
        "resolve_notifications": len(resolving),
        "resolve_ack_p99_ms": round(percentile([d.ms for d in resolving], 99), 1),
        "threads_resolved": len(world.resolved_threads()), "resolve_s": round(resolve_s, 2),
        "alertmanager_errors": alertmanager_errors,
    }


def summary(result: dict[str, Any]) -> str:
    return "\n".join([
        f"{result['alerts']} alerts in {result['send_s']} s into {result['groups']} groups on "
        f"{result['routes']} routes (storm limit {result['runs_per_minute']} runs/route/min)",
        f"{result['notifications']} notifications: {result['outcomes']}; errors {result['hook_errors']}",
        f"hook ack          p50 {result['hook_ack_p50_ms']:7.1f} ms   p99 {result['hook_ack_p99_ms']:7.1f} ms"
        f"   max {result['hook_ack_max_ms']:7.1f} ms   (goal p99 <= 300)",
        f"threads opened {result['threads_opened']}, runs started {result['runs_started']} "
        f"({result['follow_up_runs']} follow-ups), {result['storm_limited_groups']} threads opened without "
        f"a run ({result['threads_without_run']} never had one); "
        f"{result['answers']} answers; {result['model_calls']} model calls, "
        f"{result['slack_calls']} Slack calls",
        f"resolved: {result['threads_resolved']} threads in {result['resolve_s']} s "
        f"(ack p99 {result['resolve_ack_p99_ms']} ms)",
    ])


def storm_config(argv: list[str] | None = None) -> StormConfig:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 alerts in 2 s, 6 groups, 2 runs/route/min")
    parser.add_argument("--alerts", type=int, default=None, help="alerts to send (default 100)")
    parser.add_argument("--seconds", type=float, default=None, help="over how long (default 10)")
    parser.add_argument("--groups", type=int, default=None, help="alert groups (default 20)")
    parser.add_argument("--runs-per-minute", type=int, default=None,
                        help="DAGBOT_ALERTS_RUNS_PER_MINUTE (default 5, dagbot's default)")
    parser.add_argument("--database-url", default=PG_URL,
                        help="the PostgreSQL server to create its database on")
    parser.add_argument("--drain", action="store_true",
                        help="before the alerts end, wait for every group's queued run (about a minute)")
    parser.add_argument("--in-process", action="store_true",
                        help="dagbot in this process, not `dagbot serve` (for the test: no timing)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else StormConfig()
    config = StormConfig(
        alerts=args.alerts or base.alerts, seconds=args.seconds or base.seconds,
        groups=args.groups or base.groups,
        runs_per_minute=base.runs_per_minute if args.runs_per_minute is None else args.runs_per_minute,
        server_url=args.database_url, in_process=args.in_process, drain=args.drain)
    if config.groups < 1 or config.alerts < config.groups:
        parser.error("--alerts must be at least --groups, and --groups at least 1")
    if config.runs_per_minute < 0:
        parser.error("--runs-per-minute cannot be negative")
    return config


def main(argv: list[str] | None = None) -> None:
    config = storm_config(argv)
    if config.in_process:  # (dagbot's log is this process's: its warnings only, as LOG_LEVEL says)
        configure_logging("WARNING")
    result = asyncio.run(run_storm(config))
    print(summary(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
