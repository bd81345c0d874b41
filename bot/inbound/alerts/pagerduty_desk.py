"""A PagerDuty incident becomes a thread and a run, as an Alertmanager group does
(:mod:`bot.inbound.alerts.desk`), and its later events become notes in that thread.

- ``incident.triggered``: the first route that takes the incident's labels
  (:func:`bot.inbound.alerts.pagerduty.incident_labels`) opens a thread in its channel (the
  incident's title, service, urgency, priority, a link to it) and starts a run of its request,
  through the storm queue like every alert run.
- ``incident.acknowledged``, ``incident.annotated`` (with the note), ``incident.escalated``, …:
  a note in the thread; no run.
- ``incident.resolved``: "Resolved" in the thread, and its alert session ends
  (:meth:`bot.inbound.alerts.alert_runs.AlertRuns.end_session`, and its held runs are dropped).
- ``incident.triggered`` or ``incident.reopened`` after that: "Triggered again", and a run.

The thread's row in the alert store is keyed ``pagerduty:<incident id>``; its state keeps the
id of the last event the thread showed (in ``firing``) and whether the incident is resolved, and
changes by compare-and-set: a redelivery of that event (PagerDuty delivers at least once) posts
nothing again, and one change is acted on once across replicas. An event of an incident dagbot
has no thread for, other than its trigger, is left alone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog

from bot.ground.threads import ThreadRef
from bot.inbound.alerts.group_threads import AlertGroupState, AlertGroupThread
from bot.inbound.alerts.outcome import Handled, Outcome, run_key
from bot.inbound.alerts.pagerduty import IncidentEvent, incident_labels
from bot.inbound.alerts.request_template import one_line, render_request
from bot.inbound.alerts.routes import AlertRoute
from bot.inbound.alerts.thread_desk import ThreadDesk
from bot.views import alert_view

log = structlog.get_logger(__name__)

STARTS = frozenset({"incident.triggered", "incident.reopened"})
"""The events that start a run (a new thread, or one whose incident had resolved)."""
RESOLVES = "incident.resolved"


class PagerDutyDesk(ThreadDesk):

    async def handle(self, event: IncidentEvent) -> Handled:
        labels = incident_labels(event.incident)
        group = event.group
        lock = self._lock(group)
        async with lock:
            thread = await self.threads.alert_group(group)
            route = self.routes.named(thread.route) if thread is not None else self.routes.route_for(labels)
            if route is None:
                log.info("no alert route takes the PagerDuty incident: nothing posted",
                         incident=event.incident.id, event_type=event.event_type)
                return Handled(Outcome.UNROUTED)
            if thread is not None and thread.root_ts is not None:
                handled = await self._update(thread, route, event, labels)
            elif thread is not None and thread.claimed_at >= self.clock() - self.config.claim_retake_seconds:
                handled = Handled(Outcome.BUSY, route.name)  # being opened: PagerDuty retries
            elif event.event_type in STARTS:
                handled = await self._open(group, route, event, labels)
            else:
                handled = Handled(Outcome.UNKNOWN_GROUP, route.name)
        log.info("PagerDuty event handled", outcome=handled.outcome.value, route=route.name, group=group,
                 event_type=event.event_type, thread_id=handled.thread)
        return handled

    async def _open(self, group: str, route: AlertRoute, event: IncidentEvent,
                    labels: dict[str, str]) -> Handled:
        now = self.clock()
        state = AlertGroupState(seen(event), "firing")
        claim = AlertGroupThread(id=group, group_key=f"PagerDuty incident {event.incident.id}",
                                 route=route.name, channel=route.channel, state=state, claimed_at=now)
        stale_before = now - self.config.claim_retake_seconds
        if not await self.threads.claim_alert_group(claim, stale_before=stale_before):
            return Handled(Outcome.BUSY, route.name)
        request = self._request(route, labels)
        queued = await self.storms.holds(route.name)
        root = alert_view.incident_opened(labels, route.name, request, queued=queued)
        try:
            posted = await self.poster.send(route.channel, root.text, root.blocks)
        except BaseException:
            await self.threads.release_alert_group(group)
            raise
        if posted.ts is None:
            await self.threads.release_alert_group(group)
            log.warning("Slack refused a PagerDuty incident's root message: is the bot in the route's "
                        "channel?", route=route.name, channel=route.channel, error=posted.error)
            return Handled(Outcome.NOT_POSTED, route.name, error=posted.error)
        thread = ThreadRef(await self.team(), route.channel, posted.ts)
        await asyncio.gather(self.threads.alert_group_opened(group, posted.ts),
                             self.ownership.own_thread(thread, route.requester, now))
        key = run_key(group, state, now)
        outcome = await self._investigate(thread, group, route, request, key, fresh=True)
        return Handled(outcome or Outcome.OPENED, route.name, thread.key)

    async def _update(self, group: AlertGroupThread, route: AlertRoute, event: IncidentEvent,
                      labels: dict[str, str]) -> Handled:
        assert group.root_ts is not None
        thread = ThreadRef(await self.team(), group.channel, group.root_ts)
        was = group.state
        if event.id in was.firing or _older(event, was.firing):
            # a redelivery of the event the thread last showed, or one older than it (PagerDuty
            # delivers at least once, in no promised order): told already, or out of date
            return Handled(Outcome.UNCHANGED, route.name, thread.key)
        starts = event.event_type in STARTS
        status = "resolved" if event.event_type == RESOLVES else "firing" if starts else was.status
        now, at = AlertGroupState(seen(event), status), self.clock()
        if not await self.threads.change_alert_group(group.id, was, now, at=at):
            return Handled(Outcome.UNCHANGED, route.name, thread.key)
        if event.event_type == RESOLVES:
            held = await self.storms.drop(group.id)
            withdrawn = held + await self.runs.end_session(thread, route.requester)
            by = f" by {one_line(event.who, 100)}" if event.who else ""
            await self._say(thread, alert_view.group_resolved(withdrawn, what=f"the incident was resolved in "
                                                                              f"PagerDuty{by}"))
            return Handled(Outcome.RESOLVED, route.name, thread.key)
        if starts and was.status == "resolved":
            request = self._request(route, labels)
            queued = await self.storms.holds(route.name)
            await self._say(thread, alert_view.incident_again(request, queued=queued))
            outcome = await self._investigate(thread, group.id, route, request, run_key(group.id, now, at),
                                              fresh=False)
            return Handled(outcome or Outcome.FOLLOWED_UP, route.name, thread.key)
        if starts:  # (triggered again while open: nothing new to say)
            return Handled(Outcome.UNCHANGED, route.name, thread.key)
        await self._say(thread, alert_view.incident_event(event.event_type, event.who, event.note))
        return Handled(Outcome.NOTED, route.name, thread.key)

    def _request(self, route: AlertRoute, labels: dict[str, str]) -> str | None:
        """The run's request (None: the storm limit is 0, alerts start no run); the incident's
        text made one line, as an alert's values are."""
        if not self.config.runs_per_minute:
            return None
        return render_request(route.request, {key: one_line(value) for key, value in labels.items()},
                              route.runbook)



SEEN_AT = "occurred_at:"
"""Beside the last event's id in a thread's state: when that event happened in PagerDuty."""


def seen(event: IncidentEvent) -> frozenset[str]:
    """What a thread's state keeps of the last event it showed: its id, and when it happened."""
    return frozenset({event.id, *([SEEN_AT + event.occurred_at] if _when(event.occurred_at) else [])})


def _older(event: IncidentEvent, seen_before: frozenset[str]) -> bool:
    """Did ``event`` happen before the last event the thread showed?"""
    when = _when(event.occurred_at)
    shown = [_when(mark.removeprefix(SEEN_AT)) for mark in seen_before if mark.startswith(SEEN_AT)]
    return when is not None and any(last is not None and when < last for last in shown)


def _when(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None
