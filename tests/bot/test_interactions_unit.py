"""bot.inbound.interactions on its own: clicks on approval and status messages, decided by a fake
engine over approvals in memory, answered in the emulated Slack (no Bolt, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from agent.engine.engine import ThreadStatus
from agent.execution.cancelling import Cancelled, CancelOutcome
from agent.ports.stores import Approval, ApprovalStatus, DecisionOutcome, DecisionResult
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.interactions import Interactions, outcome_refusal, refusal_for
from bot.outbound.approval_messages import ApprovalMessages
from bot.store import ApprovalMessage, StatusMessage
from bot.views import wording as say
from infra.emulators.memory_stores import MemoryStore
from tests.bot.chat import ALICE, BOB, MALLORY, OPS
from tests.bot.fakes_bot import (
    FakeBotStore,
    FakeDirectory,
    FakeEngine,
    FakeNotifier,
    FakeRegistry,
    approval_request,
)
from tests.fakes.slack_api import FakeSlack


def an_approval(status: ApprovalStatus, decided_by: str | None = None, edited_by: str | None = None) -> Approval:
    return Approval(id="a1", thread_id="slack:T0TEAM:C0OPS:1.000001", plan_id="p", node_id="n1", tool="deploy",
                    args={}, args_digest="d", why="w", status=status, requested_by=ALICE, requested_at=0.0,
                    expires_at=1.0, decided_by=decided_by, edited_by=edited_by)


def test_why_a_click_changes_nothing() -> None:
    assert refusal_for(None) == say.APPROVAL_NOT_FOUND
    assert refusal_for(an_approval(ApprovalStatus.PENDING)) is None
    assert refusal_for(an_approval(ApprovalStatus.EXPIRED)) == say.APPROVAL_EXPIRED
    assert refusal_for(an_approval(ApprovalStatus.WITHDRAWN)) == say.APPROVAL_WITHDRAWN
    assert refusal_for(an_approval(ApprovalStatus.REJECTED, BOB)) == say.already_decided("rejected", BOB)

    assert outcome_refusal(DecisionResult(DecisionOutcome.RECORDED, None), BOB) is None
    assert outcome_refusal(DecisionResult(DecisionOutcome.NOT_FOUND, None), BOB) == say.APPROVAL_NOT_FOUND
    mine = DecisionResult(DecisionOutcome.CHANGED, an_approval(ApprovalStatus.PENDING, edited_by=BOB))
    assert outcome_refusal(mine, BOB) == say.ARGS_CHANGED_BY_YOU
    assert outcome_refusal(mine, ALICE) == say.ARGS_CHANGED
    raced = DecisionResult(DecisionOutcome.ALREADY_DECIDED, an_approval(ApprovalStatus.APPROVED, ALICE))
    assert outcome_refusal(raced, BOB) == say.already_decided("approved", ALICE)
    # not recorded, yet no final state to name: the click is stale
    odd = DecisionResult(DecisionOutcome.ALREADY_DECIDED, an_approval(ApprovalStatus.PENDING))
    assert outcome_refusal(odd, BOB) == say.APPROVAL_STALE


@dataclass
class Setup:
    slack: FakeSlack
    thread: ThreadRef
    approvals: MemoryStore
    store: FakeBotStore
    engine: FakeEngine
    directory: FakeDirectory
    notifier: FakeNotifier
    messages: ApprovalMessages
    interactions: Interactions

    async def posted_approval(self) -> Approval:
        approval = await self.approvals.request(approval_request(self.thread))
        sent = self.slack.post_as_bot(OPS, "Approval needed", [], self.thread.root_ts)
        await self.store.save_approval_message(ApprovalMessage(
            approval_id=approval.id, thread_key=self.thread.key, channel=OPS, ts=sent.ts))
        return approval


@pytest.fixture
def setup(slack: FakeSlack) -> Setup:
    root = slack.post_as_user(OPS, ALICE, "deploy web")
    thread = ThreadRef(slack.team, OPS, root.ts)
    approvals, store, directory, notifier = MemoryStore(), FakeBotStore(), FakeDirectory([BOB]), FakeNotifier()
    engine = FakeEngine(approvals)
    poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
    messages = ApprovalMessages(approvals=approvals, store=cast(Any, store), poster=poster,
                                directory=cast(Any, directory), registry=cast(Any, FakeRegistry()),
                                tasks=TaskSet())
    interactions = Interactions(engine=cast(Any, engine), approvals=approvals, store=cast(Any, store),
                                poster=poster, directory=cast(Any, directory), notifier=cast(Any, notifier),
                                approval_messages=messages)
    return Setup(slack, thread, approvals, store, engine, directory, notifier, messages, interactions)


async def test_an_approver_click_is_decided_and_nobody_is_told_anything(setup: Setup) -> None:
    approval = await setup.posted_approval()

    await setup.interactions.approve(BOB, approval.id, OPS, setup.thread.root_ts, edits=0)

    assert setup.engine.decided == [(approval.id, True, BOB)]
    decided = await setup.approvals.get(approval.id)
    assert decided is not None and decided.status is ApprovalStatus.APPROVED
    assert setup.slack.ephemerals == []


async def test_someone_not_allowed_is_told_who_may_and_nothing_is_decided(setup: Setup) -> None:
    approval = await setup.posted_approval()

    await setup.interactions.approve(MALLORY, approval.id, OPS, setup.thread.root_ts)

    assert setup.engine.decided == []
    assert setup.slack.told(MALLORY) == [say.not_allowed("<@U0BOB>")]
    assert setup.slack.ephemerals[0].thread_ts == setup.thread.root_ts


async def test_a_late_click_is_told_who_decided_and_the_message_loses_its_buttons(setup: Setup) -> None:
    approval = await setup.posted_approval()
    await setup.approvals.decide(approval.id, approved=False, by=ALICE)

    await setup.interactions.approve(BOB, approval.id, OPS, setup.thread.root_ts)

    assert setup.engine.decided == []
    assert setup.slack.told(BOB) == [say.already_decided("rejected", ALICE)]
    assert setup.store.approval_messages[approval.id].closed  # refreshed: it shows the decision
    assert len(setup.slack.calls_of("chat.update")) == 1


async def test_a_click_on_a_closed_message_or_with_groups_unchecked_decides_nothing(setup: Setup) -> None:
    stale = await setup.posted_approval()
    await setup.messages.refresh_open(setup.thread.key, stale=True)  # its run replanned without it
    await setup.interactions.approve(BOB, stale.id, OPS, None)
    assert setup.slack.told(BOB) == [say.APPROVAL_STALE]

    unchecked = await setup.approvals.request(approval_request(setup.thread, node_id="n2"))
    setup.directory.unknown = True
    await setup.interactions.approve(BOB, unchecked.id, OPS, None)
    assert setup.slack.told(BOB)[-1] == say.GROUP_UNCHECKED
    assert setup.engine.decided == []


async def test_a_click_in_app_home_is_answered_by_a_dm_naming_the_approval(setup: Setup) -> None:
    approval = await setup.posted_approval()

    await setup.interactions.approve(MALLORY, approval.id, "", None)

    assert setup.slack.told(MALLORY) == []
    assert setup.slack.dms(MALLORY) == [
        f"{say.about_approval('deploy', 'n1', setup.thread.link)}\n{say.not_allowed('<@U0BOB>')}"]


async def test_a_click_whose_work_fails_tells_the_clicker_instead_of_dying_unseen(setup: Setup) -> None:
    approval = await setup.posted_approval()

    async def broken(*args: Any, **kwargs: Any) -> DecisionResult:
        raise RuntimeError("database said no")

    setup.engine.decide = broken  # type: ignore[method-assign]
    await setup.interactions.approve(BOB, approval.id, OPS, None)

    assert setup.slack.told(BOB) == [say.CLICK_FAILED]


def status_message(thread: ThreadRef, ts: str, *, key: str | None, run_id: str | None = "run-1",
                   requested_by: str = ALICE, id: int = 1) -> StatusMessage:
    return StatusMessage(id=id, thread_key=thread.key, channel=thread.channel, ts=ts, request="deploy web",
                         requested_by=requested_by, created_at=0.0, run_id=run_id, request_key=key)


async def test_cancel_stops_only_the_clicked_request_and_drops_the_followups_it_named(setup: Setup) -> None:
    thread = setup.thread
    clicked = status_message(thread, "2.000001", key="k1")
    follow_up = status_message(thread, "2.000002", key="k2", run_id=None, id=2)
    other = status_message(thread, "2.000003", key="k3", run_id=None, requested_by=BOB, id=3)
    setup.store.status_messages += [clicked, follow_up, other]
    setup.engine.cancel_result = Cancelled(CancelOutcome.STOPPED, dropped=("k2",))

    await setup.interactions.cancel(MALLORY, thread.key, OPS, clicked.ts, thread.root_ts)
    assert setup.slack.told(MALLORY) == [say.CANCEL_NOT_ALLOWED] and setup.engine.cancels == []

    await setup.interactions.cancel(ALICE, thread.key, OPS, clicked.ts, thread.root_ts)
    assert setup.engine.cancels == [(thread.key, ALICE, "k1")]
    assert setup.notifier.cancelled_queued == [[follow_up]]
    assert setup.slack.told(ALICE) == []


async def test_cancel_of_a_run_that_is_over_is_too_late(setup: Setup) -> None:
    thread = setup.thread
    await setup.interactions.cancel(ALICE, thread.key, OPS, "9.000001", None)  # no such status message
    old = status_message(thread, "2.000001", key=None)  # from before requests had keys
    setup.store.status_messages.append(old)
    await setup.interactions.cancel(ALICE, thread.key, OPS, old.ts, None)  # its thread is idle
    assert setup.slack.told(ALICE) == [say.CANCEL_TOO_LATE, say.CANCEL_TOO_LATE]
    assert setup.engine.cancels == []

    setup.engine.statuses[thread.key] = ThreadStatus.RUNNING
    setup.engine.cancel_result = Cancelled(CancelOutcome.TOO_LATE)  # it ended meanwhile
    await setup.interactions.cancel(ALICE, thread.key, OPS, old.ts, None)
    assert setup.engine.cancels == [(thread.key, ALICE, None)]
    assert setup.slack.told(ALICE)[-1] == say.CANCEL_TOO_LATE and len(setup.slack.told(ALICE)) == 3
