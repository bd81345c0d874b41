"""Requests from Slack become engine runs: mentions, DMs, thread follow-ups, and the slash
commands :mod:`bot.inbound.commands` hands over.

Each run gets its status message *before* the engine starts (so the user sees it within
a second, before any plan exists); the notifier binds it to the run when the run starts.
Per thread, posting that message and submitting happen under one lock, so status
messages bind to runs in the order the engine runs them. If Slack refuses that message,
nothing is submitted and the requester is told why, ephemerally.

A message is claimed once (Slack sends a mention twice, and retries), the claim is renewed
while its claimer works, and settled once its request is queued. A twin that finds the claim
unsettled waits briefly for it; if it stays unsettled, Slack is answered 503 so that it
retries, and a retry that finds the claim unsettled and not renewed for
``claim_retake_seconds`` (its claimer died) takes it over: it reuses the status message its
claimer may have posted, and the request's key makes a second queueing of it a no-op. A
claimer frozen that long anyway leaves the message to its new claimer (:mod:`bot.inbound.take`).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import structlog

from agent.engine.engine import Engine, Submission, ThreadStatus
from bot.access.access import is_direct
from bot.ground.mrkdwn import unescape
from bot.ground.poster import SlackPoster
from bot.ground.threads import ThreadRef, mentions, message_key, strip_mention
from bot.inbound.take import Take
from bot.store import IntakeStore
from bot.views import wording as say
from bot.views.progress_view import Phase, RunProgress
from bot.views.status_view import render_status

log = structlog.get_logger(__name__)

Respond = Callable[[str], Awaitable[Any]]


class AnswersIn(Protocol):
    def __call__(self, channel: str, *, direct: bool | None) -> bool | None: ...


HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast"}
CANNOT_POST_HERE = {"not_in_channel", "channel_not_found"}


class Delivery(enum.Enum):
    """What became of a delivered message event."""

    IGNORED = "ignored"  # not for the bot
    DUPLICATE = "duplicate"  # a twin or retry of a message another delivery handled
    UNSETTLED = "unsettled"  # claimed by a delivery that has not queued it yet: Slack must retry
    HANDLED = "handled"


def request_key(channel: str, ts: str) -> str:
    """The engine's queue key of the request a message makes (32 characters)."""
    return hashlib.blake2b(f"{channel}:{ts}".encode(), digest_size=16).hexdigest()


def fresh_request_key() -> str:
    """A queue key for a request no message names (a slash command's): 32 characters."""
    return uuid.uuid4().hex


def is_from_a_bot(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message"
                or (bot_user_id and event.get("user") == bot_user_id))


