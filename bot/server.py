"""Serving the bot: HTTP (an ASGI app for uvicorn) or Socket Mode (no public URL needed)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import structlog
import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import SlackBot

log = structlog.get_logger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def asgi_app(bot: SlackBot, *, manage_bot: bool = True) -> Starlette:
    """``POST /slack/events`` (events, slash commands, interactivity) and ``GET /healthz``.

    With ``manage_bot`` the ASGI lifespan starts and stops the bot.
    """
    handler = AsyncSlackRequestHandler(bot.app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_bot:
            await bot.start()
        try:
            yield
        finally:
            if manage_bot:
                await bot.stop()

    return Starlette(routes=[Route(EVENTS_PATH, events, methods=["POST"]),
                             Route(HEALTH_PATH, healthz, methods=["GET"])], lifespan=lifespan)


async def serve_http(bot: SlackBot, *, host: str = "0.0.0.0", port: int = 3000) -> None:  # noqa: S104
    """Serve until SIGINT/SIGTERM (uvicorn handles both and runs the lifespan shutdown)."""
    try:
        await bot.identity()  # a refused token stops here, with a message saying so
    except Exception:
        await bot.stop()
        raise
    config = uvicorn.Config(asgi_app(bot), host=host, port=port, lifespan="on", log_config=None,
                            access_log=False)
    log.info("serving Slack over HTTP", host=host, port=port, path=EVENTS_PATH)
    await uvicorn.Server(config).serve()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (where the platform lets the loop catch them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_socket_mode(bot: SlackBot, app_token: str, *, stop: asyncio.Event | None = None) -> None:
    """Serve over Socket Mode until SIGINT/SIGTERM (or until ``stop`` is set)."""
    stop = stop or stop_on_signals()
    handler = AsyncSocketModeHandler(bot.app, app_token, web_client=bot.client)
    try:
        await bot.start()
        await handler.connect_async()
        log.info("serving Slack over Socket Mode")
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await handler.close_async()
        await bot.stop()
