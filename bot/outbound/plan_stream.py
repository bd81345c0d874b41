"""A run's plan streamed into its thread as Slack's tasks: ``chat.startStream`` in ``plan``
display mode, then ``chat.appendStream`` with what changed, ``chat.stopStream`` when the run ends.

The notifier shows the stream the run after each event (:meth:`PlanStream.show`: cheap, never
waits); a background flush sends what changed since the last call (:func:`bot.views.plan_view.changes`),
at most one call per interval, coalescing whatever happened meanwhile, as the status message's
edits are (:class:`bot.outbound.coalesced_edits.MessageEditor`). The interval grows with the number of plans
streaming at once in this process (:class:`AppendPacer`), so that together they stay within
Slack's tier for ``chat.appendStream``; a 429 Slack still answers after the client's own retries
is waited out, and the newest state sent then. When the run ends (:meth:`PlanStream.finish`)
the tasks' final states go with the ``chat.stopStream`` that ends the stream.

Long and slow plans: a stream Slack ended (``message_not_in_streaming_state``: no append for
a while, e.g. during a long approval wait) is replaced by a new message with the whole plan,
and the old one deleted; a message Slack finds too long (``msg_too_long``) is stopped as it
is and the plan continues in a new message with the tasks it had not finished. Any other
refusal ends the stream for this run (and, where it means the app cannot stream plans, for
the process: :mod:`bot.ground.features`): its message is deleted and ``on_fallback`` told, so the
status message shows the node lines again. So is a stream Slack stopped itself, at the agent
session's stop button (:meth:`PlanStream.slack_stopped`), without a stop of ours (Slack would
refuse it) and without posting the plan anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.features import UNSUPPORTED, Feature, SlackFeatures
from bot.ground.poster import Sent
from bot.ground.threads import ThreadRef
from bot.views.plan_view import Task, changes, continued_below, merged, plan_tasks, plan_title, settled
from bot.views.progress_view import RunProgress

log = structlog.get_logger(__name__)

APPENDS_PER_MINUTE = 100.0
"""Slack's Tier 4 (``chat.appendStream``): what all the plans streaming at once may send."""
MAX_MESSAGES = 5
"""New messages one plan may continue in (after expiries and length limits) before giving up."""
MAX_FAILURES = 3
"""Refusals for now (5xx, no answer) in a row before the stream is given up."""
EXPIRED = "message_not_in_streaming_state"
TOO_LONG = "msg_too_long"



