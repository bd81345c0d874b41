"""Benchmark: three replicas of ``dagbot serve`` on one PostgreSQL database, under SIGKILL chaos.

    python -m bench.cluster [--quick] [--threads N] [--kills N] [--seed N] [--database-url URL]
                            [--lease-ttl S] [--keep-database]

Three processes of the real console script share a fresh PostgreSQL database (created on the
server of ``--database-url``, dropped at the end unless --keep-database), the emulated Slack
(infra/emulators/slack/), a stateless fake model (bench/cluster_fakes.py) and a local website
whose ``/slow`` pages keep green nodes busy for 0.3-1.5 s.

Each of the N threads: ``/agent`` → 2-3 green ``http_get`` nodes and a red ``http_post`` to the
sink → a person clicks Approve 0.2-1.5 s after the approval shows up → the answer → a follow-up
in the thread (a mention: Slack's ``message`` and ``app_mention`` twins) → green nodes only → its
answer. Threads start staggered; every request goes to a random live replica, and one that
cannot connect is retried on another, as a load balancer does. Meanwhile, every 3-6 s, a random
replica (one holding a thread, if one does within 2 s) is killed with SIGKILL and restarted
0.5-1 s later on the same port, a bounded number of times (8; --quick 3), while threads run.
Right before each kill the benchmark reads which threads the victim holds (``thread_leases``)
and times how long until each is held by someone else or let go: the failover time.

Prints a table, then one JSON line; ``lost_runs`` (accepted, never answered by the deadline) and
``double_red_executions`` (red POSTs beyond the first, per thread) must be 0, and
``failover_p99_s`` should be <= 2. ``approval_to_start_*_under_chaos``: from a click's HTTP 200
to the sink receiving that thread's POST. ``runs_per_minute``: runs answered (first runs and
follow-ups) per minute from the first request to the last answer; the threads arrive over 60 s
(--quick: 20 s), so it says whether the cluster keeps up under chaos, not how fast it can go.
``duplicate_answers`` (an answer posted twice) and ``approvals_asked_again`` are reported too.

The replicas' logs, ``report.txt`` (every kill, every thread's timeline: which replica took
each request, when) and ``figures.json`` stay in a temporary directory (``logs`` in the JSON);
when something is lost, what went wrong and the tail of each log are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import math
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.cluster_fakes import FOLLOW_UP, FakeModel, Site, answer_marker
from bench.cluster_replicas import (
    Lease,
    Leases,
    Replica,
    create_database,
    drop_database,
    stop_all,
)
from bench.common import free_port, percentile
from infra.emulators.slack.driver import SlackDriver
from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import Message

SECRET = "bench-cluster-signing-secret"
CHANNEL = "C0OPS"
DEFAULT_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HUMAN = (0.2, 1.5)
"""Seconds between an approval appearing and its click."""
KILL_GAP = (3.0, 6.0)
RESTART_DELAY = (0.5, 1.0)
AIM_S = 2.0
"""A kill waits up to this long for a replica that holds a thread."""
ROOT = re.compile(r"bench (t\d{3}) try (\d+)")
FOREIGN_SETTINGS = ("DAGBOT_", "SLACK_", "OPENAI_", "SMTP_", "SANDBOX_", "DATABASE_URL", "PORT", "LOG_LEVEL")


@dataclass
class ClusterConfig:
    threads: int = 60
    kills: int = 8
    replicas: int = 3
    seed: int = 7
    server_url: str = DEFAULT_SERVER
    """The PostgreSQL server: the benchmark makes (and drops) a database of its own there."""
    stagger_s: float = 60.0
    """Threads start spread over this many seconds."""
    settle_s: float = 120.0
    """After the last thread started, how long the flows may take before what is missing counts as lost."""
    lease_ttl_s: float | None = None
    """DAGBOT_LEASE_TTL for the replicas (None: dagbot's default)."""
    event_retry_delays_s: tuple[float, ...] = (0.0, 6.0, 15.0)
    """Slack retries an event that got no 200 nearly at once, then after 1 and 5 minutes; the
    benchmark scales the later two down (and the replicas' DAGBOT_CLAIM_RETAKE with them)."""
    claim_retake_s: float = 5.0
    log_dir: Path | None = None
    keep_database: bool = False
    """Leave the database for a post-mortem (its URL is ``database`` in the JSON)."""
    verbose: bool = True
    handle_signals: bool = False
    """SIGINT/SIGTERM stop the benchmark (and every replica). The fake servers' uvicorn takes
    these signals over as it starts, so they are taken back once it has."""

    @classmethod
    def quick(cls, **overrides: Any) -> ClusterConfig:
        values: dict[str, Any] = {"threads": 16, "kills": 3, "stagger_s": 20.0, "settle_s": 45.0}
        values.update(overrides)
        return cls(**values)


def rounded(value: float, digits: int = 1) -> float | None:
    return None if math.isnan(value) else round(value, digits)


# ------------------------------------------------------------------ the load balancer


class Undelivered(Exception):
    """The request reached a replica that died before answering (the sender cannot tell
    whether it was handled)."""


class BalancedDriver(SlackDriver):
    """Slack's side, sending each request to a random live replica; a replica that refuses
    the connection is skipped and the request goes to another one, as a load balancer does."""

    def __init__(self, slack: SlackServer, replicas: list[Replica], rng: random.Random) -> None:
        super().__init__(slack, replicas[0].url, SECRET)
        self.replicas = replicas
        self.rng = rng
        self.connect_retries = 0
        self.undelivered = 0

    def replica_of(self, response: httpx.Response) -> Replica:
        port = response.request.url.port
        return next(r for r in self.replicas if r.port == port)

    async def send(self, body: str, content_type: str, *, timestamp: int | None = None,
                   signature: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = signature or self.verifier.generate_signature(timestamp=stamp, body=body) or ""
        request_headers: dict[str, str] = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": signed, **(headers or {})}
        deadline = time.monotonic() + 60
        refused: set[str] = set()
        while True:
            candidates = [r for r in self.replicas if r.alive and r.name not in refused]
            if not candidates:
                if time.monotonic() > deadline:
                    raise Undelivered("no replica answered for 60 s")
                refused.clear()
                await asyncio.sleep(0.1)
                continue
            replica = self.rng.choice(candidates)
            try:
                return await self.http.post(f"{replica.url}/slack/events", content=body.encode(),
                                            headers=request_headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                self.connect_retries += 1
                refused.add(replica.name)
            except httpx.TransportError as exc:
                self.undelivered += 1
                raise Undelivered(f"{replica.name}: {type(exc).__name__}") from exc


# ------------------------------------------------------------------ one thread's flow


@dataclass
class Flow:
    number: int
    key: str
    user: str
    root_ts: str | None = None
    first_accepted_by: str | None = None
    first_accepted_at: float | None = None
    first_answered_at: float | None = None
    follow_accepted_at: float | None = None
    follow_answered_at: float | None = None
    approve_ok_at: float | None = None
    """When the first Approve click got its HTTP 200 (``time.monotonic()``)."""
    approvals_seen: int = 0
    reasks_rejected: int = 0
    attempts: int = 0
    handled: set[str] = field(default_factory=set)
    """Approval messages already decided (by ts)."""
    problems: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    """What happened to it, when (seconds since the chaos began) and through which replica."""

    @property
    def lost(self) -> list[str]:
        lost = []
        if self.first_accepted_at is not None and self.first_answered_at is None:
            lost.append("first")
        if self.follow_accepted_at is not None and self.follow_answered_at is None:
            lost.append("follow-up")
        return lost


def is_approval(message: Message) -> bool:
    return message.is_from_bot and message.versions[0][0].startswith("Approval needed")


def is_answer(message: Message) -> bool:
    return message.is_from_bot and ":stopwatch:" in message.content


@dataclass
class Kill:
    replica: str
    incarnation: int
    at: float
    held: list[str]
    running: list[str] = field(default_factory=list)
    """Of ``held``: threads whose run was under way (the rest: finished ones a recovery pass
    was looking at)."""
    failovers: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    restarted_after_s: float = math.nan


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.slack = SlackServer()
        self.site = Site()
        self.model: FakeModel | None = None
        self.replicas: list[Replica] = []
        self.driver: BalancedDriver | None = None
        self.leases: Leases | None = None
        self.database_url: str | None = None
        self.flows: list[Flow] = []
        self.kills: list[Kill] = []
        self.roots: dict[tuple[str, int], Message] = {}
        self._scanned = 0
        self.holders: dict[str, tuple[str, int]] = {}
        """Learned holder → (replica, incarnation), while holders do not name their replica."""
        self.prefixed = False
        """Some holder was seen named ``<replica>:…``."""
        self.watching: set[str] = set()
        """Threads whose failover an earlier kill is still timing."""
        self.t0 = 0.0
        self.deadline = 0.0
        self.flows_done_at = 0.0
        self.log_dir = config.log_dir or Path(tempfile.mkdtemp(prefix="bench-cluster-"))

    def say(self, text: str) -> None:
        if self.config.verbose:
            print(f"[{time.monotonic() - self.t0:7.2f}s] {text}" if self.t0 else text, file=sys.stderr,
                  flush=True)

    def thread_id(self, root_ts: str) -> str:
        return f"slack:{self.slack.team}:{CHANNEL}:{root_ts}"

    # -------------------------------------------------------------- set-up

    def replica_env(self) -> dict[str, str]:
        assert self.model is not None and self.database_url is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_SETTINGS)}
        env.update({
            "DATABASE_URL": self.database_url, "SLACK_BOT_TOKEN": self.slack.token,
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": self.slack.base_url,
            "OPENAI_BASE_URL": self.model.url, "OPENAI_API_KEY": "sk-bench", "DAGBOT_MODEL": "bench-model",
            "DAGBOT_HTTP_ALLOW_HOSTS": "127.0.0.1", "LOG_LEVEL": "INFO",
        })
        if self.config.lease_ttl_s is not None:
            env["DAGBOT_LEASE_TTL"] = str(self.config.lease_ttl_s)
        env["DAGBOT_CLAIM_RETAKE"] = str(self.config.claim_retake_s)
        return env

    async def start(self) -> None:
        await self.slack.__aenter__()
        await self.site.start()
        self.model = FakeModel(self.site.url)
        await self.model.start()
        self.database_url = await create_database(self.config.server_url)
        env = self.replica_env()
        self.replicas = [Replica(f"r{i + 1}", free_port(), env, self.log_dir / f"r{i + 1}.log")
                         for i in range(self.config.replicas)]
        for replica in self.replicas:
            replica.start()
        await asyncio.gather(*(r.wait_until("/healthz", 90) for r in self.replicas))
        self.leases = Leases(self.database_url)
        await self.leases.open()
        self.driver = BalancedDriver(self.slack, self.replicas, random.Random(self.config.seed + 1))

    def stop_replicas(self) -> None:
        stop_all(self.replicas)

    async def stop(self) -> None:
        self.stop_replicas()
        if self.driver is not None:
            await self.driver.close()
        if self.leases is not None:
            await self.leases.close()
        if self.model is not None:
            await self.model.stop()
        await self.site.stop()
        await self.slack.__aexit__(None, None, None)
        if self.database_url is not None and not self.config.keep_database:
            with contextlib.suppress(Exception):
                await drop_database(self.config.server_url, self.database_url)

    # -------------------------------------------------------------- watching Slack

    def scan_roots(self) -> None:
        for message in self.slack.messages[self._scanned:]:
            if message.is_from_bot and message.thread_ts is None:
                found = ROOT.search(message.content)
                if found:
                    self.roots.setdefault((found.group(1), int(found.group(2))), message)
        self._scanned = len(self.slack.messages)

    async def until(self, probe: Callable[[], Any], poll: float = 0.05) -> Any:
        """Poll ``probe`` until it gives something, or None at the deadline."""
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > self.deadline:
                return None
            await asyncio.sleep(poll)

    def thread(self, flow: Flow) -> list[Message]:
        assert flow.root_ts is not None
        return self.slack.thread(CHANNEL, flow.root_ts)

    def first_approval(self, flow: Flow) -> str | None:
        return next((m.ts for m in self.thread(flow) if is_approval(m)), None)

    def answered(self, flow: Flow, follow_up: bool) -> bool:
        marker = answer_marker(flow.key, follow_up)
        return any(is_answer(m) and marker in m.content for m in self.thread(flow))

    # -------------------------------------------------------------- a person's side

    def note(self, flow: Flow, text: str) -> None:
        flow.timeline.append(f"{time.monotonic() - self.t0:7.2f}s {text}")

    def via(self, response: httpx.Response) -> str:
        assert self.driver is not None
        replica = self.driver.replica_of(response)
        return f"{replica.name}#{replica.incarnation}"

    async def flow(self, flow: Flow, start_in: float) -> None:
        assert self.driver is not None
        self.slack.add_user(flow.user, f"person{flow.number}")
        await asyncio.sleep(start_in)
        for attempt in (1, 2, 3):  # a command that fails in Slack's hands is sent again by its person
            flow.attempts = attempt
            try:
                response = await self.driver.slash(flow.user, CHANNEL,
                                                   f"bench {flow.key} try {attempt}: read the sites, then "
                                                   "post the report")
            except Undelivered as exc:
                flow.problems.append(f"/agent try {attempt} undelivered ({exc})")
                self.note(flow, f"/agent try {attempt} undelivered ({exc})")
                continue
            self.note(flow, f"/agent try {attempt} → HTTP {response.status_code} from {self.via(response)}")
            if response.status_code == 200:
                flow.first_accepted_at = time.monotonic()
                flow.first_accepted_by = self.via(response)
                break
            flow.problems.append(f"/agent try {attempt}: HTTP {response.status_code}")
        else:
            return
        root = await self.until(lambda: self.roots.get((flow.key, flow.attempts)))
        if root is None:
            flow.problems.append("no root message")
            return
        flow.root_ts = root.ts
        self.note(flow, f"root {root.ts}")
        if not await self.run_to_answer(flow, follow_up=False):
            return
        flow.first_answered_at = time.monotonic()
        self.note(flow, "first answer")
        if await self.follow_up(flow):
            flow.follow_accepted_at = time.monotonic()
            if await self.run_to_answer(flow, follow_up=True):
                flow.follow_answered_at = time.monotonic()
                self.note(flow, "follow-up answer")

    async def run_to_answer(self, flow: Flow, *, follow_up: bool) -> bool:
        """Wait for the run's answer, deciding each approval that shows up meanwhile."""
        deciding: list[asyncio.Task[None]] = []
        try:
            while not self.answered(flow, follow_up):
                if time.monotonic() > self.deadline:
                    return False
                for message in self.thread(flow):
                    if is_approval(message) and message.ts not in flow.handled:
                        flow.handled.add(message.ts)
                        flow.approvals_seen += 1
                        self.note(flow, f"approval {message.ts} shown")
                        deciding.append(asyncio.create_task(self.decide(flow, message)))
                await asyncio.sleep(0.05)
            return True
        finally:
            for task in deciding:
                if not task.done():
                    task.cancel()

    async def decide(self, flow: Flow, approval: Message) -> None:
        """A person reads, then approves; an approval asked again after the red call already
        reached the sink (an unknown outcome) is rejected: the person checked, it happened."""
        assert self.driver is not None
        await asyncio.sleep(self.rng.uniform(*HUMAN))
        if self.site.red.get(flow.key):
            flow.reasks_rejected += 1
            self.note(flow, f"rejecting {approval.ts}: the sink already has the red call")
            await self.reject(flow, approval)
            return
        for _ in range(3):
            try:
                response = await self.driver.click(flow.user, approval, "Approve")
            except Undelivered as exc:
                flow.problems.append(f"Approve click undelivered ({exc})")
                self.note(flow, f"Approve undelivered ({exc})")
                continue
            self.note(flow, f"Approve → HTTP {response.status_code} from {self.via(response)}")
            if response.status_code == 200:
                if flow.approve_ok_at is None:
                    flow.approve_ok_at = time.monotonic()
                return
            flow.problems.append(f"Approve click: HTTP {response.status_code}")
        flow.problems.append("Approve never delivered")

    def view_opened_by(self, trigger: str) -> dict[str, Any] | None:
        return next((v for v in self.slack.views if v.get("_trigger") == trigger), None)

    async def reject(self, flow: Flow, approval: Message) -> None:
        assert self.driver is not None
        for _ in range(3):
            payload = self.driver.block_action(flow.user, approval, approval.button("Reject"))
            trigger = payload["trigger_id"]
            try:
                await self.driver.send_payload(payload)
                view = await self.until(partial(self.view_opened_by, trigger))
                if view is None:
                    return
                await self.driver.submit_view(flow.user, view, {"reason": {"reason": "it already ran"}})
                return
            except Undelivered:
                continue

    async def follow_up(self, flow: Flow) -> bool:
        """A reply mentioning the bot: Slack sends it twice (``message`` and ``app_mention``)
        and retries each delivery that fails. Accepted if either twin got an HTTP 200."""
        assert self.driver is not None and flow.root_ts is not None
        text = f"<@{self.slack.bot_user}> {FOLLOW_UP} {flow.key}: read the sites again"
        message = self.slack.post_as_user(CHANNEL, flow.user, text, flow.root_ts)
        accepted = False
        for kind in ("message", "app_mention"):
            event_id = f"Ev{flow.key}{kind}"
            for retry in range(1 + len(self.config.event_retry_delays_s)):
                if retry:
                    await asyncio.sleep(self.config.event_retry_delays_s[retry - 1])
                try:
                    response = await self.driver.event(self.driver.message_event(message, kind),
                                                       event_id=event_id, retry_num=retry or None)
                except Undelivered as exc:
                    flow.problems.append(f"follow-up {kind} delivery {retry} undelivered ({exc})")
                    self.note(flow, f"follow-up {kind} delivery {retry} undelivered ({exc})")
                    continue
                self.note(flow, f"follow-up {kind} {message.ts} → HTTP {response.status_code} "
                                f"from {self.via(response)}")
                if response.status_code == 200:
                    accepted = True
                    break
                flow.problems.append(f"follow-up {kind}: HTTP {response.status_code}")
        return accepted

    # -------------------------------------------------------------- chaos

    def victim_holds(self, victim: Replica, leases: dict[str, Lease]) -> list[str]:
        """The threads the victim holds right now (a live lease naming it)."""
        now = datetime.now(UTC)
        held = []
        for lease in leases.values():
            if lease.holder is None or lease.thread_id in self.watching:
                continue
            if lease.expires_at is not None and lease.expires_at <= now:
                continue
            if self.prefixed:
                mine = lease.holder.startswith(f"{victim.name}:")
            else:
                mine = self.holders.get(lease.holder) == (victim.name, victim.incarnation)
            if mine:
                held.append(lease.thread_id)
        return held

    async def learn_holders(self) -> None:
        """While holders do not name their replica: a new thread's first holder is the replica
        that accepted its /agent (it takes the lease as it submits the run)."""
        assert self.leases is not None
        while True:
            self.scan_roots()
            leases = await self.leases.read()
            if any(lease.holder and re.match(r"r\d+:", lease.holder) for lease in leases.values()):
                self.prefixed = True
            by_thread = {self.thread_id(f.root_ts): f for f in self.flows if f.root_ts}
            for lease in leases.values():
                flow = by_thread.get(lease.thread_id)
                if lease.holder and lease.holder not in self.holders and flow and flow.first_accepted_by \
                        and flow.first_accepted_at and time.monotonic() - flow.first_accepted_at < 3:
                    name, incarnation = flow.first_accepted_by.split("#")
                    self.holders[lease.holder] = (name, int(incarnation))
            await asyncio.sleep(0.1)

    def running(self) -> set[str]:
        """Threads with a run under way as their person sees it: accepted, not answered yet."""
        return {self.thread_id(f.root_ts) for f in self.flows if f.root_ts and (
            (f.first_accepted_at and not f.first_answered_at)
            or (f.follow_accepted_at and not f.follow_answered_at))}

    async def pick_victim(self, done: asyncio.Event) -> tuple[Replica, list[str]]:
        """A random replica among those holding a thread with a run under way (else among
        those holding any thread: a replica that starts resumes finished threads too, briefly);
        when none holds any, wait up to ``AIM_S`` for one to (killing an idle replica measures
        no failover)."""
        assert self.leases is not None
        give_up = time.monotonic() + AIM_S
        while True:
            leases = await self.leases.read()
            holding = [(r, held) for r in self.replicas if r.alive
                       for held in [self.victim_holds(r, leases)] if held]
            running = self.running()
            busy = [(r, held) for r, held in holding if running.intersection(held)]
            if busy or (holding and time.monotonic() > give_up):
                return self.rng.choice(busy or holding)
            if time.monotonic() > give_up or done.is_set():
                victim = self.rng.choice([r for r in self.replicas if r.alive])
                return victim, []
            await asyncio.sleep(0.1)

    async def chaos(self, done: asyncio.Event) -> None:
        assert self.leases is not None
        timers: list[asyncio.Task[None]] = []
        next_at = time.monotonic() + self.rng.uniform(*KILL_GAP)
        while len(self.kills) < self.config.kills and not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), max(0.0, next_at - time.monotonic()))
            if done.is_set():
                break
            victim, held = await self.pick_victim(done)
            incarnation = victim.incarnation
            victim.kill()
            kill = Kill(victim.name, incarnation, time.monotonic(), held,
                        running=sorted(self.running().intersection(held)))
            self.kills.append(kill)
            baseline = await self.leases.read(held) if held else {}
            self.watching.update(held)
            self.say(f"SIGKILL {victim.name}#{incarnation}, holding {len(held)} thread(s), "
                     f"{len(kill.running)} of them mid-run")
            timers.append(asyncio.create_task(self.time_failover(kill, baseline)))
            await asyncio.sleep(self.rng.uniform(*RESTART_DELAY))
            victim.start()
            await victim.wait_until("/livez", 90)
            kill.restarted_after_s = time.monotonic() - kill.at
            next_at = kill.at + self.rng.uniform(*KILL_GAP)
        await asyncio.gather(*timers)

    async def time_failover(self, kill: Kill, baseline: dict[str, Lease]) -> None:
        """Until each thread the victim held is held by someone else, or let go."""
        assert self.leases is not None
        pending = set(kill.held)
        while pending and time.monotonic() < self.deadline:
            now_rows = await self.leases.read(sorted(pending))
            for thread_id in sorted(pending):
                row, before = now_rows.get(thread_id), baseline.get(thread_id)
                if row is None or before is None or (row.holder, row.expires_at) != (before.holder,
                                                                                    before.expires_at):
                    kill.failovers[thread_id] = time.monotonic() - kill.at
                    pending.discard(thread_id)
                    self.watching.discard(thread_id)
            await asyncio.sleep(0.05)
        kill.missing = sorted(pending)
        self.watching.difference_update(pending)

    # -------------------------------------------------------------- the run

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        await self.start()
        if self.config.handle_signals:
            loop, task = asyncio.get_running_loop(), asyncio.current_task()
            assert task is not None
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, task.cancel)
        self.say(f"{len(self.replicas)} replicas ready in {time.monotonic() - started:.1f} s; "
                 f"logs in {self.log_dir}")
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.config.stagger_s + self.config.settle_s
        self.flows = [Flow(n, f"t{n:03d}", f"U0T{n:03d}") for n in range(1, self.config.threads + 1)]
        offsets = sorted(self.rng.uniform(0, self.config.stagger_s) for _ in self.flows)
        done = asyncio.Event()
        learner = asyncio.create_task(self.learn_holders())
        chaos = asyncio.create_task(self.chaos(done))
        flows = [asyncio.create_task(self.flow(f, o)) for f, o in zip(self.flows, offsets, strict=True)]
        try:
            await asyncio.gather(*flows)
            self.flows_done_at = time.monotonic()
            done.set()
            await chaos
        finally:
            for task in (*flows, chaos, learner):
                task.cancel()
            await asyncio.gather(*flows, chaos, learner, return_exceptions=True)
        self.flows_done_at = self.flows_done_at or time.monotonic()
        figures = self.figures(time.monotonic() - started)
        return figures

    def figures(self, wall_s: float) -> dict[str, Any]:
        assert self.driver is not None
        chaos_s = self.flows_done_at - self.t0
        answered = [at for f in self.flows for at in (f.first_answered_at, f.follow_answered_at) if at]
        completed = len(answered)
        busy_s = max(answered, default=self.t0) - self.t0  # a lost run would stretch chaos_s to the deadline
        failovers = [s for k in self.kills for s in k.failovers.values()]
        of_runs = [s for k in self.kills for t, s in k.failovers.items() if t in k.running]
        to_start, slowest = [], []
        for flow in self.flows:
            arrivals = self.site.red.get(flow.key)
            if flow.approve_ok_at is not None and arrivals:
                to_start.append((arrivals[0] - flow.approve_ok_at) * 1000)
                slowest.append((to_start[-1], flow.key))
        slowest.sort(reverse=True)
        duplicate_answers = sum(self.duplicates(f) for f in self.flows)
        other_answers = [f"{flow.key}: {m.content[:160]!r}" for flow in self.flows if flow.root_ts
                         for m in self.thread(flow) if is_answer(m) and flow.key not in m.content]
        lost = [(f.key, part) for f in self.flows for part in f.lost]
        return {
            "bench": "cluster", "replicas": len(self.replicas), "threads": len(self.flows),
            "kills": len(self.kills), "kills_holding_threads": sum(1 for k in self.kills if k.held),
            "kills_hitting_runs": sum(1 for k in self.kills if k.running),
            "runs_accepted": sum(1 for f in self.flows for at in (f.first_accepted_at, f.follow_accepted_at)
                                 if at),
            "runs_completed": completed, "lost_runs": len(lost),
            "lost": [f"{key} {part}" for key, part in lost],
            "never_accepted": sum(1 for f in self.flows if f.first_accepted_at is None),
            "double_red_executions": self.site.double_executions(),
            "red_executions": sum(len(v) for v in self.site.red.values()),
            "duplicate_answers": duplicate_answers, "other_answers": other_answers,
            "approvals_asked_again": sum(max(0, f.approvals_seen - 1) for f in self.flows),
            "asked_again_as_unknown_outcome": sum(
                1 for f in self.flows if f.root_ts for m in self.thread(f)[1:]
                if is_approval(m) and "outcome is" in m.content and m.ts != self.first_approval(f)),
            "reasks_rejected": sum(f.reasks_rejected for f in self.flows),
            "failovers": len(failovers),
            "failover_p50_s": rounded(percentile(failovers, 50), 2),
            "failover_p99_s": rounded(percentile(failovers, 99), 2),
            "failover_max_s": rounded(max(failovers), 2) if failovers else None,
            "failovers_missing": sum(len(k.missing) for k in self.kills),
            "failovers_mid_run": len(of_runs),
            "failover_mid_run_p99_s": rounded(percentile(of_runs, 99), 2),
            "holder_mapping": "prefix" if self.prefixed else "learned",
            "approval_to_start_p50_ms_under_chaos": rounded(percentile(to_start, 50)),
            "approval_to_start_p99_ms_under_chaos": rounded(percentile(to_start, 99)),
            "approval_to_start_slowest": [f"{key} {ms:.0f} ms" for ms, key in slowest[:5]],
            "runs_per_minute": round(completed / (busy_s / 60), 1) if busy_s > 0 else None,
            "connect_retries": self.driver.connect_retries, "undelivered": self.driver.undelivered,
            "llm_calls": dict(self.model.calls) if self.model else {},
            "chaos_s": round(chaos_s, 1), "wall_s": round(wall_s, 1), "logs": str(self.log_dir),
            **({"database": self.database_url} if self.config.keep_database else {}),
        }

    def duplicates(self, flow: Flow) -> int:
        if flow.root_ts is None:
            return 0
        answers = [m.content for m in self.thread(flow) if is_answer(m)]
        return sum(max(0, sum(answer_marker(flow.key, f) in a for a in answers) - 1) for f in (False, True))

    def report(self, everything: bool) -> str:
        """The kills, then each flow that went wrong (``everything``: each flow) with its timeline
        and its thread as Slack shows it."""
        lines = [f"kill of {k.replica}#{k.incarnation} at {k.at - self.t0:.2f}s, back after "
                 f"{k.restarted_after_s:.1f} s; held {len(k.held)}: "
                 + ", ".join(f"{t.rsplit(':', 1)[1]}{'*' if t in k.running else ''} {s:.2f}s"
                             for t, s in k.failovers.items())
                 + (f"; never failed over: {k.missing}" if k.missing else "") for k in self.kills]
        lines.insert(0, "(root ts of each thread the victim held, * if a run was under way: time until "
                        "another replica held it or it was let go)")
        for flow in self.flows:
            if everything or flow.lost or flow.problems or self.duplicates(flow):
                thread = self.thread_id(flow.root_ts) if flow.root_ts else "(no root)"
                lines.append(f"{flow.key} {thread} lost: {flow.lost}; duplicate answers: "
                             f"{self.duplicates(flow)}; problems: {flow.problems}")
                lines += [f"  {line}" for line in flow.timeline]
                lines += [f"  {at - self.t0:7.2f}s red POST reached the sink"
                          for at in self.site.red.get(flow.key, [])]
                if flow.root_ts:
                    for message in self.thread(flow):
                        lines.append(f"    {'bot ' if message.is_from_bot else 'user'} {message.ts} "
                                     f"{message.content[:500]!r}")
        return "\n".join(lines)

    def diagnose(self) -> str:
        """What went wrong, and the tail of each replica's log."""
        lines = [self.report(everything=False)]
        for replica in self.replicas:
            lines.append(f"----- {replica.log_path} (tail)\n{replica.tail(60)}")
        return "\n".join(lines)


