"""Streaming a run's answer into its thread while the joiner writes it (``chat.startStream``,
``chat.appendStream``, ``chat.stopStream``).

The notifier offers the answer so far (:class:`agent.events.AnswerDelta`); a background flush
sends what is new at most once per ``interval`` (Slack rate-limits the appends). The first
flush starts the stream, as a reply in the thread to the person who asked (Slack wants the
recipient outside DMs). If the joiner calls ``replan`` after writing some text (a
:class:`agent.events.Replanning` event), the notifier withdraws the stream: stopped, its
messages deleted; the new plan's answer streams anew.

Long and slow answers: a message holds ``part_chars`` of the answer at most (Slack's limit on
a message's Markdown, with room to spare); what comes after goes on in a new streamed message,
the full one stopped as it is. So does what Slack refuses to append because the message is
too long (``msg_too_long``), or because Slack ended the stream (``message_not_in_streaming_state``,
after a while without appends): nothing streamed is lost, each message keeps what it shows.
Each part is a :class:`Segment`. Any other refusal ends the streaming for this run (and, when
it means the app cannot stream at all, for the process: :mod:`bot.ground.features`); the answer is
then put in place whole when it is ready (:mod:`bot.outbound.answer_delivery`).

What is streamed is made safe as the whole answer is (:func:`bot.views.answer_view.answer_body`), and
only what more text cannot change is sent (:func:`bot.ground.mrkdwn.streamable_markdown`): Slack keeps
what was appended, so a "<!chan" sent now must not become "<!channel>" with the next append.
A code block is sent once it is closed, so a message never ends inside one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.blocks import Block
from bot.ground.features import Feature, SlackFeatures
from bot.ground.mrkdwn import streamable_markdown, whole_cut
from bot.ground.poster import error_code
from bot.ground.threads import ThreadRef
from bot.views.answer_view import ANSWER_PART_CHARS

log = structlog.get_logger(__name__)

MAX_MESSAGES = 8
"""Messages one streamed answer may take; a longer answer shows whole once it is complete."""
EXPIRED = "message_not_in_streaming_state"
TOO_LONG = "msg_too_long"


@dataclass
class Segment:
    """One message of a streamed answer."""

    ts: str
    text: str = ""
    """The Markdown Slack has in it."""
    open: bool = True
    """Still streaming: it takes appends, and is ours to stop."""


class AnswerStream:
    def __init__(self, client: AsyncWebClient, thread: ThreadRef, recipient: str | None,
                 features: SlackFeatures, *, interval: float = 1.0,
                 people: frozenset[str] = frozenset(), part_chars: int = ANSWER_PART_CHARS,
                 session_status: Callable[[], str | None] = lambda: None) -> None:
        self.client = client
        self.thread = thread
        self.recipient = recipient
        self.people = people
        """Whose mentions may stay in the answer (:meth:`bot.views.progress_view.RunProgress.people`)."""
        self.features = features
        self.interval = interval
        self.part_chars = part_chars
        self.session_status = session_status
        """What every ``chat.stopStream`` keeps the thread's agent session at
        (:meth:`bot.outbound.agent_sessions.AgentSessions.kept`)."""
        self.segments: list[Segment] = []
        """The messages streamed into, in order."""
        self.broken = False
        """Slack refused a call: nothing more is streamed; the final answer replaces it."""
        self.stopped_by_slack = False
        """Slack stopped the stream for the person who clicked the session's stop button:
        nothing more is streamed, and what Slack stopped needs no stop of ours."""
        self._offered = ""
        """The answer as the model has written it so far."""
        self._flusher: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def ts(self) -> str | None:
        """The first streamed message, once started."""
        return self.segments[0].ts if self.segments else None

    @property
    def sent(self) -> str:
        """The Markdown Slack has, in order, over all the messages."""
        return "".join(segment.text for segment in self.segments)

    @property
    def usable(self) -> bool:
        return not self.broken and not self.stopped_by_slack \
            and self.features.available(Feature.STREAMING, self.thread.channel)

    def offer(self, text: str) -> None:
        """The answer so far (it only grows); what of it is safe and settled is sent with the
        next flush (made safe there, once an interval at most: it is a pass over the text)."""
        text = text.lstrip()
        if not self.usable or self._closing.is_set() or len(text) <= len(self._offered) \
                or len(text) > self.part_chars * MAX_MESSAGES:
            return  # a longer answer shows whole at the end, split over messages
        self._offered = text
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"answer-stream:{self.thread.key}")

    async def _flush(self) -> None:
        flushed = None
        while self.usable and self._offered != flushed:
            flushed = self._offered
            latest = streamable_markdown(flushed, self.people)
            sent = self.sent
            if latest.startswith(sent) and len(latest) > len(sent):
                await self._send(latest[len(sent):])
            if self._closing.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.interval)

    async def _send(self, text: str) -> None:
        """Add ``text`` to the answer in Slack: to the open message as far as it has room (cut
        at a break outside code blocks), the rest (or what Slack will not take there) to new ones."""
        while text and self.usable:
            last = self.segments[-1] if self.segments else None
            room = self.part_chars - len(last.text) if last is not None and last.open else 0
            cut = whole_cut(text, room) if room > 0 else 0
            if last is not None and cut:
                error = await self._try(self.client.chat_appendStream(
                    channel=self.thread.channel, ts=last.ts, markdown_text=text[:cut]))
                if error is None:
                    last.text, text = last.text + text[:cut], text[cut:]
                    continue
                if error not in (EXPIRED, TOO_LONG):
                    self._refused("chat.appendStream", error)
                    return
                last.open = error != EXPIRED  # Slack ended it: nothing to stop
                log.info("the streamed answer goes on in a new message", error=error,
                         thread_id=self.thread.key)
            if last is not None and last.open:  # full, or refusing more: it ends as it is
                await self._try(self._stop(last.ts))
                last.open = False
            cut = whole_cut(text, self.part_chars)
            if len(self.segments) >= MAX_MESSAGES or not cut:
                self._refused("chat.startStream", "too_long_to_stream")
                return
            if not await self._start(text[:cut]):
                return
            text = text[cut:]

    async def _start(self, text: str) -> bool:
        # outside DMs Slack wants the person the stream is for (chat.startStream reference)
        try:
            response = await self.client.chat_startStream(
                channel=self.thread.channel, thread_ts=self.thread.root_ts, markdown_text=text,
                recipient_user_id=self.recipient or None,
                recipient_team_id=self.thread.team if self.recipient else None)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._refused("chat.startStream", self._error(exc))
            return False
        ts = str(response.get("ts") or "")
        if not ts:
            self._refused("chat.startStream", "no_ts")
            return False
        self.segments.append(Segment(ts, text))
        return True

    async def _try(self, call: Any) -> str | None:
        """Make the call: None when Slack took it, else its error."""
        try:
            await call
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return self._error(exc)
        return None

    @staticmethod
    def _error(exc: Exception) -> str:
        return error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__

    def _refused(self, method: str, error: str) -> None:
        self.broken = True
        if not self.features.refused(Feature.STREAMING, error, self.thread.channel):
            log.warning("streaming the answer stopped; it will be shown whole", method=method,
                        error=error, thread_id=self.thread.key)

    async def settle(self) -> None:
        """Let the call under way land, and send nothing more: ``sent`` is then what Slack has."""
        self._closing.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def finish(self, rest: str, blocks: list[Block], metadata: dict[str, Any]) -> str | None:
        """End the last message with ``rest`` of the answer, then ``blocks`` (footer, feedback)
        and ``metadata``: None when Slack took it, else its error."""
        last = self.segments[-1] if self.segments else None
        if last is None or not last.open or self.broken:
            return EXPIRED if last is not None and not last.open else "not_streaming"
        error = await self._try(self._stop(last.ts, markdown_text=rest or None, blocks=blocks or None,
                                           metadata=metadata))
        if error is None or error == EXPIRED:
            last.open = False
        if error is None:
            last.text += rest
        return error

    async def abandon(self) -> None:
        """End the stream whose messages will be replaced (best effort: it may be stopped already)."""
        last = self.segments[-1] if self.segments else None
        if last is not None and last.open:
            last.open = False
            await self._try(self._stop(last.ts))

    def slack_stopped(self, stopped: Collection[str]) -> None:
        """Slack stopped the messages ``stopped`` (their ``ts``) when someone clicked the agent
        session's stop button: they keep what they show, take no more, and are not stopped again."""
        for segment in self.segments:
            if segment.ts in stopped:
                segment.open = False
                self.stopped_by_slack = True
        if self.stopped_by_slack:
            self._closing.set()

    def _stop(self, ts: str, **end: Any) -> Any:
        """``chat.stopStream`` for the message ``ts``, keeping the session's status as the run's."""
        return self.client.chat_stopStream(channel=self.thread.channel, ts=ts,
                                           session_status=self.session_status(), **end)
