"""One Slack message kept showing the newest content: coalesced edits, 429-aware (a run's status
message's; the Edit modal of an approval is :mod:`bot.views.edit_view`).

``show()`` never waits. A background flusher sends the newest content, at most one
``chat.update`` per interval; content shown meanwhile replaces what was waiting. When
Slack still answers 429 after the client's own Retry-After retries, the flusher waits
Retry-After and sends the *newest* content, so the message converges on the final state.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from enum import Enum

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ground.blocks import Block
from bot.ground.poster import GONE, error_code, retry_after

log = structlog.get_logger(__name__)


class Outcome(Enum):
    DONE = "done"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"
    GONE = "gone"


class MessageEditor:
    def __init__(
        self, client: AsyncWebClient, channel: str, ts: str, *, interval: float = 1.0,
        max_failures: int = 5, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.channel = channel
        self.ts = ts
        self.interval = interval
        self.max_failures = max_failures
        self.clock = clock
        self.sleep = sleep
        self.edits = 0
        self._content: tuple[str, list[Block]] | None = None
        self._version = 0
        self._sent = 0
        self._last_edit = -math.inf
        self._flusher: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._settled.set()

    def show(self, text: str, blocks: list[Block]) -> None:
        if self._content == (text, blocks):
            return
        self._content = (text, blocks)
        self._version += 1
        self._settled.clear()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"edit:{self.ts}")

    async def settled(self) -> None:
        """Wait until the newest content is on Slack (or given up on)."""
        await self._settled.wait()

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()

    async def _flush(self) -> None:
        failures = 0
        try:
            while self._sent < self._version and self._content is not None:
                wait = self._last_edit + self.interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
                version, (text, blocks) = self._version, self._content
                outcome, pause = await self._edit(text, blocks)
                if outcome is Outcome.DONE:
                    self._sent, failures = version, 0
                elif outcome is Outcome.GONE:
                    self._sent = self._version  # the message is gone: nothing more to show
                elif outcome is Outcome.RATE_LIMITED:
                    await self.sleep(pause)  # Slack bounds these; keep the newest content coming
                else:
                    failures += 1
                    if failures >= self.max_failures:
                        log.warning("giving up on a status edit", ts=self.ts)
                        self._sent = version
                    else:
                        await self.sleep(pause * failures)
        finally:
            self._settled.set()

    async def _edit(self, text: str, blocks: list[Block]) -> tuple[Outcome, float]:
        try:
            await self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks)
            self.edits += 1
            return Outcome.DONE, 0.0
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is not None:
                log.info("status edit rate-limited", ts=self.ts, retry_after=wait)
                return Outcome.RATE_LIMITED, wait
            code = error_code(exc)
            log.warning("status edit failed", ts=self.ts, error=code)
            return (Outcome.GONE if code in GONE else Outcome.FAILED), self.interval
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("status edit failed", ts=self.ts, error=type(exc).__name__)
            return Outcome.FAILED, self.interval
        except RuntimeError as exc:  # aiohttp's "Session is closed": the bot is shutting down
            log.info("status edit dropped: the Slack client is closed", ts=self.ts, error=str(exc))
            return Outcome.GONE, 0.0
        finally:
            self._last_edit = self.clock()
