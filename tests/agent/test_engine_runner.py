"""One runner per thread: a runner that loses its lease stops; a restart resumes parked
threads whose approvals were decided while no process was there to resume them."""

from __future__ import annotations

import time

from sqlalchemy import update

from agent.events import AnswerReady, AwaitingApproval, NodeStarted
from agent.runner import Submission, ThreadStatus
from infra.db import ThreadLeaseRow, utc
from tests.agent.harness import finish, harness


async def test_a_runner_that_loses_its_lease_stops_instead_of_running_beside_another(
        sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "never"}}]}
    async with harness(sqlite_url, [plan, finish("unused")]) as h:
        assert await h.engine.submit("r1", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
        store = h.services.store
        async with store.session.begin() as s:  # another process took the thread over
            await s.execute(update(ThreadLeaseRow).where(ThreadLeaseRow.thread_id == "r1")
                            .values(holder="intruder", expires_at=utc(time.time() + 60)))
        await h.engine.idle()  # the renewer notices within a third of the lease TTL and stops the run
        assert await store.held_threads() == ["r1"]  # still the intruder's: not released by us
        assert not any(isinstance(e, AnswerReady) for e in h.drain())
        assert h.log.count("lookup") == 1 and len(h.llm.calls) == 1  # no joiner ran


async def test_recover_resumes_a_parked_thread_decided_while_no_process_ran_it(sqlite_url: str) -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}
    async with harness(sqlite_url, [plan, finish("deployed")]) as h:
        await h.engine.ask("r2", "deploy prod")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        assert await h.engine.status("r2") is ThreadStatus.WAITING
        # The decision reached the database, then the process died before resuming the thread:
        # nothing holds its lease, so only the decision records point at it.
        await h.services.store.decide(asked.approval_id, approved=True, by="U1")
        assert await h.services.store.held_threads() == []
        assert await h.engine.recover() == ["r2"]
        await h.engine.idle()
        assert h.log.count("deploy") == 1
        assert isinstance(h.drain()[-1], AnswerReady)
        assert await h.engine.recover() == ["r2"]  # decided recently, but nothing left to do
        await h.engine.idle()
        assert h.log.count("deploy") == 1
