"""Scenarios: PagerDuty's v3 webhooks (``POST /hooks/pagerduty``), signed requests over HTTP to the
real app on the emulated Slack: a triggered incident opens a thread and a run, its later events
are notes there, its resolution ends the thread's alert session."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from bot.inbound.alerts.routes import parse_alert_routes
from tests.bot.chat import MEMORY, OPS, Chat, RunningBot, Thread, chat_with, finish, running_bot, settle
from tests.bot.test_alert_hook import LOOK_UP, bot_posts, hook
from tests.fakes.slack_api import FakeSlack

SECRET = "pagerduty-subscription-s3cret"
HOOK = "/hooks/pagerduty"
ROUTES = parse_alert_routes("""
routes:
  - name: pager
    match: {source: pagerduty}
    match_re: {urgency: high}
    channel: C0OPS
    request: "Investigate PagerDuty incident #{incident_number} on {service} ({priority}): {title}"
""")
PD_URL = "https://acme.pagerduty.com/incidents/PT4KHLK"


def incident(**overrides: Any) -> dict[str, Any]:
    return {"id": "PT4KHLK", "type": "incident", "number": 1234, "status": "triggered", "title": "Checkout is slow",
            "urgency": "high", "html_url": PD_URL, "created_at": "2026-05-20T14:00:00Z",
            "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "Checkout API"},
            "priority": {"id": "P53ZZH5", "type": "priority_reference", "summary": "P1"},
            "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Payments"},
            **overrides}


def event(event_type: str = "incident.triggered", event_id: str = "01DEV1", *, data: dict[str, Any] | None = None,
          who: str = "Earline Greenholt", at: str = "2026-05-20T14:00:00Z") -> dict[str, Any]:
    return {"event": {"id": event_id, "event_type": event_type, "resource_type": "incident",
                      "occurred_at": at,
                      "agent": {"id": "PXPGF42", "type": "user_reference", "summary": who},
                      "client": None, "data": data if data is not None else incident()}}


def signed(body: bytes, secret: str = SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(app: RunningBot, payload: dict[str, Any] | bytes, signature: str | None = "sign") -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-PagerDuty-Signature"] = signed(body) if signature == "sign" else signature
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        return await client.post(HOOK, content=body, headers=headers)


def pagerduty(**overrides: Any) -> Any:
    return hook(token="", routes=ROUTES, pagerduty_secret=SECRET, **overrides)


async def incident_thread(chat: Chat, response: httpx.Response) -> Thread:
    assert response.status_code == 200 and response.json()["outcome"] == "opened", response.text
    root = await chat.slack.wait_for(lambda: next((m for m in bot_posts(chat.slack) if m.thread_ts is None
                                                   and "PagerDuty incident" in m.content), None), what="the root")
    return Thread(chat, root.channel, root.ts)


async def test_an_incident_opens_a_thread_hears_its_events_and_ends_when_resolved(slack: FakeSlack) -> None:
    replies = [LOOK_UP, finish("checkout looked at")]
    async with running_bot(slack, MEMORY, replies, alerts=pagerduty()) as app, chat_with(slack, app) as chat:
        thread = await incident_thread(chat, await post(app, event()))
        root = thread.root()
        assert root.channel == OPS
        for shown in ("PagerDuty incident #1234", PD_URL, "alert route `pager`", "Checkout is slow",
                      "service=`Checkout API`", "urgency=`high`", "priority=`P1`"):
            assert shown in root.content, (shown, root.content)
        assert "checkout looked at" in (await thread.answer()).content
        request = "Investigate PagerDuty incident #1234 on Checkout API (P1): Checkout is slow"
        assert request in str(app.llm.calls[0][-1].content)
        assert (await post(app, event())).json()["outcome"] == "unchanged"  # PagerDuty delivers again

        acked = await post(app, event("incident.acknowledged", "01DEV2"))
        assert acked.json() == {"ok": True, "outcome": "noted", "route": "pager",
                                "thread": f"slack:{slack.team}:{OPS}:{thread.root_ts}"}
        await thread.bot_says("Acknowledged* in PagerDuty by Earline Greenholt")
        note = {"id": "PWL7QXS", "type": "incident_note", "content": "Rolled back <!channel> deploy 42",
                "incident": {"id": "PT4KHLK", "type": "incident_reference", "html_url": PD_URL}}
        annotated = event("incident.annotated", "01DEV3", data=note)
        assert (await post(app, annotated)).json()["outcome"] == "noted"
        said = await thread.bot_says("A note* in PagerDuty")
        assert "Rolled back &lt;!channel&gt; deploy 42" in said.content and "<!channel>" not in said.text
        assert (await post(app, annotated)).json()["outcome"] == "unchanged"  # a redelivery: no second note

        await settle(app)
        calls = len(app.llm.calls)
        resolved = await post(app, event("incident.resolved", "01DEV4", data=incident(status="resolved")))
        assert resolved.json()["outcome"] == "resolved"
        ended = await thread.bot_says("Resolved")
        assert "the incident was resolved in PagerDuty by Earline Greenholt" in ended.content
        assert "I start nothing more for it unless it fires again" in ended.content
        await settle(app)
        assert len(app.llm.calls) == calls and len(thread.status_messages()) == 1
        assert len([m for m in thread.messages() if "A note" in m.content]) == 1
        assert len([m for m in bot_posts(slack) if m.thread_ts is None]) == 1


async def test_a_reopened_incident_is_investigated_again_in_its_thread(slack: FakeSlack) -> None:
    replies = [LOOK_UP, finish("first"), LOOK_UP, finish("second")]
    async with running_bot(slack, MEMORY, replies, alerts=pagerduty()) as app, chat_with(slack, app) as chat:
        thread = await incident_thread(chat, await post(app, event()))
        await thread.answer()
        await post(app, event("incident.resolved", "01DEV2"))
        await thread.bot_says("Resolved")
        again = await post(app, event("incident.reopened", "01DEV3"))
        assert again.json()["outcome"] == "followed_up"
        await thread.bot_says("Triggered again")
        assert "second" in (await thread.answer(1)).content


async def test_an_event_delivered_late_after_a_newer_one_changes_nothing(slack: FakeSlack) -> None:
    """PagerDuty delivers at least once and in no promised order: the incident's first trigger,
    sent again after it resolved, is not a second trigger (no second run), and an
    acknowledgement older than the resolution is no news."""
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("first")], alerts=pagerduty()) as app, \
            chat_with(slack, app) as chat:
        thread = await incident_thread(chat, await post(app, event(at="2026-05-20T14:00:00Z")))
        await thread.answer()
        resolved = event("incident.resolved", "01DEV3", data=incident(status="resolved"), at="2026-05-20T14:10:00Z")
        assert (await post(app, resolved)).json()["outcome"] == "resolved"
        await thread.bot_says("Resolved")
        await settle(app)
        said, calls = len(thread.messages()), len(app.llm.calls)

        late_trigger = await post(app, event(at="2026-05-20T14:00:00Z"))  # the first one, again
        late_ack = await post(app, event("incident.acknowledged", "01DEV2", at="2026-05-20T14:05:00Z"))
        assert late_trigger.json()["outcome"] == late_ack.json()["outcome"] == "unchanged"
        await settle(app)
        assert len(thread.messages()) == said and len(app.llm.calls) == calls
        again = await post(app, event("incident.reopened", "01DEV4", at="2026-05-20T14:20:00Z"))
        assert again.json()["outcome"] == "followed_up"  # what did happen later still counts


async def test_only_requests_signed_with_the_subscriptions_secret_are_taken(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("ok")], alerts=pagerduty()) as app, \
            chat_with(slack, app) as chat:
        body = json.dumps(event(data=incident(title="private-title-text"))).encode()
        with capture_logs() as logs:
            for signature in (None, "", signed(body, "another-secret"), signed(body)[3:], "v0=" + signed(body)[3:],
                              signed(body + b" ")):
                response = await post(app, body, signature)
                assert response.status_code == 401, (signature, response.text)
                assert "X-PagerDuty-Signature" in response.json()["error"]
        await settle(app)
        assert bot_posts(slack) == []
        assert "private-title-text" not in str(logs) and SECRET not in str(logs) and signed(body) not in str(logs)
        assert len([e for e in logs if e["event"].startswith("PagerDuty hook refused")]) == 6

        # PagerDuty rotating its secret: several signatures, one of them right
        rotating = f"{signed(body, 'old-secret')}, {signed(body)}"
        await incident_thread(chat, await post(app, body, rotating))


@pytest.mark.parametrize(("body", "error"), [
    (b"{not json", "the body is not JSON"),
    (b"[]", "the body must be a JSON object with 'event'"),
    (b'{"event": {"id": "E1"}}', "event.event_type is missing"),
    (b'{"event": {"id": "E1", "event_type": "incident.triggered"}}', "event.data is missing"),
    (json.dumps(event(data={"type": "incident", "title": "no id"})).encode(), "event.data.id: Field required"),
    (json.dumps(event(data={"type": "incident_note", "content": "x"})).encode(), "event.data: Input should be"),
])
async def test_a_malformed_event_is_refused_with_a_clear_message(slack: FakeSlack, body: bytes, error: str) -> None:
    async with running_bot(slack, MEMORY, [], alerts=pagerduty()) as app:
        response = await post(app, body)
        assert response.status_code == 400, response.text
        assert error in response.json()["error"], response.json()
        assert bot_posts(slack) == []


async def test_huge_foreign_unrouted_and_unknown_events_post_nothing(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=pagerduty(max_body_bytes=2_000)) as app:
        huge = await post(app, event(data=incident(description="x" * 3_000)))
        assert huge.status_code == 413, huge.text
        service = await post(app, {"event": {"id": "E9", "event_type": "service.updated", "data": {}}})
        assert service.status_code == 202 and service.json()["outcome"] == "ignored"
        low = await post(app, event(data=incident(urgency="low")))
        assert low.status_code == 202 and low.json()["outcome"] == "unrouted"
        unknown = await post(app, event("incident.acknowledged", data=incident(id="PNOTHERE")))
        assert unknown.status_code == 200 and unknown.json()["outcome"] == "unknown_group"
        await settle(app)
        assert bot_posts(slack) == []


async def test_without_its_secret_there_is_no_pagerduty_hook(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook()) as app:
        assert (await post(app, event())).status_code == 404
