"""What an operator sees: GET /metrics after real runs, GET /healthz readiness, GET /livez."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine
from structlog.testing import capture_logs

from agent.engine.engine import Submission
from agent.events import AnswerReady, LeaseTakenOver, NodeStarted
from agent.ports.sandbox import SandboxLimits, SandboxResult, ToolGateway
from bot.app import BotDeps, SlackAccess, build_bot
from bot.server import asgi_app
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.operations.metrics import Metrics
from infra.settings import Settings
from infra.storage.slack_store import SqlSlackStore
from infra.wiring import open_services
from sandbox.backends.unavailable import UnavailableSandbox
from tests.agent.harness import harness
from tests.bot.chat import ALICE, bot_config, chat_with, finish, running_bot, settle
from tests.fakes.asgi_server import BackgroundServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tools import ToolLog, simulated_registry

LOOK_UP_THEN_DEPLOY = {"nodes": [
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "b"}},
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "depends_on": ["a"]},
]}
REPLICA = "replica-1"


class Samples:
    """One scrape of /metrics: ``value(name, **labels)`` sums the samples that match."""

    def __init__(self, text: str) -> None:
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.samples
                   if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [s.labels for s in self.samples if s.name == name]


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return Samples(response.text)


async def scrape_until(url: str, name: str, expected: float, **labels: str) -> Samples:
    deadline = time.monotonic() + 30
    while True:
        samples = await scrape(url)
        if samples.value(name, **labels) == expected:
            return samples
        assert time.monotonic() < deadline, f"{name}{labels} stayed {samples.value(name, **labels)}"
        await asyncio.sleep(0.05)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


class Sandbox:
    name = "fake"

    def __init__(self, *results: SandboxResult) -> None:
        self.results = list(results)

    async def run(self, code: str, inputs: dict[str, Any], tools: ToolGateway,
                  limits: SandboxLimits) -> SandboxResult:
        return self.results.pop(0)


async def test_a_run_moves_the_counters(slack: FakeSlack, postgres_url: str) -> None:
    slack.inject("chat.update", times=1, retry_after=1)  # one 429, retried by the client
    metrics = Metrics(REPLICA)
    async with running_bot(slack, postgres_url, [LOOK_UP_THEN_DEPLOY, finish("deployed")],
                           metrics=metrics) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("look up a and b, then deploy prod")
        approval = await thread.approval_for("deploy")
        await scrape_until(app.url, "dagbot_runs", 1, state="parked")
        # the runner lets go of the lease just after the thread parks: wait for that too
        parked = await scrape_until(app.url, "dagbot_runs", 0, state="active")
        assert parked.value("dagbot_runs", state="parked") == 1
        assert parked.value("dagbot_approvals_pending") == 1

        await alice.approves(approval)
        await thread.answer()
        await settle(app)
        await thread.status_showing(":white_check_mark: *Done*")
        m = await scrape_until(app.url, "dagbot_runs_finished_total", 1, outcome="answered")

    assert {s["replica"] for s in m.labels_of("dagbot_runs_started_total")} == {REPLICA}
    assert m.value("dagbot_runs_started_total") == 1
    assert m.value("dagbot_runs_finished_total", outcome="failed") == 0
    assert (m.value("dagbot_runs", state="active"), m.value("dagbot_runs", state="parked"),
            m.value("dagbot_runs", state="queued"), m.value("dagbot_approvals_pending")) == (0, 0, 0, 0)
    # one observation per node, by tool
    assert m.value("dagbot_node_duration_seconds_count", tool="lookup", outcome="ok") == 2
    assert m.value("dagbot_node_duration_seconds_count", tool="deploy", outcome="ok") == 1
    assert m.value("dagbot_approvals_requested_total") == 1
    assert m.value("dagbot_approval_decision_seconds_count", status="approved") == 1
    # the planner and the joiner, 10 + 5 tokens each in the scripted model
    assert m.value("dagbot_llm_calls_total") == len(app.llm.calls) == 2
    assert m.value("dagbot_llm_tokens_total", kind="input") == 20
    assert m.value("dagbot_llm_tokens_total", kind="output") == 10
    # every Web API call, by method; the injected 429 counted
    for method in ("auth.test", "chat.postMessage", "chat.update"):
        assert m.value("dagbot_slack_api_calls_total", method=method) == len(slack.calls_of(method)) > 0
    assert m.value("dagbot_slack_api_ratelimited_total", method="chat.update") == 1
    assert m.value("dagbot_slack_api_errors_total", method="chat.update", error="ratelimited") == 1
    assert m.value("dagbot_slack_api_ratelimited_total", method="chat.postMessage") == 0
    assert m.value("dagbot_lease_takeovers_total") == 0


async def test_a_takeover_after_a_lapsed_lease_is_counted(sqlite_url: str) -> None:
    first = {"nodes": [{"id": "slow", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
    async with harness(sqlite_url, [first]) as h:
        assert await h.engine.submit("t1", "look it up") is Submission.STARTED
        await h.next_event(NodeStarted, node_id="slow")
    # the process stopped mid-run, its lease lapsed: the next one takes the thread over
    metrics = Metrics(REPLICA)
    async with harness(sqlite_url, [finish("done")]) as h:
        h.log.gates["g"].set()
        assert await h.engine.recover() == ["t1"]
        await h.engine.idle()
        events = h.drain()
        for event in events:
            metrics.observe(event)
        assert [type(e) for e in events if isinstance(e, LeaseTakenOver | AnswerReady)] == [
            LeaseTakenOver, AnswerReady]
        m = Samples((await metrics.metrics())[0].decode())
        assert m.value("dagbot_lease_takeovers_total", replica=REPLICA) == 1
        assert m.value("dagbot_node_duration_seconds_count", tool="lookup") == 1


async def test_sandbox_runs_are_counted_by_backend_and_kind() -> None:
    metrics = Metrics(REPLICA)
    sandbox = metrics.sandbox(Sandbox(
        SandboxResult(ok=True, result=1),
        SandboxResult(ok=False, error_type="ZeroDivisionError", error="division by zero"),
        SandboxResult(ok=False, error_type="SandboxError", error="the container vanished"),
    ))
    for _ in range(3):
        await sandbox.run("result = 1", {}, None, SandboxLimits())  # type: ignore[arg-type]
    m = Samples((await metrics.metrics())[0].decode())
    assert m.value("dagbot_sandbox_starts_total", backend="fake") == 3
    assert m.value("dagbot_sandbox_failures_total", backend="fake", kind="code") == 1
    assert m.value("dagbot_sandbox_failures_total", backend="fake", kind="sandbox") == 1
    assert await metrics.checks() == {"sandbox": None}


async def test_healthz_is_ready_when_every_check_passes(slack: FakeSlack, sqlite_url: str) -> None:
    metrics = Metrics(REPLICA)
    metrics.sandbox(Sandbox())
    async with running_bot(slack, sqlite_url, [], metrics=metrics) as app:
        ready, live = await get(f"{app.url}/healthz"), await get(f"{app.url}/livez")
    assert ready.status_code == 200
    assert ready.json() == {"ok": True, "checks": {"database": "ok", "sandbox": "ok", "slack": "ok"}}
    assert live.status_code == 200 and live.json() == {"ok": True}


async def test_healthz_names_an_unreachable_database_without_its_address(slack: FakeSlack,
                                                                        sqlite_url: str) -> None:
    metrics = Metrics(REPLICA)
    with capture_logs() as logs:
        async with running_bot(slack, sqlite_url, [], metrics=metrics) as app:
            nowhere = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
            try:
                metrics.use_database(nowhere)
                ready, live = await get(f"{app.url}/healthz"), await get(f"{app.url}/livez")
                scraped = await scrape(app.url)  # /metrics still answers, and says it could not count
            finally:
                await nowhere.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["ok"] is False and body["failing"] == ["database"]
    assert body["checks"]["database"] == "database unreachable"  # not who connects to what, where
    assert any("127.0.0.1" in str(e.get("error")) for e in logs)  # the log says
    assert body["checks"]["slack"] == "ok"
    assert live.status_code == 200
    assert scraped.value("dagbot_metrics_database_errors_total") == 1


async def test_healthz_names_a_sandbox_that_cannot_run(slack: FakeSlack, sqlite_url: str) -> None:
    metrics = Metrics(REPLICA)
    metrics.sandbox(UnavailableSandbox(["docker: no engine answers", "bwrap: not installed"]))
    async with running_bot(slack, sqlite_url, [], metrics=metrics) as app:
        ready = await get(f"{app.url}/healthz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["sandbox"]
    assert "no sandbox is available" in ready.json()["checks"]["sandbox"]


async def test_healthz_names_a_refused_slack_token(slack: FakeSlack, sqlite_url: str) -> None:
    metrics = Metrics(REPLICA)
    config = bot_config(slack)
    access = SlackAccess(config, slack_calls=metrics)
    async with open_services(Settings(DATABASE_URL=sqlite_url), llm=ScriptedChatModel(replies=[]),
                             registry=simulated_registry(ToolLog()), context=access.engine_context) as services:
        slack.inject("auth.test", times=1000, status=200, error="invalid_auth")  # the token is revoked
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store,
                       store=SqlSlackStore(services.store.engine), access=access)
        metrics.use_database(services.store.engine)
        bot = build_bot(config, deps)
        # the bot cannot start with a refused token: serve its routes without starting it
        server = BackgroundServer(asgi_app(bot, manage_bot=False, ops=metrics), lifespan="on")
        await server.start()
        try:
            ready, live = await get(f"{server.url}/healthz"), await get(f"{server.url}/livez")
            scraped = await scrape(server.url)
        finally:
            await server.stop()
            await bot.stop()
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["slack"]
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in ready.json()["checks"]["slack"]
    assert ready.json()["checks"]["database"] == "ok"
    assert live.status_code == 200
    assert scraped.value("dagbot_slack_api_errors_total", method="auth.test", error="invalid_auth") >= 1


async def test_healthz_without_metrics_keeps_answering_ok(slack: FakeSlack, sqlite_url: str) -> None:
    async with running_bot(slack, sqlite_url, []) as app, chat_with(slack, app):
        ready = await get(f"{app.url}/healthz")
        missing = await get(f"{app.url}/metrics")
    assert ready.status_code == 200 and ready.json()["ok"] is True
    assert missing.status_code == 404


async def test_the_mends_that_corrected_a_plan_are_counted_audited_and_shown(sqlite_url: str) -> None:
    """A plan with two slips (a blank optional argument, a one-item fan-out): the mends that fired
    are named on PlanReady, counted in /metrics, stored with the plan in the audit trail, and said
    under the plan in the status message (issue 42)."""
    from agent.events import PlanReady
    from bot.views.progress_view import RunProgress
    from bot.views.status_view import render_status

    sloppy = {"nodes": [{"id": "a", "tool": "lookup", "each": [{"key": "a"}], "args": {"gate": ""}}]}
    metrics = Metrics(REPLICA)
    async with harness(sqlite_url, [sloppy, finish("done")]) as h:
        assert await h.engine.submit("t1", "look a up") is Submission.STARTED
        await h.engine.idle()
        events = h.drain()
        trail = await h.services.store.audit_entries()
    for event in events:
        metrics.observe(event)
    [ready] = [e for e in events if isinstance(e, PlanReady)]
    assert ready.mends == ("blank-options", "single-calls")
    assert ready.plan["nodes"][0]["args"] == {"key": "a"}
    m = Samples((await metrics.metrics())[0].decode())
    assert m.value("dagbot_plan_mends_total", mend="blank-options") == 1
    assert m.value("dagbot_plan_mends_total", mend="single-calls") == 1
    assert m.value("dagbot_plan_mends_total", mend="duplicate-ids") == 0
    [planned] = [entry for entry in trail if entry.kind == "plan"]
    assert planned.detail["mends"] == ["blank-options", "single-calls"]
    progress = RunProgress(request="look a up", requested_by=ALICE, started_at=0.0)
    progress.apply(ready)
    text = str(render_status(progress, 1.0, "t1")[1])
    assert "dagbot corrected the model's plan: optional arguments given as empty values were left out; " \
           "a step written as a list of one call was read as one call" in text
