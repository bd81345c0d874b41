"""Scenarios: ``/agent every …`` makes a schedule, ``/agent schedules`` lists it with Cancel, App
Home shows it; each firing opens a thread and starts a run as its maker; firings missed while
dagbot was down come as one run that says so. The real app on the emulated Slack; the timer fires
on demand (ManualScheduleTimer), except in the last test, where APScheduler's does."""

from __future__ import annotations

import time
import uuid
from typing import Any

from bot.ground.schedule_book import Schedule, Tick
from bot.ground.schedule_spec import Interval
from infra.emulators.manual_schedule_timer import ManualScheduleTimer
from infra.scheduling.timer import ApschedulerTimer
from infra.storage.db import create_engine
from infra.storage.schedule_store import SqlScheduleStore
from tests.bot.chat import ALICE, BOB, MEMORY, OPS, Chat, Thread, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack, Message

LOOK_UP = {"thought": "check", "nodes": [{"id": "look", "tool": "lookup", "args": {"key": "backups"}}]}
BACKUPS = "every weekday at 09:00 Europe/Paris check the backups"


def listing(slack: FakeSlack, user: str) -> Any:
    """The last listing shown to ``user`` (None: none yet)."""
    return next((e for e in reversed(slack.ephemerals) if e.user == user and e.text.startswith(("Schedules", "No "))),
                None)


async def click_cancel(chat: Chat, user: str, schedule_id: str, shown_to: str) -> None:
    """``user`` clicks the Cancel of ``schedule_id`` in the listing shown to ``shown_to`` (someone
    else's listing: a forged click, since a listing only shows Cancel to who may use it)."""
    shown = listing(chat.slack, shown_to)
    message = Message(channel=shown.channel, ts=shown.ts, text=shown.text, blocks=shown.blocks,
                      versions=[(shown.text, shown.blocks)])
    button = next(b for b in message.buttons() if b["value"] == schedule_id)
    block = next(b["block_id"] for b in shown.blocks if button in b.get("elements", []))
    response = await chat.driver.send_payload(chat.driver.block_action(user, message, {**button, "block_id": block}))
    assert response.status_code == 200, response.text


async def test_a_schedule_is_made_listed_shown_at_home_and_cancelled_by_its_maker_only(slack: FakeSlack) -> None:
    timer = ManualScheduleTimer()
    async with running_bot(slack, MEMORY, [], schedules=timer) as app, chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        await chat.driver.slash(ALICE, OPS, BACKUPS)
        made = await alice.is_told("Scheduled every weekday at 09:00 Europe/Paris in this channel, as you: "
                                   "check the backups. Next run: <!date^")
        assert "Times are UTC" not in made
        (schedule,) = timer.schedules.values()
        assert (schedule.user, schedule.channel, schedule.request) == (ALICE, OPS, "check the backups")

        await chat.driver.slash(ALICE, OPS, "every day at 8:30 look at the queue")
        assert "Times are UTC" in await alice.is_told("Scheduled every day at 08:30 UTC")

        # bad specs are refused, saying what to write; nothing is made
        await chat.driver.slash(ALICE, OPS, "every 0 minutes ping")
        await alice.is_told("`every 0 minutes` is too often")
        await chat.driver.slash(ALICE, OPS, "every blursday at 10:00 ping")
        await alice.is_told("I don't know `every blursday`")
        await chat.driver.slash(ALICE, OPS, "every day at 09:00 Mars/Olympus ping")
        await alice.is_told("I don't know the time zone `Mars/Olympus`")
        assert len(timer.schedules) == 2

        # the listing: both, each with Cancel for Alice; Bob sees them in the channel, without
        await chat.driver.slash(ALICE, OPS, "schedules")
        await slack.wait_for(lambda: listing(slack, ALICE), what="Alice's listing")
        assert "check the backups" in listing(slack, ALICE).text + str(listing(slack, ALICE).blocks)
        assert [b["text"]["text"] for block in listing(slack, ALICE).blocks if block["type"] == "actions"
                for b in block["elements"]] == ["Cancel", "Cancel"]
        await chat.driver.slash(BOB, OPS, "schedules")
        await slack.wait_for(lambda: next((e for e in slack.ephemerals if e.user == BOB), None), what="Bob's")
        bobs = listing(slack, BOB)
        assert "look at the queue" in str(bobs.blocks)
        assert not [b for b in bobs.blocks if b["type"] == "actions"]

        # App Home lists Alice's schedules, with Cancel
        await chat.driver.home_opened(ALICE)
        home = await slack.wait_for(lambda: slack.home(ALICE), what="Alice's Home")
        assert "Your schedules" in str(home["blocks"]) and "check the backups" in str(home["blocks"])

        # Bob's click on Alice's Cancel is refused; Alice's works, once
        await click_cancel(chat, BOB, schedule.id, shown_to=ALICE)
        await bob.is_told("only the person who made this schedule")
        assert schedule.id in timer.schedules
        await click_cancel(chat, ALICE, schedule.id, shown_to=ALICE)
        await alice.is_told("Cancelled the schedule every weekday at 09:00 Europe/Paris: check the backups.")
        assert schedule.id not in timer.schedules
        await click_cancel(chat, ALICE, schedule.id, shown_to=ALICE)
        await alice.is_told("This schedule was already cancelled")

        # from App Home: the other one
        await chat.driver.home_opened(ALICE)
        await slack.wait_for(lambda: "check the backups" not in str((slack.home(ALICE) or {}).get("blocks")),
                             what="Home without the cancelled schedule")
        assert "look at the queue" in str((slack.home(ALICE) or {}).get("blocks"))
        response = await chat.driver.click_in_home(ALICE, "Cancel", "schedule_actions:")
        assert response.status_code == 200
        await slack.wait_for(lambda: not timer.schedules, what="the schedule cancelled from Home")
        await slack.wait_for(lambda: "No schedules" in str((slack.home(ALICE) or {}).get("blocks")),
                             what="Home without schedules")


