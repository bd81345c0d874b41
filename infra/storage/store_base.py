"""What the SQL stores share: the engine, sessions and the dialect's INSERT."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker


class SqlTables:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    def _insert(self) -> Any:
        """The dialect's INSERT, which has ON CONFLICT."""
        return sqlite_insert if self.engine.dialect.name == "sqlite" else postgres_insert
