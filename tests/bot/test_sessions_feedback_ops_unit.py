"""Small bot modules on their own, against the emulated Slack where they call it:
bot.outbound.agent_sessions, bot.inbound.agent_stop, bot.inbound.feedback, bot.inbound.app_context
and bot.ops (no app, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.background_tasks import TaskSet
from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.agent_stop import SessionStop
from bot.inbound.app_context import AppContexts, context_of
from bot.inbound.feedback import FeedbackDesk, parse_vote
from bot.ops import ObservingRetryHandler
from bot.outbound.agent_sessions import AgentSessions, SessionStatus, session_status
from bot.store import AnswerMessage, StatusMessage, Vote
from bot.views import wording as say
from bot.views.progress_view import Phase, RunProgress
from tests.bot.chat import ALICE, BOB, OPS
from tests.bot.fakes_bot import FakeBotStore
from tests.fakes.slack_api import FakeSlack

# ------------------------------------------------------------------ agent_sessions


def test_the_session_status_a_run_calls_for() -> None:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    expected = {Phase.QUEUED: None, Phase.PLANNING: SessionStatus.PROCESSING,
                Phase.RUNNING: SessionStatus.PROCESSING, Phase.REPLANNING: SessionStatus.PROCESSING,
                Phase.WAITING: SessionStatus.SUSPENDED, Phase.ANSWERED: SessionStatus.ACTIVE,
                Phase.FAILED: SessionStatus.ACTIVE, Phase.CANCELLED: SessionStatus.ACTIVE}
    for phase, status in expected.items():
        progress.phase = phase
        assert session_status(progress) is status, phase


@dataclass
class Sessions:
    slack: FakeSlack
    thread: ThreadRef
    features: SlackFeatures
    tasks: TaskSet
    sessions: AgentSessions

    def statuses(self) -> list[str]:
        session = self.slack.sessions.get((self.thread.channel, self.thread.root_ts))
        return session.statuses if session else []


@pytest.fixture
def sessions(slack: FakeSlack) -> Sessions:
    dm = slack.app_dm(ALICE)
    root = slack.post_as_user(dm, ALICE, "deploy web")
    features, tasks = SlackFeatures(), TaskSet()
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url)
    return Sessions(slack, ThreadRef(slack.team, dm, root.ts), features, tasks,
                    AgentSessions(client=client, features=features, tasks=tasks))


async def test_a_dm_threads_session_follows_its_run_sending_only_changes(sessions: Sessions) -> None:
    progress = RunProgress(request="deploy   web\nplease", requested_by=ALICE, started_at=0.0)
    for phase in (Phase.QUEUED, Phase.PLANNING, Phase.RUNNING, Phase.WAITING, Phase.RUNNING, Phase.ANSWERED):
        progress.phase = phase
        sessions.sessions.show(sessions.thread, progress)
        await sessions.tasks.idle()

    assert sessions.statuses() == ["processing", "suspended", "processing", "active"]
    session = sessions.slack.sessions[(sessions.thread.channel, sessions.thread.root_ts)]
    assert session.title == "deploy web please"

    channel_thread = ThreadRef(sessions.slack.team, OPS, sessions.thread.root_ts)  # not an agent conversation
    sessions.sessions.show(channel_thread, progress)
    await sessions.tasks.idle()
    assert len(sessions.slack.calls_of("agents.sessions.setStatus")) == 4


async def test_sessions_slack_does_not_offer_are_switched_off_after_one_refusal(sessions: Sessions) -> None:
    sessions.slack.session_error = "not_allowed"
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    sessions.sessions.show(sessions.thread, progress)
    await sessions.tasks.idle()
    progress.phase = Phase.ANSWERED
    sessions.sessions.show(sessions.thread, progress)
    await sessions.tasks.idle()

    assert not sessions.features.available(Feature.SESSIONS)
    assert len(sessions.slack.calls_of("agents.sessions.setStatus")) == 1


# ------------------------------------------------------------------ agent_stop


async def test_the_stop_button_cancels_the_threads_run_as_its_clicker(sessions: Sessions) -> None:
    store = FakeBotStore()
    thread = sessions.thread
    cancels: list[tuple[str, str, str, str | None, str | None]] = []

    async def cancel(user: str, thread_key: str, channel: str, message_ts: str | None,
                     thread_ts: str | None) -> None:
        cancels.append((user, thread_key, channel, message_ts, thread_ts))

    stop = SessionStop(store=cast(Any, store), cancel=cancel, sessions=sessions.sessions)
    store.status_messages = [
        StatusMessage(1, thread.key, thread.channel, "5.000001", "r", ALICE, 0.0, run_id=None),  # queued
        StatusMessage(2, thread.key, thread.channel, "5.000002", "r", ALICE, 0.0, run_id="run-1"),
    ]
    event = {"user": BOB, "channel": thread.channel, "thread_ts": thread.root_ts}

    await stop.stopped(thread.team, event)
    await sessions.tasks.idle()
    assert cancels == [(BOB, thread.key, thread.channel, "5.000002", thread.root_ts)]
    assert sessions.statuses() == []  # a run goes on: its end sets the session active

    store.status_messages = store.status_messages[:1]  # no run going: the session is released at once
    await stop.stopped(thread.team, event)
    await sessions.tasks.idle()
    assert cancels[-1] == (BOB, thread.key, thread.channel, None, thread.root_ts)
    assert sessions.statuses() == ["active"]

    await stop.stopped(thread.team, {"user": BOB, "channel": thread.channel})  # no thread: ignored
    assert len(cancels) == 2


# ------------------------------------------------------------------ feedback


def test_votes_are_read_only_from_well_formed_values() -> None:
    assert parse_vote("up:run-1") == (Vote.UP, "run-1")
    assert parse_vote("down:r") == (Vote.DOWN, "r")
    for value in ("up:", "sideways:run-1", "up", "", "down:" + "x" * 33):
        assert parse_vote(value) is None, value


async def test_feedback_counts_only_on_the_message_ending_the_answer(slack: FakeSlack) -> None:
    store = FakeBotStore()
    answer = AnswerMessage(run_id="run-1", thread_key="k", channel=OPS, ts="7.000001", requested_by=ALICE,
                           answered_at=0.0)
    store.answers.append(answer)
    desk = FeedbackDesk(store=cast(Any, store),
                        poster=SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url)),
                        clock=lambda: 1.0)

    assert await desk.record(BOB, "up:run-1", OPS, "7.000001", "6.000001") is Vote.UP
    assert await desk.record(BOB, "down:run-1", OPS, "7.000001", None) is Vote.DOWN  # replaces it
    assert store.votes == {("run-1", BOB): Vote.DOWN}
    assert slack.told(BOB) == [say.FEEDBACK_THANKS["up"], say.FEEDBACK_THANKS["down"]]

    # copied onto another message, or naming a run with no answer: nothing recorded
    assert await desk.record(ALICE, "up:run-1", OPS, "7.000002", None) is None
    assert await desk.record(ALICE, "up:run-2", OPS, "7.000001", None) is None
    assert await desk.record(ALICE, "nonsense", OPS, "7.000001", None) is None
    assert ("run-1", ALICE) not in store.votes
    assert slack.told(ALICE) == [say.FEEDBACK_NOT_AN_ANSWER] * 3


# ------------------------------------------------------------------ app_context


def test_what_each_person_views_beside_the_app_is_kept_per_team_and_person() -> None:
    contexts = AppContexts()
    message = {"type": "slack#/types/message_context", "value": {"channel_id": "C0MSG", "ts": "1.1"}}
    canvas = {"type": "slack#/types/canvas_id", "value": "F0CANVAS"}
    channel = {"type": "slack#/types/channel_id", "value": "C0CHAN"}

    contexts.changed("T1", {}, {"user": ALICE, "context": {"entities": [canvas, message, channel]}})
    contexts.changed("T1", {"authorizations": [{"user_id": "U0BOT", "is_bot": True},
                                               {"user_id": BOB, "is_bot": False}]},
                     {"context": {"entities": [canvas, channel]}})
    contexts.changed("T1", {}, {"context": {}})  # names nobody: ignored

    alice = contexts.looking_at("T1", ALICE)
    assert alice is not None and alice.channel == "C0MSG" and len(alice.entities) == 3
    bob = contexts.looking_at("T1", BOB)
    assert bob is not None and bob.channel == "C0CHAN"
    assert contexts.looking_at("T2", ALICE) is None

    contexts.changed("T1", {}, {"user": ALICE, "context": {"entities": []}})  # viewing nothing now
    alice = contexts.looking_at("T1", ALICE)
    assert alice is not None and alice.channel is None
    only_canvas = context_of({}, {"user": ALICE, "context": {"entities": [canvas, "junk"]}})
    assert only_canvas is not None and only_canvas.channel is None and only_canvas.entities == (canvas,)


# ------------------------------------------------------------------ ops


@dataclass
class Observer:
    seen: list[tuple[str, int | None, str | None]] = field(default_factory=list)

    def slack_call(self, method: str, *, status: int | None, error: str | None) -> None:
        self.seen.append((method, status, error))


async def test_every_web_api_response_is_reported_by_method_and_error_code(slack: FakeSlack) -> None:
    observer = Observer()
    client = AsyncWebClient(token=slack.token, base_url=slack.base_url,
                            retry_handlers=[ObservingRetryHandler(observer)])

    await client.chat_postMessage(channel=OPS, text="hi")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0NOWHERE", text="hi")
    slack.inject("chat.update", status=429, retry_after=0)
    with pytest.raises(SlackApiError):
        await client.chat_update(channel=OPS, ts="1.1", text="x")

    assert observer.seen == [("chat.postMessage", 200, None), ("chat.postMessage", 200, "channel_not_found"),
                             ("chat.update", 429, "ratelimited")]

    unreachable = AsyncWebClient(token=slack.token, base_url="http://127.0.0.1:9/api/",
                                 retry_handlers=[ObservingRetryHandler(observer)])
    with pytest.raises(OSError):
        await unreachable.auth_test()
    assert observer.seen[-1] == ("auth.test", None, "connection_error")
