"""What an operator's probes see: the seams through which ``infra`` meters the bot and checks
that it can work (the bot itself keeps no metrics).

``infra`` implements :class:`Operations` (metrics in Prometheus format, readiness checks of the
database and the sandbox) and :class:`SlackCallObserver` (told of every Web API response); the
bot adds its own check, Slack auth, in :mod:`bot.server`.
"""

from __future__ import annotations

from typing import Any, Protocol

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class SlackCallObserver(Protocol):
    def slack_call(self, method: str, *, status: int | None, error: str | None) -> None:
        """One Web API response (or a failure to get one: ``status`` None). ``error``: Slack's
        error code (``ratelimited`` for HTTP 429), or None when the call succeeded."""


class Operations(Protocol):
    async def metrics(self) -> tuple[bytes, str]:
        """The metrics page and its content type."""

    async def checks(self) -> dict[str, str | None]:
        """Readiness checks: name → None when it passes, else a sentence saying what is wrong."""

    async def degraded(self) -> dict[str, str]:
        """What works less well but leaves the replica ready (an MCP server down: its tools are
        missing until it is back): name → what is wrong. ``/healthz`` names them, still 200."""


class ObservingRetryHandler(AsyncRetryHandler):
    """Reports every Web API response to an observer, retries included; never retries itself.

    Put first among a client's retry handlers: slack_sdk asks each handler in turn after every
    response (and every connection error), so this one sees them all.
    """

    def __init__(self, observer: SlackCallObserver) -> None:
        super().__init__(max_retry_count=0)
        self.observer = observer

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"
        if error is not None or response is None:
            self.observer.slack_call(method, status=None, error="connection_error")
            return False
        body: Any = response.body if isinstance(response.body, dict) else {}
        if response.status_code == 429:
            code: str | None = "ratelimited"
        elif response.status_code != 200:
            code = f"http_{response.status_code}"
        elif body.get("ok") is False:
            code = str(body.get("error") or "unknown")
        else:
            code = None
        self.observer.slack_call(method, status=response.status_code, error=code)
        return False
