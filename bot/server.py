"""Serving the bot: HTTP (an ASGI app for uvicorn) or Socket Mode (no public URL needed)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import aiohttp
import structlog
import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import BotStartError, SlackBot, unreachable
from bot.ground.poster import error_code
from bot.inbound.alerts.hook import alertmanager_route, pagerduty_route
from bot.ops import Operations

log = structlog.get_logger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
LIVE_PATH = "/livez"
METRICS_PATH = "/metrics"
CHECK_SECONDS = 5.0
"""A readiness check that takes longer fails (a load balancer wants an answer, not a hang)."""


async def readiness(bot: SlackBot, ops: Operations | None) -> dict[str, str | None]:
    """Every readiness check: name → None when it passes, else what is wrong. Slack auth is the
    bot's own (``auth.test``, asked until it succeeds once); the rest come from ``ops``."""

    async def slack() -> dict[str, str | None]:
        try:
            await bot.identity()
        except BotStartError as exc:
            return {"slack": str(exc)}
        except Exception as exc:  # e.g. Slack unreachable: not ready, and say why
            return {"slack": f"could not reach Slack to check the token ({type(exc).__name__})"}
        return {"slack": None}

    async def others() -> dict[str, str | None]:
        return await ops.checks() if ops is not None else {}

    async def timed(checks: Coroutine[Any, Any, dict[str, str | None]], name: str) -> dict[str, str | None]:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return await checks
        except TimeoutError:
            return {name: f"no answer within {CHECK_SECONDS:g} s"}

    found: dict[str, str | None] = {}
    for result in await asyncio.gather(timed(others(), "checks"), timed(slack(), "slack")):
        found.update(result)
    return found


def ops_routes(bot: SlackBot, ops: Operations | None) -> list[Route]:
    """``GET /healthz`` (readiness: 200 when every check passes, else 503 naming the failing
    ones; what is degraded without making the replica unready is named too), ``GET /livez``
    (liveness: the event loop answers) and, with ``ops``, ``GET /metrics``."""

    async def healthz(request: Request) -> Response:
        checks = await readiness(bot, ops)
        failing = {name: problem for name, problem in checks.items() if problem is not None}
        body = {"ok": not failing, "checks": {name: problem or "ok" for name, problem in checks.items()}}
        if failing:
            body["failing"] = sorted(failing)
        degraded = await ops.degraded() if ops is not None else {}
        if degraded:
            body["degraded"] = degraded
        return JSONResponse(body, status_code=503 if failing else 200)

    async def livez(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes = [Route(HEALTH_PATH, healthz, methods=["GET"]), Route(LIVE_PATH, livez, methods=["GET"])]
    if ops is not None:
        metered = ops

        async def metrics(request: Request) -> Response:
            body, content_type = await metered.metrics()
            return Response(body, media_type=content_type)

        routes.append(Route(METRICS_PATH, metrics, methods=["GET"]))
    return routes


def hook_routes(bot: SlackBot) -> list[Route]:
    """``POST /hooks/alertmanager`` when the bot takes alerts, ``POST /hooks/pagerduty`` when it takes
    PagerDuty's events (:mod:`bot.inbound.alerts.hook`)."""
    if bot.alerts is None:
        return []
    config = bot.alerts.config
    routes = [alertmanager_route(bot.alerts, config.token, tasks=bot.tasks,
                                 max_body_bytes=config.max_body_bytes,
                                 answer_within=config.answer_within_seconds, hmac_secret=config.hmac_secret)
              ] if config.takes_alertmanager else []
    if bot.alerts.pagerduty is not None:
        routes.append(pagerduty_route(bot.alerts.pagerduty, config.pagerduty_secret, tasks=bot.tasks,
                                      max_body_bytes=config.max_body_bytes,
                                      answer_within=config.answer_within_seconds))
    return routes


def ops_app(bot: SlackBot, ops: Operations | None) -> Starlette:
    """Only the operator's routes (:func:`ops_routes`) and the hooks (:func:`hook_routes`):
    served beside Socket Mode, which has no HTTP server of its own."""
    return Starlette(routes=[*ops_routes(bot, ops), *hook_routes(bot)])


def asgi_app(bot: SlackBot, *, manage_bot: bool = True, ops: Operations | None = None) -> Starlette:
    """``POST /slack/events`` (events, slash commands, interactivity), ``GET /healthz``,
    ``GET /livez`` and, with ``ops``, ``GET /metrics`` (see :func:`ops_routes`); ``POST
    /hooks/alertmanager`` when the bot takes alerts (:func:`hook_routes`).

    With ``manage_bot`` the ASGI lifespan starts and stops the bot.
    """
    handler = AsyncSlackRequestHandler(bot.app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_bot:
            await bot.start()
        try:
            yield
        finally:
            if manage_bot:
                await bot.stop()

    return Starlette(routes=[Route(EVENTS_PATH, events, methods=["POST"]), *ops_routes(bot, ops),
                             *hook_routes(bot)], lifespan=lifespan)


async def serve_http(bot: SlackBot, *, host: str = "0.0.0.0", port: int = 3000,  # noqa: S104
                     ops: Operations | None = None) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both and runs the lifespan shutdown)."""
    try:
        await bot.identity()  # a refused token stops here, with a message saying so
    except Exception:
        await bot.stop()
        raise
    config = uvicorn.Config(asgi_app(bot, ops=ops), host=host, port=port, lifespan="on", log_config=None,
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


SOCKET_CHECK_SECONDS = 30.0


async def check_socket_mode(bot: SlackBot, app_token: str) -> None:
    """Open one Socket Mode connection and close it, or raise :class:`BotStartError` saying why.
    Once connecting, slack_sdk retries a refused token or an unreachable WebSocket for ever,
    logging a traceback each time: a start-up that cannot work stops here instead."""
    try:
        async with asyncio.timeout(SOCKET_CHECK_SECONDS):
            url = (await bot.client.apps_connections_open(app_token=app_token))["url"]
            async with aiohttp.ClientSession() as session, session.ws_connect(str(url), autoping=False):
                pass
    except SlackApiError as exc:
        raise BotStartError(
            f"Slack refused SLACK_APP_TOKEN ({error_code(exc)}): it must be an app-level token "
            "(xapp-…) with the connections:write scope, for an app with Socket Mode enabled.") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise BotStartError(f"cannot open a Socket Mode connection to Slack (SLACK_API_URL="
                            f"{bot.config.api_url}): {unreachable(exc)}") from None


async def serve_socket_mode(bot: SlackBot, app_token: str, *, stop: asyncio.Event | None = None) -> None:
    """Serve over Socket Mode until SIGINT/SIGTERM (or until ``stop`` is set)."""
    stop = stop or stop_on_signals()
    handler = AsyncSocketModeHandler(bot.app, app_token, web_client=bot.client)
    try:
        await bot.identity()
        await check_socket_mode(bot, app_token)
        await bot.start()
        await handler.connect_async()
        log.info("serving Slack over Socket Mode")
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await handler.close_async()
        await bot.stop()
