"""Scenarios: the Alertmanager hook also takes notifications signed with DAGBOT_ALERTS_HMAC_SECRET
(``X-Dagbot-Signature: sha256=<hex HMAC-SHA256 of the body>``), over HTTP, on the emulated Slack."""

from __future__ import annotations

import json

import httpx
from structlog.testing import capture_logs

from bot.inbound.alerts.hook import body_signature
from tests.bot.chat import MEMORY, RunningBot, chat_with, finish, running_bot, settle
from tests.bot.test_alert_hook import (
    HOOK,
    LOOK_UP,
    TOKEN,
    alert,
    bot_posts,
    hook,
    notification,
    opened_thread,
)
from tests.fakes.slack_api import FakeSlack

SECRET = "hmac-s3cret-for-a-signing-proxy"


async def post_signed(app: RunningBot, body: bytes, signature: str | None,
                      authorization: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Dagbot-Signature"] = signature
    if authorization is not None:
        headers["Authorization"] = authorization
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        return await client.post(HOOK, content=body, headers=headers)


async def test_a_notification_signed_with_the_secret_opens_its_thread(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("checked")],
                           alerts=hook(token="", hmac_secret=SECRET)) as app, chat_with(slack, app) as chat:
        body = json.dumps(notification(alert())).encode()
        thread = await opened_thread(chat, await post_signed(app, body, f"sha256={body_signature(SECRET, body)}"))
        assert "checked" in (await thread.answer()).content


async def test_a_wrong_or_missing_signature_is_refused_and_logged_without_the_body(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook(token="", hmac_secret=SECRET)) as app:
        body = json.dumps(notification(alert(summary="private-summary-text"))).encode()
        good = body_signature(SECRET, body)
        tampered = body.replace(b"host1", b"host9")
        with capture_logs() as logs:
            for response in (await post_signed(app, body, None),
                             await post_signed(app, body, f"sha256={body_signature('other', body)}"),
                             await post_signed(app, tampered, f"sha256={good}"),
                             await post_signed(app, body, good),  # no scheme
                             await post_signed(app, body, f"sha1={good}"),
                             await post_signed(app, body, None, authorization=f"Bearer {TOKEN}")):  # no token set
                assert response.status_code == 401, response.text
                assert "X-Dagbot-Signature: sha256=" in response.json()["error"]
                assert "Authorization" not in response.json()["error"]
        await settle(app)
        assert bot_posts(slack) == []
        refused = [entry for entry in logs if "alert hook refused" in entry["event"]]
        assert [entry["signature"] for entry in refused] == ["absent", "wrong", "wrong", "wrong", "wrong", "absent"]
        assert "private-summary-text" not in str(logs) and SECRET not in str(logs) and good not in str(logs)


async def test_with_both_set_the_bearer_token_or_a_signature_will_do(slack: FakeSlack) -> None:
    replies = [LOOK_UP, finish("one"), LOOK_UP, finish("two")]
    async with running_bot(slack, MEMORY, replies, alerts=hook(hmac_secret=SECRET)) as app, \
            chat_with(slack, app) as chat:
        first = json.dumps(notification(alert())).encode()
        await opened_thread(chat, await post_signed(app, first, None, authorization=f"Bearer {TOKEN}"))
        second = json.dumps(notification(alert("host2:9100"), group_key='{}:{instance="host2"}')).encode()
        response = await post_signed(app, second, f"sha256={body_signature(SECRET, second).upper()}",
                                     authorization="Bearer not-the-token")
        await opened_thread(chat, response, "host2:9100")
