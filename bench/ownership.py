"""Thread ownership across replicas: PostgreSQL advisory locks vs procrastinate (issue 9).

    python -m bench.ownership [--quick] [--server postgresql://postgres@127.0.0.1:5432/postgres]

Creates a fresh database (dagbot_own_<random>) on the server, runs every "replica" as a real,
separate OS process (``python -m bench.ownership --role …``), kills them with SIGKILL, drops
the database at the end. Repetitions: 20 per failover figure (5 with --quick), more samples
for the cheap latency figures. Timestamps are CLOCK_MONOTONIC, which is system-wide on Linux,
so a child's reading and the parent's are comparable.

What it measures (p50 / p95 / max):

1. Failover after SIGKILL, advisory lock. Replica A holds pg_try_advisory_lock(ns, k) for 50
   "threads" on one connection. Replica B wants them: either polling every 100 ms
   (``pg_try_advisory_lock`` for the keys it lacks), or blocking (``pg_advisory_lock`` on
   the keys, one dedicated connection, the call returns when the server releases them).
   A is SIGKILLed; figure = kill -> B holds all 50. B then is the holder for the next round.
2. Failover after SIGKILL, procrastinate. Worker A runs 50 long async jobs, one per thread,
   each with ``lock=thread`` (serialises the jobs of a thread). Every worker also runs the
   documented ``retry_stalled_jobs`` periodic task (docs/howto/production/retry_stalled_jobs):
   ``job_manager.get_stalled_jobs(seconds_since_heartbeat=T)`` + ``retry_job``, on the
   shortest cron procrastinate accepts (6th column = seconds: every second), with a short
   worker heartbeat (``update_heartbeat_interval``), ``stalled_worker_timeout=T`` and a short
   ``fetch_job_polling_interval`` (a retried job is an UPDATE to 'todo', which sends no
   NOTIFY, so only the poll picks it up). A is SIGKILLed; figure = kill -> all 50 jobs
   running again in worker B. The statements per second these settings cost one idle
   replica are counted inside the worker, by procrastinate query name (pg_stat_database
   lags by up to 10 s on PostgreSQL 15, too coarse for a few seconds' window).
   Why these are the floor: the cron's 1 s is the finest periodic step; the heartbeat has no
   lower bound in code, but the stall threshold must stay a few heartbeats above it, and any
   replica whose event loop stalls longer than the threshold has its jobs run a second time
   elsewhere while it still runs them (procrastinate does not fence the old worker). Override
   with --heartbeat / --stalled / --fetch-poll.
3. Wake-up latency between processes: NOTIFY (parent) -> psycopg3 ``AsyncConnection
   .notifies()`` in a child; vs procrastinate ``defer_async`` (parent) -> the job starting in a
   worker process (``listen_notify=True``, the polling fallback left at its 5 s default so
   only the NOTIFY path is measured).
4. Abort latency: ``job_manager.cancel_job_by_id_async(id, abort=True)`` -> the running async
   job sees its CancelledError (procrastinate cancels async jobs on the abort NOTIFY); vs a
   NOTIFY on a cancel channel -> the listener cancels the running asyncio task.

Prints a table, then one JSON line of figures and the settings used.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import ctypes
import json
import math
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import psycopg
from psycopg import sql

from bench.common import scratch_database
from bench.ownership_app import RETRY_CRON, count_queries, make_app, mono, say

SERVER_URL = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
NAMESPACE = 0x0D46  # first int4 of the two-key advisory lock form: "dagbot threads"
THREADS = 50
POLL_S = 0.1  # the advisory poller's period

# procrastinate failover settings (see the module docstring and --help)
HEARTBEAT_S = 0.2  # update_heartbeat_interval
STALLED_S = 0.6  # seconds_since_heartbeat / stalled_worker_timeout: 3 heartbeats missed
FETCH_POLL_S = 0.1  # fetch_job_polling_interval


# ----------------------------------------------------------------------------------------------
# Child roles
# ----------------------------------------------------------------------------------------------


def role_adv_replica(dsn: str, mode: str, n: int) -> None:
    """Take all n thread locks (poll or block), report when they are all held, then keep them."""
    keys = list(range(n))
    conn = psycopg.connect(dsn, autocommit=True)
    pid = conn.info.backend_pid
    held: set[int] = set()
    if mode == "block":
        say("READY", pid)
        # Evaluated row by row: blocks on the first key until the holder's session ends,
        # then takes the others at once.
        conn.execute("SELECT pg_advisory_lock(%s, k) FROM unnest(%s::int[]) AS k", (NAMESPACE, keys))
        held.update(keys)
    else:
        say("READY", pid)
        while True:
            missing = [k for k in keys if k not in held]
            rows = conn.execute(
                "SELECT k, pg_try_advisory_lock(%s, k) FROM unnest(%s::int[]) AS k", (NAMESPACE, missing)
            ).fetchall()
            held.update(k for k, ok in rows if ok)
            if len(held) == n:
                break
            time.sleep(POLL_S)
    say("HELD", f"{mono():.6f}")
    while True:
        time.sleep(3600)


async def role_notify_listener(dsn: str, channel: str, mode: str) -> None:
    """LISTEN on a channel; 'wake' reports receive time, 'cancel' cancels a running task."""
    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    job: asyncio.Task[None] | None = None

    async def running_job(i: int) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            say("CANCELLED", i, f"{mono():.6f}")
            raise

    if mode == "cancel":
        job = asyncio.create_task(running_job(0))
    say("READY", conn.info.backend_pid)
    async for note in conn.notifies():
        now = mono()
        i = int(note.payload.split()[0])
        if mode == "wake":
            say("WOKEN", i, f"{now:.6f}")
        else:
            assert job is not None
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            job = asyncio.create_task(running_job(i + 1))
            await asyncio.sleep(0)
            say("RUNNING", i + 1)


async def role_proc_worker(
    dsn: str, *, concurrency: int, heartbeat_s: float, stalled_s: float, fetch_poll_s: float,
    retry_stalled: bool, load_window: float,
) -> None:
    from procrastinate import worker as worker_module

    app = make_app(dsn, stalled_s)
    if not retry_stalled:
        app.periodic_registry.periodic_tasks.clear()
    counts = count_queries(app)

    async def report_load() -> None:
        await asyncio.sleep(1.0)
        before = counts.copy()
        await asyncio.sleep(load_window)
        rates = {k: round(v / load_window, 1) for k, v in (counts - before).items()}
        say("LOAD", json.dumps(rates, separators=(",", ":")))
    async with app.open_async():
        w = worker_module.Worker(
            app,
            concurrency=concurrency,
            listen_notify=True,
            fetch_job_polling_interval=fetch_poll_s,
            update_heartbeat_interval=heartbeat_s,
            stalled_worker_timeout=stalled_s,
            install_signal_handlers=False,
        )
        run = asyncio.create_task(w.run())
        while True:  # registered in procrastinate_workers
            if w.worker_id is not None or run.done():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the listener's LISTEN is issued by a side task
        say("READY", w.worker_id)
        if load_window > 0:
            reporter = asyncio.create_task(report_load())
        await run
        if load_window > 0:
            reporter.cancel()


def run_role(args: argparse.Namespace) -> None:
    if args.role == "adv":
        role_adv_replica(args.dsn, args.mode, args.n)
    elif args.role == "listen":
        asyncio.run(role_notify_listener(args.dsn, args.channel, args.mode))
    elif args.role == "worker":
        asyncio.run(role_proc_worker(
            args.dsn, concurrency=args.concurrency, heartbeat_s=args.heartbeat, stalled_s=args.stalled,
            fetch_poll_s=args.fetch_poll, retry_stalled=args.retry_stalled, load_window=args.load_window,
        ))
    else:
        raise SystemExit(f"unknown role {args.role}")


# ----------------------------------------------------------------------------------------------
# Parent: children, their output, figures
# ----------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """preexec_fn: the kernel SIGKILLs the child if the parent dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[str]
    lines: queue.Queue[list[str]] = field(default_factory=queue.Queue)
    log: str = ""

    def expect(self, kind: str, timeout: float = 30.0) -> list[str]:
        """The next line of this kind (other kinds are skipped)."""
        deadline = mono() + timeout
        while True:
            left = deadline - mono()
            try:
                parts = self.lines.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise TimeoutError(f"{self.name}: no {kind} within {timeout} s; log {self.log}") from None
            if parts and parts[0] == kind:
                return parts
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {kind} within {timeout} s; log {self.log}")


