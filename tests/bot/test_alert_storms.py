"""Scenarios: past a route's storm limit, alert groups' runs are queued in the alert store and
start as the limit frees, and the storm gets ONE summary message in the route's channel."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from tests.bot.chat import MEMORY, OPS, Chat, RunningBot, Thread, chat_with, running_bot, settle
from tests.bot.test_alert_hook import LOOK_UP, alert, bot_posts, hook, notification, opened_thread, post
from tests.fakes.slack_api import FakeSlack, Message


def investigates(messages: list[BaseMessage]) -> Any:
    """Any run's model: the planner looks the node up, the joiner answers (runs may overlap)."""
    return "checked" if "joiner of dagbot" in str(messages[0].content) else LOOK_UP


def host(n: int, status: str = "firing") -> dict[str, Any]:
    return notification(alert(f"host{n}:9100", status=status), group_key=f'{{}}:{{instance="host{n}"}}')


async def thread_of(chat: Chat, n: int) -> Thread:
    root = await chat.slack.wait_for(lambda: next((m for m in bot_posts(chat.slack) if m.thread_ts is None
                                                   and f"instance=`host{n}:9100`" in m.content), None), what=f"host{n}'s root")
    return Thread(chat, root.channel, root.ts)


def summaries(slack: FakeSlack) -> list[Message]:
    return [m for m in bot_posts(slack) if m.thread_ts is None and "`node-down`" in m.content
            and ("queued for" in m.content or "storm of" in m.content)]


async def test_a_storm_queues_its_runs_starts_them_as_the_limit_frees_and_posts_one_summary(
        slack: FakeSlack) -> None:
    # a window wide enough for a loaded machine to post the later groups before it frees
    async with running_bot(slack, MEMORY, [investigates] * 8,
                           alerts=hook(runs_per_minute=1, storm_window_seconds=2.0)) as app, \
            chat_with(slack, app) as chat:
        first = await opened_thread(chat, await post(app, host(1)), "host1:9100")
        for n in (2, 3, 4):
            response = await post(app, host(n))
            assert response.status_code == 200 and response.json()["outcome"] == "queued", response.text

        summary = await slack.wait_for(lambda: next(iter(summaries(slack)), None), what="the storm's summary")
        assert summary.channel == OPS
        assert "alert group queued for `node-down`" in summary.history()[0]
        assert "storm limit of 1 run a minute (DAGBOT_ALERTS_RUNS_PER_MINUTE)" in summary.history()[0]

        threads = [await thread_of(chat, n) for n in (2, 3, 4)]
        for thread in threads:
            assert "as soon as this alert route's storm limit lets me (queued)" in thread.root().content
        # each queued run starts in its own thread, in the order the groups came, as the window frees
        statuses = [await thread.status_message() for thread in threads]
        assert [s.ts for s in statuses] == sorted(s.ts for s in statuses)
        for thread in (first, *threads):
            assert "checked" in (await thread.answer()).content
        await slack.wait_for(lambda: "The storm of the alert route `node-down` is over" in summary.content,
                             what=f"the storm over; it shows {summary.content}")
        assert summary.content.count(":arrow_forward: started") == 3
        assert "3 alert groups were queued" in summary.content
        assert any("3 alert groups queued for `node-down`" in shown for shown in summary.history())
        assert len(summaries(slack)) == 1 and len(summary.history()) > 2  # one message, edited in place
        assert not any("I did not start" in m.content for m in bot_posts(slack))  # no note per group


async def test_two_replicas_share_the_routes_storm_limit(slack: FakeSlack, sqlite_url: str) -> None:
    """Issue 46: two replicas behind a load balancer start at most the limit together."""
    limit = hook(runs_per_minute=2, storm_window_seconds=3.0)
    async with running_bot(slack, sqlite_url, [investigates] * 8, alerts=limit, holder="replica-a") as a, \
            running_bot(slack, sqlite_url, [investigates] * 8, alerts=limit, holder="replica-b") as b, \
            chat_with(slack, a) as chat:
        # two groups of the route to each replica: each replica's own window would have room for
        # both of its own, the shared one has room for two in all
        outcomes = {}
        for n, app in ((1, a), (2, b), (3, a), (4, b)):
            response = await post(app, host(n))
            assert response.status_code == 200, response.text
            outcomes[n] = response.json()["outcome"]
        assert outcomes == {1: "opened", 2: "opened", 3: "queued", 4: "queued"}

        threads = {n: await thread_of(chat, n) for n in outcomes}
        for n in (3, 4):
            assert "as soon as this alert route's storm limit lets me (queued)" in threads[n].root().content
        # the held runs start when the shared window frees, each once, by one replica or the other
        for thread in threads.values():
            assert "checked" in (await thread.answer()).content
        await settle(a)
        await settle(b)
        assert [len(thread.status_messages()) for thread in threads.values()] == [1, 1, 1, 1]
        assert await a.bot.alerts.threads.queued_alert_runs() == []  # type: ignore[union-attr]


