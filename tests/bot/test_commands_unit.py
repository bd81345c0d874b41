"""bot.inbound.commands on its own: ``/agent <request>`` recorded, answered, then its root message
posted in the emulated Slack and the run handed to a fake intake (no Bolt, no engine, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.commands import SlashCommands
from bot.store import SlashCommand
from bot.views import wording as say
from infra.emulators.slack.workspace import ReplyTarget
from tests.bot.chat import ALICE, OPS
from tests.bot.fakes_bot import FakeBotStore
from tests.fakes.slack_api import FakeSlack

NOW = 1_700_000_000.0


@dataclass
class FakeIntake:
    started: list[tuple[ThreadRef, str, str | None, dict[str, Any]]] = field(default_factory=list)
    fails: bool = False

    async def start(self, thread: ThreadRef, request: str, user: str | None, **how: Any) -> None:
        if self.fails:
            raise RuntimeError("the queue is down")
        self.started.append((thread, request, user, how))


@dataclass
class Setup:
    slack: FakeSlack
    store: FakeBotStore
    intake: FakeIntake
    tasks: TaskSet
    commands: SlashCommands
    answers_in: dict[str, bool]

    def command(self, text: str = "deploy web", channel: str = OPS, *, key: str = "k" * 32,
                response_url: bool = True, received_at: float = NOW) -> SlashCommand:
        url = self.slack.response_url(ReplyTarget(ALICE, channel)) if response_url else None
        return SlashCommand(key=key, team=self.slack.team, channel=channel, user=ALICE, text=text,
                            received_at=received_at, response_url=url)

    def roots(self, channel: str = OPS) -> list[str]:
        return [m.text for m in self.slack.messages if m.is_from_bot and m.channel == channel]


@pytest.fixture
def setup(slack: FakeSlack) -> Setup:
    store, intake, tasks, answers_in = FakeBotStore(), FakeIntake(), TaskSet(), {OPS: True}
    poster = SlackPoster(AsyncWebClient(token=slack.token, base_url=slack.base_url))
    commands = SlashCommands(intake=cast(Any, intake), store=cast(Any, store), poster=poster, tasks=tasks,
                             answers_in=lambda channel, *, direct: answers_in.get(channel, False),
                             retake_seconds=60.0, clock=lambda: NOW)
    return Setup(slack, store, intake, tasks, commands, answers_in)


async def test_a_command_is_recorded_before_slack_is_answered_then_run_under_its_root_message(
        setup: Setup) -> None:
    command = setup.command("deploy web")
    recorded_first: list[bool] = []

    await setup.commands.take(command, lambda: recorded_first.append(command.key in setup.store.commands))

    assert recorded_first == [True]
    (root,) = [m for m in setup.slack.messages if m.is_from_bot]
    assert f"<@{ALICE}>" in root.content and "deploy web" in root.content and root.thread_ts is None
    thread = ThreadRef(setup.slack.team, OPS, root.ts)
    assert [(t, r, u) for t, r, u, _ in setup.intake.started] == [(thread, "deploy web", ALICE)]
    assert setup.intake.started[0][3]["key"] == command.key and setup.intake.started[0][3]["fresh"]
    assert setup.store.owned == [thread]
    assert setup.store.commands[command.key].root_ts == root.ts
    assert setup.store.finished_commands == [command.key]
    assert setup.slack.told(ALICE) == []


async def test_where_the_bot_does_not_answer_the_person_is_told_privately_and_nothing_is_recorded(
        setup: Setup) -> None:
    setup.slack.add_channel("C0QUIET", "quiet")
    answered: list[bool] = []

    await setup.commands.take(setup.command(channel="C0QUIET"), lambda: answered.append(True))

    assert answered == [True]  # Slack still gets its answer in time
    assert setup.slack.told(ALICE) == [say.not_answering_here(direct=False)]
    assert setup.slack.responses[-1]["_user"] == ALICE  # through the command's response_url
    assert setup.store.commands == {} and setup.roots("C0QUIET") == [] and setup.intake.started == []


async def test_a_root_message_slack_refuses_is_explained_and_the_command_finished(setup: Setup) -> None:
    setup.slack.add_channel("C0OUT", "outside", bot_is_member=False)
    setup.answers_in["C0OUT"] = True
    command = setup.command(channel="C0OUT")
    await setup.commands.take(command, lambda: None)
    assert setup.slack.told(ALICE) == [say.NOT_IN_CHANNEL]
    assert setup.store.finished_commands == [command.key] and setup.intake.started == []

    setup.slack.inject("chat.postMessage", status=200, error="msg_too_long")
    other = setup.command(key="m" * 32, response_url=False)  # no response_url: an ephemeral instead
    await setup.commands.take(other, lambda: None)
    assert setup.slack.told(ALICE)[-1] == say.could_not_start("msg_too_long")
    assert setup.slack.ephemerals[-1].channel == OPS and setup.intake.started == []


async def test_a_run_that_cannot_start_is_told_privately(setup: Setup) -> None:
    setup.intake.fails = True
    command = setup.command()

    await setup.commands.take(command, lambda: None)

    assert setup.slack.told(ALICE) == [say.SOMETHING_BROKE]
    assert command.key not in setup.store.finished_commands  # left for the recovery pass


async def test_a_command_whose_process_died_is_retaken_reusing_its_root_message(setup: Setup) -> None:
    posted = setup.slack.post_as_bot(OPS, "<@U0ALICE> asked: deploy web", [])
    old = setup.command(key="o" * 32, received_at=NOW - 120)
    setup.store.commands[old.key] = SlashCommand(**{**old.__dict__, "root_ts": posted.ts})
    fresh = setup.command(key="f" * 32, received_at=NOW - 5)  # its process may still be at it
    setup.store.commands[fresh.key] = fresh

    assert await setup.commands.retake() == 1
    await setup.tasks.idle()

    (started,) = setup.intake.started
    assert started[0] == ThreadRef(setup.slack.team, OPS, posted.ts)
    assert started[3]["retaken_from"] == NOW - 120
    assert len([m for m in setup.slack.messages if m.is_from_bot]) == 1  # no second root message
    assert setup.store.finished_commands == [old.key]
