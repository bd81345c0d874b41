"""The bot's store keeps one contract: the same tests run on the in-memory store
(infra/emulators/memory_slack_store.py), on SQLite and on PostgreSQL, so that a test of the bot
on the memory store tests what runs in production, and the fake cannot drift from it (as
test_store_contract.py does for the engine's stores)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import IntegrityError

from agent.ports.audit import SYSTEM, AuditEntry, AuditKind
from agent.ports.stores import ApprovalRequest
from bot.ground.threads import ThreadRef
from bot.store import (
    AnswerMessage,
    ApprovalDM,
    ApprovalMessage,
    AssistantThread,
    BotStore,
    Claim,
    RecentRun,
    SlashCommand,
    Vote,
)
from infra.emulators.memory_slack_store import MemorySlackStore
from infra.emulators.memory_stores import MemoryStore
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.slack_store import SqlSlackStore

NOW = 1_800_000_000.0
THREAD = ThreadRef("T1", "C1", "1700000000.000100")
OTHER = ThreadRef("T1", "C2", "1700000000.000200")
REFUSED = (ValueError, IntegrityError)
"""What a second row with the same key fails with (the memory store's error, SQL's)."""


@dataclass
class Stores:
    slack: BotStore
    engine: MemoryStore | SqlStore
    """The engine's stores, whose approvals and audit trail the bot's store joins."""


@pytest.fixture
async def stores(store_url: str | None) -> AsyncIterator[Stores]:
    if store_url is None:
        memory = MemoryStore()
        yield Stores(MemorySlackStore(memory), memory)
        return
    db = create_engine(store_url)
    try:
        yield Stores(SqlSlackStore(db), SqlStore(db))
    finally:
        await db.dispose()


# ------------------------------------------------------------------ claims


async def test_a_delivery_is_claimed_once_until_its_claimer_is_presumed_dead(stores: Stores) -> None:
    slack = stores.slack
    claims = await asyncio.gather(*[slack.claim("C1:1.0", NOW, unsettled_for=60) for _ in range(5)])
    assert sorted(claims, key=lambda c: c is None) == [Claim("C1:1.0")] + [None] * 4  # twins and retries
    assert await slack.claim("C1:1.0", NOW + 59, unsettled_for=60) is None  # its claimer may be at work
    assert not await slack.claim_settled("C1:1.0")

    retaken = await asyncio.gather(*[slack.claim("C1:1.0", NOW + 61, unsettled_for=60) for _ in range(3)])
    assert sorted(retaken, key=lambda c: c is None) == [Claim("C1:1.0", retaken_from=NOW)] + [None] * 2
    assert await slack.claim("C1:1.0", NOW + 62, unsettled_for=60) is None  # its new claimer's now

    await slack.settle_claim("C1:1.0", NOW + 62)
    assert await slack.claim_settled("C1:1.0")
    assert await slack.claim("C1:1.0", NOW + 1000, unsettled_for=60) is None  # settled: never again
    await slack.settle_claim("C1:2.0", NOW)  # never claimed: nothing to settle
    assert not await slack.claim_settled("C1:2.0")


async def test_only_a_claims_current_claimer_keeps_it_and_a_kept_claim_is_not_retaken(stores: Stores) -> None:
    slack = stores.slack
    assert await slack.claim("C1:1.0", NOW, unsettled_for=60) == Claim("C1:1.0")
    assert await slack.keep_claim("C1:1.0", claimed_at=NOW, now=NOW + 50)  # its claimer is at work
    assert await slack.claim("C1:1.0", NOW + 100, unsettled_for=60) is None  # kept: not taken over
    # nobody renewed it for a minute (its claimer froze): a retry takes it over
    retaken = await asyncio.gather(*[slack.claim("C1:1.0", NOW + 111, unsettled_for=60) for _ in range(3)])
    assert sorted(retaken, key=lambda c: c is None) == [Claim("C1:1.0", retaken_from=NOW)] + [None] * 2
    # the frozen claimer comes back: its claim is not its own any more
    assert not await slack.keep_claim("C1:1.0", claimed_at=NOW, now=NOW + 112)
    assert await slack.keep_claim("C1:1.0", claimed_at=NOW + 111, now=NOW + 160)  # its new claimer's
    assert await slack.claim("C1:1.0", NOW + 200, unsettled_for=60) is None
    await slack.settle_claim("C1:1.0", NOW + 201)
    assert not await slack.keep_claim("C1:1.0", claimed_at=NOW + 111, now=NOW + 202)  # settled
    assert not await slack.keep_claim("C1:2.0", claimed_at=NOW, now=NOW)  # never claimed
    assert await slack.claim("C1:1.0", NOW + 1000, unsettled_for=60) is None


async def test_old_claims_are_forgotten(stores: Stores) -> None:
    slack = stores.slack
    for key, at in (("a", NOW - 300), ("b", NOW - 200), ("c", NOW - 100)):
        assert await slack.claim(key, at, unsettled_for=60) == Claim(key)
    await slack.settle_claim("a", NOW - 300)
    assert await slack.forget_claims(NOW - 100) == 2
    assert await slack.forget_claims(NOW - 100) == 0
    assert not await slack.claim_settled("a")
    assert await slack.claim("a", NOW, unsettled_for=60) == Claim("a")  # a new delivery, as far as we know
    assert await slack.claim("c", NOW, unsettled_for=600) is None


# ---------------------------------------------------------- slash commands


def command(key: str, *, received_at: float, taken_at: float | None = None, text: str = "look up a") -> SlashCommand:
    return SlashCommand(key=key, team="T1", channel="C1", user="U1", text=text, received_at=received_at,
                        channel_name="ops", response_url="https://hooks.slack.test/1", taken_at=taken_at)


async def test_a_command_left_unfinished_is_retaken_once_per_taker(stores: Stores) -> None:
    slack = stores.slack
    await slack.record_command(command("k2", received_at=NOW - 20))
    await slack.record_command(command("k1", received_at=NOW - 30, text="the older"))
    await slack.record_command(command("k3", received_at=NOW - 4))
    await slack.record_command(command("k4", received_at=NOW - 100, taken_at=NOW - 1))  # retaken a moment ago
    with pytest.raises(REFUSED):
        await slack.record_command(command("k1", received_at=NOW))
    assert await slack.command_posted("k2", "1700000000.000300", taken_at=NOW - 20, now=NOW - 20)

    takers = await asyncio.gather(*[slack.retake_commands(NOW, unfinished_for=10) for _ in range(3)])
    taken = {c.key: c for t in takers for c in t}
    assert sorted(taken) == ["k1", "k2"] and sum(len(t) for t in takers) == 2  # one taker each
    assert taken["k1"] == command("k1", received_at=NOW - 30, taken_at=NOW - 30, text="the older")
    assert (taken["k2"].root_ts, taken["k2"].taken_at) == ("1700000000.000300", NOW - 20)

    assert await slack.retake_commands(NOW + 5, unfinished_for=10) == []  # its new taker is at work
    await slack.finish_command("k1")
    await slack.finish_command("k9")  # never recorded: nothing to finish
    again = await slack.retake_commands(NOW + 10, unfinished_for=10)  # the new taker died too
    assert [(c.key, c.taken_at) for c in again] == [("k4", NOW - 1), ("k2", NOW), ("k3", NOW - 4)]  # oldest first
    assert await slack.retake_commands(NOW + 1000, unfinished_for=10) != []  # unfinished until finished
    for key in ("k2", "k3", "k4"):
        await slack.finish_command(key)
    assert await slack.retake_commands(NOW + 2000, unfinished_for=10) == []


async def test_only_a_commands_current_taker_keeps_it_or_records_its_root_message(stores: Stores) -> None:
    slack = stores.slack
    await slack.record_command(command("k1", received_at=NOW - 30))
    assert await slack.keep_command("k1", taken_at=NOW - 30, now=NOW - 25)  # its taker is at work
    assert await slack.retake_commands(NOW - 16, unfinished_for=10) == []  # kept: not taken over
    assert not await slack.keep_command("k1", taken_at=NOW - 30, now=NOW - 16)  # not its take any more
    [taken] = await slack.retake_commands(NOW, unfinished_for=10)  # its taker froze
    assert taken.taken_at == NOW - 25
    # the frozen taker comes back: nothing it does is recorded
    assert not await slack.command_posted("k1", "1700000000.000100", taken_at=NOW - 25, now=NOW + 1)
    assert not await slack.keep_command("k1", taken_at=NOW - 25, now=NOW + 1)
    # its new taker records the root message, and keeps the command
    assert await slack.command_posted("k1", "1700000000.000200", taken_at=NOW, now=NOW + 2)
    assert await slack.keep_command("k1", taken_at=NOW + 2, now=NOW + 3)
    [again] = await slack.retake_commands(NOW + 20, unfinished_for=10)
    assert (again.root_ts, again.taken_at) == ("1700000000.000200", NOW + 3)
    await slack.finish_command("k1")
    assert not await slack.keep_command("k1", taken_at=NOW + 20, now=NOW + 21)  # finished


# ---------------------------------------------------------------- threads


async def test_owning_a_thread_is_idempotent(stores: Stores) -> None:
    slack = stores.slack
    assert not await slack.owns_thread(THREAD.key)
    await asyncio.gather(*[slack.own_thread(THREAD, "U1", NOW) for _ in range(3)], slack.own_thread(OTHER, None, NOW))
    await slack.own_thread(THREAD, "U2", NOW + 1)
    assert await slack.owns_thread(THREAD.key) and await slack.owns_thread(OTHER.key)
    assert not await slack.owns_thread(ThreadRef("T1", "C1", "1700000000.000999").key)


# -------------------------------------------------------- status messages


async def test_runs_bind_the_threads_oldest_unbound_status_message(stores: Stores) -> None:
    slack = stores.slack
    t, o = THREAD.key, OTHER.key
    bound = await slack.add_status_message(t, "C1", "1.1", "first", "U1", NOW, run_id="r0")
    first = await slack.add_status_message(t, "C1", "1.2", "second", "U1", NOW + 1, request_key="k" * 32)
    assert (first.run_id, first.finished, first.request_key, first.created_at) == (None, False, "k" * 32, NOW + 1)
    dropped = await slack.add_status_message(t, "C1", "1.3", "dropped", "U2", NOW + 2)
    second = await slack.add_status_message(t, "C1", "1.4", "third", None, NOW + 3)
    elsewhere = await slack.add_status_message(o, "C2", "2.1", "other", "U1", NOW + 4)
    assert len({bound.id, first.id, dropped.id, second.id, elsewhere.id}) == 5
    await slack.finish_status_message(dropped.id)  # cancelled while it waited: no run binds it

    runs = await asyncio.gather(*[slack.bind_status_message(t, f"r{n}") for n in (1, 2, 3)])
    assert sorted((m.id, m.ts) for m in runs if m is not None) == sorted([(first.id, "1.2"), (second.id, "1.4")])
    assert runs.count(None) == 1
    by_run = {m.run_id: m for m in runs if m is not None}
    for run_id, message in by_run.items():
        assert await slack.status_message_for_run(t, run_id) == message
    assert await slack.bind_status_message(o, "r9") == dataclasses.replace(elsewhere, run_id="r9")
    assert await slack.bind_status_message(o, "r10") is None

    assert await slack.status_message_for_run(t, "r0") == bound
    again = await slack.add_status_message(t, "C1", "1.5", "first, again", "U1", NOW + 5, run_id="r0")
    assert await slack.status_message_for_run(t, "r0") == again  # the newest
    assert await slack.status_message_for_run(o, "r0") is None


async def test_a_retaken_claim_finds_the_status_message_its_claimer_posted(stores: Stores) -> None:
    slack = stores.slack
    t = THREAD.key
    await slack.add_status_message(t, "C1", "1.1", "look up a", "U1", NOW - 10)
    first = await slack.add_status_message(t, "C1", "1.2", "look up a", "U1", NOW)
    await slack.add_status_message(t, "C1", "1.3", "look up a", "U1", NOW + 1)
    anonymous = await slack.add_status_message(t, "C1", "1.4", "look up b", None, NOW + 2)
    await slack.finish_status_message(first.id)
    found = await slack.status_message_since(t, "look up a", "U1", NOW)
    assert found is not None and (found.id, found.finished) == (first.id, True)  # finished or not
    assert await slack.status_message_since(t, "look up a", "U2", NOW - 100) is None
    assert await slack.status_message_since(t, "look up c", "U1", NOW - 100) is None
    assert await slack.status_message_since(OTHER.key, "look up a", "U1", NOW - 100) is None
    assert await slack.status_message_since(t, "look up a", "U1", NOW + 2) is None
    assert await slack.status_message_since(t, "look up b", None, NOW) == anonymous


async def test_unfinished_status_messages_by_thread_and_by_person(stores: Stores) -> None:
    slack = stores.slack
    t, o = THREAD.key, OTHER.key
    a = await slack.add_status_message(t, "C1", "1.1", "a", "U1", NOW)
    b = await slack.add_status_message(o, "C2", "2.1", "b", "U1", NOW + 1, run_id="r1")
    c = await slack.add_status_message(t, "C1", "1.2", "c", "U2", NOW + 2)
    done = await slack.add_status_message(t, "C1", "1.3", "d", "U1", NOW + 3)
    await slack.finish_status_message(done.id)
    await slack.finish_status_message(10_000)  # no such message: nothing to finish
    assert [m.id for m in await slack.unfinished_status_messages()] == [a.id, b.id, c.id]
    assert [m.id for m in await slack.unfinished_status_messages(thread_key=t)] == [a.id, c.id]
    assert [m.id for m in await slack.unfinished_status_messages(requested_by="U1")] == [a.id, b.id]
    assert [m.id for m in await slack.unfinished_status_messages(thread_key=t, requested_by="U2")] == [c.id]
    assert await slack.unfinished_status_messages(thread_key=t, requested_by="U3") == []


async def test_a_persons_recent_runs_are_newest_first_with_what_became_of_them(stores: Stores) -> None:
    slack = stores.slack
    t, o = THREAD.key, OTHER.key
    await slack.add_status_message(t, "C1", "1.1", "oldest", "U1", NOW)
    answered = await slack.add_status_message(t, "C1", "1.2", "answered", "U1", NOW + 1, run_id="r1")
    await slack.save_answer(AnswerMessage("r1", t, "C1", "1.5", "U1", NOW + 2))
    await slack.finish_status_message(answered.id)
    await slack.add_status_message(o, "C2", "2.1", "running", "U1", NOW + 3, run_id="r2")
    await slack.add_status_message(o, "C2", "2.2", "queued at the same time", "U1", NOW + 3)
    await slack.add_status_message(o, "C2", "2.3", "someone else's", "U2", NOW + 4)
    assert await slack.recent_runs("U1", 3) == [
        RecentRun(o, "queued at the same time", NOW + 3, answered=False, finished=False),
        RecentRun(o, "running", NOW + 3, answered=False, finished=False),
        RecentRun(t, "answered", NOW + 1, answered=True, finished=True)]
    assert [r.request for r in await slack.recent_runs("U1", 10)][-1] == "oldest"
    assert await slack.recent_runs("U3", 10) == []


# ------------------------------------------------------ approval messages


async def test_an_approvals_message_is_kept_until_closed(stores: Stores) -> None:
    slack = stores.slack
    t = THREAD.key
    await slack.save_approval_message(ApprovalMessage("a1", t, "C1", "1.1"))
    await slack.save_approval_message(ApprovalMessage("a2", t, "C1", "1.2"))
    await slack.save_approval_message(ApprovalMessage("a3", OTHER.key, "C2", "2.1"))
    await slack.save_approval_message(ApprovalMessage("a4", t, "C1", "1.3", closed=True))
    with pytest.raises(REFUSED):
        await slack.save_approval_message(ApprovalMessage("a1", t, "C1", "1.9"))
    assert await slack.approval_message("a1") == ApprovalMessage("a1", t, "C1", "1.1")
    assert await slack.approval_message("a9") is None
    assert sorted(m.approval_id for m in await slack.open_approval_messages(t)) == ["a1", "a2"]
    await slack.close_approval_message("a1")
    await slack.close_approval_message("a9")  # no such message: nothing to close
    assert await slack.approval_message("a1") == ApprovalMessage("a1", t, "C1", "1.1", closed=True)
    assert [m.approval_id for m in await slack.open_approval_messages(t)] == ["a2"]
    assert [m.approval_id for m in await slack.open_approval_messages(OTHER.key)] == ["a3"]


# ----------------------------------------------------------- approval DMs


async def ask(stores: Stores, thread: ThreadRef, node: str) -> str:
    """An approval asked in ``thread`` (the engine's: the DMs follow its thread)."""
    approval = await stores.engine.request(ApprovalRequest(
        thread_id=thread.key, plan_id="p1", node_id=node, tool="deploy", args={"target": "prod"},
        args_digest=node, why="ship it", requested_by="U1", ttl_seconds=3600, run_id="r1"))
    return approval.id


def dm(approval_id: str, user: str, *, closed: bool = False) -> ApprovalDM:
    return ApprovalDM(approval_id=approval_id, user=user, channel=f"D{user}", ts=f"9.{user[-1]}",
                      intro=f"<@U1> asks {user}", closed=closed)


async def test_an_approvals_dm_to_a_person_is_claimed_once_and_followed_until_closed(stores: Stores) -> None:
    slack = stores.slack
    a1, a2, elsewhere = await ask(stores, THREAD, "a"), await ask(stores, THREAD, "b"), await ask(stores, OTHER, "a")
    claimed = await asyncio.gather(*[slack.claim_approval_dm(a1, "U2", NOW) for _ in range(4)])
    assert sorted(claimed) == [False, False, False, True]
    for approval, user in ((a1, "U3"), (a2, "U2"), (elsewhere, "U2")):
        assert await slack.claim_approval_dm(approval, user, NOW)
    assert not await slack.claim_approval_dm(a1, "U3", NOW + 1000)

    assert await slack.open_approval_dms(a1) == []  # claimed, not sent yet
    assert await slack.approvals_with_open_dms(THREAD.key) == sorted([a1, a2])  # (maybe never sent)
    await slack.save_approval_dm(dm(a1, "U3"))
    await slack.save_approval_dm(dm(a1, "U2"))
    await slack.save_approval_dm(dm(a1, "U4"))  # never claimed: not kept
    await slack.save_approval_dm(dm(elsewhere, "U2"))
    assert await slack.open_approval_dms(a1) == [dm(a1, "U2"), dm(a1, "U3")]  # by person

    await slack.close_approval_dm(a1, "U2")
    await slack.close_approval_dm(a1, "U9")  # no such DM: nothing to close
    assert await slack.open_approval_dms(a1) == [dm(a1, "U3")]
    await slack.save_approval_dm(dm(a1, "U3", closed=True))  # sent showing a final state
    assert await slack.open_approval_dms(a1) == []
    assert await slack.approvals_with_open_dms(THREAD.key) == [a2]
    await slack.close_approval_dm(a2, "U2")  # never sent, closed all the same
    assert await slack.approvals_with_open_dms(THREAD.key) == []
    assert await slack.approvals_with_open_dms(OTHER.key) == [elsewhere]


async def test_only_dms_of_the_threads_own_approvals_count_as_open_there(stores: Stores) -> None:
    slack = stores.slack
    mine = await ask(stores, THREAD, "a")
    assert await slack.claim_approval_dm(mine, "U2", NOW)
    assert await slack.claim_approval_dm("0" * 32, "U2", NOW)  # an approval the engine does not know
    assert await slack.approvals_with_open_dms(THREAD.key) == [mine]
    assert await slack.approvals_with_open_dms("slack:T1:C9:1.0") == []


# ---------------------------------------------------------------- answers


def answer(run_id: str = "r1", *, ts: str = "1.9", channel: str = "C1") -> AnswerMessage:
    return AnswerMessage(run_id=run_id, thread_key=THREAD.key, channel=channel, ts=ts, requested_by="U1",
                         answered_at=NOW)


async def test_a_runs_answer_posted_again_moves_and_keeps_the_rest(stores: Stores) -> None:
    slack = stores.slack
    assert await slack.answer_message("r1") is None
    await slack.save_answer(answer())
    await slack.save_answer(answer("r2", ts="2.9"))
    moved = AnswerMessage(run_id="r1", thread_key=OTHER.key, channel="D1", ts="3.9", requested_by="U2",
                          answered_at=NOW + 60)
    await slack.save_answer(moved)
    assert await slack.answer_message("r1") == answer(ts="3.9", channel="D1")
    assert await slack.answer_message("r2") == answer("r2", ts="2.9")


async def planned(stores: Stores, run_id: str, detail: dict[str, object]) -> None:
    await stores.engine.record(AuditEntry(thread_id=THREAD.key, kind=AuditKind.PLAN, actor=SYSTEM,
                                          detail=detail, run_id=run_id, at=NOW - 10))


async def test_a_vote_replaces_the_persons_last_and_is_audited_with_the_answers_plan(stores: Stores) -> None:
    slack = stores.slack
    await planned(stores, "r1", {"plan_id": "p1", "nodes": []})
    await planned(stores, "r1", {"plan_id": "p2", "nodes": []})  # replanned: the answer is p2's
    await planned(stores, "r2", {"plan_id": "another run's"})
    first = await slack.record_feedback(answer(), "U1", Vote.UP, NOW)
    assert (first.vote, first.previous, first.plan_id) == (Vote.UP, None, "p2")
    changed = await slack.record_feedback(answer(), "U1", Vote.DOWN, NOW + 1)
    assert (changed.vote, changed.previous) == (Vote.DOWN, Vote.UP)
    other = await slack.record_feedback(answer(), "U2", Vote.DOWN, NOW + 2)
    assert other.previous is None

    await planned(stores, "r3", {"nodes": []})  # a plan with no id
    unplanned = await slack.record_feedback(answer("r3"), "U1", Vote.UP, NOW + 3)
    assert (unplanned.previous, unplanned.plan_id) == (None, None)

    trail = [e for e in await stores.engine.audit_entries() if e.kind is AuditKind.FEEDBACK]
    assert [(e.thread_id, e.run_id, e.actor, e.detail) for e in trail] == [
        (THREAD.key, "r1", "U1", {"vote": "up", "replaced": None, "plan_id": "p2"}),
        (THREAD.key, "r1", "U1", {"vote": "down", "replaced": "up", "plan_id": "p2"}),
        (THREAD.key, "r1", "U2", {"vote": "down", "replaced": None, "plan_id": "p2"}),
        (THREAD.key, "r3", "U1", {"vote": "up", "replaced": None, "plan_id": None})]
    assert [e.at for e in trail] == pytest.approx([NOW, NOW + 1, NOW + 2, NOW + 3])


async def test_two_first_clicks_at_once_are_both_recorded_one_replacing_the_other(stores: Stores) -> None:
    slack = stores.slack
    recorded = await asyncio.gather(slack.record_feedback(answer(), "U1", Vote.UP, NOW),
                                    slack.record_feedback(answer(), "U1", Vote.DOWN, NOW))
    [replacing] = [r for r in recorded if r.previous is not None]
    assert {replacing.vote, replacing.previous} == {Vote.UP, Vote.DOWN}
    last = await slack.record_feedback(answer(), "U1", Vote.UP, NOW + 1)
    assert last.previous is replacing.vote  # the vote written last
    votes = [e.detail["vote"] for e in await stores.engine.audit_entries() if e.kind is AuditKind.FEEDBACK]
    assert sorted(votes) == ["down", "up", "up"]


# ------------------------------------------------------ assistant threads


async def test_an_assistant_thread_is_kept_once_and_titled_once(stores: Stores) -> None:
    slack = stores.slack
    pane = AssistantThread(key="slack:T1:D1:1.0", channel="D1", thread_ts="1.0", user="U1", context_channel="C1",
                           titled=True)
    assert await slack.assistant_thread(pane.key) is None
    await slack.add_assistant_thread(pane, NOW)
    await slack.add_assistant_thread(AssistantThread(pane.key, "D1", "1.0", "U1", "C9"), NOW + 1)  # a retry
    kept = AssistantThread(key=pane.key, channel="D1", thread_ts="1.0", user="U1", context_channel="C1")
    assert await slack.assistant_thread(pane.key) == kept  # not titled: nobody took its title yet

    await slack.set_assistant_context(pane.key, "C2")
    await slack.set_assistant_context("slack:T1:D1:2.0", "C2")  # unknown: nothing to change
    assert await slack.assistant_thread("slack:T1:D1:2.0") is None
    titles = await asyncio.gather(*[slack.take_title(pane.key) for _ in range(3)])
    assert sorted(titles) == [False, False, True]
    assert not await slack.take_title("slack:T1:D1:2.0")
    assert await slack.assistant_thread(pane.key) == AssistantThread(
        key=pane.key, channel="D1", thread_ts="1.0", user="U1", context_channel="C2", titled=True)
    await slack.set_assistant_context(pane.key, None)  # the user left the channel they looked at
    stored = await slack.assistant_thread(pane.key)
    assert stored is not None and stored.context_channel is None