class Children:
    def __init__(self, dsn: str, logdir: str) -> None:
        self.dsn = dsn
        self.logdir = logdir
        self.alive: list[Child] = []
        self.count = 0

    def start(self, name: str, *role_args: str) -> Child:
        self.count += 1
        log = os.path.join(self.logdir, f"{self.count:03d}-{name}.log")
        with open(log, "w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.ownership", "--dsn", self.dsn, *role_args],
                stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1,
                preexec_fn=_die_with_parent,
            )
        child = Child(name, proc, log=log)
        threading.Thread(target=self._pump, args=(proc.stdout, child.lines), daemon=True).start()
        self.alive.append(child)
        return child

    @staticmethod
    def _pump(stream: TextIO | None, out: queue.Queue[list[str]]) -> None:
        assert stream is not None
        for line in stream:
            out.put(line.split())

    def kill(self, child: Child) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.proc.send_signal(signal.SIGKILL)
        child.proc.wait()
        if child in self.alive:
            self.alive.remove(child)

    def kill_all(self) -> None:
        for child in list(self.alive):
            self.kill(child)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(p * len(s)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95), "max": max(values)}


# --- 1. advisory failover ---------------------------------------------------------------------


def bench_advisory(kids: Children, reps: int) -> dict[str, list[float]]:
    dsn = kids.dsn
    out: dict[str, list[float]] = {"poll": [], "block": []}
    holder = kids.start("adv-first", "--role", "adv", "--mode", "poll", "--n", str(THREADS))
    holder.expect("HELD")
    with psycopg.connect(dsn, autocommit=True) as mon:
        for rep in range(2 * reps):
            mode = "poll" if rep % 2 == 0 else "block"
            taker = kids.start(f"adv-{mode}", "--role", "adv", "--mode", mode, "--n", str(THREADS))
            pid = int(taker.expect("READY")[1])
            if mode == "block":  # its pg_advisory_lock call is in flight and waiting
                while not mon.execute(
                    "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted", (pid,)
                ).fetchone():
                    time.sleep(0.005)
            time.sleep(random.uniform(0.05, 0.25))
            t0 = mono()
            kids.kill(holder)
            out[mode].append(float(taker.expect("HELD", timeout=30)[1]) - t0)
            holder = taker
    kids.kill(holder)
    return out


