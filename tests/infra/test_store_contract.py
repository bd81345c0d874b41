"""The engine's stores keep one contract: the same tests run on the in-memory stores
(infra/emulators/memory_stores.py), on SQLite and on PostgreSQL, so that a test of the engine on
the memory stores tests what runs in production, and the fakes cannot drift from it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.standing import StandingApprovals, StandingGrant
from agent.ports.stores import (
    ApprovalRequest,
    ApprovalStatus,
    DecisionOutcome,
    ExecutionJournal,
    ExecutionStatus,
    NodeResult,
    NodeStatus,
)
from infra.emulators.memory_standing import MemoryStandingApprovals
from infra.emulators.memory_stores import MemoryStore
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.journal_store import ExecutionJournalView
from infra.storage.standing_store import SqlStandingApprovals

HOUR = 3600.0


@dataclass
class Stores:
    store: MemoryStore | SqlStore
    """Approvals, audit, node results, the request queue, run marks and leases."""
    journal: ExecutionJournal
    standing: StandingApprovals


@pytest.fixture
async def stores(store_url: str | None) -> AsyncIterator[Stores]:
    if store_url is None:
        memory = MemoryStore()
        yield Stores(memory, memory.journal, MemoryStandingApprovals(memory))
        return
    db = create_engine(store_url)
    sql = SqlStore(db)
    try:
        yield Stores(sql, ExecutionJournalView(sql), SqlStandingApprovals(db))
    finally:
        await db.dispose()


def ask(node: str = "deploy", *, thread: str = "t1", plan: str = "p1", digest: str = "d1",
        ttl: float = HOUR, note: str | None = None, **args: Any) -> ApprovalRequest:
    return ApprovalRequest(thread_id=thread, plan_id=plan, node_id=node, tool="deploy",
                           args=args or {"target": "prod"}, args_digest=digest, why="ship it",
                           requested_by="U1", ttl_seconds=ttl, note=note, run_id="r1")


async def decisions(s: Stores) -> list[AuditEntry]:
    return [e for e in await s.store.audit_entries() if e.kind is AuditKind.DECISION]


# ------------------------------------------------------------------ approvals


async def test_a_node_asked_again_with_the_same_arguments_keeps_its_pending_approval(stores: Stores) -> None:
    first = await stores.store.request(ask())
    assert first.status is ApprovalStatus.PENDING and first.args == {"target": "prod"}
    assert first.expires_at == pytest.approx(first.requested_at + HOUR, abs=0.01)
    assert (await stores.store.request(ask())).id == first.id
    noted = await stores.store.request(ask(note="the first attempt failed"))  # a note asks anew
    changed = await stores.store.request(ask(digest="d2", target="stage"))
    assert len({first.id, noted.id, changed.id}) == 3
    latest = await stores.store.latest_for_node("t1", "p1", "deploy")
    assert latest is not None and latest.id == changed.id and latest.args == {"target": "stage"}
    assert await stores.store.latest_for_node("t1", "p2", "deploy") is None
    assert [a.id for a in await stores.store.pending("t1")] == [first.id, noted.id, changed.id]


async def test_a_decision_is_recorded_once_and_audited(stores: Stores) -> None:
    asked = await stores.store.request(ask())
    results = await asyncio.gather(*[
        stores.store.decide(asked.id, approved=True, by=f"U{i}", reason="go") for i in range(5)])
    assert sorted(r.outcome.value for r in results) == ["already_decided"] * 4 + ["recorded"]
    [recorded] = [r for r in results if r.outcome is DecisionOutcome.RECORDED]
    assert recorded.changed and not any(r.changed for r in results if r is not recorded)
    approval = recorded.approval
    assert approval is not None and approval.status is ApprovalStatus.APPROVED
    assert approval.reason == "go" and approval.decided_at is not None
    stored = await stores.store.get(asked.id)
    assert stored is not None and stored.decided_by == approval.decided_by
    [audited] = await decisions(stores)
    assert audited.actor == approval.decided_by and audited.run_id == "r1"
    assert audited.detail["status"] == "approved" and audited.detail["approval_id"] == asked.id
    assert await stores.store.pending() == []


async def test_a_rejection_keeps_who_and_why_and_unknown_approvals_are_not_found(stores: Stores) -> None:
    asked = await stores.store.request(ask())
    rejected = await stores.store.decide(asked.id, approved=False, by="U9", reason="change freeze")
    assert rejected.approval is not None and rejected.approval.status is ApprovalStatus.REJECTED
    assert (rejected.approval.decided_by, rejected.approval.reason) == ("U9", "change freeze")
    again = await stores.store.decide(asked.id, approved=True, by="U1")
    assert again.outcome is DecisionOutcome.ALREADY_DECIDED and not again.changed
    assert again.approval is not None and again.approval.status is ApprovalStatus.REJECTED
    missing = await stores.store.decide("0" * 32, approved=True, by="U1")
    assert (missing.outcome, missing.approval) == (DecisionOutcome.NOT_FOUND, None)
    assert await stores.store.get("0" * 32) is None


async def test_a_click_after_the_deadline_expires_the_threads_overdue_approvals(stores: Stores) -> None:
    late = await stores.store.request(ask("a", ttl=60))
    also_overdue = await stores.store.request(ask("b", ttl=60))
    in_time = await stores.store.request(ask("c", ttl=HOUR))
    elsewhere = await stores.store.request(ask("a", thread="t2", ttl=60))
    now = late.expires_at + 1
    result = await stores.store.decide(late.id, approved=True, by="U1", now=now)
    assert result.outcome is DecisionOutcome.EXPIRED and result.changed
    assert result.approval is not None and result.approval.status is ApprovalStatus.EXPIRED
    assert result.approval.reason == "expired"
    statuses = {a.id: a.status for a in [await stores.store.get(x.id) for x in
                                         (late, also_overdue, in_time, elsewhere)] if a is not None}
    assert statuses == {late.id: ApprovalStatus.EXPIRED, also_overdue.id: ApprovalStatus.EXPIRED,
                        in_time.id: ApprovalStatus.PENDING, elsewhere.id: ApprovalStatus.PENDING}
    again = await stores.store.decide(late.id, approved=True, by="U1", now=now)
    assert again.outcome is DecisionOutcome.EXPIRED and not again.changed
    assert {e.actor for e in await decisions(stores)} == {SYSTEM}


async def test_the_sweeper_expires_only_overdue_approvals_of_the_thread_asked(stores: Stores) -> None:
    short = await stores.store.request(ask("a", ttl=60))
    other = await stores.store.request(ask("a", thread="t2", ttl=60))
    long = await stores.store.request(ask("b", ttl=HOUR))
    now = short.expires_at + 1
    assert await stores.store.threads_decided_since(now - 10) == []
    assert [a.id for a in await stores.store.expire_overdue(now, "t1")] == [short.id]
    assert [a.id for a in await stores.store.expire_overdue(now)] == [other.id]
    assert await stores.store.expire_overdue(now) == []
    assert [a.id for a in await stores.store.pending()] == [long.id]
    assert sorted(await stores.store.threads_decided_since(now - 10)) == ["t1", "t2"]
    assert await stores.store.threads_decided_since(now + 10) == []


async def test_a_cancel_withdraws_the_threads_pending_approvals_only(stores: Stores) -> None:
    decided = await stores.store.request(ask("a"))
    await stores.store.decide(decided.id, approved=True, by="U1")
    waiting = await stores.store.request(ask("b"))
    other = await stores.store.request(ask("b", thread="t2"))
    withdrawn = await stores.store.withdraw("t1", "cancelled by U1")
    assert [(a.id, a.status, a.reason) for a in withdrawn] == [
        (waiting.id, ApprovalStatus.WITHDRAWN, "cancelled by U1")]
    late = await stores.store.decide(waiting.id, approved=True, by="U1")
    assert late.outcome is DecisionOutcome.ALREADY_DECIDED
    assert [a.id for a in await stores.store.pending()] == [other.id]
    assert await stores.store.withdraw("t1", "again") == []
    assert [e.detail["status"] for e in await decisions(stores)] == ["approved", "withdrawn"]


async def test_an_edit_replaces_the_arguments_and_a_stale_click_changes_nothing(stores: Stores) -> None:
    asked = await stores.store.request(ask())
    edited = await stores.store.edit(asked.id, args={"target": "stage"}, by="U2", edits=0)
    assert edited.outcome is DecisionOutcome.RECORDED and edited.approval is not None
    assert edited.approval.edits == 1 and edited.approval.edited_by == "U2"
    assert edited.approval.args == {"target": "prod"}  # the plan's, kept beside the edit
    assert edited.approval.approved_args == {"target": "stage"}
    stale_edit = await stores.store.edit(asked.id, args={"target": "dev"}, by="U3", edits=0)
    stale_click = await stores.store.decide(asked.id, approved=True, by="U1", edits=0)
    assert stale_edit.outcome is stale_click.outcome is DecisionOutcome.CHANGED
    assert not stale_click.changed
    current = await stores.store.decide(asked.id, approved=True, by="U1", edits=1)
    assert current.outcome is DecisionOutcome.RECORDED
    assert current.approval is not None and current.approval.approved_args == {"target": "stage"}
    after = await stores.store.edit(asked.id, args={"target": "dev"}, by="U3", edits=1)
    assert after.outcome is DecisionOutcome.ALREADY_DECIDED


async def test_what_is_stored_is_a_copy(stores: Stores) -> None:
    args: dict[str, Any] = {"target": "prod", "hosts": ["a"]}
    asked = await stores.store.request(ask(**args))
    args["hosts"].append("b")
    asked.args["target"] = "changed by a reader"
    stored = await stores.store.get(asked.id)
    assert stored is not None and stored.args == {"target": "prod", "hosts": ["a"]}
    output: dict[str, Any] = {"rows": [1, 2], "pair": (1, 2)}
    await stores.store.save("t1", "p1", NodeResult("a", NodeStatus.DONE, output=output))
    output["rows"].append(3)
    assert (await stores.store.load("t1", "p1"))["a"].output == {"rows": [1, 2], "pair": [1, 2]}


# ---------------------------------------------------------- execution journal


async def test_a_red_call_begins_once_and_its_outcome_is_kept(stores: Stores) -> None:
    journal = stores.journal
    assert await journal.get("a1") is None and await journal.changes("t1") == 0
    assert await journal.begin("a1", "t1", "deploy")
    assert not await journal.begin("a1", "t1", "deploy")  # a replay or a second runner
    started = await journal.get("a1")
    assert started is not None and started.status is ExecutionStatus.STARTED
    assert await journal.changes("t1") == 1
    await journal.finish("a1", ok=True, output={"deployed": "prod"})
    finished = await journal.get("a1")
    assert finished is not None and (finished.status, finished.output) == (ExecutionStatus.FINISHED,
                                                                           {"deployed": "prod"})
    await journal.mark_unknown("a1")  # only a call that never ended is unknown
    assert (await journal.get("a1")).status is ExecutionStatus.FINISHED  # type: ignore[union-attr]
    assert await journal.changes("t1") == 2 and await journal.changes("t2") == 0

    assert await journal.begin("a2", "t1", "restart")
    await journal.mark_unknown("a2")
    assert (await journal.get("a2")).status is ExecutionStatus.UNKNOWN  # type: ignore[union-attr]
    assert await journal.begin("a3", "t1", "wipe")
    await journal.finish("a3", ok=False, error="refused")
    failed = await journal.get("a3")
    assert failed is not None and (failed.status, failed.error) == (ExecutionStatus.FAILED, "refused")
    assert await journal.changes("t1") == 6


# -------------------------------------------------------------- node results


async def test_node_results_are_kept_per_plan_and_replaced_per_node(stores: Stores) -> None:
    store = stores.store
    await store.save("t1", "p1", NodeResult("a", NodeStatus.FAILED, error="boom", attempts=2),
                     NodeResult("b", NodeStatus.DONE, output="x" * 10, started_at=1.5, finished_at=2.5))
    await store.save("t1", "p1", NodeResult("a", NodeStatus.DONE, output={"n": 1},
                                            attempt_log=[{"attempt": 1, "error": "boom"}]))
    await store.save("t1", "p2", NodeResult("a", NodeStatus.SKIPPED))
    await store.save("t1", "p3")  # nothing to keep
    kept = await store.load("t1", "p1")
    assert kept == {
        "a": NodeResult("a", NodeStatus.DONE, output={"n": 1}, attempt_log=[{"attempt": 1, "error": "boom"}]),
        "b": NodeResult("b", NodeStatus.DONE, output="x" * 10, started_at=1.5, finished_at=2.5)}
    assert (await store.load("t1", "p2"))["a"].status is NodeStatus.SKIPPED
    assert await store.load("t2", "p1") == {}
    assert await store.result_bytes("t1") == len('{"n": 1}') + len('"' + "x" * 10 + '"') + len("null")
    assert await store.result_bytes("t2") == 0


# ---------------------------------------------------------------------- audit


def entry(thread: str, at: float, **detail: object) -> AuditEntry:
    return AuditEntry(thread_id=thread, kind=AuditKind.REQUEST, actor="U1", detail=dict(detail), at=at)


async def test_the_trail_is_read_in_order_filtered_and_pruned(stores: Stores) -> None:
    store = stores.store
    for thread, at, text in [("t1", 100.0, "old"), ("t2", 200.0, "other"), ("t1", 300.0, "new")]:
        await store.record(entry(thread, at, request=text))
    assert [e.detail["request"] for e in await store.audit_entries()] == ["old", "other", "new"]
    assert [e.detail["request"] for e in await store.audit_entries(thread_id="t1")] == ["old", "new"]
    assert [e.detail["request"] for e in await store.audit_entries(since=200, until=300)] == ["other"]
    [first, *_] = await store.audit_entries()
    assert (first.thread_id, first.kind, first.actor, first.run_id, first.at) == (
        "t1", AuditKind.REQUEST, "U1", "", 100.0)
    assert await store.prune(250.0) == 2
    assert [e.detail["request"] for e in await store.audit_entries()] == ["new"]


# ------------------------------------------------------------ request queue


async def test_requests_wait_in_order_and_a_redelivery_is_not_queued_twice(stores: Stores) -> None:
    store = stores.store
    pushed = await asyncio.gather(*[store.push("t1", f"request {n}", "U1", key=f"key-{n % 2}")
                                    for n in range(4)])
    assert sorted(pushed) == [False, False, True, True]
    assert not await store.push("t2", "the same key elsewhere", "U1", key="key-0")
    assert await store.push("t1", "later", "U2")  # a fresh key of its own
    first = await store.peek("t1")
    assert first is not None and first.key in ("key-0", "key-1") and not first.started
    assert await store.has_queued("t1") and not await store.has_queued("t2")
    assert await store.queued_threads() == ["t1"]
    await store.mark_started(first.id)
    started = await store.peek("t1")
    assert started is not None and started.id == first.id and started.started
    await store.remove(first.id)
    second = await store.peek("t1")
    assert second is not None and second.id > first.id and second.key != first.key
    assert await store.push("t1", "again", "U1", key=first.key)  # its key is free once removed
    assert await store.clear("t1") == 3 and await store.peek("t1") is None
    assert await store.queued_threads() == []


async def test_only_requests_still_waiting_are_dropped(stores: Stores) -> None:
    store = stores.store
    for key, by in [("k1", "U1"), ("k2", "U2"), ("k3", "U1"), ("k4", "U1")]:
        await store.push("t1", f"request {key}", by, key=key)
    await store.push("t2", "elsewhere", "U1", key="k5")
    first = await store.peek("t1")
    assert first is not None and first.key == "k1"
    await store.mark_started(first.id)
    assert not await store.drop_waiting("t1", "k1")  # its run has begun
    assert await store.drop_waiting("t1", "k2") and not await store.drop_waiting("t1", "k2")
    assert not await store.drop_waiting("t1", "k5")  # another thread's
    assert sorted(await store.drop_waiting_of("t1", "U1")) == ["k3", "k4"]
    assert await store.drop_waiting_of("t1", "U1") == []
    left = await store.peek("t1")
    assert left is not None and left.key == "k1"
    assert sorted(await store.queued_threads()) == ["t1", "t2"]


# -------------------------------------------------------- leases and run marks


async def test_one_holder_at_a_time_until_it_releases_or_its_lease_lapses(stores: Stores) -> None:
    store = stores.store
    assert await store.acquire("t1", "a", 30)
    assert await store.acquire("t1", "a", 30)  # again by its holder
    assert not await store.acquire("t1", "b", 30)
    assert await store.acquire("t2", "b", 30)  # another thread is independent
    assert await store.renew("t1", "a", 30) and not await store.renew("t1", "b", 30)
    assert not await store.renew("t3", "a", 30)  # never held
    assert sorted(await store.held_threads()) == ["t1", "t2"] and await store.lapsed_threads() == []
    await store.release("t1", "b")  # not b's: nothing happens
    assert not await store.acquire("t1", "b", 30)
    await store.release("t1", "a")
    assert await store.held_threads() == ["t2"]
    assert await store.acquire("t1", "b", 30)

    assert await store.renew("t2", "b", -1)  # a runner that failed mid-run leaves it lapsed
    assert await store.lapsed_threads() == ["t2"] and sorted(await store.held_threads()) == ["t1", "t2"]
    assert await store.acquire("t2", "c", 30)  # taken over
    assert await store.lapsed_threads() == [] and not await store.renew("t2", "b", 30)


async def test_run_marks_live_on_a_thread_that_ran_until_its_next_run(stores: Stores) -> None:
    store = stores.store
    await store.request_cancel("t1")  # never ran: nothing to cancel
    assert not await store.cancel_requested("t1") and await store.count_takeover("t1") == 0
    assert await store.acquire("t1", "a", 30)
    await store.request_cancel("t1")
    assert await store.cancel_requested("t1") and not await store.cancel_requested("t2")
    assert [await store.count_takeover("t1") for _ in range(3)] == [1, 2, 3]
    await store.release("t1", "a")
    assert await store.cancel_requested("t1")  # kept after the run let go
    await store.start_run("t1")
    assert not await store.cancel_requested("t1") and await store.count_takeover("t1") == 1


# -------------------------------------------------------- standing approvals


def grant(grant_id: str, *, at: float, tool: str = "deploy", requester: str = "U1",
          by: str = "U2", thread: str = "t1") -> StandingGrant:
    return StandingGrant(id=grant_id, thread_id=thread, tool=tool, requester=requester, granted_by=by,
                         granted_at=at, expires_at=at + HOUR, approval_id=f"approval-{grant_id}")


async def test_the_newest_live_grant_covers_a_call_until_revoked_once(stores: Stores) -> None:
    standing, now = stores.standing, 1_800_000_000.0
    await standing.grant(grant("g1", at=now - 100))
    await standing.grant(grant("g2", at=now - 50))
    await standing.grant(grant("g3", at=now - 10, tool="restart"))
    await standing.grant(grant("g4", at=now - 2 * HOUR))  # expired by now
    covering = await standing.covering("t1", "deploy", "U1", now)
    assert covering is not None and covering.id == "g2"
    assert await standing.covering("t1", "deploy", "U3", now) is None  # someone else's calls
    assert await standing.covering("t2", "deploy", "U1", now) is None
    revoked = await standing.revoke("g2", by="U2", now=now, why="done")
    assert revoked is not None and (revoked.revoked_by, revoked.revoked_at) == ("U2", now)
    assert await standing.revoke("g2", by="U2", now=now) is None  # ended already
    assert await standing.revoke("g4", by="U2", now=now) is None  # expired
    assert await standing.revoke("nope", by="U2", now=now) is None
    covering = await standing.covering("t1", "deploy", "U1", now)
    assert covering is not None and covering.id == "g1"
    stored = await standing.get("g2")
    assert stored is not None and not stored.is_live(now)
    assert [g.id for g in await standing.live_for("U1", now)] == ["g3", "g1"]
    assert [g.id for g in await standing.live_for("U2", now)] == ["g3", "g1"]
    assert await standing.live_for("U3", now) == []
    trail = await stores.store.audit_entries()
    assert [(e.kind, e.actor) for e in trail] == [(AuditKind.STANDING_GRANT, "U2")] * 4 + [
        (AuditKind.STANDING_REVOKED, "U2")]
    assert trail[-1].detail["why"] == "done" and trail[-1].detail["grant_id"] == "g2"


# ------------------------------------------------------------ the memory fakes


async def test_the_memory_store_refuses_what_postgresql_refuses() -> None:
    """PostgreSQL's json columns refuse NaN and Infinity (the engine names them first:
    agent.execution.storable); a value no JSON column takes fails, and stores nothing."""
    store = MemoryStore()
    with pytest.raises(ValueError, match="JSON"):
        await store.save("t1", "p1", NodeResult("a", NodeStatus.DONE, output=1),
                         NodeResult("b", NodeStatus.DONE, output={"rate": math.nan}))
    with pytest.raises(TypeError):
        await store.request(ask(target={"a", "set"}))
    assert await store.load("t1", "p1") == {} and await store.pending() == []
