"""``POST /hooks/alertmanager``: Alertmanager's webhook, authenticated, size-capped, read strictly;
and ``POST /hooks/pagerduty``, PagerDuty's v3 webhooks, the same way (:func:`pagerduty_route`).

- Neither ``Authorization: Bearer <DAGBOT_ALERTS_TOKEN>`` (what stock Alertmanager sends) nor,
  with ``DAGBOT_ALERTS_HMAC_SECRET``, ``X-Dagbot-Signature: sha256=<hex HMAC-SHA256 of the body>``
  (what a signing proxy sends), each compared in constant time: 401, logged with the sender's
  address, never what it sent.
- A body over the cap: 413. Not Alertmanager's payload version 4: 400, saying what is wrong.
- No route takes the group: 202, logged, nothing posted.
- Otherwise :meth:`bot.inbound.alerts.desk.AlertDesk.handle` does the work in the background,
  and the answer waits for it (``answer_within`` seconds at most, then 202): 200 with what became
  of it; 503 while another delivery opens the group's thread, 502 when Slack refused its root
  message (Alertmanager retries both), 500 if it failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent.urgency import urgent
from bot.ground.background_tasks import TaskSet
from bot.inbound.alerts.desk import AlertDesk, Handled, Outcome
from bot.inbound.alerts.pagerduty import SIGNATURE_HEADER as PAGERDUTY_SIGNATURE
from bot.inbound.alerts.pagerduty import PagerDutyError, parse_event
from bot.inbound.alerts.pagerduty import signature_matches as pagerduty_signed
from bot.inbound.alerts.pagerduty_desk import PagerDutyDesk
from bot.inbound.alerts.payload import PayloadError, parse_notification

log = structlog.get_logger(__name__)

ALERTMANAGER_PATH = "/hooks/alertmanager"
PAGERDUTY_PATH = "/hooks/pagerduty"
SIGNATURE_HEADER = "x-dagbot-signature"
RETRY_LATER = {Outcome.BUSY: 503, Outcome.NOT_POSTED: 502}


class BodyTooLarge(Exception):
    pass


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Is the header ``Bearer <token>`` (the scheme in any case)? Constant time in the token."""
    scheme, _, given = (authorization or "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and matches


def body_signature(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of a body with the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(header: str | None, body: bytes, secret: str) -> bool:
    """Is the header ``sha256=<hex HMAC-SHA256 of the body with the secret>``? Constant time."""
    scheme, _, given = (header or "").strip().partition("=")
    matches = hmac.compare_digest(given.strip().lower().encode(), body_signature(secret, body).encode())
    return scheme.strip().lower() == "sha256" and matches


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


def _unauthorized(token: str, hmac_secret: str) -> JSONResponse:
    ways = (["Authorization: Bearer <the token in DAGBOT_ALERTS_TOKEN>"] if token else []) + (
        ["X-Dagbot-Signature: sha256=<hex HMAC-SHA256 of the body with DAGBOT_ALERTS_HMAC_SECRET>"]
        if hmac_secret else [])
    return JSONResponse({"ok": False, "error": "unauthorized: send " + " or ".join(ways)}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="dagbot"'} if token else {})


def alertmanager_route(desk: AlertDesk, token: str, *, tasks: TaskSet, max_body_bytes: int,
                       answer_within: float, hmac_secret: str = "") -> Route:
    """The hook; ``token`` and ``hmac_secret`` (either may be empty, not both): the ways in."""
    async def hook(request: Request) -> Response:
        client = request.client.host if request.client else None
        authorization, signature = request.headers.get("authorization"), request.headers.get(SIGNATURE_HEADER)
        bearer = bool(token) and bearer_token_matches(authorization, token)
        if not bearer and not (hmac_secret and signature is not None):
            log.warning("alert hook refused a request without the right bearer token", client=client,
                        authorization="absent" if authorization is None else "wrong",
                        signature="absent" if signature is None else "not checked")
            return _unauthorized(token, hmac_secret)
        try:
            body = await capped_body(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("alert hook refused a body over its limit", client=client, limit=max_body_bytes)
            return _answer(413, error=f"the body is larger than {max_body_bytes} bytes: set max_alerts in "
                                      "Alertmanager's webhook receiver")
        if not bearer and not signature_matches(signature, body, hmac_secret):
            log.warning("alert hook refused a request without the right signature", client=client,
                        authorization="absent" if authorization is None else "wrong", signature="wrong")
            return _unauthorized(token, hmac_secret)
        try:
            notification = parse_notification(body)
        except PayloadError as exc:
            log.warning("alert hook refused a malformed payload", client=client, error=str(exc))
            return _answer(400, error=str(exc))
        with urgent():  # Alertmanager waits for the answer: served before runs' work (agent.urgency)
            work = tasks.spawn(desk.handle(notification), name="alert-notification")
        return await handled_answer(work, answer_within)

    return Route(ALERTMANAGER_PATH, hook, methods=["POST"])


async def handled_answer(work: asyncio.Task[Handled], answer_within: float) -> Response:
    """The answer to a delivery whose work is under way: what became of it, if it is done within
    ``answer_within`` seconds (202 if not: it carries on)."""
    done, _ = await asyncio.wait({work}, timeout=answer_within)
    if not done:
        return _answer(202, outcome="accepted")
    if work.cancelled() or work.exception() is not None:  # (logged by the task set)
        return _answer(500, error="the delivery could not be handled; see dagbot's log")
    handled = work.result()
    if handled.outcome is Outcome.UNROUTED:
        return _answer(202, outcome=handled.outcome.value)
    status = RETRY_LATER.get(handled.outcome, 200)
    return _answer(status, outcome=handled.outcome.value, route=handled.route, thread=handled.thread,
                   **({"error": f"Slack refused the message ({handled.error})"} if handled.error else {}))


def pagerduty_route(desk: PagerDutyDesk, secret: str, *, tasks: TaskSet, max_body_bytes: int,
                    answer_within: float) -> Route:
    """``POST /hooks/pagerduty``: no ``X-PagerDuty-Signature``, or none of its ``v1=`` signatures
    the HMAC-SHA256 of the body with ``DAGBOT_PAGERDUTY_SECRET``: 401, logged without the body; a
    body over the cap: 413; not a v3 webhook event: 400; an event of no incident: 202, left alone."""
    async def hook(request: Request) -> Response:
        client = request.client.host if request.client else None
        signature = request.headers.get(PAGERDUTY_SIGNATURE)
        if signature is None:
            log.warning("PagerDuty hook refused an unsigned request", client=client)
            return _answer(401, error="unauthorized: PagerDuty signs its v3 webhooks in "
                                      "X-PagerDuty-Signature")
        try:
            body = await capped_body(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("PagerDuty hook refused a body over its limit", client=client, limit=max_body_bytes)
            return _answer(413, error=f"the body is larger than {max_body_bytes} bytes")
        if not pagerduty_signed(signature, body, secret):
            log.warning("PagerDuty hook refused a request without the right signature", client=client)
            return _answer(401, error="unauthorized: no signature in X-PagerDuty-Signature is the body's "
                                      "with the subscription's secret (DAGBOT_PAGERDUTY_SECRET)")
        try:
            event = parse_event(body)
        except PagerDutyError as exc:
            log.warning("PagerDuty hook refused a malformed payload", client=client, error=str(exc))
            return _answer(400, error=str(exc))
        if isinstance(event, str):
            log.info("PagerDuty event of no incident: left alone", event_type=event)
            return _answer(202, outcome="ignored", event_type=event)
        with urgent():  # PagerDuty waits for the answer, as Alertmanager does
            work = tasks.spawn(desk.handle(event), name="pagerduty-event")
        return await handled_answer(work, answer_within)

    return Route(PAGERDUTY_PATH, hook, methods=["POST"])