class AppendPacer:
    """The interval between one plan stream's appends, so that all of this process's plan
    streams together send at most ``per_minute`` (each still waits at least its own interval)."""

    def __init__(self, per_minute: float = APPENDS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self.live = 0
        """Plan streams started and not yet ended."""

    def interval(self, floor: float) -> float:
        return max(floor, 60.0 * self.live / self.per_minute)


class PlanStream:
    def __init__(self, client: AsyncWebClient, thread: ThreadRef, recipient: str | None,
                 features: SlackFeatures, *, interval: float = 1.0, pacer: AppendPacer | None = None,
                 on_fallback: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic,
                 session_status: Callable[[], str | None] = lambda: None) -> None:
        self.client = client
        self.thread = thread
        self.recipient = recipient
        self.features = features
        self.interval = interval
        self.pacer = pacer or AppendPacer()
        self.on_fallback = on_fallback
        """Told once when the stream is given up on (the status message shows the plan again)."""
        self.clock = clock
        self.session_status = session_status
        """What every ``chat.stopStream`` keeps the thread's agent session at
        (:meth:`bot.outbound.agent_sessions.AgentSessions.kept`)."""
        self.tasks: dict[str, Task] = {}
        """Every task of the run's plans so far, as the run stands (what Slack should show)."""
        self.title = ""
        self.ts: str | None = None
        """The message streaming now, once started."""
        self.messages: list[str] = []
        """Every message the plan was streamed into, oldest first."""
        self.calls = 0
        """Calls made (start, appends, stop), for the curious."""
        self.broken = False
        self.stopped_by_slack = False
        """Slack stopped the stream for the person who clicked the session's stop button: the
        message is neither stopped again nor posted anew (:meth:`slack_stopped`)."""
        self._shown: dict[str, Task] = {}
        """The tasks as the current message shows them."""
        self._shown_title = ""
        self._elsewhere: dict[str, Task] = {}
        """Tasks finished in an earlier message that was too long to take more."""
        self._pending = False
        self._failures = 0
        """Refusals for now in a row."""
        self._last_call = -math.inf
        self._counted = False
        self._flusher: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def live(self) -> bool:
        """Streaming the plan here works (as far as is known): the status message need not
        show the node lines."""
        return not self.broken and not self.stopped_by_slack \
            and self.features.available(Feature.STREAMING, self.thread.channel) \
            and self.features.available(Feature.PLAN)

    def show(self, progress: RunProgress, links: Mapping[str, str]) -> None:
        """The run as it stands (``links``: node id → its approval message): sent with the next
        flush, with whatever else changed by then."""
        if not self.live or self._closing.is_set() or self.stopped_by_slack:
            return
        current = plan_tasks(progress, links)
        if not current and not self.tasks:
            return  # nothing planned yet
        self.tasks = merged(self.tasks, current)
        self.title = plan_title(progress, len(current))
        self._pending = True
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"plan-stream:{self.thread.key}")

    async def finish(self, progress: RunProgress, links: Mapping[str, str]) -> None:
        """The run ended: send the tasks' final states and stop the stream."""
        self._closing.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        try:
            if self.stopped_by_slack and self.ts is not None:
                await self._delete(self.ts)  # what it shows went stale at the click
                self.ts = None
            if self.broken or self.stopped_by_slack \
                    or (self.ts is None and (not self.tasks or not self.live)):
                return
            current = plan_tasks(progress, links)
            self.tasks = settled(merged(self.tasks, current), progress.phase)
            self.title = plan_title(progress, len(current) or len(self.tasks))
            for _ in range(MAX_FAILURES + 1):
                pause = await self._push(stop=True)
                if pause is None or self.broken:
                    return
                await asyncio.sleep(pause)
            await self._give_up("its end was refused")
        finally:
            self._uncount()

    def close(self) -> None:
        """Stop sending (the bot is stopping; Slack ends the stream after a while)."""
        self._closing.set()
        if self._flusher is not None:
            self._flusher.cancel()
        self._uncount()

    # ---------------------------------------------------------------- sending

    async def _flush(self) -> None:
        while self._pending and self.live and not self._closing.is_set():
            wait = self._last_call + self.pacer.interval(self.interval) - self.clock()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), wait)
                if self._closing.is_set():
                    return  # finish() sends the rest with the stop
            self._pending = False
            pause = await self._push(stop=False)
            if pause is not None and not self.broken:
                self._pending = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), pause)

    async def _push(self, *, stop: bool) -> float | None:
        """Bring Slack's message up to :attr:`tasks` (and end the stream, if ``stop``),
        continuing in a new message where Slack wants one. None once done (or given up on);
        else how long to wait before trying again."""
        for _ in range(MAX_MESSAGES + MAX_FAILURES + 1):
            wanted = {tid: t for tid, t in self.tasks.items() if self._elsewhere.get(tid) != t}
            chunks = changes(self._shown, self._shown_title, wanted, self.title)
            if self.ts is None:
                sent = await self._call("chat.startStream", self.client.chat_startStream(
                    channel=self.thread.channel, thread_ts=self.thread.root_ts, chunks=chunks,
                    task_display_mode="plan", recipient_user_id=self.recipient or None,
                    recipient_team_id=self.thread.team if self.recipient else None))
                if sent.ok and sent.ts:
                    self.ts, self._failures = sent.ts, 0
                    self.messages.append(sent.ts)
                    self._count()
                    self._shown, self._shown_title = wanted, self.title
                    if stop:
                        continue
                    return None
            elif not chunks and not stop:
                return None
            else:
                ts = self.ts
                channel = self.thread.channel
                call = self._stop_call(ts, chunks) if stop \
                    else self.client.chat_appendStream(channel=channel, ts=ts, chunks=chunks)
                sent = await self._call("chat.stopStream" if stop else "chat.appendStream", call)
                if sent.ok:
                    self._shown, self._shown_title, self._failures = wanted, self.title, 0
                    return None
            if sent.error == EXPIRED and self.ts is not None and len(self.messages) < MAX_MESSAGES:
                await self._continue(keep_old=False)
            elif sent.error == TOO_LONG and self.ts is not None and len(self.messages) < MAX_MESSAGES:
                await self._continue(keep_old=True)
            elif sent.retry_after is not None:
                return sent.retry_after
            elif sent.transient and self._failures < MAX_FAILURES:
                self._failures += 1
                if not stop:
                    return self.interval * self._failures
                await asyncio.sleep(self.interval * self._failures)
            else:
                await self._give_up(sent.error or "refused", sent.error if self.ts is None else None)
                return None
        await self._give_up("too many new messages")
        return None

    async def _continue(self, *, keep_old: bool) -> None:
        """Go on in a new message: after the old one, stopped as it is (``keep_old``: it was too
        long; its finished tasks stay there), or instead of it (Slack ended it: it is deleted,
        and the new one shows the whole plan)."""
        old, self.ts = self.ts, None
        assert old is not None
        if keep_old:
            self._elsewhere.update((tid, t) for tid, t in self._shown.items() if t.is_final)
            await self._stop_full(old)
        else:
            self._elsewhere = {}
            await self._delete(old)
        self._shown, self._shown_title = {}, ""
        log.info("the plan continues in a new message", thread_id=self.thread.key, old=old,
                 why=TOO_LONG if keep_old else EXPIRED)

    async def _call(self, method: str, call: Any) -> Sent:
        self.calls += 1
        try:
            response = await call
        except SlackApiError as exc:
            return Sent.refused(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("a plan stream call failed", method=method, error=type(exc).__name__,
                        thread_id=self.thread.key)
            return Sent(error="connection_error")
        finally:
            self._last_call = self.clock()
        return Sent(ts=str(response.get("ts") or "") or None)

    async def _give_up(self, why: str, start_error: str | None = None) -> None:
        """Stop streaming the plan for this run: its message (if any) is deleted, and the status
        message shows the plan instead."""
        if self.broken:
            return
        self.broken = True
        unavailable = start_error is not None and (
            self.features.refused(Feature.PLAN, start_error) if start_error in UNSUPPORTED
            else self.features.refused(Feature.STREAMING, start_error, self.thread.channel))
        if not unavailable:
            log.warning("streaming the plan stopped; the status message shows it", error=why,
                        thread_id=self.thread.key)
        if self.ts is not None:
            await self._stop(self.ts)
            await self._delete(self.ts)
            self.ts = None
        self._uncount()
        self.on_fallback()

    def slack_stopped(self, stopped: Collection[str]) -> None:
        """Slack stopped the messages ``stopped`` (their ``ts``) when someone clicked the agent
        session's stop button. The plan's message takes no more, and is not stopped again: from
        now on the status message lists the nodes (their states as the run ends), and when the
        run ends the stale message is deleted, not posted anew."""
        if self.ts is not None and self.ts in stopped and not self.stopped_by_slack:
            self.stopped_by_slack = True
            self._closing.set()
            self.on_fallback()

    def _stop_call(self, ts: str, chunks: list[dict[str, Any]] | None = None) -> Any:
        return self.client.chat_stopStream(channel=self.thread.channel, ts=ts, chunks=chunks or None,
                                           session_status=self.session_status())

    async def _stop(self, ts: str) -> None:
        await self._call("chat.stopStream", self._stop_call(ts))

    async def _stop_full(self, ts: str) -> None:
        """Stop a message too long to take more. Its tasks that go on in the next message are
        marked so (pending, "continued below") where Slack takes that, so that the message a
        person scrolls back to shows no task still running."""
        moved = [continued_below(task).chunk() for task in self._shown.values() if not task.is_final]
        if moved and (await self._call("chat.stopStream", self._stop_call(ts, moved))).ok:
            return
        await self._stop(ts)

    async def _delete(self, ts: str) -> None:
        with contextlib.suppress(SlackApiError, aiohttp.ClientError, TimeoutError, OSError):
            await self.client.chat_delete(channel=self.thread.channel, ts=ts)

    def _count(self) -> None:
        if not self._counted:
            self._counted = True
            self.pacer.live += 1

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self.pacer.live -= 1
