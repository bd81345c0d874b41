"""Requests from Slack become engine runs: slash commands, mentions, DMs, thread follow-ups.

Each run gets its status message *before* the engine starts (so the user sees it within
a second, before any plan exists); the notifier binds it to the run when the run starts.
Per thread, posting that message and submitting happen under one lock, so status
messages bind to runs in the order the engine runs them. If Slack refuses that message,
nothing is submitted and the requester is told why, ephemerally.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from agent.runner import Engine, Submission, ThreadStatus
from bot import messages as say
from bot.poster import SlackPoster
from bot.progress import Phase, RunProgress
from bot.reply_view import root_message
from bot.status_view import render_status
from bot.store import BotStore
from bot.threads import ThreadRef, message_key, strip_mention, unescape

log = structlog.get_logger(__name__)

Respond = Callable[[str], Awaitable[Any]]
HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast"}
CANNOT_POST_HERE = {"not_in_channel", "channel_not_found"}


def is_from_a_bot(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message"
                or (bot_user_id and event.get("user") == bot_user_id))


class Intake:
    def __init__(self, *, engine: Engine, store: BotStore, poster: SlackPoster, command: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.store = store
        self.poster = poster
        self.command = command
        self.clock = clock
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def from_command(self, team: str, channel: str, user: str, text: str, respond: Respond) -> None:
        """``/agent <request>``: a root message quoting the request; the run lives in its thread."""
        root = root_message(user, text)
        posted = await self.poster.send(channel, root.text, root.blocks)
        if posted.ts is None:
            await respond(say.NOT_IN_CHANNEL if posted.error in CANNOT_POST_HERE
                          else say.could_not_start(posted.error))
            return
        thread = ThreadRef(team, channel, posted.ts)
        try:
            await self.start(thread, text, user, fresh=True, respond=respond)
            await self.store.own_thread(thread, user, self.clock())
        except Exception:
            log.exception("could not start a run", thread_id=thread.key)
            await respond(say.SOMETHING_BROKE)

    async def from_event(self, team: str, event: Mapping[str, Any], bot_user_id: str | None,
                         *, mentioned: bool) -> None:
        """An app_mention (``mentioned``) or a message: a DM, or a reply in a thread the bot owns.

        Slack sends a mention in a channel as two events (message and app_mention) and
        retries deliveries; both carry the same channel and ts, which is claimed once.
        """
        if event.get("subtype") not in HANDLED_SUBTYPES or is_from_a_bot(event, bot_user_id):
            return
        channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
        if not channel or not ts or not user:
            return
        thread_ts = event.get("thread_ts")
        thread = ThreadRef(team, channel, thread_ts or ts)
        direct = event.get("channel_type") == "im"
        owned = bool(thread_ts) and await self.store.owns_thread(thread.key)
        if not (mentioned or direct or owned):
            return
        if not await self.store.claim(message_key(channel, ts), self.clock()):
            log.info("duplicate delivery ignored", channel=channel, ts=ts)
            return
        text = strip_mention(str(event.get("text") or ""), bot_user_id)
        if not text:
            await self.poster.post(channel, say.help_text(self.command), thread_ts=thread.root_ts)
            return
        await self.start(thread, text, user, fresh=not thread_ts)
        if not owned:
            await self.store.own_thread(thread, user, self.clock())

    async def start(self, thread: ThreadRef, request: str, user: str | None, *,
                    fresh: bool = False, respond: Respond | None = None) -> Submission | None:
        """Post the run's status message, then hand the request to the engine.

        ``fresh``: the thread has just begun, so no run can be going in it. When the status
        message cannot be posted, nothing starts (None) and the requester is told why:
        through ``respond`` (a slash command's response_url) if given, else ephemerally.
        """
        lock = self._locks.setdefault(thread.key, asyncio.Lock())  # lives while someone holds it
        async with lock:
            busy = not fresh and await self.engine.status(thread.key) is not ThreadStatus.IDLE
            now = self.clock()
            progress = RunProgress(request=request, requested_by=user, started_at=now,
                                   phase=Phase.QUEUED if busy else Phase.PLANNING)
            text, blocks = render_status(progress, now, thread.key)
            posted = await self.poster.send(thread.channel, text, blocks, thread_ts=thread.root_ts)
            if posted.ts is not None:
                await self.store.add_status_message(thread.key, thread.channel, posted.ts, request, user, now)
                submission = await self.engine.submit(thread.key, unescape(request), requested_by=user)
                if submission is Submission.QUEUED and not busy:  # it got busy meanwhile
                    progress.phase = Phase.QUEUED
                    text, blocks = render_status(progress, now, thread.key)
                    await self.poster.update(thread.channel, posted.ts, text, blocks)
                log.info("run requested", thread_id=thread.key, submission=submission.value)
                return submission
        log.warning("run not started: Slack refused its status message", thread_id=thread.key,
                    error=posted.error)
        notice = say.could_not_start(posted.error)
        if respond is not None:
            await respond(notice)
        elif user:
            await self.poster.ephemeral(thread.channel, user, notice, thread_ts=thread.root_ts)
        return None
