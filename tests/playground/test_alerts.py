"""The playground's test alert (Fire, then Resolve) through its own alert hook, and the page's list
of schedules with the threads their firings opened: the real bot and demo model, in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.inbound.alerts.payload import parse_notification
from bot.inbound.alerts.request_template import alert_values, render_request
from bot.inbound.alerts.routes import load_alert_routes
from infra.playground.alerts import REQUEST, ROUTE_NAME, ROUTES_FILE, notification, with_alert_hook
from infra.playground.app import Playground
from infra.playground.demo.examples import ALERT_REQUEST, by_key
from tests.playground.conftest import CHANNEL, Channel, Person, playground_settings, text_of

pytestmark = pytest.mark.timeout(120)


def test_the_playgrounds_route_asks_the_demo_model_what_it_knows(tmp_path: Path) -> None:
    settings = with_alert_hook(playground_settings(tmp_path))
    assert settings.alerts_file == settings.playground_dir / ROUTES_FILE and settings.alerts_token is not None
    [route] = load_alert_routes(settings.alerts_file).routes
    assert (route.name, route.channel, route.request, route.read_only) == (ROUTE_NAME, CHANNEL, REQUEST, True)
    alert = parse_notification(json.dumps(notification("g1", "firing", "2026-11-22T09:45:00Z")).encode())
    assert render_request(route.request, alert_values(alert)) == ALERT_REQUEST == by_key("alert").request

    again = with_alert_hook(playground_settings(tmp_path))  # a token made for each run
    assert again.alerts_token is not None
    assert again.alerts_token.get_secret_value() != settings.alerts_token.get_secret_value()
    given = playground_settings(tmp_path).model_copy(update={"alerts_token": SecretStr("tok-of-mine")})
    assert with_alert_hook(given).alerts_token == SecretStr("tok-of-mine")
    own = playground_settings(tmp_path).model_copy(update={"alerts_file": tmp_path / "mine.yml"})
    assert with_alert_hook(own) is own  # the operator's routes: nothing of the playground's


async def test_the_test_alert_opens_a_thread_investigates_read_only_and_resolves(
        playground: Playground, alice: Person, http: httpx.AsyncClient, channel: Channel) -> None:
    state = (await http.get(f"{playground.url}/ui/state")).json()
    assert state["alerts"] == {"hook": True, "firing": False, "alertname": "CheckoutLatencyHigh"}
    assert "alert" not in [e["key"] for e in state["examples"]]  # (asked by the route, not offered)

    fired = await alice._post("/ui/alert", {"action": "fire"})
    assert fired["ok"] and fired["outcome"] == "opened" and fired["channel"] == CHANNEL
    root = channel.thread(fired["ts"])[0]
    assert root.is_from_bot and "CheckoutLatencyHigh" in text_of(root) and "checkout-1:9100" in text_of(root)
    assert (await http.get(f"{playground.url}/ui/state")).json()["alerts"]["firing"] is True

    answer = text_of(await channel.answer_in(root))
    assert "checkout is **degraded** (p99 870 ms" in answer and "On call: maria (primary)" in answer
    assert "Errors in `logs/app.log`: checkout 4, payments 2" in answer
    assert "fail over to the secondary payment provider" in answer
    plan = await channel.final_plan(root)
    for task in ("status: http_get", "errors: search_files", "oncall: read_file", "runbook: read_file"):
        assert f"[complete] {task}" in plan
    assert not any("Approval needed" in text_of(m) for m in channel.thread(root.ts))

    resolved = await alice._post("/ui/alert", {"action": "resolve"})
    assert resolved["ok"] and resolved["outcome"] == "resolved" and resolved["ts"] == root.ts
    await channel.wait_for(lambda: any("Resolved" in text_of(m) for m in channel.thread(root.ts)[1:]),
                           "Resolved in the thread")
    assert (await alice._post("/ui/alert", {"action": "resolve"}))["ok"] is False  # nothing fires now

    # The playground's port passes POST /hooks/alertmanager on to the bot: its checks, its answers.
    hook = f"{playground.url}/hooks/alertmanager"
    body = json.dumps(notification("g2", "firing", "2026-11-22T09:45:00Z"))
    assert (await http.post(hook, content=body)).status_code == 401
    assert playground.alerts is not None
    auth = {"Authorization": f"Bearer {playground.alerts.config.token}"}
    refused = await http.post(hook, content=b'{"version": "3"}', headers=auth)
    assert refused.status_code == 400 and "version '3'" in refused.json()["error"]


async def test_the_page_lists_a_schedule_with_its_next_run_and_the_threads_its_firings_opened(
        playground: Playground, alice: Person, http: httpx.AsyncClient, channel: Channel) -> None:
    request = by_key("parallel").request
    await alice.send(f"/agent every 5 minutes {request}")
    await channel.wait_for(lambda: any("Scheduled every 5 minutes" in t for t in alice.told()), "the confirmation")

    async def listed() -> list[dict[str, Any]]:
        return list((await http.get(f"{playground.url}/ui/schedules")).json()["schedules"])

    [schedule] = await listed()
    assert (schedule["user"], schedule["channel"], schedule["when"]) == ("U0ALICE", CHANNEL, "every 5 minutes")
    assert schedule["request"] == request and schedule["ticks"] == []
    assert isinstance(schedule["next"], float) and schedule["next"] > schedule["created_at"]

    # The timer's call when the schedule is due (APScheduler's, five minutes from now)
    assert playground.bot.schedule_ticks is not None
    await playground.bot.schedule_ticks.fire(schedule["id"], schedule["next"])
    root = await channel.root_for("Scheduled by")
    [tick] = (await listed())[0]["ticks"]
    assert tick["ts"] == root.ts and tick["done"] is True and tick["missed"] == 0
    assert "checkout: **degraded**" in text_of(await channel.answer_in(root))