# --- 2. procrastinate failover ----------------------------------------------------------------


def worker_args(concurrency: int, heartbeat: float, stalled: float, fetch_poll: float,
                retry_stalled: bool, load_window: float = 0.0) -> list[str]:
    args = ["--role", "worker", "--concurrency", str(concurrency), "--heartbeat", str(heartbeat),
            "--stalled", str(stalled), "--fetch-poll", str(fetch_poll), "--load-window", str(load_window)]
    return [*args, "--retry-stalled"] if retry_stalled else args


def with_app(dsn: str, body: Callable[[Any], Any]) -> Any:
    async def run() -> Any:
        app = make_app(dsn, STALLED_S, min_pool=1)
        async with app.open_async():
            return await body(app)

    return asyncio.run(run())


def apply_schema(dsn: str) -> None:
    async def body(app: Any) -> None:
        await app.schema_manager.apply_schema_async()

    with_app(dsn, body)


def bench_procrastinate_failover(
    kids: Children, reps: int, heartbeat: float, stalled: float, fetch_poll: float, load_window: float
) -> tuple[list[float], list[float], dict[str, float]]:
    dsn = kids.dsn
    wargs = worker_args(THREADS + 10, heartbeat, stalled, fetch_poll, retry_stalled=True)
    current = kids.start("proc-first", *wargs)
    current.expect("READY")

    async def defer_all(app: Any) -> None:
        for i in range(THREADS):
            thread = f"thread-{i}"
            job = app.tasks["long_job"].configure(lock=thread, queueing_lock=thread)
            await job.defer_async(thread=thread)

    with_app(dsn, defer_all)
    for _ in range(THREADS):
        current.expect("START")
    all_back: list[float] = []
    first_back: list[float] = []
    load: dict[str, float] = {}
    for rep in range(reps):
        if rep == 0:  # statements per second of one idle replica, while the other holds the jobs
            nxt = kids.start("proc-next", *worker_args(THREADS + 10, heartbeat, stalled, fetch_poll,
                                                       retry_stalled=True, load_window=load_window))
            nxt.expect("READY")
            load = json.loads(nxt.expect("LOAD", timeout=load_window + 20)[1])
        else:
            nxt = kids.start("proc-next", *wargs)
            nxt.expect("READY")
        time.sleep(random.uniform(0.0, 1.0))  # decorrelate from heartbeat phase and cron second
        t0 = mono()
        kids.kill(current)
        starts = [float(nxt.expect("START", timeout=60)[4]) for _ in range(THREADS)]
        all_back.append(max(starts) - t0)
        first_back.append(min(starts) - t0)
        current = nxt
    kids.kill(current)
    return all_back, first_back, load


