"""The playground's HTTP surface: the emulated Slack for the bot, and the page for people.

    /api/{method}      Slack's Web API (the bot's SLACK_API_URL points here), and
    /hooks/{key}       response_url targets of slash commands and clicks: the emulator's routes
    /                  the page (static files under /static)
    /ui/state          everything the page shows, as JSON
    /ui/events         the same, live: server-sent events
    /ui/send, /ui/action, /ui/view_submit, /ui/view_close, /ui/stop, /ui/home, /ui/rate_limit
                       what a person does on the page, turned into what Slack would send
    /ui/alert          the test alert fired or resolved (:mod:`infra.playground.alerts`)
    /ui/schedules      the schedules and the threads their firings opened, as JSON
    /hooks/alertmanager
                       passed on to the bot's alert hook, for an Alertmanager (or curl) of your own

Only the page itself may act (a web page the developer visits must not post ``/agent …`` as a
playground user or click Approve): every request must name a host the playground listens as
(127.0.0.1, localhost, the host it was started on: Starlette's TrustedHostMiddleware, against
DNS rebinding); a browser's POST must come from the page's own origin (its ``Origin`` and
``Sec-Fetch-Site`` headers, when sent); and what the page posts is JSON, which a cross-site
page cannot send without a CORS preflight this server never grants.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.inbound.alerts.hook import ALERTMANAGER_PATH, SIGNATURE_HEADER, BodyTooLarge, capped_body
from infra.playground.alerts import TestAlert
from infra.playground.delivery import SlackDelivery
from infra.playground.feed import Feed
from infra.playground.standin import PlaygroundSlack

STATIC = Path(__file__).resolve().parent / "static"
START_WAIT_SECONDS = 60.0
MAX_TYPED_CHARS = 40_000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names of "every interface", not a bind
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of the page's own requests (``none``: typed in the address bar)."""