class Intake:
    def __init__(self, *, engine: Engine, store: IntakeStore, poster: SlackPoster, command: str,
                 clock: Callable[[], float] = time.time, claim_retake_seconds: float = 30.0,
                 claim_wait_seconds: float = 1.5,
                 answers_in: AnswersIn = lambda channel, *, direct: True) -> None:
        self.engine = engine
        self.answers_in = answers_in
        """Does the bot answer in this conversation at all (the access policy)? See
        :meth:`bot.access.access.AccessDirectory.answers_in`."""
        self.store = store
        self.poster = poster
        self.command = command
        self.clock = clock
        self.claim_retake_seconds = claim_retake_seconds
        self.claim_wait_seconds = claim_wait_seconds
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def from_event(self, team: str, event: Mapping[str, Any], bot_user_id: str | None,
                         *, mentioned: bool) -> Delivery:
        """An app_mention (``mentioned``) or a message: a DM, or a reply in a thread the bot owns.

        Slack sends a mention in a channel as two events (message and app_mention) and
        retries deliveries; both carry the same channel and ts, which is claimed once. When
        the access policy treats DMs and group DMs apart from channels, the message event
        decides a mention (only it says, by its ``channel_type``, whether it is in a group DM).
        """
        if event.get("subtype") not in HANDLED_SUBTYPES or is_from_a_bot(event, bot_user_id):
            return Delivery.IGNORED
        channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
        if not channel or not ts or not user:
            return Delivery.IGNORED
        thread_ts = event.get("thread_ts")
        thread = ThreadRef(team, channel, thread_ts or ts)
        channel_type = event.get("channel_type")
        direct = is_direct(channel, channel_type=channel_type)
        answers = self.answers_in(channel, direct=direct)
        # Whether the bot answers here depends on whether this is a group DM, which only the
        # message event says (its channel_type): an app_mention leaves its mention to it.
        twin_decides = self.answers_in(channel, direct=None) is None
        if answers is None:
            return Delivery.IGNORED
        owned = bool(thread_ts) and await self.store.owns_thread(thread.key)
        if not (mentioned or channel_type == "im" or owned
                or (twin_decides and mentions(str(event.get("text") or ""), bot_user_id))):
            return Delivery.IGNORED
        key = message_key(channel, ts)
        claimed_at = self.clock()
        claim = await self.store.claim(key, claimed_at, unsettled_for=self.claim_retake_seconds)
        if claim is None:
            if await self._settles(key):
                log.info("duplicate delivery ignored", channel=channel, ts=ts)
                return Delivery.DUPLICATE
            log.warning("message claimed but not queued yet: Slack is asked to retry", channel=channel, ts=ts)
            return Delivery.UNSETTLED
        if claim.retaken_from is not None:
            log.warning("taking over a message whose claimer did not queue it", channel=channel, ts=ts)

        async def keep(_renewed_at: float, now: float) -> bool:  # (a claim is known by when it was made)
            return await self.store.keep_claim(key, claimed_at=claimed_at, now=now)

        take = Take(keep, what="message", key=key, taken_at=claimed_at, clock=self.clock)
        async with take.kept_alive(every=self.claim_retake_seconds / 3):
            if not answers:
                log.info("not answering in this conversation (access policy)", channel=channel)
                if await take.renew():
                    await self.poster.ephemeral(channel, user, say.not_answering_here(direct=bool(direct)),
                                                thread_ts=thread_ts)
            else:
                if not owned:
                    await self.store.own_thread(thread, user, self.clock())
                text = strip_mention(str(event.get("text") or ""), bot_user_id)
                if not text:
                    if await take.renew():
                        await self.poster.post(channel, say.help_text(self.command), thread_ts=thread.root_ts)
                else:
                    await self.start(thread, text, user, fresh=not thread_ts, key=request_key(channel, ts),
                                     retaken_from=claim.retaken_from, still_ours=take.renew)
        if not take.lost:  # (else its new claimer settles it)
            await self.store.settle_claim(key, self.clock())
        return Delivery.HANDLED

    async def _settles(self, key: str) -> bool:
        """Whether the claim on ``key`` is settled, or gets settled within the wait."""
        deadline = time.monotonic() + self.claim_wait_seconds
        while not await self.store.claim_settled(key):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def start(self, thread: ThreadRef, request: str, user: str | None, *,
                    fresh: bool = False, respond: Respond | None = None, key: str | None = None,
                    retaken_from: float | None = None,
                    still_ours: Callable[[], Awaitable[bool]] | None = None) -> Submission | None:
        """Post the run's status message, then hand the request to the engine.

        ``fresh``: the thread has just begun, so no run can be going in it. When the status
        message cannot be posted, nothing starts (None) and the requester is told why:
        through ``respond`` (a slash command's response_url) if given, else ephemerally.
        ``key`` identifies the request in the engine's queue (a fresh one if None; its status
        message keeps it, so that its Cancel stops only this request); ``retaken_from``: its
        message's first claim, by a process that died, which may have posted the status message.
        ``still_ours``: asked once the status message is posted, before it is recorded, and
        again before the request is queued; False (another process took the request over
        meanwhile) takes the message back if it is not recorded yet (its new taker posts its
        own), and nothing starts (None): the request is its new taker's to queue.
        """
        key = key or fresh_request_key()
        if retaken_from is not None and await self.store.status_message_since(
                thread.key, request, user, retaken_from) is not None:
            return await self.engine.submit(thread.key, unescape(request), requested_by=user, key=key)
        lock = self._locks.setdefault(thread.key, asyncio.Lock())  # lives while someone holds it
        async with lock:
            busy = not fresh and await self.engine.status(thread.key) is not ThreadStatus.IDLE
            now = self.clock()
            progress = RunProgress(request=request, requested_by=user, started_at=now,
                                   phase=Phase.QUEUED if busy else Phase.PLANNING)
            text, blocks = render_status(progress, now, thread.key)
            posted = await self.poster.send(thread.channel, text, blocks, thread_ts=thread.root_ts)
            if posted.ts is not None and still_ours is not None and not await still_ours():
                await self.poster.delete(thread.channel, posted.ts)
                log.warning("run left to the process that took its request over", thread_id=thread.key)
                return None
            if posted.ts is not None:
                await self.store.add_status_message(thread.key, thread.channel, posted.ts, request, user, now,
                                                    request_key=key)
                if still_ours is not None and not await still_ours():  # (it may reuse the message)
                    log.warning("request left to the process that took it over", thread_id=thread.key)
                    return None
                submission = await self.engine.submit(thread.key, unescape(request), requested_by=user,
                                                      key=key, new_thread=fresh)
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
