"""bot.outbound.approval_messages on its own: approval messages posted in, and closed in, a thread
of the emulated Slack; the approvals in memory, the bot's store, directory and registry faked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from agent.events import AwaitingApproval, DecisionRecorded
from agent.ports.stores import Approval
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.outbound.approval_messages import ApprovalMessages
from infra.emulators.memory_stores import MemoryStore
from tests.bot.chat import ALICE, BOB, OPS
from tests.bot.fakes_bot import FakeBotStore, FakeDirectory, FakeRegistry, approval_request
from tests.fakes.slack_api import FakeSlack, Message


@dataclass
class Setup:
    slack: FakeSlack
    thread: ThreadRef
    approvals: MemoryStore
    store: FakeBotStore
    tasks: TaskSet
    messages: ApprovalMessages
    changed: list[Approval] = field(default_factory=list)

    async def ask(self, **request: Any) -> AwaitingApproval:
        """A pending approval, and the event that asks for it (not posted yet)."""
        approval = await self.approvals.request(approval_request(self.thread, **request))
        return AwaitingApproval(thread_id=self.thread.key, run_id="run-1", approval_id=approval.id,
                                node_id=approval.node_id, tool=approval.tool, args=approval.args,
                                why=approval.why, requested_by=approval.requested_by,
                                expires_at=approval.expires_at)

    async def posted(self, event: AwaitingApproval) -> Message:
        await self.messages.post(self.thread, event)
        record = self.store.approval_messages[event.approval_id]
        message = self.slack.message(record.channel, record.ts)
        assert message is not None
        return message

    def labels(self, message: Message) -> list[str]:
        return [b["text"]["text"] for b in message.buttons()]


@pytest.fixture
async def setup(slack: FakeSlack) -> Setup:
    root = slack.post_as_user(OPS, ALICE, "deploy web")
    thread = ThreadRef(slack.team, OPS, root.ts)
    approvals, store, tasks = MemoryStore(), FakeBotStore(), TaskSet()
    poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
    messages = ApprovalMessages(approvals=approvals, store=cast(Any, store), poster=poster,
                                directory=cast(Any, FakeDirectory([BOB])),
                                registry=cast(Any, FakeRegistry({"deploy": frozenset({"token"})})), tasks=tasks)
    messages.retry_delays = (0.0, 0.0, 0.0, 0.0)
    setup = Setup(slack, thread, approvals, store, tasks, messages)
    messages.on_change = setup.changed.append
    return setup


async def test_an_approval_is_posted_once_in_its_thread_with_buttons_and_secrets_masked(setup: Setup) -> None:
    event = await setup.ask(args={"service": "web", "token": "s3cr3t-value"})

    message = await setup.posted(event)
    await setup.messages.post(setup.thread, event)  # asked again (e.g. after a restart): no second message

    assert message.thread_ts == setup.thread.root_ts
    assert "(node `n1`)" in message.content and "<@U0BOB>" in message.content
    assert "s3cr3t-value" not in str(message.versions) and "web" in message.content
    assert setup.labels(message) == ["Approve", "Reject", "Edit"]
    assert len([m for m in setup.slack.thread(OPS, setup.thread.root_ts) if m.is_from_bot]) == 1
    assert [a.id for a in setup.changed] == [event.approval_id]  # App Home follows (once per post)


async def test_an_approval_slack_will_not_take_waits_without_a_message(setup: Setup) -> None:
    setup.slack.inject("chat.postMessage", times=10, status=200, error="not_in_channel")
    event = await setup.ask()

    await setup.messages.post(setup.thread, event)

    assert await setup.messages.record(event.approval_id) is None
    assert len(setup.slack.calls_of("chat.postMessage")) == 1  # a lasting refusal: not retried
    assert [a.id for a in setup.changed] == [event.approval_id]  # still listed in App Home


async def test_a_decision_closes_the_message_once_showing_who_decided(setup: Setup) -> None:
    event = await setup.ask()
    message = await setup.posted(event)
    await setup.approvals.decide(event.approval_id, approved=True, by=BOB)
    decided = DecisionRecorded(thread_id=setup.thread.key, run_id="run-1", approval_id=event.approval_id,
                               node_id="n1", status="approved", decided_by=BOB)

    await setup.messages.on_event(decided, None)  # (its run may be over)
    await setup.messages.on_event(decided, None)

    assert setup.labels(message) == [] and "Approved by <@U0BOB>" in message.content
    assert len(setup.slack.calls_of("chat.update")) == 1
    assert setup.store.approval_messages[event.approval_id].closed


async def test_a_pending_approval_stays_open_unless_its_run_left_it_behind(setup: Setup) -> None:
    event = await setup.ask()
    message = await setup.posted(event)

    await setup.messages.refresh(event.approval_id)
    assert setup.labels(message) == ["Approve", "Reject", "Edit"] and not setup.slack.calls_of("chat.update")

    await setup.messages.refresh_open(setup.thread.key, stale=True)  # the run finished without it
    assert setup.labels(message) == [] and message.edited
    assert setup.store.approval_messages[event.approval_id].closed
    assert await setup.store.open_approval_messages(setup.thread.key) == []


async def test_an_update_slack_refuses_for_now_is_retried_in_the_background(setup: Setup) -> None:
    event = await setup.ask()
    message = await setup.posted(event)
    await setup.approvals.decide(event.approval_id, approved=False, by=BOB, reason="not today")
    setup.slack.inject("chat.update", times=2, status=429, retry_after=0)

    await setup.messages.refresh(event.approval_id)
    assert setup.labels(message) == ["Approve", "Reject", "Edit"]  # refused so far
    await setup.tasks.idle()

    assert setup.labels(message) == [] and "Rejected by <@U0BOB>" in message.content
    assert len(setup.slack.calls_of("chat.update")) == 3
    assert setup.store.approval_messages[event.approval_id].closed


async def test_a_message_that_is_gone_counts_as_closed_and_is_not_retried(setup: Setup) -> None:
    event = await setup.ask()
    message = await setup.posted(event)
    setup.slack.remove(message)  # someone deleted it
    await setup.approvals.decide(event.approval_id, approved=True, by=BOB)

    await setup.messages.refresh(event.approval_id)
    await setup.tasks.idle()

    assert len(setup.slack.calls_of("chat.update")) == 1
    assert setup.store.approval_messages[event.approval_id].closed
