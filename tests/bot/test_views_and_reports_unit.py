"""Small bot modules on their own: bot.views.assistant_view (pure), bot.outbound.status_report
(``/agent status`` over faked stores and engine) and bot.access.standing_grants (grants in memory,
filtered by a faked policy)."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from langchain_core.tools import StructuredTool

from agent.engine.engine import ThreadStatus
from agent.plan.readiness import NodeState
from agent.ports.standing import StandingGrant
from agent.tools.registry import Risk, ToolSpec
from bot.access.standing_grants import PolicedGrants
from bot.ground.threads import ThreadRef
from bot.outbound.status_report import active_runs, decidable_approvals, status_report
from bot.store import ApprovalMessage, StatusMessage
from bot.views import wording as say
from bot.views.assistant_view import first_sentence, status_text, suggested_prompts, thread_title
from bot.views.progress_view import NodeView, Phase, RunProgress
from infra.emulators.memory_standing import MemoryStandingApprovals
from infra.emulators.memory_stores import MemoryStore
from tests.bot.chat import ALICE, BOB, CAROL, MALLORY
from tests.bot.fakes_bot import FakeBotStore, FakeDirectory, FakeEngine, approval_request
from tests.fakes.slack_api import render_text

# ------------------------------------------------------------------ assistant_view


def spec(name: str, description: str, risk: Risk) -> ToolSpec:
    async def run() -> str:
        return ""
    return ToolSpec(StructuredTool.from_function(coroutine=run, name=name, description=description), risk)


def test_suggested_prompts_put_read_only_tools_first_and_warn_of_approvals() -> None:
    tools = [spec("deploy", "Deploy a service. Needs a version.", Risk.RED),
             spec("zlogs", "Tail the logs!  Of a pod.", Risk.GREEN),
             spec("alerts", "List firing alerts", Risk.GREEN),
             spec("restart", "Restart a pod.", Risk.RED),
             spec("scale", "Scale a deployment.", Risk.RED)]

    prompts = suggested_prompts(tools)

    assert [p["title"] for p in prompts] == ["alerts: List firing alerts", "zlogs: Tail the logs!",
                                            "deploy: Deploy a service", "restart: Restart a pod"]
    assert prompts[1]["message"] == say.suggested_prompt("zlogs", "Tail the logs!", red=False)
    assert "ask for approval" in prompts[2]["message"] and "ask for approval" not in prompts[0]["message"]
    assert suggested_prompts([spec("x", "", Risk.GREEN)])[0]["title"] == "x: x"


def test_titles_and_first_sentences_are_tidied_and_clipped() -> None:
    assert first_sentence("  Check   the disk.\nThen more. ") == "Check the disk"
    assert first_sentence("no stop here") == "no stop here"
    assert first_sentence("v1.2 is out. Yes") == "v1.2 is out"
    assert thread_title("deploy\n  web\tnow") == "deploy web now"
    long = thread_title("word " * 100)
    assert len(long) <= 120 and long.startswith("word word")


def test_the_pane_status_follows_the_run_and_clears_when_nothing_goes_on() -> None:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    assert status_text(progress) == say.STATUS_PLANNING
    progress.phase = Phase.REPLANNING
    assert status_text(progress) == say.STATUS_REPLANNING
    progress.phase = Phase.RUNNING
    progress.nodes = {"a": NodeView("a", "lookup", NodeState.RUNNING), "b": NodeView("b", "deploy"),
                      "c": NodeView("c", "logs", NodeState.RUNNING)}
    assert status_text(progress) == "is running a (lookup), c (logs)…"
    progress.nodes = {f"n{i}": NodeView(f"n{i}", "some-long-tool-name", NodeState.RUNNING) for i in range(20)}
    assert len(status_text(progress)) <= 120
    for phase in (Phase.WAITING, Phase.ANSWERED, Phase.FAILED, Phase.QUEUED):
        progress.phase = phase
        assert status_text(progress) == ""


# ------------------------------------------------------------------ status_report

THREAD = ThreadRef("T0TEAM", "C0OPS", "1700000000.000100")
OTHER = ThreadRef("T0TEAM", "C0OPS", "1700000000.000200")


def status(id: int, thread: ThreadRef, request: str, run_id: str | None,
           requested_by: str = ALICE, thread_key: str | None = None) -> StatusMessage:
    return StatusMessage(id=id, thread_key=thread_key or thread.key, channel=thread.channel, ts=f"2.{id:06d}",
                         request=request, requested_by=requested_by, created_at=0.0, run_id=run_id)


async def test_status_lists_the_callers_live_runs_and_the_approvals_they_may_decide() -> None:
    approvals, store = MemoryStore(), FakeBotStore()
    engine = FakeEngine(approvals, statuses={THREAD.key: ThreadStatus.WAITING})
    store.status_messages = [
        status(1, THREAD, "deploy web", "run-1"),
        status(2, THREAD, "then restart", None),  # queued behind it
        status(3, OTHER, "finished unseen", "run-2"),  # its thread is idle: over across a restart
        status(4, OTHER, "bob's", "run-3", requested_by=BOB),
        status(5, OTHER, "not slack", None, thread_key="cli:local"),
    ]
    runs = await active_runs(ALICE, engine=cast(Any, engine), store=cast(Any, store))
    assert [(r.request, r.state, r.link) for r in runs] == [
        ("deploy web", "waiting for approval", THREAD.link), ("then restart", "queued", THREAD.link)]

    mine = await approvals.request(approval_request(THREAD, node_id="n1", requested_by=CAROL))
    closed = await approvals.request(approval_request(THREAD, node_id="n2", requested_by=CAROL))
    elsewhere = ThreadRef("T0TEAM", "C0DEV", "1700000000.000300")
    await approvals.request(approval_request(elsewhere, node_id="n3"))
    await approvals.request(dataclasses.replace(approval_request(THREAD, node_id="n4"), thread_id="cli:local"))
    store.approval_messages[closed.id] = ApprovalMessage(closed.id, THREAD.key, "C0OPS", "3.1", closed=True)
    directory = FakeDirectory([ALICE])

    found = await decidable_approvals(ALICE, approvals=approvals, store=cast(Any, store),
                                      directory=cast(Any, directory))
    assert [(a.node_id, t) for a, t in found] == [("n1", THREAD), ("n3", elsewhere)]
    assert await decidable_approvals(MALLORY, approvals=approvals, store=cast(Any, store),
                                     directory=cast(Any, directory)) == []

    reply = await status_report(ALICE, engine=cast(Any, engine), approvals=approvals, store=cast(Any, store),
                                directory=cast(Any, directory))
    shown = render_text(reply.text, reply.blocks)
    assert "deploy web> — waiting for approval" in shown and "then restart> — queued" in shown
    assert f"<{THREAD.link}|`deploy` (node `n1`)> requested by <@{CAROL}>" in shown
    assert "(node `n2`)" not in shown and "(node `n4`)" not in shown and mine.node_id == "n1"


# ------------------------------------------------------------------ standing_grants


def grant(id: str, granted_by: str, *, thread: ThreadRef = THREAD, tool: str = "deploy",
          expires_at: float = 2_000.0) -> StandingGrant:
    return StandingGrant(id=id, thread_id=thread.key, tool=tool, requester=ALICE, granted_by=granted_by,
                         granted_at=1_000.0, expires_at=expires_at, approval_id=f"ap-{id}")


async def test_a_standing_grant_approves_only_while_the_policy_still_lets_its_granter_give_it() -> None:
    kept = MemoryStandingApprovals(MemoryStore())
    directory = FakeDirectory([BOB], standing=True)
    grants = PolicedGrants(kept, cast(Any, directory))
    await grants.grant(grant("g1", BOB))

    covering = await grants.covering(THREAD.key, "deploy", ALICE, 1_500.0)
    assert covering is not None and covering.id == "g1"
    assert await grants.covering(THREAD.key, "restart", ALICE, 1_500.0) is None
    assert await grants.covering(THREAD.key, "deploy", ALICE, 2_500.0) is None  # expired

    directory.approvers = frozenset({CAROL})  # a new policy: Bob may no longer approve deploys
    assert await grants.covering(THREAD.key, "deploy", ALICE, 1_500.0) is None
    directory.approvers, directory.standing = frozenset({BOB}), False  # nor is it offered any more
    assert await grants.covering(THREAD.key, "deploy", ALICE, 1_500.0) is None
    directory.standing, directory.unknown = True, True  # the group could not be listed: unknown is no
    assert await grants.covering(THREAD.key, "deploy", ALICE, 1_500.0) is None

    directory.unknown = False
    assert (await grants.covering(THREAD.key, "deploy", ALICE, 1_500.0)) is not None
    # the rest passes through: what the grants hold, unfiltered
    assert [g.id for g in await grants.live_for(ALICE, 1_500.0)] == ["g1"]
    revoked = await grants.revoke("g1", by=ALICE, now=1_600.0, why="done")
    assert revoked is not None and revoked.revoked_by == ALICE
    assert (await grants.get("g1")) == revoked
    assert await grants.covering(THREAD.key, "deploy", ALICE, 1_700.0) is None