async def run_cluster(config: ClusterConfig) -> tuple[dict[str, Any], str]:
    """Run the benchmark; returns its figures and a diagnosis (what went wrong, logs' tails)."""
    cluster = Cluster(config)
    atexit.register(cluster.stop_replicas)  # even if the loop dies under Ctrl-C
    try:
        figures = await cluster.run()
        (cluster.log_dir / "report.txt").write_text(cluster.report(everything=True) + "\n")
        (cluster.log_dir / "figures.json").write_text(json.dumps(figures) + "\n")
        problems = figures["lost_runs"] or figures["double_red_executions"] or figures["failovers_missing"]
        return figures, cluster.diagnose() if problems else ""
    finally:
        await cluster.stop()


def table(figures: dict[str, Any]) -> str:
    def ms(name: str) -> str:
        value = figures[name]
        return "   n/a" if value is None else f"{value:7.1f}"

    def s(name: str) -> str:
        value = figures[name]
        return "  n/a" if value is None else f"{value:6.2f}"

    return "\n".join([
        f"{figures['replicas']} replicas, {figures['threads']} threads, {figures['kills']} SIGKILLs "
        f"({figures['kills_holding_threads']} while the victim held threads, {figures['kills_hitting_runs']} "
        "with a run under way), "
        f"{figures['chaos_s']} s of chaos",
        f"runs accepted / completed      {figures['runs_accepted']} / {figures['runs_completed']}"
        f"   ({figures['runs_per_minute']} runs per minute)",
        f"lost runs                      {figures['lost_runs']}   (must be 0) {' '.join(figures['lost'])}",
        f"double red executions          {figures['double_red_executions']}   (must be 0; "
        f"{figures['red_executions']} red calls)",
        f"approvals asked again          {figures['approvals_asked_again']}   "
        f"({figures['asked_again_as_unknown_outcome']} saying the outcome is unknown; "
        f"{figures['reasks_rejected']} rejected as the sink had the call)",
        f"duplicate answers              {figures['duplicate_answers']}",
        f"failover ({figures['failovers']} threads)         p50 {s('failover_p50_s')} s   "
        f"p99 {s('failover_p99_s')} s   max {s('failover_max_s')} s   (target p99 <= 2; "
        f"{figures['failovers_missing']} never; holders by {figures['holder_mapping']})",
        f"  of threads mid-run ({figures['failovers_mid_run']})    p99 {s('failover_mid_run_p99_s')} s",
        f"approval to red start (chaos)  p50 {ms('approval_to_start_p50_ms_under_chaos')} ms "
        f"p99 {ms('approval_to_start_p99_ms_under_chaos')} ms",
        f"requests retried on another replica {figures['connect_retries']}, cut off by a kill "
        f"{figures['undelivered']}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="16 threads, 3 kills (< 90 s)")
    parser.add_argument("--threads", type=int, default=None, help="threads (default 60; --quick 16)")
    parser.add_argument("--kills", type=int, default=None, help="SIGKILLs (default 8; --quick 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="the PostgreSQL server: the benchmark makes a database there, and drops it")
    parser.add_argument("--lease-ttl", type=float, default=None, help="DAGBOT_LEASE_TTL for the replicas")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()
    overrides: dict[str, Any] = {"seed": args.seed, "server_url": args.database_url,
                                 "lease_ttl_s": args.lease_ttl, "keep_database": args.keep_database}
    if args.threads is not None:
        overrides["threads"] = args.threads
    if args.kills is not None:
        overrides["kills"] = args.kills
    config = ClusterConfig.quick(**overrides) if args.quick else ClusterConfig(**overrides)
    config.handle_signals = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # (until the servers are up) unwinds
    try:
        figures, diagnosis = asyncio.run(run_cluster(config))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: every replica is stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
    if diagnosis:
        print(diagnosis, file=sys.stderr)
    print(table(figures))
    print(json.dumps(figures))
    sys.exit(1 if figures["lost_runs"] or figures["double_red_executions"] else 0)


if __name__ == "__main__":
    main()
