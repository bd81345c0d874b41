"""One replica of the Slack app with APScheduler's timer, in a process of its own (the replica
test kills one with SIGKILL).

Usage: python -m tests.bot.schedule_replica CONFIG_JSON
CONFIG_JSON: {"database_url", "api_url", "token", "identity", "replies"}. Once serving, it prints
``DAGBOT_APP_URL=<url>`` and runs until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from infra.scheduling.timer import ApschedulerTimer
from infra.storage.db import create_engine
from tests.bot.app_process import SlackAddress
from tests.bot.chat import running_bot


async def main(config: dict[str, object]) -> None:
    slack = SlackAddress(token=str(config["token"]), base_url=str(config["api_url"]))
    db = create_engine(str(config["database_url"]))
    # (a lease APScheduler renews every half of it: 2 s lapsed under a loaded CI machine's SQLite
    # locks, and the other replica ran the stuck replica's job; taking over a killed replica's
    # firing goes by the tick's claim, claim_retake_seconds, not by this lease)
    timer = ApschedulerTimer(db, identity=str(config["identity"]), lease_seconds=6.0, poll_seconds=0.3)
    replies: list[object] = list(config["replies"])  # type: ignore[call-overload]
    async with running_bot(slack, str(config["database_url"]), replies, holder=str(config["identity"]),
                           schedules=timer, claim_retake_seconds=1.0, recover_interval_seconds=0.5) as app:
        print(f"DAGBOT_APP_URL={app.url}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
