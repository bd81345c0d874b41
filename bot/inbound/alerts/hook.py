"""``POST /hooks/alertmanager``: Alertmanager's webhook, authenticated, size-capped, read strictly.

- No ``Authorization: Bearer <DAGBOT_ALERTS_TOKEN>`` (compared in constant time): 401, logged
  (with the sender's address, never what it sent).
- A body over the cap: 413. Not Alertmanager's payload version 4: 400, saying what is wrong.
- No route takes the group: 202, logged, nothing posted.
- Otherwise :meth:`bot.inbound.alerts.desk.AlertDesk.handle` does the work in the background,
  and the answer waits for it (``answer_within`` seconds at most, then 202): 200 with what became
  of it; 503 while another delivery opens the group's thread, 502 when Slack refused its root
  message (Alertmanager retries both), 500 if it failed.
"""

from __future__ import annotations

import asyncio
import hmac

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.ground.background_tasks import TaskSet
from bot.inbound.alerts.desk import AlertDesk, Handled, Outcome
from bot.inbound.alerts.payload import PayloadError, parse_notification

log = structlog.get_logger(__name__)

ALERTMANAGER_PATH = "/hooks/alertmanager"
RETRY_LATER = {Outcome.BUSY: 503, Outcome.NOT_POSTED: 502}


class BodyTooLarge(Exception):
    pass


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Is the header ``Bearer <token>`` (the scheme in any case)? Constant time in the token."""
    scheme, _, given = (authorization or "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and matches


async def capped_body(request: Request, limit: int) -> bytes:
    """The request's body, or :class:`BodyTooLarge` as soon as it is over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _answer(status: int, **body: object) -> JSONResponse:
    return JSONResponse({"ok": status < 400, **body}, status_code=status)


def alertmanager_route(desk: AlertDesk, token: str, *, tasks: TaskSet, max_body_bytes: int,
                       answer_within: float) -> Route:
    async def hook(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not bearer_token_matches(request.headers.get("authorization"), token):
            log.warning("alert hook refused a request without the right bearer token", client=client,
                        authorization="absent" if "authorization" not in request.headers else "wrong")
            return JSONResponse({"ok": False, "error": "unauthorized: send Authorization: Bearer <the "
                                 "token in DAGBOT_ALERTS_TOKEN>"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="dagbot"'})
        try:
            body = await capped_body(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("alert hook refused a body over its limit", client=client, limit=max_body_bytes)
            return _answer(413, error=f"the body is larger than {max_body_bytes} bytes: set max_alerts in "
                                      "Alertmanager's webhook receiver")
        try:
            notification = parse_notification(body)
        except PayloadError as exc:
            log.warning("alert hook refused a malformed payload", client=client, error=str(exc))
            return _answer(400, error=str(exc))
        work = tasks.spawn(desk.handle(notification), name="alert-notification")
        done, _ = await asyncio.wait({work}, timeout=answer_within)
        if not done:
            return _answer(202, outcome="accepted")
        if work.cancelled() or work.exception() is not None:  # (logged by the task set)
            return _answer(500, error="the notification could not be handled; see dagbot's log")
        handled: Handled = work.result()
        if handled.outcome is Outcome.UNROUTED:
            return _answer(202, outcome=handled.outcome.value)
        status = RETRY_LATER.get(handled.outcome, 200)
        return _answer(status, outcome=handled.outcome.value, route=handled.route, thread=handled.thread,
                       **({"error": f"Slack refused the message ({handled.error})"} if handled.error else {}))

    return Route(ALERTMANAGER_PATH, hook, methods=["POST"])
