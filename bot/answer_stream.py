"""Streaming a run's answer into its thread while the joiner writes it (``chat.startStream``,
``chat.appendStream``, ``chat.stopStream``).

The notifier offers the answer so far (:class:`agent.events.AnswerDelta`); a background flush
sends what is new at most once per ``interval`` (Slack rate-limits the appends). The first
flush starts the stream, as a reply in the thread to the person who asked (Slack wants the
recipient outside DMs). Any refusal ends the streaming for this run (and, when it means the
app cannot stream at all, for the process: :mod:`bot.features`); the answer is then posted
or put in place whole when it is ready — a stream is only ever a preview. If the joiner calls
``replan`` after writing some text (a :class:`agent.events.Replanning` event), the notifier
withdraws the stream: stopped, its message deleted; the new plan's answer streams anew.

What is streamed is made safe as the whole answer is (:func:`bot.answer_view.answer_body`), and
only what more text cannot change is sent (:func:`bot.mrkdwn.streamable_markdown`): Slack keeps
what was appended, so a "<!chan" sent now must not become "<!channel>" with the next append.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.answer_view import ANSWER_PART_CHARS
from bot.blocks import Block
from bot.features import Feature, SlackFeatures
from bot.mrkdwn import streamable_markdown
from bot.poster import error_code
from bot.threads import ThreadRef

log = structlog.get_logger(__name__)


class AnswerStream:
    def __init__(self, client: AsyncWebClient, thread: ThreadRef, recipient: str | None,
                 features: SlackFeatures, *, interval: float = 1.0,
                 people: frozenset[str] = frozenset()) -> None:
        self.client = client
        self.thread = thread
        self.recipient = recipient
        self.people = people
        """Whose mentions may stay in the answer (:meth:`bot.progress.RunProgress.people`)."""
        self.features = features
        self.interval = interval
        self.ts: str | None = None
        """The streamed message, once started."""
        self.sent = ""
        """The Markdown Slack has, in order."""
        self.broken = False
        """Slack refused a call: nothing more is streamed; the final answer replaces it."""
        self._offered = ""
        """The answer as the model has written it so far."""
        self._flusher: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def usable(self) -> bool:
        return not self.broken and self.features.available(Feature.STREAMING, self.thread.channel)

    def offer(self, text: str) -> None:
        """The answer so far (it only grows); what of it is safe and settled is sent with the
        next flush (made safe there, once an interval at most: it is a pass over the text)."""
        text = text.lstrip()
        if not self.usable or self._closing.is_set() or len(text) <= len(self._offered) \
                or len(text) > ANSWER_PART_CHARS:
            return  # a longer answer shows whole at the end, split over messages
        self._offered = text
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"answer-stream:{self.thread.key}")

    async def _flush(self) -> None:
        flushed = None
        while self.usable and self._offered != flushed:
            flushed = self._offered
            latest = streamable_markdown(flushed, self.people)
            if latest.startswith(self.sent) and len(latest) > len(self.sent):
                new = latest[len(self.sent):]
                if await self._send(new):
                    self.sent += new
            if self._closing.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.interval)

    async def _send(self, text: str) -> bool:
        if self.ts is None:
            # outside DMs Slack wants the person the stream is for (chat.startStream reference)
            response = await self._call("chat.startStream", self.client.chat_startStream(
                channel=self.thread.channel, thread_ts=self.thread.root_ts, markdown_text=text,
                recipient_user_id=self.recipient or None,
                recipient_team_id=self.thread.team if self.recipient else None))
            if response is not None:
                self.ts = str(response.get("ts") or "") or None
                self.broken = self.ts is None
            return self.ts is not None
        return await self._call("chat.appendStream", self.client.chat_appendStream(
            channel=self.thread.channel, ts=self.ts, markdown_text=text)) is not None

    async def _call(self, method: str, call: Any) -> Any:
        try:
            return await call
        except SlackApiError as exc:
            error = error_code(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        self.broken = True
        if not self.features.refused(Feature.STREAMING, error, self.thread.channel):
            log.warning("streaming the answer stopped; it will be shown whole", method=method,
                        error=error, thread_id=self.thread.key)
        return None

    async def settle(self) -> None:
        """Let the call under way land, and send nothing more: ``sent`` is then what Slack has."""
        self._closing.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def finish(self, rest: str, blocks: list[Block], metadata: dict[str, Any]) -> bool:
        """End the stream with ``rest`` of the answer, then ``blocks`` (footer, feedback)
        and ``metadata``. False when Slack refused (the message then needs replacing)."""
        if self.ts is None or self.broken:
            return False
        done = await self._call("chat.stopStream", self.client.chat_stopStream(
            channel=self.thread.channel, ts=self.ts, markdown_text=rest or None, blocks=blocks,
            metadata=metadata))
        return done is not None

    async def abandon(self) -> None:
        """End a stream whose message will be replaced (best effort: it may be stopped already)."""
        if self.ts is not None and not self.broken:
            await self._call("chat.stopStream", self.client.chat_stopStream(
                channel=self.thread.channel, ts=self.ts))