async def test_a_firing_opens_a_thread_and_runs_the_request_as_its_maker_once(
        slack: FakeSlack, database_url: str) -> None:
    timer = ManualScheduleTimer()
    async with running_bot(slack, database_url, [LOOK_UP, finish("backups are fine")], schedules=timer) as app, \
            chat_with(slack, app) as chat:
        await chat.driver.slash(ALICE, OPS, BACKUPS)
        await chat.person(ALICE).is_told("Scheduled every weekday")
        (schedule,) = timer.schedules.values()
        due = timer.next_fire_time(schedule, schedule.created_at)
        assert due is not None

        await timer.fire(schedule.id, due)
        root = next(m for m in slack.messages if m.is_from_bot and m.thread_ts is None
                    and m.content.startswith("Scheduled by"))
        assert root.channel == OPS
        assert f"Scheduled by <@{ALICE}> (every weekday at 09:00 Europe/Paris):\n> check the backups" in root.content
        assert "missed" not in root.content
        thread = Thread(chat, OPS, root.ts)
        assert "backups are fine" in (await thread.answer()).content
        assert app.log.args_of("lookup") == [{"key": "backups"}]
        assert [r.request for r in await app.bot.store.recent_runs(ALICE, 5)] == ["check the backups"]

        await timer.fire(schedule.id, due)  # the same firing again (a replica died in between)
        await settle(app)
        assert len([m for m in slack.messages if m.content.startswith("Scheduled by")]) == 1
        assert len(thread.status_messages()) == 1


async def test_a_schedule_the_timer_refuses_is_not_kept_and_the_maker_is_told(slack: FakeSlack) -> None:
    class RefusingTimer(ManualScheduleTimer):
        async def add(self, schedule: Schedule) -> None:
            raise ConnectionError("the database went away")

    async with running_bot(slack, MEMORY, [], schedules=RefusingTimer()) as app, chat_with(slack, app) as chat:
        await chat.driver.slash(ALICE, OPS, BACKUPS)
        await chat.person(ALICE).is_told("I could not make the schedule")
        book = app.bot.schedule_book
        assert book is not None and await book.store.live_schedules(user=ALICE) == []


async def test_a_firing_left_half_done_by_a_dead_replica_is_dropped_once_its_schedule_is_cancelled(
        slack: FakeSlack) -> None:
    timer = ManualScheduleTimer()
    async with running_bot(slack, MEMORY, [], schedules=timer) as app, chat_with(slack, app) as chat:
        await chat.driver.slash(ALICE, OPS, BACKUPS)
        await chat.person(ALICE).is_told("Scheduled every weekday")
        (schedule,) = timer.schedules.values()
        book, ticks = app.bot.schedule_book, app.bot.schedule_ticks
        assert book is not None and ticks is not None
        due = timer.next_fire_time(schedule, schedule.created_at)
        assert due is not None
        # a replica claimed the firing long ago and died before posting its root message
        assert await book.store.claim_tick(Tick(schedule.id, due, time.time() - 3_600), stale_before=0) is not None
        assert await book.store.cancel_schedule(schedule.id, ALICE, time.time())

        assert await ticks.retake() == 0
        await settle(app)
        assert not [m for m in slack.messages if m.content.startswith("Scheduled by")]
        assert await book.store.stalled_ticks(claimed_before=time.time()) == []  # done with: not retried


async def test_firings_missed_while_dagbot_was_down_come_as_one_run_that_says_so(
        slack: FakeSlack, database_url: str) -> None:
    """dagbot was down for 3.5 intervals of a schedule made before: when it starts, APScheduler's
    timer fires it once, and the thread says that 2 firings were missed."""
    now = time.time()
    schedule = Schedule(id=uuid.uuid4().hex, team=slack.team, channel=OPS, user=ALICE, request="check the backups",
                        spec=Interval(60), created_at=now - 210)
    db = create_engine(database_url)
    made = ApschedulerTimer(db, identity="before-the-outage")
    try:
        await SqlScheduleStore(db).add_schedule(schedule)
        await made.open()
        await made.add(schedule)
    finally:
        await made.stop()
    timer = ApschedulerTimer(db, identity="after-the-outage", lease_seconds=5, poll_seconds=0.5)
    try:
        async with running_bot(slack, database_url, [LOOK_UP, finish("fine")], schedules=timer) as app, \
                chat_with(slack, app) as chat:
            root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot
                                                      and m.content.startswith("Scheduled by")), None),
                                        what="the firing's root message")
            assert "2 runs were missed while dagbot was down; this is one for all of them." in root.content
            assert "fine" in (await Thread(chat, OPS, root.ts).answer()).content
            await settle(app)
            assert len([m for m in slack.messages if m.content.startswith("Scheduled by")]) == 1
    finally:
        await db.dispose()
