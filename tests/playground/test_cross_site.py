"""Only the playground's own page can act in it. A web page the developer happens to visit may
send requests to 127.0.0.1:3000 too (a "simple" text/plain POST needs no CORS preflight), or
point a name of its own at 127.0.0.1 (DNS rebinding): neither may type `/agent …` as a
playground user, click Approve or read the channel. Programs (the bot, the benchmark, these
tests) send no browser headers and keep working."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from infra.playground.app import Playground
from infra.playground.standin import PlaygroundSlack
from tests.playground.conftest import ALICE, CHANNEL, Channel, page_of, small_slack

EVIL = "https://evil.example"


@pytest.fixture
async def page_url() -> AsyncIterator[tuple[PlaygroundSlack, str]]:
    slack = small_slack()
    async with page_of(slack) as (_, url):
        yield slack, url


def typed(text: str) -> str:
    return json.dumps({"user": ALICE, "channel": CHANNEL, "text": text})


async def test_a_cross_site_text_plain_post_starts_no_run(playground: Playground, channel: Channel,
                                                          http: httpx.AsyncClient) -> None:
    sent = await http.post(f"{playground.url}/ui/send", content=typed("/agent list the files"), headers={
        "Content-Type": "text/plain;charset=UTF-8", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert sent.status_code == 403 and sent.json()["ok"] is False
    assert "another site" in sent.json()["error"]
    assert channel.messages() == []  # nothing typed, no run


async def test_requests_from_other_sites_are_refused_with_the_reason(
        page_url: tuple[PlaygroundSlack, str]) -> None:
    slack, url = page_url
    async with httpx.AsyncClient(timeout=30) as http:
        refusals = [
            # a simple cross-site request carries no Origin in old browsers, but never JSON
            (await http.post(f"{url}/ui/send", content=typed("hello"), headers={"Content-Type": "text/plain"}),
             415, "Content-Type: application/json"),
            (await http.post(f"{url}/ui/send", data={"user": ALICE, "channel": CHANNEL, "text": "hello"}),
             415, "Content-Type: application/json"),
            (await http.post(f"{url}/ui/send", content=typed("hello"),
                             headers={"Content-Type": "application/json", "Origin": EVIL}),
             403, f"another site ({EVIL})"),
            (await http.post(f"{url}/ui/send", content=typed("hello"),
                             headers={"Content-Type": "application/json", "Origin": "null"}),
             403, "another site (null)"),
            (await http.post(f"{url}/ui/action", json={"user": ALICE, "channel": CHANNEL, "ts": "1.0",
                                                       "action_id": "approval_approve", "block_id": "x"},
                             headers={"Sec-Fetch-Site": "cross-site"}),
             403, "Sec-Fetch-Site: cross-site"),
            (await http.post(f"{url}/ui/rate_limit", json={"on": True}, headers={"Sec-Fetch-Site": "same-site"}),
             403, "Sec-Fetch-Site: same-site"),  # another port on localhost is another origin
        ]
        for response, status, reason in refusals:
            assert (response.status_code, response.json()["ok"]) == (status, False), response.text
            assert reason in response.json()["error"]
        assert slack.messages == [] and not slack.rate_limit.on

        # the page itself: same origin, JSON
        port = url.rsplit(":", 1)[1]
        for origin in (url, f"http://localhost:{port}"):
            sent = await http.post(f"{origin}/ui/send", content=typed(f"hello from {origin}"), headers={
                "Content-Type": "application/json", "Origin": origin, "Sec-Fetch-Site": "same-origin"})
            assert sent.json() == {"ok": True}
        assert [m.text for m in slack.messages] == [f"hello from {url}", f"hello from http://localhost:{port}"]


async def test_a_name_that_is_not_the_playground_is_refused_against_dns_rebinding(
        page_url: tuple[PlaygroundSlack, str]) -> None:
    slack, url = page_url
    async with httpx.AsyncClient(timeout=30) as http:
        for path in ("/", "/ui/state", "/api/auth.test"):
            response = await http.get(f"{url}{path}", headers={"Host": "evil.example"})
            assert response.status_code == 400 and "Invalid host header" in response.text
        sent = await http.post(f"{url}/ui/send", content=typed("hello"), headers={
            "Host": "evil.example", "Content-Type": "application/json", "Origin": "http://evil.example"})
        assert sent.status_code == 400 and slack.messages == []
        assert (await http.get(f"{url}/ui/state")).status_code == 200


async def test_a_playground_started_on_another_host_answers_to_that_name() -> None:
    async with page_of(small_slack(), host="devbox.example") as (web, url), \
            httpx.AsyncClient(timeout=30) as http:
        assert web.hosts == ["127.0.0.1", "devbox.example", "localhost"]
        port = url.rsplit(":", 1)[1]
        state = await http.get(f"{url}/ui/state", headers={"Host": f"devbox.example:{port}"})
        assert state.status_code == 200
        sent = await http.post(f"{url}/ui/send", content=typed("hello"), headers={
            "Host": f"devbox.example:{port}", "Content-Type": "application/json",
            "Origin": f"http://devbox.example:{port}"})
        assert sent.json() == {"ok": True}