# --- 3 & 4. wake-up and abort latencies -------------------------------------------------------


def bench_notify(kids: Children, samples: int, mode: str) -> list[float]:
    channel = f"bench_{mode}"
    listener = kids.start(f"listen-{mode}", "--role", "listen", "--channel", channel, "--mode", mode)
    listener.expect("READY")
    lat: list[float] = []
    with psycopg.connect(kids.dsn, autocommit=True) as conn:
        for i in range(samples):
            time.sleep(random.uniform(0.01, 0.03))
            t0 = mono()
            conn.execute("SELECT pg_notify(%s, %s)", (channel, f"{i} {t0:.6f}"))
            if mode == "wake":
                lat.append(float(listener.expect("WOKEN")[2]) - t0)
            else:
                lat.append(float(listener.expect("CANCELLED")[2]) - t0)
                listener.expect("RUNNING")
    kids.kill(listener)
    return lat


def bench_procrastinate_wake_abort(kids: Children, wake_samples: int, abort_samples: int
                                   ) -> tuple[list[float], list[float]]:
    # Default fetch/abort polling (5 s): only the LISTEN/NOTIFY path is measured.
    worker = kids.start("proc-wake", *worker_args(4, 10.0, 30.0, 5.0, retry_stalled=False))
    worker.expect("READY")

    async def body(app: Any) -> tuple[list[float], list[float]]:
        wake: list[float] = []
        for i in range(wake_samples):
            await asyncio.sleep(random.uniform(0.01, 0.03))
            t0 = mono()
            await app.tasks["probe"].defer_async(i=i)
            parts = await asyncio.to_thread(worker.expect, "PROBE")
            wake.append(float(parts[2]) - t0)
        abort: list[float] = []
        for i in range(abort_samples):
            job_id = await app.tasks["hold"].defer_async(i=i)
            await asyncio.to_thread(worker.expect, "HOLDING")
            await asyncio.sleep(random.uniform(0.01, 0.03))
            t0 = mono()
            await app.job_manager.cancel_job_by_id_async(job_id, abort=True)
            parts = await asyncio.to_thread(worker.expect, "ABORTED")
            abort.append(float(parts[3]) - t0)
        return wake, abort

    wake, abort = with_app(kids.dsn, body)
    kids.kill(worker)
    return wake, abort


# --- main -------------------------------------------------------------------------------------


