"""A playground started on a database that holds other work (``--playground`` with DATABASE_URL
set) runs only its own workspace's threads: another workspace's queued requests stay queued."""

from __future__ import annotations

import asyncio
from pathlib import Path

from infra.playground.app import open_playground
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.migrate import upgrade
from tests.playground.conftest import DEMO_WORDS_PER_SECOND, playground_settings

PRODUCTION = "slack:TPROD:C0PROD:1700000000.000100"
OWN = "slack:T0PLAYGROUND:C0OPS:1700000000.000200"


async def test_the_playground_recovers_only_its_own_workspaces_threads(tmp_path: Path) -> None:
    settings = playground_settings(tmp_path)
    await asyncio.to_thread(upgrade, settings.database_url)
    db = create_engine(settings.database_url)
    try:
        store = SqlStore(db)
        await store.push(PRODUCTION, "restart the payments service", "UPROD")
        await store.push(OWN, "hello", "U0ALICE")
    finally:
        await db.dispose()
    async with open_playground(settings, demo_delay_seconds=0, demo_words_per_second=DEMO_WORDS_PER_SECOND) as playground:
        await playground.services.engine.idle()  # start-up recovery has drained what it took
        left = await playground.services.store.queued_threads()
        await playground.services.engine.recover_lapsed()  # the periodic pass leaves it too
        await playground.services.engine.idle()
        left_after_pass = await playground.services.store.queued_threads()
    assert left == [PRODUCTION] and left_after_pass == [PRODUCTION]
