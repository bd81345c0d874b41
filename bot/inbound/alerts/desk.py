"""An Alertmanager notification becomes a thread and a run, the way a person's request does.

Each alert group (Alertmanager's ``groupKey``) gets one thread, in the channel its route names:
a root message listing the alerts' labels and annotations, then a run in the thread whose
request is the route's template filled in (:mod:`bot.inbound.alerts.request_template`), started
through :class:`bot.inbound.alerts.alert_runs.AlertRuns` as a person's is, by the route's requester
(no person: :mod:`bot.access.unattended`). The thread is the bot's, so a reply in it is a follow-up.

Later notifications of the group go to its thread, and only when something changed: alerts it
had not shown fire (a follow-up run), some resolve (a note), all resolve (a note, and the
thread's alert session ends: :meth:`~bot.inbound.alerts.alert_runs.AlertRuns.end_session`), or it
fires again after it resolved (a run). A repeat of what the thread already said does nothing.
Each run counts against its route's storm limit: past it, the run is queued and starts when
the limit allows, and the storm gets one summary in the route's channel
(:mod:`bot.inbound.alerts.storm_queue`); nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from bot.access.access import AccessDirectory
from bot.ground.background_tasks import TaskSet
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef
from bot.inbound.alerts.alert_runs import AlertRuns
from bot.inbound.alerts.group_threads import (
    AlertGroupState,
    AlertGroupThread,
    AlertGroupThreads,
    group_id,
)
from bot.inbound.alerts.hook_config import AlertHook, AlertHookConfig
from bot.inbound.alerts.outcome import Handled, Outcome, run_key
from bot.inbound.alerts.pagerduty_desk import PagerDutyDesk
from bot.inbound.alerts.payload import Notification
from bot.inbound.alerts.request_template import alert_values, render_request
from bot.inbound.alerts.routes import AlertRoute
from bot.inbound.alerts.storm_queue import StormQueue
from bot.inbound.alerts.thread_desk import ThreadDesk
from bot.store import ThreadOwnership
from bot.views import alert_view

log = structlog.get_logger(__name__)


class AlertDesk(ThreadDesk):
    def __init__(self, *, config: AlertHookConfig, threads: AlertGroupThreads, runs: AlertRuns,
                 storms: StormQueue, poster: SlackPoster, ownership: ThreadOwnership,
                 team: Callable[[], Awaitable[str]], clock: Callable[[], float] = time.time) -> None:
        super().__init__(config=config, threads=threads, runs=runs, storms=storms, poster=poster,
                         ownership=ownership, team=team, clock=clock)
        self.pagerduty: PagerDutyDesk | None = None
        """PagerDuty's incidents, in the same threads' store and storm queue (None: not taken)."""

    def route_for(self, notification: Notification) -> AlertRoute | None:
        return self.routes.route_for(notification.common_labels)

    async def handle(self, notification: Notification) -> Handled:
        route = self.route_for(notification)
        if route is None:
            log.info("no alert route takes the group: nothing posted", receiver=notification.receiver,
                     group_labels=notification.group_labels, alerts=len(notification.alerts))
            return Handled(Outcome.UNROUTED)
        group = group_id(notification.receiver, notification.group_key)
        lock = self._lock(group)
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
        queued = await self.storms.holds(route.name)
        root = alert_view.group_opened(notification.alerts, route.name, request,
                                       truncated=notification.truncated_alerts,
                                       source=notification.external_url, queued=queued)
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
        key = run_key(group, state, now)
        outcome = await self._investigate(thread, group, route, request, key, fresh=True)
        return Handled(outcome or Outcome.OPENED, route.name, thread.key)

    async def _update(self, group: AlertGroupThread, route: AlertRoute,
                      notification: Notification) -> Handled:
        assert group.root_ts is not None
        was, now = group.state, AlertGroupState(notification.firing_fingerprints, notification.status)
        thread = ThreadRef(await self.team(), group.channel, group.root_ts)
        at = self.clock()
        if now == was or not await self.threads.change_alert_group(group.id, was, now, at=at):
            return Handled(Outcome.UNCHANGED, route.name, thread.key)
        if now.status == "resolved":
            held = await self.storms.drop(group.id)  # (the queued runs first: none of them starts now)
            withdrawn = held + await self.runs.end_session(thread, route.requester)
            await self._say(thread, alert_view.group_resolved(withdrawn))
            return Handled(Outcome.RESOLVED, route.name, thread.key)
        again = was.status == "resolved"
        new = [alert for alert in notification.firing if again or alert.identity not in was.firing]
        if not new:
            gone = was.firing - now.firing
            listed = [alert for alert in notification.alerts if not alert.firing and alert.identity in gone]
            await self._say(thread, alert_view.some_resolved(listed, len(gone), len(now.firing)))
            return Handled(Outcome.PARTLY_RESOLVED, route.name, thread.key)
        request = self._request(route, notification)
        queued = await self.storms.holds(route.name)
        await self._say(thread, alert_view.new_alerts(new, request, again=again, queued=queued))
        outcome = await self._investigate(thread, group.id, route, request, run_key(group.id, now, at),
                                          fresh=False)
        return Handled(outcome or Outcome.FOLLOWED_UP, route.name, thread.key)

    def _request(self, route: AlertRoute, notification: Notification) -> str | None:
        """The run's request (None: the storm limit is 0, alerts start no run)."""
        if not self.config.runs_per_minute:
            return None
        return render_request(route.request, alert_values(notification), route.runbook)



def alert_desk(hook: AlertHook | None, *, runs: AlertRuns, poster: SlackPoster, store: ThreadOwnership,
               directory: AccessDirectory, tasks: TaskSet, team: Callable[[], Awaitable[str]],
               clock: Callable[[], float] = time.time) -> AlertDesk | None:
    """The bot's desk for alerts (None: the hook is off); the access policy learns which routes'
    runs may use red tools (the others' may not)."""
    if hook is None:
        return None
    for route in hook.config.routes.routes:
        if not route.read_only:
            directory.unattended.allow_red(route.name, route.approvers)
    storms = StormQueue(limit=hook.config.runs_per_minute, window_seconds=hook.config.storm_window_seconds,
                        threads=hook.threads, runs=runs, poster=poster, tasks=tasks, team=team, clock=clock)
    desk = AlertDesk(config=hook.config, threads=hook.threads, runs=runs, storms=storms, poster=poster,
                     ownership=store, team=team, clock=clock)
    if hook.config.pagerduty_secret:
        desk.pagerduty = PagerDutyDesk(config=hook.config, threads=hook.threads, runs=runs, storms=storms,
                                       poster=poster, ownership=store, team=team, clock=clock)
    return desk
