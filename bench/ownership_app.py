"""The procrastinate app of bench.ownership: every replica runs these tasks.

Kept out of bench/ownership.py so that procrastinate does not see its App built in __main__.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

RETRY_CRON = "* * * * * *"  # every second: a 6th cron column (seconds) is procrastinate's finest


def mono() -> float:
    return time.monotonic()


def say(*parts: object) -> None:
    print(*parts, flush=True)


def make_app(dsn: str, stalled_s: float, min_pool: int = 2) -> Any:
    """Tasks: long_job (a thread's run), probe (wake-up), hold (abort), the stalled-job retrier."""
    import procrastinate
    from procrastinate.job_context import JobContext

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=min_pool, max_size=10)
    )

    @app.task(name="long_job", pass_context=True)
    async def long_job(context: JobContext, thread: str) -> None:
        say("START", context.job.id, thread, context.job.attempts, f"{mono():.6f}")
        await asyncio.sleep(3600)

    @app.task(name="probe")
    async def probe(i: int) -> None:
        say("PROBE", i, f"{mono():.6f}")

    @app.task(name="hold", pass_context=True)
    async def hold(context: JobContext, i: int) -> None:
        say("HOLDING", context.job.id, i)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            say("ABORTED", context.job.id, i, f"{mono():.6f}")
            raise

    # docs/howto/production/retry_stalled_jobs.md, with the shortest cron and threshold
    @app.periodic(cron=RETRY_CRON)
    @app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        stalled = await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s)
        n = 0
        for job in stalled:
            if job.id == context.job.id:
                continue
            await context.app.job_manager.retry_job(job)
            n += 1
        if n:
            say("RETRIED", n, f"{mono():.6f}")

    return app


def count_queries(app: Any) -> collections.Counter[str]:
    """Count the worker's statements by procrastinate query name (pg_stat_* lags up to 10 s)."""
    from procrastinate import sql as proc_sql

    names = {text: name for name, text in proc_sql.queries.items()}
    counts: collections.Counter[str] = collections.Counter()
    connector = app.connector
    for method in ("execute_query_async", "execute_query_one_async", "execute_query_all_async"):
        original = getattr(connector, method)

        def wrapped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            query = kwargs.get("query", args[0] if args else "")
            counts[names.get(query, "other")] += 1
            return _original(*args, **kwargs)

        setattr(connector, method, wrapped)
    return counts
