"""bot.inbound.approval_shortcuts on its own: "Approve for this thread", "Approve all" and Revoke,
decided by a fake engine over approvals and standing grants in memory, answered in the emulated
Slack (no Bolt, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from agent.ports.standing import StandingGrant
from agent.ports.stores import Approval, ApprovalStatus
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.approval_shortcuts import ApprovalShortcuts
from bot.inbound.interactions import Interactions
from bot.outbound.approval_messages import ApprovalMessages
from bot.store import ApprovalMessage, StatusMessage
from bot.views import standing_view as view
from bot.views import wording as say
from infra.emulators.memory_standing import MemoryStandingApprovals
from infra.emulators.memory_stores import MemoryStore
from tests.bot.chat import ALICE, BOB, CAROL, MALLORY, OPS
from tests.bot.fakes_bot import (
    FakeBotStore,
    FakeDirectory,
    FakeEngine,
    FakeNotifier,
    FakeRegistry,
    approval_request,
)
from tests.fakes.slack_api import FakeSlack

NOW = 1_700_000_000.0


@dataclass
class Setup:
    slack: FakeSlack
    thread: ThreadRef
    approvals: MemoryStore
    grants: MemoryStandingApprovals
    store: FakeBotStore
    engine: FakeEngine
    directory: FakeDirectory
    shortcuts: ApprovalShortcuts

    async def posted(self, **request: Any) -> Approval:
        approval = await self.approvals.request(approval_request(self.thread, **request))
        sent = self.slack.post_as_bot(OPS, "Approval needed", [], self.thread.root_ts)
        await self.store.save_approval_message(ApprovalMessage(approval.id, self.thread.key, OPS, sent.ts))
        return approval

    async def status(self, approval_id: str) -> ApprovalStatus:
        approval = await self.approvals.get(approval_id)
        assert approval is not None
        return approval.status


@pytest.fixture
def setup(slack: FakeSlack) -> Setup:
    root = slack.post_as_user(OPS, ALICE, "deploy web")
    thread = ThreadRef(slack.team, OPS, root.ts)
    approvals, store = MemoryStore(clock=lambda: NOW), FakeBotStore()
    grants = MemoryStandingApprovals(approvals)
    directory = FakeDirectory([BOB], standing=True, tools={"drop_db": [CAROL]})
    engine = FakeEngine(approvals)
    poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
    messages = ApprovalMessages(approvals=approvals, store=cast(Any, store), poster=poster,
                                directory=cast(Any, directory), registry=cast(Any, FakeRegistry()),
                                tasks=TaskSet())
    interactions = Interactions(engine=cast(Any, engine), approvals=approvals, store=cast(Any, store),
                                poster=poster, directory=cast(Any, directory), notifier=cast(Any, FakeNotifier()),
                                approval_messages=messages)
    shortcuts = ApprovalShortcuts(engine=cast(Any, engine), approvals=approvals, grants=grants,
                                  store=cast(Any, store), poster=poster, directory=cast(Any, directory),
                                  interactions=interactions, approval_messages=messages, clock=lambda: NOW)
    return Setup(slack, thread, approvals, grants, store, engine, directory, shortcuts)


async def test_approve_for_this_thread_keeps_a_grant_and_approves_naming_it(setup: Setup) -> None:
    approval = await setup.posted()

    await setup.shortcuts.approve_for_thread(BOB, approval.id, OPS, None, edits=0)

    grant = await setup.grants.covering(setup.thread.key, "deploy", ALICE, NOW + 1)
    assert grant is not None and grant.granted_by == BOB and grant.approval_id == approval.id
    assert grant.expires_at == NOW + 3600.0
    decided = await setup.approvals.get(approval.id)
    assert decided is not None and decided.status is ApprovalStatus.APPROVED and grant.id in (decided.reason or "")
    assert setup.slack.told(BOB) == []


async def test_a_grant_whose_approval_was_not_decided_is_revoked_at_once(setup: Setup) -> None:
    approval = await setup.posted()

    await setup.shortcuts.approve_for_thread(BOB, approval.id, OPS, None, edits=3)  # an older view's click

    assert await setup.status(approval.id) is ApprovalStatus.PENDING
    assert await setup.grants.covering(setup.thread.key, "deploy", ALICE, NOW + 1) is None
    assert setup.slack.told(BOB) == [say.ARGS_CHANGED]


async def test_approve_for_this_thread_is_refused_where_the_policy_does_not_offer_or_allow_it(
        setup: Setup) -> None:
    approval = await setup.posted()
    setup.directory.standing = False
    await setup.shortcuts.approve_for_thread(BOB, approval.id, OPS, None)
    assert setup.slack.told(BOB) == [view.never_standing("deploy")]

    setup.directory.standing = True
    setup.directory.tools["deploy"] = frozenset({BOB})

    async def may_not(tool: str, requester: str | None, user: str) -> bool:
        return False
    setup.directory.may_grant_standing = may_not  # type: ignore[method-assign]
    await setup.shortcuts.approve_for_thread(BOB, approval.id, OPS, None)
    assert setup.slack.told(BOB)[-1] == view.may_not_grant("deploy")

    assert setup.engine.decided == [] and await setup.status(approval.id) is ApprovalStatus.PENDING
    assert await setup.grants.live_for(BOB, NOW) == []


async def test_approve_all_approves_what_the_clicker_may_and_tells_them_of_the_rest(setup: Setup) -> None:
    mine = await setup.posted(node_id="n1")
    also = await setup.posted(node_id="n2", tool="restart")
    not_mine = await setup.posted(node_id="n3", tool="drop_db")
    closed = await setup.posted(node_id="n4")
    await setup.store.close_approval_message(closed.id)  # its run replanned without it
    setup.store.status_messages.append(StatusMessage(1, setup.thread.key, OPS, "3.000001", "deploy web", ALICE,
                                                     0.0, run_id="run-1"))

    await setup.shortcuts.approve_all(BOB, setup.thread.key, OPS, "3.000001", None)

    assert [await setup.status(a.id) for a in (mine, also, not_mine, closed)] == [
        ApprovalStatus.APPROVED, ApprovalStatus.APPROVED, ApprovalStatus.PENDING, ApprovalStatus.PENDING]
    assert setup.slack.told(BOB) == [view.approve_all_left([(not_mine, f"only <@{CAROL}> may approve it")], 2)]

    await setup.shortcuts.approve_all(BOB, setup.thread.key, OPS, "9.000009", None)  # not a run's message
    assert setup.slack.told(BOB)[-1] == view.NOTHING_TO_APPROVE


async def test_revoke_ends_a_grant_only_for_its_granter_or_requester(setup: Setup) -> None:
    await setup.grants.grant(StandingGrant(id="g1", thread_id=setup.thread.key, tool="deploy", requester=ALICE,
                                           granted_by=BOB, granted_at=NOW - 10, expires_at=NOW + 100,
                                           approval_id="a0"))

    await setup.shortcuts.revoke(MALLORY, "g1")
    assert setup.slack.dms(MALLORY) == [view.REVOKE_NOT_ALLOWED]
    assert await setup.grants.covering(setup.thread.key, "deploy", ALICE, NOW) is not None

    await setup.shortcuts.revoke(ALICE, "g1")
    assert await setup.grants.covering(setup.thread.key, "deploy", ALICE, NOW) is None
    assert setup.slack.dms(ALICE) == []

    await setup.shortcuts.revoke(BOB, "g1")  # ended already
    assert setup.slack.dms(BOB) == [view.GRANT_ENDED]