async def test_a_run_held_by_a_replica_that_stopped_is_started_by_another(slack: FakeSlack, sqlite_url: str) -> None:
    """The replica that held a run back is gone (its timer with it): another one's recovery
    pass starts the run once the shared window has room."""
    limit = hook(runs_per_minute=1, storm_window_seconds=3.0)
    async with running_bot(slack, sqlite_url, [investigates] * 4, alerts=limit, holder="replica-b") as b, \
            chat_with(slack, b) as chat:
        async with running_bot(slack, sqlite_url, [investigates] * 4, alerts=limit, holder="replica-a") as a:
            assert (await post(a, host(1))).json()["outcome"] == "opened"
            assert (await post(a, host(2))).json()["outcome"] == "queued"
        assert len(await b.bot.alerts.threads.queued_alert_runs()) == 1  # type: ignore[union-attr]
        held = await thread_of(chat, 2)
        assert "checked" in (await held.answer()).content  # started by replica b
        assert await b.bot.alerts.threads.queued_alert_runs() == []  # type: ignore[union-attr]


async def test_a_group_that_resolves_while_queued_never_starts(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [investigates] * 2, alerts=hook(runs_per_minute=1)) as app, \
            chat_with(slack, app) as chat:
        await opened_thread(chat, await post(app, host(1)), "host1:9100")
        assert (await post(app, host(2))).json()["outcome"] == "queued"
        second = await thread_of(chat, 2)
        assert (await post(app, host(2, "resolved"))).json()["outcome"] == "resolved"
        note = await second.bot_says("Resolved")
        assert "1 investigation still waiting to start was withdrawn" in note.content
        summary = await slack.wait_for(lambda: next(iter(summaries(slack)), None), what="the storm's summary")
        await slack.wait_for(lambda: "is over" in summary.content, what=f"the storm over: {summary.content}")
        assert "resolved before it started" in summary.content
        assert await app.bot.alerts.threads.queued_alert_runs() == []  # type: ignore[union-attr]
        await settle(app)
        assert second.status_messages() == []


async def test_held_runs_survive_a_restart(slack: FakeSlack, database_url: str) -> None:
    async def storm(app: RunningBot, chat: Chat) -> Thread:
        await (await opened_thread(chat, await post(app, host(1)), "host1:9100")).answer()
        assert (await post(app, host(2))).json()["outcome"] == "queued"
        return await thread_of(chat, 2)

    async with running_bot(slack, database_url, [investigates] * 2, alerts=hook(runs_per_minute=1)) as app, \
            chat_with(slack, app) as chat:
        second = await storm(app, chat)
        await settle(app)
    assert second.status_messages() == []
    # a new process starts what the old one held back once the shared window frees (a window
    # of a second from now on, so that the test need not wait the minute out)
    async with running_bot(slack, database_url, [investigates] * 2,
                           alerts=hook(runs_per_minute=1, storm_window_seconds=1.0)) as app:
        assert "checked" in (await second.answer()).content


async def test_a_limit_of_zero_opens_threads_and_starts_no_run(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [], alerts=hook(runs_per_minute=0)) as app, \
            chat_with(slack, app) as chat:
        response = await post(app, host(1))
        assert response.json()["outcome"] == "limited"
        thread = await thread_of(chat, 1)
        await thread.bot_says("DAGBOT_ALERTS_RUNS_PER_MINUTE is 0")
        await settle(app)
        assert thread.status_messages() == [] and app.llm.calls == [] and summaries(slack) == []
