"""A process that sets up dagbot's schema the moment it is told to (the start-together test).

Usage: python -m tests.infra.schema_worker migrations|checkpointer DATABASE_URL DIR NAME

It imports everything, writes DIR/NAME.ready, waits for DIR/go, then runs the Alembic
migrations or the checkpointer's set-up: so every worker starts the real work together.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from infra.storage.checkpoint import open_checkpointer
from infra.storage.migrate import upgrade


async def checkpointer(url: str) -> None:
    async with open_checkpointer(url):
        pass


def main(what: str, url: str, folder: Path, name: str) -> None:
    (folder / f"{name}.ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.001)
    if what == "migrations":
        upgrade(url)
    else:
        asyncio.run(checkpointer(url))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4])
