"""Bolt listeners: hand the work to a background task, and answer Slack once it is safe.

Bolt sends the HTTP response (or the Socket Mode ack) when a listener returns. A listener
that records something (a request, a decision, a cancel) spawns that work and returns once
it is recorded, or after ``BotConfig.durable_ack_seconds`` at most, well inside Slack's 3
seconds: Slack does not resend what was acknowledged, so a replica that dies right after
answering must not take the request with it. Runs never happen on the request path.
A message event that is not recorded in time, or whose claim another delivery holds without
having queued it, is answered 503, so that Slack retries it (see ``bot.inbound.intake``).
Catch-all listeners answer every other event, action and view with 200, so no request gets
a 404.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from agent.engine.engine import Engine
from agent.ports.stores import ApprovalStore
from bot.access.access import AccessDirectory, is_direct
from bot.config import BotConfig
from bot.ground.action_ids import (
    APPROVE_ACTION,
    APPROVE_ALL_ACTION,
    APPROVE_FOR_THREAD_ACTION,
    CANCEL_ACTION,
    CANCEL_SCHEDULE_ACTION,
    EDIT_ACTION,
    EDIT_CALLBACK,
    FEEDBACK_ACTION,
    REJECT_ACTION,
    REJECT_CALLBACK,
    REVOKE_ACTION,
)
from bot.ground.background_tasks import TaskSet
from bot.ground.schedule_spec import is_schedule_command
from bot.inbound.agent_stop import SessionStop
from bot.inbound.app_context import AppContexts
from bot.inbound.approval_shortcuts import ApprovalShortcuts
from bot.inbound.commands import SlashCommands
from bot.inbound.feedback import FeedbackDesk
from bot.inbound.intake import Delivery, Intake, fresh_request_key
from bot.inbound.interactions import Interactions
from bot.inbound.schedules.desk import ScheduleDesk
from bot.outbound.assistant import AssistantPane
from bot.outbound.home import AppHome
from bot.outbound.status_report import status_report
from bot.store import SlashCommand, StatusReportStore
from bot.views import wording as say
from bot.views.approval_view import seen_edits
from bot.views.reply_view import Reply, help_reply

ANYTHING = re.compile(".*")


@dataclass(frozen=True)
class Handlers:
    """What the listeners hand Slack's requests to: each does its part in the background
    (``tasks``), and the listener answers Slack once it is recorded."""

    config: BotConfig
    tasks: TaskSet
    commands: SlashCommands
    """``/agent <request>``."""
    intake: Intake
    """Requests in messages: mentions, DMs, follow-ups."""
    interactions: Interactions
    """Clicks and dialogs: approve, reject, edit, cancel."""
    session_stop: SessionStop
    """Slack's stop button on an agent session: the thread's run is cancelled."""
    contexts: AppContexts
    """What people look at beside their agent conversation (``app_context_changed``)."""
    pane: AssistantPane
    home: AppHome
    feedback: FeedbackDesk
    engine: Engine
    approvals: ApprovalStore
    store: StatusReportStore
    directory: AccessDirectory
    """The last four: for ``/agent status``."""
    shortcuts: ApprovalShortcuts
    """Approve for this thread, Approve all, and Revoke (a standing approval, in App Home)."""
    schedules: ScheduleDesk | None = None
    """``/agent every …``, ``/agent schedules`` and their Cancel; None: schedules are off."""


def _where(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Channel, clicked message ts and its thread ts of a block action."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    message = body.get("message") or {}
    ts = message.get("ts") or (body.get("container") or {}).get("message_ts")
    return channel, ts, message.get("thread_ts") or ts


def _from_home(body: dict[str, Any]) -> bool:
    """The click was in the App Home tab (a view), not on a message."""
    return (body.get("view") or {}).get("type") == "home"


def _clicker(bot: Handlers, body: dict[str, Any]) -> str:
    """Who clicked; a click in the App Home tab also tells the Home they have it in view."""
    user = str(body["user"]["id"])
    if _from_home(body):
        bot.home.clicked(user)
    return user


class ApprovalClick(Protocol):
    """Approve, or Approve for this thread: who, which approval, where, the edits they saw."""

    def __call__(self, user: str, approval_id: str, channel: str, thread_ts: str | None,
                 edits: int | None) -> Coroutine[Any, Any, None]: ...


async def _approval_click(bot: Handlers, body: dict[str, Any], action: dict[str, Any],
                          decide: ApprovalClick, *, name: str) -> None:
    """Decide in the background; answer Slack once recorded; refresh a Home it was clicked in."""
    channel, _, thread_ts = _where(body)
    user = _clicker(bot, body)
    work = bot.tasks.spawn(decide(user, action["value"], channel, thread_ts,
                                  seen_edits(action.get("block_id", ""))), name=name)
    await _recorded(bot, work)
    if _from_home(body):
        work.add_done_callback(lambda _: bot.tasks.spawn(bot.home.publish(user), name="home"))


def register(app: AsyncApp, bot: Handlers) -> None:
    command = bot.config.command

    @app.command(command)
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = str(command.get("text") or "").strip()
        word = text.lower()
        if word in ("", "help"):
            usage = help_reply(bot.config.command)
            await ack(text=usage.text, blocks=usage.blocks, response_type="ephemeral")
            return
        await ack()
        user = command["user_id"]
        if word == "status":
            bot.tasks.spawn(_status(user, respond), name="status")
            return
        if bot.schedules is not None and (word == "schedules" or is_schedule_command(text)):
            bot.tasks.spawn(_schedules(bot.schedules, command, text, respond), name="schedules")
            return

        recorded = asyncio.Event()
        request = SlashCommand(
            key=fresh_request_key(), team=command.get("team_id", ""), channel=command["channel_id"],
            user=user, text=text, received_at=bot.commands.clock(), channel_name=command.get("channel_name"),
            response_url=command.get("response_url"))
        await _recorded(bot, bot.tasks.spawn(bot.commands.take(request, recorded.set), name="command"),
                        until=recorded)

    async def _status(user: str, respond: AsyncRespond) -> None:
        report = await status_report(user, engine=bot.engine, approvals=bot.approvals, store=bot.store,
                                     directory=bot.directory)
        await respond(text=report.text, blocks=report.blocks, response_type="ephemeral")

    async def _schedules(desk: ScheduleDesk, command: dict[str, Any], text: str,
                         respond: AsyncRespond) -> None:
        async def tell(reply: Reply) -> None:
            await respond(text=reply.text, blocks=reply.blocks or None, response_type="ephemeral")

        channel, user = command["channel_id"], command["user_id"]
        if text.lower() == "schedules":
            await tell(await desk.listing(channel=channel, user=user))
            return
        await desk.create(team=command.get("team_id", ""), channel=channel, user=user, text=text, tell=tell,
                          direct=is_direct(channel, channel_name=command.get("channel_name")))

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> BoltResponse | None:
        return await _delivered(bot, bot.tasks.spawn(bot.intake.from_event(
            _team(body, event), event, context.bot_user_id, mentioned=True), name="mention"))

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> BoltResponse | None:
        return await _delivered(bot, bot.tasks.spawn(bot.intake.from_event(
            _team(body, event), event, context.bot_user_id, mentioned=False), name="message"))

    @app.event("assistant_thread_started")
    async def on_assistant_thread(body: dict[str, Any], event: dict[str, Any]) -> None:
        await _recorded(bot, bot.tasks.spawn(bot.pane.thread_started(_team(body, event), event),
                                             name="assistant-thread"))

    @app.event("assistant_thread_context_changed")
    async def on_assistant_context(body: dict[str, Any], event: dict[str, Any]) -> None:
        await _recorded(bot, bot.tasks.spawn(bot.pane.context_changed(_team(body, event), event),
                                             name="assistant-context"))

    @app.event("agent_session_stopped")
    async def on_session_stopped(body: dict[str, Any], event: dict[str, Any]) -> None:
        await _recorded(bot, bot.tasks.spawn(bot.session_stop.stopped(_team(body, event), event),
                                             name="agent-session-stopped"))

    @app.event("app_context_changed")
    async def on_app_context(body: dict[str, Any], event: dict[str, Any]) -> None:
        bot.contexts.changed(_team(body, event), body, event)

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            bot.tasks.spawn(bot.home.opened(event["user"]), name="home")

    @app.action(FEEDBACK_ACTION)
    async def on_feedback(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel, ts, thread_ts = _where(body)
        await _recorded(bot, bot.tasks.spawn(bot.feedback.record(
            body["user"]["id"], str(action.get("value") or ""), channel, ts, thread_ts), name="feedback"))

    @app.action(APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _approval_click(bot, body, action, bot.interactions.approve, name="approve")

    @app.action(APPROVE_FOR_THREAD_ACTION)
    async def on_approve_for_thread(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _approval_click(bot, body, action, bot.shortcuts.approve_for_thread, name="approve-for-thread")

    @app.action(APPROVE_ALL_ACTION)
    async def on_approve_all(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel, ts, thread_ts = _where(body)
        user = body["user"]["id"]
        await _recorded(bot, bot.tasks.spawn(
            bot.shortcuts.approve_all(user, action["value"], channel, ts, thread_ts), name="approve-all"))

    @app.action(REVOKE_ACTION)
    async def on_revoke(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = _clicker(bot, body)
        work = bot.tasks.spawn(bot.shortcuts.revoke(user, str(action.get("value") or "")), name="revoke")
        await _recorded(bot, work)
        work.add_done_callback(lambda _: bot.tasks.spawn(bot.home.publish(user), name="home"))

    @app.action(REJECT_ACTION)
    async def on_reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel, _, thread_ts = _where(body)
        bot.tasks.spawn(bot.interactions.open_reject(_clicker(bot, body), action["value"],
                                                     body["trigger_id"], channel, thread_ts), name="reject")

    @app.view(REJECT_CALLBACK)
    async def on_reject_reason(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()
        user = body["user"]["id"]
        work = bot.tasks.spawn(bot.interactions.submit_reject(user, view), name="reject-reason")
        await _recorded(bot, work)
        # (a Home tab in view shows the decision)
        work.add_done_callback(lambda _: bot.home.refresh_if_viewing(user))

    @app.action(EDIT_ACTION)
    async def on_edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel, _, thread_ts = _where(body)
        bot.tasks.spawn(bot.interactions.open_edit(_clicker(bot, body), action["value"],
                                                   body["trigger_id"], channel, thread_ts), name="edit")

    @app.view(EDIT_CALLBACK)
    async def on_edited(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        # Problems with the arguments go back in the answer, shown beside their fields.
        answered = asyncio.Event()
        work = bot.tasks.spawn(bot.interactions.submit_edit(body["user"]["id"], view, answered),
                               name="edit-submit")
        await _recorded(bot, work)
        errors = work.result() if work.done() and not work.cancelled() and not work.exception() else {}
        answered.set()
        if errors:
            await ack(response_action="errors", errors=errors)
        else:
            await ack()

    @app.action(CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel, ts, thread_ts = _where(body)
        user = body["user"]["id"]
        await _recorded(bot, bot.tasks.spawn(
            bot.interactions.cancel(user, action["value"], channel, ts, thread_ts), name="cancel"))

    @app.action(CANCEL_SCHEDULE_ACTION)
    async def on_cancel_schedule(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if bot.schedules is None:
            return
        channel, _, _ = _where(body)
        user = _clicker(bot, body)
        work = bot.tasks.spawn(bot.schedules.cancel(schedule_id=str(action.get("value") or ""), user=user,
                                                    channel=None if _from_home(body) else channel),
                               name="cancel-schedule")
        await _recorded(bot, work)
        if _from_home(body):
            work.add_done_callback(lambda _: bot.tasks.spawn(bot.home.publish(user), name="home"))

    # Everything else still gets a 200 (registered last, so they only see what nothing above took).
    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    app.event(ANYTHING)(acknowledge)
    app.action(ANYTHING)(acknowledge)
    app.view(ANYTHING)(acknowledge)
    app.view_closed(ANYTHING)(acknowledge)
    app.command(ANYTHING)(_unknown_command(command))
    app.shortcut(ANYTHING)(acknowledge)
    app.options(ANYTHING)(_no_options)


async def _recorded(bot: Handlers, work: asyncio.Task[Any], *, until: asyncio.Event | None = None) -> None:
    """Return (so Bolt answers Slack) once the work is done (or has set ``until``: recorded
    what the rest of it needs), or after the configured wait."""
    if until is None:
        await asyncio.wait({work}, timeout=bot.config.durable_ack_seconds)
        return
    said = asyncio.ensure_future(until.wait())
    try:
        await asyncio.wait({work, said}, timeout=bot.config.durable_ack_seconds,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        said.cancel()


async def _delivered(bot: Handlers, work: asyncio.Task[Delivery]) -> BoltResponse | None:
    """As :func:`_recorded`, but a message event is only answered 200 once it is recorded (or
    found to be a duplicate, or not for the bot). Otherwise (not recorded in time, or claimed
    by a delivery that has not queued it, whose process may have died) the answer is 503, so
    that Slack delivers it again: the claim makes a second delivery harmless."""
    await _recorded(bot, work)
    if work.done() and not work.cancelled() and work.exception() is None \
            and work.result() is not Delivery.UNSETTLED:
        return None
    return BoltResponse(status=503, body="not recorded yet: please retry")


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")


def _unknown_command(command: str) -> Any:
    async def unknown(ack: AsyncAck) -> None:
        await ack(text=say.help_text(command), response_type="ephemeral")

    return unknown


async def _no_options(ack: AsyncAck) -> None:
    await ack(options=[])
