"""bot.outbound.assistant on its own: the assistant pane's prompts, title and status set in a DM
thread of the emulated Slack (no app, no engine, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from langchain_core.tools import StructuredTool
from slack_sdk.web.async_client import AsyncWebClient

from agent.events import AnswerReady, Planning
from agent.plan.readiness import NodeState
from agent.tools.registry import Risk, ToolSpec
from bot.ground.features import Feature, SlackFeatures
from bot.ground.threads import ThreadRef
from bot.outbound.assistant import AssistantPane
from bot.views import wording as say
from bot.views.progress_view import NodeView, Phase, RunProgress
from tests.bot.chat import ALICE
from tests.bot.fakes_bot import FakeBotStore, FakeDirectory
from tests.fakes.slack_api import FakeSlack


def spec(name: str, description: str, risk: Risk) -> ToolSpec:
    async def run() -> str:
        return ""
    return ToolSpec(StructuredTool.from_function(coroutine=run, name=name, description=description), risk)


class PaneDirectory(FakeDirectory):
    refused = frozenset({"drop_db"})

    def answers_in(self, channel: str, *, direct: bool | None) -> bool | None:
        return True

    async def tool_refusal(self, tool: str, user: str | None, channel: str) -> str | None:
        return "not here" if tool in self.refused else None


@dataclass
class Pane:
    slack: FakeSlack
    thread: ThreadRef
    store: FakeBotStore
    features: SlackFeatures
    pane: AssistantPane

    @property
    def where(self) -> tuple[str, str]:
        return self.thread.channel, self.thread.root_ts


@pytest.fixture
def pane(slack: FakeSlack) -> Pane:
    dm = slack.app_dm(ALICE)
    root = slack.post_as_bot(dm, "How can I help?", [])
    store, features = FakeBotStore(), SlackFeatures()
    tools = [spec("drop_db", "Drop a database.", Risk.RED), spec("logs", "Tail logs.", Risk.GREEN),
             spec("deploy", "Deploy a service.", Risk.RED)]
    pane = AssistantPane(client=AsyncWebClient(token=slack.token, base_url=slack.base_url), store=cast(Any, store),
                         directory=cast(Any, PaneDirectory()), registry=cast(Any, tools), features=features,
                         clock=lambda: 1.0)
    return Pane(slack, ThreadRef(slack.team, dm, root.ts), store, features, pane)


def started(pane: Pane, context: str | None = "C0OPS") -> dict[str, Any]:
    return {"assistant_thread": {"channel_id": pane.thread.channel, "thread_ts": pane.thread.root_ts,
                                 "user_id": ALICE, "context": {"channel_id": context}}}


async def test_a_new_pane_thread_is_owned_and_offered_prompts_for_the_tools_its_user_may_use(pane: Pane) -> None:
    await pane.pane.thread_started(pane.thread.team, started(pane))

    assert pane.store.owned == [pane.thread]
    kept = pane.store.assistant_threads[pane.thread.key]
    assert (kept.user, kept.context_channel) == (ALICE, "C0OPS")
    offered = pane.slack.prompts[pane.where]
    assert offered["title"] == say.PROMPTS_TITLE
    assert [p["title"] for p in offered["prompts"]] == ["logs: Tail logs", "deploy: Deploy a service"]

    await pane.pane.context_changed(pane.thread.team, started(pane, context="C0DEV"))
    assert pane.store.assistant_threads[pane.thread.key].context_channel == "C0DEV"


async def test_a_run_in_a_pane_thread_titles_it_once_and_shows_its_status_until_it_ends(pane: Pane) -> None:
    await pane.pane.thread_started(pane.thread.team, started(pane))
    progress = RunProgress(request="tail   the logs", requested_by=ALICE, started_at=0.0)
    planning = Planning(thread_id=pane.thread.key, run_id="r1", request="tail   the logs")

    await pane.pane.show(pane.thread, progress, planning)
    await pane.pane.show(pane.thread, progress, planning)  # the same status: not sent again
    progress.phase = Phase.RUNNING
    progress.nodes = {"a": NodeView("a", "logs", NodeState.RUNNING)}
    await pane.pane.show(pane.thread, progress, planning)
    progress.phase = Phase.ANSWERED
    await pane.pane.show(pane.thread, progress, AnswerReady(thread_id=pane.thread.key, run_id="r1", answer="ok",
                                                                 duration_s=1.0, nodes_run=1, tokens=5))

    assert pane.slack.titles[pane.where] == "tail the logs"
    assert len(pane.slack.calls_of("assistant.threads.setTitle")) == 1
    assert pane.slack.statuses[pane.where] == [say.STATUS_PLANNING, "is running a (logs)…", ""]


async def test_threads_that_are_not_the_panes_and_a_pane_slack_refuses_get_nothing(pane: Pane) -> None:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    planning = Planning(thread_id=pane.thread.key, run_id="r1", request="r")
    await pane.pane.show(pane.thread, progress, planning)  # never started in the pane
    assert pane.slack.calls_of("assistant.threads.setStatus") == []

    await pane.pane.thread_started(pane.thread.team, started(pane))
    other = ThreadRef(pane.thread.team, pane.thread.channel, "1.000001")
    pane.slack.assistant_error = "missing_scope"
    await pane.pane.show(other, progress, planning)  # (the pane's memory says it is not one)
    await pane.pane.show(pane.thread, progress, planning)
    assert not pane.features.available(Feature.ASSISTANT)
    calls = len(pane.slack.calls_of("assistant.threads.setTitle")) + len(
        pane.slack.calls_of("assistant.threads.setStatus"))
    progress.phase = Phase.ANSWERED
    await pane.pane.show(pane.thread, progress, planning)
    assert len(pane.slack.calls_of("assistant.threads.setStatus")) + len(
        pane.slack.calls_of("assistant.threads.setTitle")) == calls == 2  # (the title's, and that run's status)
