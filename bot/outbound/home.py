"""The App Home tab: published for a person when they open it (``app_home_opened``), after
each click they make in it, and, while they have it in view (opened or clicked in within the
last ``fresh_seconds``), when one of their runs ends and when an approval they may decide is
posted, edited or closed (decided, expired, withdrawn, or gone stale) — people who approve
keep Home open as their inbox. It also lists the standing approvals ("Approve for this
thread") the person gave or whose calls they approve, each with a Revoke button.

Who has Home in view is known per process: with several replicas, a person is refreshed
only by the replica that saw them open it, for their runs and the approvals that replica
shows (the others' stay as published until their next open or click in it).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError

from agent.engine.engine import Engine
from agent.events import RunEvent
from agent.ports.standing import NoStandingApprovals, StandingApprovals
from agent.ports.stores import Approval, ApprovalStore
from bot.access.access import AccessDirectory
from bot.ground.background_tasks import TaskSet
from bot.ground.blocks import Block, divider
from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import SlackPoster, error_code
from bot.ground.threads import ThreadRef
from bot.outbound.status_report import active_runs, decidable_approvals
from bot.outbound.surface import RunTracker, ends_run
from bot.store import AppHomeStore
from bot.views import wording as say
from bot.views.approval_view import render_approval
from bot.views.home_view import MAX_APPROVALS, RecentLine, home_view
from bot.views.standing_view import grant_blocks

log = structlog.get_logger(__name__)

RECENT_RUNS = 10


class AppHome:
    def __init__(self, *, engine: Engine, approvals: ApprovalStore, store: AppHomeStore, poster: SlackPoster,
                 directory: AccessDirectory, features: SlackFeatures, tasks: TaskSet,
                 clock: Callable[[], float] = time.time, fresh_seconds: float = 3600.0,
                 standing: StandingApprovals | None = None,
                 schedules: Callable[[str], Awaitable[list[Block]]] | None = None) -> None:
        self.engine = engine
        self.approvals = approvals
        self.store = store
        self.poster = poster
        self.directory = directory
        self.features = features
        self.tasks = tasks
        self.clock = clock
        self.fresh_seconds = fresh_seconds
        self.standing = standing or NoStandingApprovals()
        """The standing approvals listed (with Revoke)."""
        self.schedules = schedules
        """The person's schedules' blocks (with Cancel); None: schedules are off."""
        self._viewers: dict[str, float] = {}
        """Who opened the Home tab in this process, and when."""
        self._due: set[str] = set()
        """Whose refresh is spawned and not begun (a change meanwhile needs no other)."""
        self._publishing: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def opened(self, user: str) -> None:
        self._forget_stale_viewers()
        self._viewers[user] = self.clock()
        await self.publish(user)

    def clicked(self, user: str) -> None:
        """``user`` clicked in their Home: they have it in view (e.g. an Edit saved from it is
        shown there, like an approval posted or closed)."""
        self._forget_stale_viewers()
        self._viewers[user] = self.clock()

    def _forget_stale_viewers(self) -> None:
        """Drop who no longer has Home in view (and their lock, unless a publish holds it)."""
        for user in [user for user in self._viewers if not self._viewing(user)]:
            del self._viewers[user]
            lock = self._publishing.get(user)
            if lock is not None and not lock.locked() and user not in self._due:
                del self._publishing[user]

    def _viewing(self, user: str) -> bool:
        seen = self._viewers.get(user)
        return seen is not None and self.clock() - seen < self.fresh_seconds

    def _refresh(self, user: str) -> None:
        if user not in self._due:
            self._due.add(user)
            self.tasks.spawn(self.publish(user), name=f"home:{user}")

    def refresh_if_viewing(self, requester: str | None) -> None:
        """Something of ``requester``'s changed: refresh their Home if they likely have it in view."""
        if requester and self._viewing(requester):
            self._refresh(requester)

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        """:class:`~bot.outbound.surface.RunSurface`: a run that ends leaves its requester's Home."""
        if run is not None and ends_run(event):
            self.refresh_if_viewing(run.progress.requested_by)

    def refresh_deciders(self, approval: Approval) -> None:
        """``approval``'s message was posted or closed: refresh the Home of everyone likely to
        have it in view who may decide on it (in the background: group members may be looked up)."""
        if not self.features.available(Feature.HOME) or ThreadRef.parse(approval.thread_id) is None:
            return
        viewers = [user for user in self._viewers if self._viewing(user)]
        if viewers:
            self.tasks.spawn(self._refresh_deciders(approval, viewers), name=f"home-deciders:{approval.id}")

    async def _refresh_deciders(self, approval: Approval, viewers: list[str]) -> None:
        for user in viewers:
            if await self.directory.lists_approval(approval.tool, approval.requested_by, user):
                self._refresh(user)

    async def publish(self, user: str) -> None:
        # One publish at a time per person, so the view Slack keeps is the newest one read.
        async with self._publishing[user]:
            self._due.discard(user)
            await self._publish(user)

    async def _publish(self, user: str) -> None:
        if not self.features.available(Feature.HOME):
            return
        view = await self.view_for(user)
        try:
            await self.poster.client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            if not self.features.refused(Feature.HOME, error_code(exc)):
                log.warning("views.publish failed", error=error_code(exc))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("views.publish failed", error=type(exc).__name__)

    async def view_for(self, user: str) -> dict[str, object]:
        active = await active_runs(user, engine=self.engine, store=self.store)
        shown: list[list[Block]] = []
        more = 0
        for approval, _ in await decidable_approvals(user, approvals=self.approvals, store=self.store,
                                                     directory=self.directory):
            if len(shown) >= MAX_APPROVALS:
                more += 1
                continue
            _, blocks = render_approval(approval, self.directory.who_may_approve(approval.tool,
                                                                                 approval.requested_by),
                                        secret=self.engine.registry.secret_args(approval.tool),
                                        standing=self.directory.offers_standing(approval.tool,
                                                                                approval.requested_by))
            shown.append(blocks)
        recent = []
        for run in await self.store.recent_runs(user, RECENT_RUNS):
            thread = ThreadRef.parse(run.thread_key)
            if thread is None:
                continue
            outcome = "answered" if run.answered else "ended" if run.finished else "going"
            recent.append(RecentLine(thread.link, run.request, run.created_at, say.RUN_OUTCOMES[outcome]))
        grants = grant_blocks(await self.standing.live_for(user, self.clock()))
        schedules = [divider(), *await self.schedules(user)] if self.schedules is not None else []
        return home_view(active, shown, more, recent, [*schedules, *grants])