def typed_value(value: Any) -> str | list[str]:
    """What the page sends for one input: its text or chosen option's value, or the values of
    the boxes ticked."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return "" if value is None else str(value)


def slack_escape(text: str) -> str:
    """What Slack does to text a person types: &, < and > become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PlaygroundWeb:
    def __init__(self, slack: PlaygroundSlack, delivery: SlackDelivery, feed: Feed, *, command: str,
                 extras: Callable[[], dict[str, Any]], host: str = "127.0.0.1") -> None:
        """The page follows ``slack``'s changes through ``feed`` (one of the workspace's watchers)."""
        self.slack = slack
        slack.watchers.append(feed.publish)
        self.hosts = trusted_hosts(host)
        """The names the page may be reached by (the ``Host`` of every request)."""
        self.delivery = delivery
        self.feed = feed
        self.command = command
        self.extras = extras
        """More of the page's state: the model, example requests, mail sink, demo workspace."""
        self.alerts: TestAlert | None = None
        """The test alert, when the bot takes Alertmanager's notifications."""
        self.schedules: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None
        """The schedules the page shows (:func:`infra.playground.schedules.schedules_shown`)."""
        self.ready = asyncio.Event()
        """Set once the bot listens: until then the page's requests wait (the emulated Web API
        must answer before, since the bot asks it who it is while starting)."""
        self._mention = re.compile(rf"(?<![\w<])@{re.escape(slack.bot_name)}\b", re.IGNORECASE)

    def asgi(self) -> Starlette:
        return Starlette(middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=self.hosts, www_redirect=False),
            Middleware(_SameOrigin), Middleware(_WaitForBot, web=self),
        ], routes=[
            Route(ALERTMANAGER_PATH, self.alert_hook, methods=["POST"]),  # (before the emulator's /hooks/…)
            *self.slack.routes(),
            Route("/", self.page, methods=["GET"]),
            Route("/ui/state", self.state, methods=["GET"]),
            Route("/ui/events", self.events, methods=["GET"]),
            Route("/ui/send", self.send, methods=["POST"]),
            Route("/ui/action", self.action, methods=["POST"]),
            Route("/ui/view_submit", self.view_submit, methods=["POST"]),
            Route("/ui/view_close", self.view_close, methods=["POST"]),
            Route("/ui/stop", self.stop, methods=["POST"]),
            Route("/ui/home", self.home_opened, methods=["POST"]),
            Route("/ui/rate_limit", self.rate_limit, methods=["POST"]),
            Route("/ui/alert", self.alert, methods=["POST"]),
            Route("/ui/schedules", self.schedule_list, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ])

    # ---------------------------------------------------------- for the page

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def state(self, request: Request) -> Response:
        # the events up to ``seq`` are in it; the page replays later ones it already received
        return JSONResponse({**self.slack.snapshot(), **self.extras(), "seq": self.feed.seq})

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[dict[str, str]]:
            async for event in self.feed.subscribe():
                yield {"data": json.dumps(event)}

        return EventSourceResponse(stream(), ping=15)

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    def _person(self, body: dict[str, Any]) -> str | None:
        user = str(body.get("user", ""))
        return user if self.slack.is_person(user) else None

    async def send(self, request: Request) -> Response:
        body = await self._body(request)
        user, channel = self._person(body), str(body.get("channel", ""))
        text = str(body.get("text", "")).strip()
        thread_ts = body.get("thread_ts") or None
        if user is None or channel not in self.slack.channels:
            return _error("Pick a user and a channel first.")
        if (members := self.slack.channels[channel].members) is not None and user not in members:
            return _error(f"That is someone else's conversation with {self.slack.bot_name}.")
        if not text:
            return _error("Type a message first.")
        if len(text) > MAX_TYPED_CHARS:
            return _error("That message is longer than Slack's 40,000 characters.")
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if thread_ts:
                return _error("Slash commands don't start work inside threads: mention "
                              f"@{self.slack.bot_name} or just reply here.")
            if command != self.command:
                self.slack.post_ephemeral(channel, user, f"{command} is not a valid command. "
                                            f"This app answers {self.command}.")
                return JSONResponse({"ok": True})
            await self.delivery.slash_command(user, channel, command, slack_escape(rest.strip()))
            return JSONResponse({"ok": True})
        if thread_ts and self.slack.message(channel, thread_ts) is None:
            return _error("That thread is gone.")
        typed = self._mention.sub(f"<@{self.slack.bot_user}>", slack_escape(text))
        message = self.slack.post_as_user(channel, user, typed, thread_ts)
        await self.delivery.user_message(message)
        return JSONResponse({"ok": True})

    async def home_opened(self, request: Request) -> Response:
        """The person opens the app's Home tab: Slack tells the app, which publishes it."""
        user = self._person(await self._body(request))
        if user is None:
            return _error("Pick a user first.")
        delivered = await self.delivery.home_opened(user)
        return JSONResponse({"ok": delivered.ok})

    async def action(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._person(body)
        if body.get("view_id"):
            return await self._view_action(user, body)
        message = self.slack.message(str(body.get("channel", "")), str(body.get("ts", "")))
        if user is None or message is None:
            return _error("That message is gone.")
        element = _find_element(message.blocks, str(body.get("action_id", "")), str(body.get("block_id", "")))
        if element is None:
            return _error("That button is no longer on the message.")
        action = {"type": element.get("type", "button"), "action_id": element["action_id"],
                  "block_id": str(body.get("block_id", "")), "text": element.get("text"),
                  "value": element.get("value", "")}
        if element.get("type") == "feedback_buttons":  # the side clicked gives the value, as in Slack
            sides = [element.get(s) for s in ("positive_button", "negative_button")]
            chosen = body.get("value")
            side = next((b for b in sides if isinstance(b, dict) and b.get("value") == chosen), None)
            if side is None:
                return _error("That button is no longer on the message.")
            action.update(text=side.get("text"), value=side["value"])
        delivered = await self.delivery.click(user, message, action)
        return JSONResponse({"ok": delivered.ok})

    async def _view_action(self, user: str | None, body: dict[str, Any]) -> Response:
        """A click on a button of the person's Home tab (a view published for them)."""
        published = self.slack.homes.get(user, []) if user else []
        home = next((v for v in reversed(published) if v.get("id") == body.get("view_id")), None)
        if user is None or home is None:
            return _error("That view is gone.")
        block_id = str(body.get("block_id", ""))
        element = _find_element(home.get("blocks", []), str(body.get("action_id", "")), block_id)
        if element is None:
            return _error("That button is no longer there.")
        delivered = await self.delivery.click_in_view(user, home, {**element, "block_id": block_id})
        return JSONResponse({"ok": delivered.ok})

    async def view_submit(self, request: Request) -> Response:
        body = await self._body(request)
        view = self.slack.modals.get(str(body.get("view_id", "")))
        user = self._person(body)
        if view is None or user != view.user:
            return _error("That dialog is closed.")
        values = body.get("values")
        values = values if isinstance(values, dict) else {}
        delivered = await self.delivery.submit_view(user, view.view, {
            str(block): {str(k): typed_value(v) for k, v in actions.items()}
            for block, actions in values.items() if isinstance(actions, dict)})
        if not delivered.ok:
            return _error("We had some trouble connecting to dagbot. Try again?")
        answer = delivered.body or {}
        if answer.get("response_action") == "errors":
            return JSONResponse({"ok": False, "errors": answer.get("errors", {})})
        if answer.get("response_action") == "update" and isinstance(answer.get("view"), dict):
            self.slack.replace_view(view.id, answer["view"])
        else:
            self.slack.close_view(view.id)
        return JSONResponse({"ok": True})

    async def view_close(self, request: Request) -> Response:
        body = await self._body(request)
        view = self.slack.modals.get(str(body.get("view_id", "")))
        user = self._person(body)
        if view is None or user != view.user:
            return JSONResponse({"ok": True})
        self.slack.close_view(view.id)
        if view.view.get("notify_on_close"):
            await self.delivery.close_view(user, view.view)
        return JSONResponse({"ok": True})

    async def stop(self, request: Request) -> Response:
        """Slack's stop button, shown on an agent session while it is ``processing``."""
        body = await self._body(request)
        user, where = self._person(body), (str(body.get("channel", "")), str(body.get("thread_ts", "")))
        session = self.slack.sessions.get(where)
        if user is None or session is None:
            return _error("That conversation has no agent session.")
        if session.status != "processing":
            return _error(f"{self.slack.bot_name} is not working on it any more: there is nothing to stop.")
        delivered = await self.delivery.stop_session(user, *where)
        return JSONResponse({"ok": delivered.ok})

    async def rate_limit(self, request: Request) -> Response:
        body = await self._body(request)
        self.slack.set_rate_limit(bool(body.get("on")))
        return JSONResponse({"ok": True, "rate_limit": self.slack.rate_limit.state()})

    async def alert(self, request: Request) -> Response:
        """The page's test alert: ``{"action": "fire"}`` or ``{"action": "resolve"}``."""
        if self.alerts is None or not self.alerts.available:
            return _error("The alert hook is off: DAGBOT_ALERTS_FILE is set without an Alertmanager token "
                          "or signing secret.")
        action = (await self._body(request)).get("action")
        if action not in ("fire", "resolve"):
            return _error("Say fire or resolve.")
        answer = await (self.alerts.fire() if action == "fire" else self.alerts.resolve())
        self.feed.publish({"type": "alerts", "alerts": self.alerts.state()})
        return JSONResponse({**answer, "ok": answer["status"] in (200, 202)})

    async def alert_hook(self, request: Request) -> Response:
        """``POST /hooks/alertmanager`` on the playground's port: passed on to the bot's hook as it came
        (its authorization too), and the bot's answer back."""
        if self.alerts is None or not self.alerts.hook_url:
            return JSONResponse({"ok": False, "error": "the alert hook is off"}, status_code=404)
        try:
            body = await capped_body(request, self.alerts.config.max_body_bytes)
        except BodyTooLarge:
            return JSONResponse({"ok": False, "error": "the body is too large"}, status_code=413)
        headers = {k: v for k in ("authorization", SIGNATURE_HEADER, "content-type")
                   if (v := request.headers.get(k)) is not None}
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(self.alerts.hook_url, content=body, headers=headers)
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type"))

    async def schedule_list(self, request: Request) -> Response:
        return JSONResponse({"schedules": await self.schedules() if self.schedules else []})


def trusted_hosts(host: str) -> list[str]:
    """The loopback names and the host the playground listens on; listening on every
    interface (0.0.0.0), this machine's names and addresses instead."""
    hosts = {*LOOPBACK_HOSTS, host}
    if host in WILDCARD_HOSTS:
        hosts.discard(host)
        with contextlib.suppress(OSError):
            name = socket.gethostname()
            hosts |= {name, socket.getfqdn()}
            hosts |= {str(info[4][0]) for info in socket.getaddrinfo(name, None, socket.AF_INET)}
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outward address
            hosts.add(str(probe.getsockname()[0]))
    return sorted(h.lower() for h in hosts if h)


class _SameOrigin:
    """Refuses what a browser sends from another site. A POST whose ``Origin`` is not this
    server's own origin (as its trusted ``Host`` names it), or whose ``Sec-Fetch-Site`` says
    another site sent it, gets 403; one to the page's endpoints (/ui/*) that is not JSON gets
    415. Requests without those headers come from programs (the bot, tests, a benchmark), not
    from a page, and go through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refusal = _cross_site(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_site(scope: Scope) -> Response | None:
    headers = Headers(scope=scope)
    own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
    origin = headers.get("origin")
    if origin is not None and origin.lower() != own:
        return _refused(403, f"this request comes from another site ({origin}); the playground takes "
                             f"requests only from its own page at {own}.")
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in SAME_SITE_FETCHES:
        return _refused(403, f"the browser says another site sent this request (Sec-Fetch-Site: {site}); "
                             "the playground takes requests only from its own page.")
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if scope["path"].startswith("/ui/") and media_type != "application/json":
        return _refused(415, "the playground's page sends JSON (Content-Type: application/json), "
                             "and this request does not.")
    return None


def _refused(status: int, why: str) -> Response:
    return JSONResponse({"ok": False, "error": f"Refused: {why}"}, status_code=status)


class _WaitForBot:
    """Holds the page's requests (/ui/*) until the bot listens, so nothing typed is lost."""

    def __init__(self, app: ASGIApp, web: PlaygroundWeb) -> None:
        self.app, self.web = app, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/ui/") and not self.web.ready.is_set():
            try:
                await asyncio.wait_for(self.web.ready.wait(), START_WAIT_SECONDS)
            except TimeoutError:
                await JSONResponse({"ok": False, "error": "dagbot is still starting"}, status_code=503)(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error(text: str) -> Response:
    return JSONResponse({"ok": False, "error": text})


def _find_element(blocks: list[dict[str, Any]], action_id: str, block_id: str) -> dict[str, Any] | None:
    for block in blocks:
        if block_id and block.get("block_id", "") != block_id:
            continue
        interactive = block.get("type") in ("actions", "context_actions")
        candidates = list(block.get("elements", [])) if interactive else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None
