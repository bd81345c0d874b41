"""A replica keeps to its PostgreSQL connection budget (DAGBOT_DB_CONNECTIONS, plus its lock and
listener connections) under more concurrent runs than the budget, and every run still ends:
past the budget, work waits for a connection rather than failing."""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest
from langchain_core.messages import AIMessage, BaseMessage
from sqlalchemy.engine import make_url

from agent.events import AnswerReady
from agent.execution.context import EngineSettings
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import open_services
from tests.agent.harness import Harness, finish
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

pytestmark = pytest.mark.postgres
BUDGET = 4
RUNS = 10


class PeakConnections:
    """Samples the sessions open on the test's database, from a thread of its own: the most at
    once, and every backend seen (a pool that closes and reopens connections shows more)."""

    def __init__(self, url: str, ignored: frozenset[int] = frozenset()) -> None:
        self.url = url.replace("+psycopg", "")
        self.ignored = ignored
        """Backends of the test's own (:func:`settled`'s, still listed while it exits)."""
        self.database = make_url(url).database
        self.peak = 0
        self.backends: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.01):
                rows = [row for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                                    "AND pid <> pg_backend_pid()", (self.database,)).fetchall()
                        if int(row[0]) not in self.ignored]
                self.backends.update(int(row[0]) for row in rows)
                self.peak = max(self.peak, len(rows))


async def settled(url: str) -> frozenset[int]:
    """Until the test database's sessions are the same twice 0.2 s apart (at most 5 s): a
    connection start-up used and closed (the checkpointer's setup check) is still listed for a
    moment while its backend exits, and is no connection of the running replica. Returns the
    backend of its own connection, which is listed for a moment after it closes too (a run
    counted it as the seventh)."""
    url, database = url.replace("+psycopg", ""), make_url(url).database
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        own = frozenset({conn.info.backend_pid})
        before: set[int] | None = None
        for _ in range(25):
            rows = await (await conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                             "AND pid <> pg_backend_pid()", (database,))).fetchall()
            now = {int(row[0]) for row in rows}
            if now == before:
                return own
            before = now
            await asyncio.sleep(0.2)
    return own


class PlannerOrJoiner(ScriptedChatModel):
    """The same plan for every thread's planner, the same answer for its joiner, whatever
    order the threads' calls come in."""

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        plan = {"nodes": [{"id": "read", "tool": "lookup", "args": {"key": "k"}}]}
        self.replies[:] = [plan if self.tool_name == "plan" else finish("done")]
        return super()._next(messages)


async def test_a_replica_keeps_to_its_connection_budget_under_load(postgres_url: str) -> None:
    llm = PlannerOrJoiner()
    log = ToolLog()
    settings = Settings(DATABASE_URL=postgres_url, DAGBOT_DB_CONNECTIONS=BUDGET)
    async with open_services(settings, llm=llm, registry=simulated_registry(log),
                             packages=ScriptedPackages(),
                             engine_config=EngineSettings(decision_poll_seconds=0.2)) as services:
        h = Harness(services, llm, log, ScriptedPackages(), services.events.open())
        own = await settled(postgres_url)
        with PeakConnections(postgres_url, ignored=own) as sampler:
            await asyncio.gather(*(h.engine.ask(f"t{i}", f"look up {i}") for i in range(RUNS)))
            await h.engine.idle()
        answers = [e for e in h.drain() if isinstance(e, AnswerReady)]
    assert len(answers) == RUNS
    assert log.count("lookup") == RUNS
    assert 2 < sampler.peak <= BUDGET + 2  # the lock and listener connections, and the budget
    # opened once and kept: a connection closed and opened again at each run is churn (ten runs:
    # ten more backends), and its exiting backend is counted by the server beyond the budget for
    # a moment. One replacement is allowed: under a loaded suite a pooled connection that came back
    # in a bad state is replaced once (seen twice in full runs, never alone or beside CPU load)
    assert len(sampler.backends) <= BUDGET + 2 + 1
