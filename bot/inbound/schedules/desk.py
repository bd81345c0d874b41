"""``/agent every …`` makes a schedule, ``/agent schedules`` lists them, Cancel ends one.

A schedule belongs to the channel it was made in and to the person who made it: its runs are
theirs. Only they (or a supervisor, the policy's approvers of every tool, as for a run's Cancel)
may cancel it; anyone else's click is told so, privately. Everything said here is said
privately to the person who asked (the command's ``response_url``, else an ephemeral message).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog

from bot.access.access import AccessDirectory, MembershipUnknown
from bot.ground.blocks import Block
from bot.ground.poster import SlackPoster
from bot.ground.schedule_book import Schedule, ScheduleStore, ScheduleTimer
from bot.ground.schedule_spec import ScheduleSpecError, parse_schedule
from bot.views import schedule_view
from bot.views import wording as say
from bot.views.reply_view import Reply

log = structlog.get_logger(__name__)

Tell = Callable[[Reply], Awaitable[None]]
"""Says something privately to whoever asked."""


class ScheduleDesk:
    def __init__(self, *, store: ScheduleStore, timer: ScheduleTimer, poster: SlackPoster,
                 directory: AccessDirectory, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.timer = timer
        self.poster = poster
        self.directory = directory
        self.clock = clock

    async def create(self, *, team: str, channel: str, user: str, text: str, tell: Tell,
                     direct: bool | None) -> Schedule | None:
        """``/agent every …`` in ``channel`` by ``user``: the schedule made (None: refused, and told why)."""
        try:
            spec, request = parse_schedule(text)
        except ScheduleSpecError as exc:
            await tell(Reply(str(exc), []))
            return None
        if not self.directory.answers_in(channel, direct=bool(direct)):
            await tell(Reply(say.not_answering_here(direct=bool(direct)), []))
            return None
        schedule = Schedule(id=uuid.uuid4().hex, team=team, channel=channel, user=user, request=request,
                            spec=spec, created_at=self.clock())
        await self.store.add_schedule(schedule)
        try:
            await self.timer.add(schedule)
        except Exception:  # (e.g. the database went away): not listed as live, and said
            log.exception("a schedule could not be given to the timer", schedule_id=schedule.id)
            await self.store.cancel_schedule(schedule.id, user, self.clock())
            await tell(Reply(say.schedule_not_made(), []))
            return None
        log.info("schedule made", schedule_id=schedule.id, channel=channel, user=user)
        first = self.timer.next_fire_time(schedule, self.clock())
        await tell(Reply(schedule_view.created(schedule, first), []))
        return schedule

    async def listing(self, *, channel: str, user: str) -> Reply:
        """``/agent schedules``: the person's and the channel's, with Cancel where they may."""
        schedules = await self.store.live_schedules(user=user, channel=channel)
        cancellable = {s.id for s in schedules if await self._may_cancel(s, user)}
        return schedule_view.schedule_list(schedules, self._next_fires(schedules), cancellable=cancellable)

    async def home_blocks(self, user: str) -> list[Block]:
        """App Home's part: the person's own schedules."""
        schedules = await self.store.live_schedules(user=user)
        return schedule_view.home_schedules(schedules, self._next_fires(schedules))

    async def cancel(self, *, schedule_id: str, user: str, channel: str | None) -> None:
        """Cancel clicked (in a listing, or in App Home: no channel)."""
        schedule = await self.store.schedule(schedule_id)
        if schedule is None or schedule.cancelled_at is not None:
            await self._told(channel, user, schedule_view.ALREADY_CANCELLED)
            return
        try:
            allowed = await self._may_cancel(schedule, user, strict=True)
        except MembershipUnknown:
            await self._told(channel, user, say.GROUP_UNCHECKED)
            return
        if not allowed:
            log.info("schedule cancel refused", schedule_id=schedule_id, user=user)
            await self._told(channel, user, schedule_view.CANCEL_NOT_ALLOWED)
            return
        if not await self.store.cancel_schedule(schedule_id, user, self.clock()):
            await self._told(channel, user, schedule_view.ALREADY_CANCELLED)
            return
        await self.timer.remove(schedule_id)
        log.info("schedule cancelled", schedule_id=schedule_id, by=user)
        await self._told(channel, user, schedule_view.cancelled(schedule))

    async def _may_cancel(self, schedule: Schedule, user: str, *, strict: bool = False) -> bool:
        try:
            return await self.directory.may_cancel(schedule.user, user)
        except MembershipUnknown:
            if strict:
                raise
            return False

    def _next_fires(self, schedules: list[Schedule]) -> dict[str, float | None]:
        now = self.clock()
        return {s.id: self.timer.next_fire_time(s, now) for s in schedules}

    async def _told(self, channel: str | None, user: str, text: str) -> None:
        await self.poster.ephemeral(channel or "", user, text)
