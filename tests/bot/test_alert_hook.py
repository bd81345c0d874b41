"""Scenarios: Alertmanager's webhook (``POST /hooks/alertmanager``) opens a thread per alert group
and starts a run in it, over HTTP, with the real app on the emulated Slack."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from bot.inbound.alerts.hook_config import AlertHookConfig
from bot.inbound.alerts.routes import parse_alert_routes
from tests.bot.chat import (
    ALICE,
    BOB,
    MEMORY,
    OPS,
    Chat,
    RunningBot,
    Thread,
    chat_with,
    finish,
    running_bot,
    settle,
)
from tests.bot.test_access_policy import tools_offered
from tests.fakes.slack_api import FakeSlack, Message

TOKEN = "alertmanager-s3cret-0123456789"
HOOK = "/hooks/alertmanager"
ROUTES = parse_alert_routes("""
routes:
  - name: node-down
    match: {alertname: NodeDown}
    channel: C0OPS
    request: "Investigate {alertname} on {instance}: {summary}"
    runbook: runbooks/node-down.md
  - name: deploys
    match_re: {alertname: "Deploy.*"}
    channel: C0OPS
    request: "Fix {alertname}"
    read_only: false
""")
LOOK_UP = {"thought": "check the node", "nodes": [{"id": "look", "tool": "lookup", "args": {"key": "host1"}}]}
DEPLOY = {"thought": "redeploy", "nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}
NODE_DOWN = '{}:{alertname="NodeDown"}'


def hook(**overrides: Any) -> AlertHookConfig:
    """(Its answer waits for the work however busy the machine: the tests read what became of it.)"""
    return AlertHookConfig(**{"routes": ROUTES, "token": TOKEN, "answer_within_seconds": 60.0, **overrides})


def alert(instance: str = "host1:9100", *, name: str = "NodeDown", status: str = "firing",
          summary: str = "Disk full", **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": name, "instance": instance, "severity": "critical", **labels},
            "annotations": {"summary": summary}, "startsAt": "2024-05-01T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"fp-{name}-{instance}"}


def notification(*alerts: dict[str, Any], group_key: str = NODE_DOWN, status: str | None = None) -> dict[str, Any]:
    firing = [a for a in alerts if a["status"] == "firing"]
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    return {"version": "4", "groupKey": group_key, "truncatedAlerts": 0,
            "status": status or ("firing" if firing else "resolved"), "receiver": "dagbot",
            "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]}, "commonLabels": common,
            "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": list(alerts)}


async def post(app: RunningBot, payload: Any, *, token: str | None = TOKEN,
               authorization: str | None = None) -> httpx.Response:
    headers = {"Authorization": authorization or f"Bearer {token}"} if token or authorization else {}
    content = payload if isinstance(payload, bytes) else None
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        if content is not None:
            return await client.post(HOOK, content=content, headers={**headers, "Content-Type": "application/json"})
        return await client.post(HOOK, json=payload, headers=headers)


def bot_posts(slack: FakeSlack) -> list[Message]:
    return [m for m in slack.messages if m.is_from_bot]


async def opened_thread(chat: Chat, response: httpx.Response, text: str = "NodeDown") -> Thread:
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "opened"
    root = await chat.slack.wait_for(lambda: next(
        (m for m in chat.slack.messages if m.is_from_bot and m.thread_ts is None and text in m.content), None),
        what="the alert group's root message")
    return Thread(chat, root.channel, root.ts)


async def test_a_firing_alert_opens_a_thread_with_its_labels_and_starts_the_rendered_request(
        slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [LOOK_UP, finish("host1's disk is full")], alerts=hook()) as app, \
            chat_with(slack, app) as chat:
        response = await post(app, notification(alert()))
        thread = await opened_thread(chat, response)

        root = thread.root()
        assert root.channel == OPS
        for shown in ("1 alert firing", "node-down", "NodeDown", "instance=`host1:9100`", "severity=`critical`",
                      "summary", "Disk full"):
            assert shown in root.content, (shown, root.content)
        assert response.json()["thread"] == f"slack:{slack.team}:{OPS}:{root.ts}"

        # the run: the route's request filled in, by the route (no person), read-only
        request = "Investigate NodeDown on host1:9100: Disk full\nFollow the runbook runbooks/node-down.md"
        assert "I'm looking into it:\n>Investigate NodeDown on host1:9100: Disk full\n>Follow the runbook" \
            in root.content
        await thread.status_message()
        assert "host1's disk is full" in (await thread.answer()).content
        assert app.log.args_of("lookup") == [{"key": "host1"}]
        planner_prompt = app.llm.calls[0]
        assert request in str(planner_prompt[-1].content)
        assert "lookup" in tools_offered(planner_prompt)
        assert not {"deploy", "scale", "send"} & tools_offered(planner_prompt)  # red: not for this route


async def test_without_the_right_bearer_token_the_hook_refuses_and_posts_nothing(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook()) as app:
        payload = notification(alert())
        with capture_logs() as logs:
            for response in (await post(app, payload, token=None),
                             await post(app, payload, token="wrong-token"),
                             await post(app, payload, authorization=f"Basic {TOKEN}"),
                             await post(app, payload, authorization=TOKEN)):
                assert response.status_code == 401, response.text
                assert response.headers["www-authenticate"].startswith("Bearer")
        await settle(app)
        assert bot_posts(slack) == []
        refused = [entry for entry in logs if "without the right bearer token" in entry["event"]]
        assert [entry["authorization"] for entry in refused] == ["absent", "wrong", "wrong", "wrong"]
        assert all(entry["client"] == "127.0.0.1" for entry in refused)
        assert TOKEN not in str(logs) and "wrong-token" not in str(logs)


@pytest.mark.parametrize(("body", "error"), [
    (b"{not json", "the body is not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"version": "3", "groupKey": "g", "status": "firing", "alerts": []}', "version '3' is not one dagbot reads"),
    (b'{"version": "4", "status": "firing", "alerts": [{"status": "firing"}]}', "groupKey: Field required"),
    (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": []}', "alerts: List should have at least 1"),
    (b'{"version": "4", "groupKey": "g", "status": "burning", "alerts": [{"status": "firing"}]}', "status: Input"),
    (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": 1}}]}',
     "alerts[0].labels.a: Input should be a valid string"),
])
async def test_a_malformed_payload_is_refused_with_a_clear_message(slack: FakeSlack, body: bytes, error: str) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook()) as app:
        response = await post(app, body)
        assert response.status_code == 400, response.text
        assert error in response.json()["error"], response.json()
        assert bot_posts(slack) == []


async def test_a_body_over_the_cap_is_refused(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook(max_body_bytes=2_000)) as app:
        payload = notification(*(alert(f"host{i}:9100") for i in range(20)))
        response = await post(app, payload)
        assert response.status_code == 413, response.text
        assert bot_posts(slack) == []


async def test_a_group_no_route_takes_is_accepted_and_left_alone(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook()) as app:
        response = await post(app, notification(alert(name="DiskSlow"), group_key='{}:{alertname="DiskSlow"}'))
        assert response.status_code == 202 and response.json()["outcome"] == "unrouted"
        await settle(app)
        assert bot_posts(slack) == []


async def test_repeats_go_to_the_groups_thread_only_when_something_changed(
        slack: FakeSlack, database_url: str) -> None:
    replies = [LOOK_UP, finish("host1 checked"), LOOK_UP, finish("host2 checked")]
    async with running_bot(slack, database_url, replies, alerts=hook()) as app, chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, notification(alert())))
        await thread.answer()
        await settle(app)
        seen = len(thread.messages())

        # Alertmanager repeats the group as it was: nothing new anywhere
        repeat = await post(app, notification(alert()))
        assert repeat.status_code == 200 and repeat.json()["outcome"] == "unchanged"
        await settle(app)
        assert len(thread.messages()) == seen and len(bot_posts(slack)) == seen

        # a second alert joins the group: said in the same thread, and a follow-up run there
        grown = await post(app, notification(alert(), alert("host2:9100", summary="Disk full too")))
        assert grown.status_code == 200 and grown.json()["outcome"] == "followed_up"
        assert grown.json()["thread"] == repeat.json()["thread"] == f"slack:{slack.team}:{OPS}:{thread.root_ts}"
        note = await thread.bot_says("1 more alert firing in this group")
        assert "instance=`host2:9100`" in note.content and "instance=`host1:9100`" not in note.content
        assert "Investigate NodeDown on host1:9100, host2:9100: Disk full, Disk full too" in note.content
        await thread.status_message(1)
        assert "host2 checked" in (await thread.answer(1)).content
        assert len([m for m in bot_posts(slack) if m.thread_ts is None]) == 1  # one thread for the group

        # every alert resolves: a note in the thread, and no run
        await settle(app)
        runs = len(app.llm.calls)
        resolved = await post(app, notification(alert(status="resolved"), alert("host2:9100", status="resolved")))
        assert resolved.status_code == 200 and resolved.json()["outcome"] == "resolved"
        await thread.bot_says("Resolved")
        await settle(app)
        assert len(thread.status_messages()) == 2 and len(app.llm.calls) == runs

        # the same resolution again: nothing
        again = await post(app, notification(alert(status="resolved"), alert("host2:9100", status="resolved")))
        assert again.json()["outcome"] == "unchanged"


async def test_part_of_a_group_resolving_is_a_note_and_no_run(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("checked")], alerts=hook()) as app, \
            chat_with(slack, app) as chat:
        thread = await opened_thread(chat, await post(app, notification(alert(), alert("host2:9100"))))
        await thread.answer()
        await settle(app)
        response = await post(app, notification(alert(), alert("host2:9100", status="resolved")))
        assert response.json()["outcome"] == "partly_resolved"
        note = await thread.bot_says("1 alert of this group resolved; 1 alert firing")
        assert "host2:9100" in note.content
        await settle(app)
        assert len(thread.status_messages()) == 1


async def test_alert_text_cannot_mention_anyone_or_hide_a_link(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("checked")], alerts=hook()) as app, \
            chat_with(slack, app) as chat:
        evil = alert(summary=f"<!channel> ask <@{ALICE}> via <https://evil.example|the runbook> @here",
                     team="<!subteam^S0SRE>")
        thread = await opened_thread(chat, await post(app, notification(evil)))
        root = thread.root()
        raw = root.text + json.dumps(root.blocks, ensure_ascii=False)
        for parsed in ("<!channel>", f"<@{ALICE}>", "<https://evil.example|", "<!subteam^S0SRE>"):
            assert parsed not in raw
        assert "&lt;!channel&gt;" in raw and "@\u2060here" in raw
        await thread.answer()


async def test_a_route_that_may_use_red_tools_still_waits_for_the_policys_approvers(slack: FakeSlack) -> None:
    replies = [DEPLOY, finish("redeployed")]
    async with running_bot(slack, MEMORY, replies, alerts=hook(), approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        payload = notification(alert(name="DeployFailed"), group_key='{}:{alertname="DeployFailed"}')
        thread = await opened_thread(chat, await post(app, payload), "DeployFailed")
        approval = await thread.approval_for("deploy")
        assert "Requested by the alert route `deploys`" in approval.content
        assert "May approve: <@U0BOB>" in approval.content
        assert app.log.count("deploy") == 0  # nothing red runs by itself

        await chat.person(ALICE).approves(approval)  # not an approver: refused
        await chat.person(ALICE).is_told("may decide on this approval")
        assert app.log.count("deploy") == 0
        await chat.person(BOB).approves(approval)
        assert "redeployed" in (await thread.answer()).content
        assert [args["target"] for args in app.log.args_of("deploy")] == ["prod"]


async def test_with_no_approvers_named_nobody_may_approve_an_alert_routes_red_call(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY], alerts=hook()) as app, chat_with(slack, app) as chat:
        payload = notification(alert(name="DeployFailed"), group_key='{}:{alertname="DeployFailed"}')
        thread = await opened_thread(chat, await post(app, payload), "DeployFailed")
        approval = await thread.approval_for("deploy")
        assert "May approve: nobody" in approval.content
        await chat.person(ALICE).approves(approval)
        await chat.person(ALICE).is_told("may decide on this approval")
        assert app.log.count("deploy") == 0


async def test_a_channel_the_bot_is_not_in_is_retried_by_alertmanager_and_opens_once_invited(
        slack: FakeSlack) -> None:
    routes = parse_alert_routes("routes: [{name: secret, channel: C0SECRET, request: 'Investigate {alertname}'}]")
    slack.add_channel("C0SECRET", "secret", bot_is_member=False)
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("checked")], alerts=hook(routes=routes)) as app, \
            chat_with(slack, app) as chat:
        refused = await post(app, notification(alert()))
        assert refused.status_code == 502 and refused.json()["outcome"] == "not_posted"
        assert "not_in_channel" in refused.json()["error"]
        assert bot_posts(slack) == []

        slack.add_channel("C0SECRET", "secret", bot_is_member=True)  # /invite @dagbot
        thread = await opened_thread(chat, await post(app, notification(alert())))  # Alertmanager's retry
        assert thread.channel == "C0SECRET"
        await thread.answer()


async def test_a_slow_slack_gets_alertmanager_an_answer_before_the_work_is_done(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOK_UP, finish("checked")],
                           alerts=hook(answer_within_seconds=0.1)) as app, chat_with(slack, app) as chat:
        slack.latency["chat.postMessage"] = 0.5
        response = await post(app, notification(alert()))
        assert response.status_code == 202 and response.json()["outcome"] == "accepted"
        slack.latency.clear()
        root = await slack.wait_for(lambda: next((m for m in bot_posts(slack) if m.thread_ts is None), None),
                                    what="the root message, posted after the answer")
        await Thread(chat, root.channel, root.ts).answer()


async def test_a_resolution_of_a_group_without_a_thread_posts_nothing(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook()) as app:
        response = await post(app, notification(alert(status="resolved")))
        assert response.status_code == 200 and response.json()["outcome"] == "unknown_group"
        await settle(app)
        assert bot_posts(slack) == []
