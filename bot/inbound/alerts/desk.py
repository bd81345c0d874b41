"""An Alertmanager notification becomes a thread and a run, the way a person's request does.

Each alert group (Alertmanager's ``groupKey``) gets one thread, in the channel its route names:
a root message listing the alerts' labels and annotations, then a run in the thread whose
request is the route's template filled in (:mod:`bot.inbound.alerts.request_template`), started
through :meth:`bot.inbound.intake.Intake.start` as a person's is, by the route's requester (no
person: :mod:`bot.access.unattended`). The thread is the bot's, so a reply in it is a follow-up.

Later notifications of the group go to its thread, and only when something changed: alerts it
had not shown fire (a follow-up run), some resolve (a note), all resolve (a note, and nothing
starts), or it fires again after it resolved (a run). A repeat of what the thread already said
does nothing. Each run counts against its route's storm limit (:mod:`bot.inbound.alerts.storm`);
a run the limit stops is said in the thread, never dropped silently.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from bot.access.access import AccessDirectory
from bot.ground.mrkdwn import escape
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.alerts.group_threads import (
    AlertGroupState,
    AlertGroupThread,
    AlertGroupThreads,
    group_id,
)
from bot.inbound.alerts.hook_config import AlertHook, AlertHookConfig
from bot.inbound.alerts.payload import Notification
from bot.inbound.alerts.request_template import alert_values, render_request
from bot.inbound.alerts.routes import AlertRoute
from bot.inbound.alerts.storm import SlidingWindow
from bot.inbound.intake import Intake
from bot.store import ThreadOwnership
from bot.views import alert_view
from bot.views.reply_view import Reply

log = structlog.get_logger(__name__)


class Outcome(enum.StrEnum):
    """What became of a notification (the hook's answer says it)."""

    UNROUTED = "unrouted"  # no route takes the group: nothing posted
    OPENED = "opened"  # a new thread, and its run
    FOLLOWED_UP = "followed_up"  # new alerts (or firing again) in the group's thread, and a run
    LIMITED = "limited"  # said in the thread, but the storm limit stopped its run
    PARTLY_RESOLVED = "partly_resolved"  # some alerts resolved: a note
    RESOLVED = "resolved"  # every alert resolved: a note, no run
    UNCHANGED = "unchanged"  # the thread says it already: nothing
    UNKNOWN_GROUP = "unknown_group"  # resolved, for a group that has no thread: nothing
    RUN_NOT_STARTED = "run_not_started"  # said in the thread, but Slack refused the run's status message
    BUSY = "busy"  # another delivery is opening the group's thread: Alertmanager should retry
    NOT_POSTED = "not_posted"  # Slack refused the root message: Alertmanager should retry


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    route: str | None = None
    thread: str | None = None
    """The engine's thread id of the group's thread."""
    error: str | None = None
    """Slack's error, when it refused the root message."""


def run_key(group: str, state: AlertGroupState) -> str:
    """The engine's queue key of the run one state of a group starts: a redelivery queues nothing."""
    text = f"{group}:{state.status}:{','.join(sorted(state.firing))}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class AlertDesk:
    def __init__(self, *, config: AlertHookConfig, threads: AlertGroupThreads, intake: Intake,
                 poster: SlackPoster, ownership: ThreadOwnership, team: Callable[[], Awaitable[str]],
                 clock: Callable[[], float] = time.time,
                 storm_clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.routes = config.routes
        self.threads = threads
        self.intake = intake
        self.poster = poster
        self.ownership = ownership
        self.team = team
        """The workspace's id (the bot's ``auth.test``): part of a thread's key."""
        self.clock = clock
        self.storm = SlidingWindow(config.runs_per_minute, 60.0, storm_clock)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def route_for(self, notification: Notification) -> AlertRoute | None:
        return self.routes.route_for(notification.common_labels)

    async def handle(self, notification: Notification) -> Handled:
        route = self.route_for(notification)
        if route is None:
            log.info("no alert route takes the group: nothing posted", receiver=notification.receiver,
                     group_labels=notification.group_labels, alerts=len(notification.alerts))
            return Handled(Outcome.UNROUTED)
        group = group_id(notification.receiver, notification.group_key)
        lock = self._locks.setdefault(group, asyncio.Lock())  # (lives while someone holds it)
        async with lock:
            thread = await self.threads.alert_group(group)
            if notification.status == "resolved" and (thread is None or thread.root_ts is None):
                stale_before = self.clock() - self.config.claim_retake_seconds
                if thread is not None and thread.claimed_at >= stale_before:  # being opened: said there later
                    return Handled(Outcome.BUSY, route.name)
                log.info("a group without a thread resolved: nothing posted", route=route.name, group=group)
                return Handled(Outcome.UNKNOWN_GROUP, route.name)
            if thread is None or thread.root_ts is None:
                handled = await self._open(group, route, notification)
            else:
                handled = await self._update(thread, route, notification)
        log.info("alert notification handled", outcome=handled.outcome.value, route=route.name, group=group,
                 status=notification.status, firing=len(notification.firing), thread_id=handled.thread)
        return handled

    async def _open(self, group: str, route: AlertRoute, notification: Notification) -> Handled:
        now = self.clock()
        state = AlertGroupState(notification.firing_fingerprints, notification.status)
        claim = AlertGroupThread(id=group, group_key=notification.group_key, route=route.name,
                                 channel=route.channel, state=state, claimed_at=now)
        stale_before = now - self.config.claim_retake_seconds
        if not await self.threads.claim_alert_group(claim, stale_before=stale_before):
            return Handled(Outcome.BUSY, route.name)
        request = self._request(route, notification)
        root = alert_view.group_opened(notification.alerts, route.name, request,
                                       truncated=notification.truncated_alerts,
                                       source=notification.external_url)
        try:
            posted = await self.poster.send(route.channel, root.text, root.blocks)
        except BaseException:
            await self.threads.release_alert_group(group)
            raise
        if posted.ts is None:
            await self.threads.release_alert_group(group)
            log.warning("Slack refused an alert group's root message: is the bot in the route's channel?",
                        route=route.name, channel=route.channel, error=posted.error)
            return Handled(Outcome.NOT_POSTED, route.name, error=posted.error)
        thread = ThreadRef(await self.team(), route.channel, posted.ts)
        await asyncio.gather(self.threads.alert_group_opened(group, posted.ts),
                             self.ownership.own_thread(thread, route.requester, now))
        outcome = await self._investigate(thread, route, request, run_key(group, state), fresh=True)
        return Handled(outcome or Outcome.OPENED, route.name, thread.key)

    async def _update(self, group: AlertGroupThread, route: AlertRoute,
                      notification: Notification) -> Handled:
        assert group.root_ts is not None
        was, now = group.state, AlertGroupState(notification.firing_fingerprints, notification.status)
        thread = ThreadRef(await self.team(), group.channel, group.root_ts)
        if now == was or not await self.threads.change_alert_group(group.id, was, now, at=self.clock()):
            return Handled(Outcome.UNCHANGED, route.name, thread.key)
        if now.status == "resolved":
            await self._say(thread, alert_view.group_resolved())
            return Handled(Outcome.RESOLVED, route.name, thread.key)
        again = was.status == "resolved"
        new = [alert for alert in notification.firing if again or alert.identity not in was.firing]
        if not new:
            gone = was.firing - now.firing
            listed = [alert for alert in notification.alerts if not alert.firing and alert.identity in gone]
            await self._say(thread, alert_view.some_resolved(listed, len(gone), len(now.firing)))
            return Handled(Outcome.PARTLY_RESOLVED, route.name, thread.key)
        request = self._request(route, notification)
        await self._say(thread, alert_view.new_alerts(new, request, again=again))
        outcome = await self._investigate(thread, route, request, run_key(group.id, now), fresh=False)
        return Handled(outcome or Outcome.FOLLOWED_UP, route.name, thread.key)

    def _request(self, route: AlertRoute, notification: Notification) -> str | None:
        """The run's request, if the storm limit lets one start now (counted: it will)."""
        if not self.storm.take(route.name):
            return None
        return render_request(route.request, alert_values(notification), route.runbook)

    async def _investigate(self, thread: ThreadRef, route: AlertRoute, request: str | None, key: str,
                           *, fresh: bool) -> Outcome | None:
        """Start the run of ``request`` in the thread; without one (the storm limit), say so.
        None: started; else why not."""
        if request is None:
            log.warning("storm limit: run not started", route=route.name, thread_id=thread.key,
                        runs_per_minute=self.config.runs_per_minute)
            await self._say(thread, alert_view.storm_limited(route.name, self.config.runs_per_minute))
            return Outcome.LIMITED

        async def refused(text: str) -> None:  # (nobody to tell in Slack: the route is no person)
            log.warning("an alert's run did not start", route=route.name, thread_id=thread.key, why=text)

        # Slack-escaped, as a person's request comes: the status message shows it as written
        submission = await self.intake.start(thread, escape(request), route.requester, fresh=fresh,
                                             respond=refused, key=key)
        return None if submission is not None else Outcome.RUN_NOT_STARTED

    async def _say(self, thread: ThreadRef, reply: Reply) -> None:
        posted = await self.poster.send(thread.channel, reply.text, reply.blocks, thread_ts=thread.root_ts)
        if posted.ts is None:
            log.warning("Slack refused a message in an alert group's thread", thread_id=thread.key,
                        error=posted.error)


def alert_desk(hook: AlertHook | None, *, intake: Intake, poster: SlackPoster, store: ThreadOwnership,
               directory: AccessDirectory, team: Callable[[], Awaitable[str]],
               clock: Callable[[], float] = time.time) -> AlertDesk | None:
    """The bot's desk for alerts (None: the hook is off); the access policy learns which routes'
    runs may use red tools (the others' may not)."""
    if hook is None:
        return None
    for route in hook.config.routes.routes:
        if not route.read_only:
            directory.unattended.allow_red(route.name)
    return AlertDesk(config=hook.config, threads=hook.threads, intake=intake, poster=poster, ownership=store,
                     team=team, clock=clock)
