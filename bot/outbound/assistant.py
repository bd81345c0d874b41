"""Slack's assistant pane: a user opens dagbot beside a channel and works in a DM thread.

Those threads are DM threads (channel ``D…``, ``thread_ts``), so requests, plans, approvals,
follow-ups and cancels go through the same intake as everywhere: one LangGraph thread per
assistant thread. What the pane adds, done here:
- ``assistant_thread_started``: the thread is remembered (and owned, so every message in it is
  a request) and gets suggested prompts built from the tools the user may use there;
- ``assistant_thread_context_changed``: the channel the user looks at is remembered;
- while a run goes on: the title from the thread's first request, and the "is …" status with
  the nodes being run, cleared when the run ends.

Bolt's ``Assistant`` middleware is not used: it acknowledges each event before its listener
runs, while dagbot answers a message event only once the request is recorded (503 otherwise,
so Slack retries it; see ``bot.inbound.listeners``), and it would take the DM thread messages the
common intake already handles.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.events import AnswerDelta, Planning, RunEvent
from agent.tools.registry import ToolRegistry
from bot.access.access import AccessDirectory, is_direct
from bot.ground.features import Feature, SlackFeatures
from bot.ground.poster import error_code
from bot.ground.threads import ThreadRef
from bot.outbound.surface import RunTracker
from bot.store import AssistantPaneStore, AssistantThread
from bot.views import wording as say
from bot.views.assistant_view import status_text, suggested_prompts, thread_title
from bot.views.progress_view import RunProgress

log = structlog.get_logger(__name__)

KNOWN_THREADS = 10_000
"""Threads whose kind (pane or not) is remembered in memory."""


class AssistantPane:
    def __init__(self, *, client: AsyncWebClient, store: AssistantPaneStore, directory: AccessDirectory,
                 registry: ToolRegistry, features: SlackFeatures,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.store = store
        self.directory = directory
        self.registry = registry
        self.features = features
        self.clock = clock
        self._known: dict[str, bool] = {}
        """Thread key → whether it is an assistant thread (it never changes)."""
        self._shown: dict[str, str] = {}
        """Thread key → the status last set."""

    # ---------------------------------------------------------------- events

    async def thread_started(self, team: str, event: Mapping[str, Any]) -> None:
        info = event.get("assistant_thread") or {}
        channel, ts, user = info.get("channel_id"), info.get("thread_ts"), info.get("user_id")
        if not channel or not ts:
            return
        thread = ThreadRef(team, channel, ts)
        context = (info.get("context") or {}).get("channel_id")
        await self.store.add_assistant_thread(AssistantThread(thread.key, channel, ts, user, context),
                                              self.clock())
        await self.store.own_thread(thread, user, self.clock())
        self._known[thread.key] = True
        if not user or not self.directory.answers_in(channel, direct=is_direct(channel)) \
                or not self.features.available(Feature.ASSISTANT, channel):
            return
        allowed = [spec for spec in self.registry
                   if await self.directory.tool_refusal(spec.name, user, channel) is None]
        prompts = suggested_prompts(allowed)
        if prompts:
            await self._call("assistant.threads.setSuggestedPrompts", channel,
                             self.client.assistant_threads_setSuggestedPrompts(
                                 channel_id=channel, thread_ts=ts, prompts=prompts, title=say.PROMPTS_TITLE))

    async def context_changed(self, team: str, event: Mapping[str, Any]) -> None:
        info = event.get("assistant_thread") or {}
        if info.get("channel_id") and info.get("thread_ts"):
            thread = ThreadRef(team, info["channel_id"], info["thread_ts"])
            await self.store.set_assistant_context(thread.key, (info.get("context") or {}).get("channel_id"))

    # ----------------------------------------------------------------- runs

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        """:class:`~bot.outbound.surface.RunSurface`: the run's thread, if it is the pane's."""
        if run is not None and not isinstance(event, AnswerDelta):
            await self.show(run.thread, run.progress, event)

    async def show(self, thread: ThreadRef, progress: RunProgress, event: RunEvent) -> None:
        """A run event in ``thread``: its title (once) and status, if it is an assistant thread."""
        if not self.features.available(Feature.ASSISTANT, thread.channel) or not await self._is_pane(thread):
            return
        if isinstance(event, Planning) and not event.replan and await self.store.take_title(thread.key):
            await self._call("assistant.threads.setTitle", thread.channel,
                             self.client.assistant_threads_setTitle(channel_id=thread.channel,
                                                                    thread_ts=thread.root_ts,
                                                                    title=thread_title(event.request)))
        status = status_text(progress)
        if status == self._shown.get(thread.key, ""):
            return
        self._shown[thread.key] = status
        if not status:
            self._shown.pop(thread.key, None)
        await self._call("assistant.threads.setStatus", thread.channel,
                         self.client.assistant_threads_setStatus(channel_id=thread.channel,
                                                                 thread_ts=thread.root_ts, status=status))

    async def _is_pane(self, thread: ThreadRef) -> bool:
        known = self._known.get(thread.key)
        if known is None:
            if len(self._known) >= KNOWN_THREADS:
                self._known.clear()  # asked again from the database as needed
            known = self._known[thread.key] = await self.store.assistant_thread(thread.key) is not None
        return known

    async def _call(self, method: str, channel: str, call: Any) -> None:
        try:
            await call
        except SlackApiError as exc:
            error = error_code(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        else:
            return
        if not self.features.refused(Feature.ASSISTANT, error, channel):
            log.warning("an assistant pane call failed", method=method, error=error)