def run_bench(args: argparse.Namespace) -> None:
    reps = 5 if args.quick else args.reps
    samples = 10 * reps
    with tempfile.TemporaryDirectory(prefix="bench-ownership-") as logdir, \
            scratch_database(args.server, "dagbot_own") as dsn:
        kids = Children(dsn, logdir)
        atexit.register(kids.kill_all)
        try:
            apply_schema(dsn)
            t_start = mono()
            adv = bench_advisory(kids, reps)
            wake = bench_notify(kids, samples, "wake")
            cancel = bench_notify(kids, samples, "cancel")
            p_wake, p_abort = bench_procrastinate_wake_abort(kids, samples, 2 * reps)
            p_all, p_first, p_load = bench_procrastinate_failover(
                kids, reps, args.heartbeat, args.stalled, args.fetch_poll, 3.0 if args.quick else 10.0)
            elapsed = mono() - t_start
        finally:
            kids.kill_all()

    rows: list[tuple[str, str, dict[str, float]]] = [
        ("advisory failover, poller 100 ms (all 50)", "s", summary(adv["poll"])),
        ("advisory failover, blocking waiter (all 50)", "s", summary(adv["block"])),
        ("procrastinate failover (all 50)", "s", summary(p_all)),
        ("procrastinate failover (first of 50)", "s", summary(p_first)),
        ("NOTIFY wake-up, process to process", "ms", summary([x * 1000 for x in wake])),
        ("procrastinate defer_async -> job start", "ms", summary([x * 1000 for x in p_wake])),
        ("NOTIFY cancel -> task cancelled", "ms", summary([x * 1000 for x in cancel])),
        ("procrastinate abort -> job cancelled", "ms", summary([x * 1000 for x in p_abort])),
    ]
    print(f"{'figure':48} {'unit':>4} {'n':>4} {'p50':>9} {'p95':>9} {'max':>9}")
    for label, unit, s in rows:
        print(f"{label:48} {unit:>4} {s['n']:>4} {s['p50']:>9.3f} {s['p95']:>9.3f} {s['max']:>9.3f}")
    print(f"idle statements/s, advisory: holder 0, poller {1 / POLL_S:.0f} (read-only), blocking waiter 0")
    print(f"idle statements/s of one procrastinate replica, failover settings: {p_load}"
          f" (sum {sum(p_load.values()):.1f})")

    def fig(prefix: str, s: dict[str, float], nd: int) -> dict[str, float]:
        return {f"{prefix}_p50{'_s' if nd == 3 else '_ms'}": round(s["p50"], nd),
                f"{prefix}_p95{'_s' if nd == 3 else '_ms'}": round(s["p95"], nd),
                f"{prefix}_max{'_s' if nd == 3 else '_ms'}": round(s["max"], nd)}

    figures: dict[str, Any] = {}
    figures |= fig("advisory_failover", rows[0][2], 3)
    figures |= fig("advisory_failover_blocking", rows[1][2], 3)
    figures |= fig("procrastinate_failover", rows[2][2], 3)
    figures |= fig("notify_wake", rows[4][2], 2)
    figures |= fig("procrastinate_defer_to_start", rows[5][2], 2)
    figures |= fig("notify_cancel", rows[6][2], 2)
    figures |= fig("procrastinate_abort", rows[7][2], 2)
    figures["advisory_poller_statements_per_s"] = round(1 / POLL_S, 1)
    figures["procrastinate_idle_statements_per_s"] = round(sum(p_load.values()), 1)
    figures["procrastinate_idle_statements"] = p_load
    figures["settings"] = {
        "threads": THREADS, "reps": reps, "latency_samples": samples, "advisory_poll_s": POLL_S,
        "procrastinate": {
            "version": _procrastinate_version(), "update_heartbeat_interval": args.heartbeat,
            "stalled_worker_timeout": args.stalled, "get_stalled_jobs_seconds_since_heartbeat": args.stalled,
            "retry_stalled_jobs_cron": RETRY_CRON, "fetch_job_polling_interval": args.fetch_poll,
            "listen_notify": True, "concurrency": THREADS + 10,
        },
    }
    figures["elapsed_s"] = round(elapsed, 1)
    print(json.dumps(figures))


def _procrastinate_version() -> str:
    from importlib.metadata import version

    return version("procrastinate")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 repetitions (under a minute)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--server", default=SERVER_URL, help="a database on the server, to create ours")
    parser.add_argument("--heartbeat", type=float, default=HEARTBEAT_S, help="update_heartbeat_interval")
    parser.add_argument("--stalled", type=float, default=STALLED_S,
                        help="stalled_worker_timeout and get_stalled_jobs(seconds_since_heartbeat=)")
    parser.add_argument("--fetch-poll", type=float, default=FETCH_POLL_S, help="fetch_job_polling_interval")
    # child roles (internal)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=THREADS, help=argparse.SUPPRESS)
    parser.add_argument("--channel", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--retry-stalled", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load-window", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
            run_role(args)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_bench(args)


if __name__ == "__main__":
    main()
