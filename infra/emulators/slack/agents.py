"""The Web API's agent sessions (``agents.sessions.setStatus``, ``agents.sessions.rename``).

A session belongs to one thread (its channel and root ``ts``): the first ``setStatus`` of a
thread makes it, with the call's ``title`` (up to 200 characters); later calls change its
status and ignore ``title``, which only ``rename`` changes, as Slack does. Slack refuses a
status other than ``active``, ``processing``, ``suspended`` or ``closed``, a call without its
channel or thread, a conversation it does not know and a thread that does not exist; ``rename``
also refuses a thread without a session (Slack's docs name no error code for that one: this
one is the emulator's). The status does not change by itself: a reply in the thread, or the
stop button (:meth:`.driver.SlackDriver.stop_session`), leaves it as the app set it. A
``chat.stopStream`` in a thread that has a session sets it too (:func:`stream_stopped`): to the
call's ``session_status``, or ``active`` when the call gives none, as Slack's reference says.
:attr:`~.workspace.Workspace.session_error` refuses every call, as Slack refuses an app that
is not declared an agent.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.blockkit import Refusal
from infra.emulators.slack.chat import Method
from infra.emulators.slack.workspace import AgentSession, Workspace

STATUSES = frozenset({"active", "processing", "suspended", "closed"})
TITLE_CHARS = 200


def _thread(slack: Workspace, method: str, args: dict[str, Any]) -> tuple[str, str] | dict[str, Any]:
    """The thread a call names, or Slack's refusal of the call."""
    if slack.session_error:
        return slack.refuse(method, Refusal(slack.session_error))
    channel, ts = str(args.get("channel_id") or ""), str(args.get("thread_ts") or "")
    if not channel or not ts:
        missing = f"[ERROR] missing required field: {'channel_id' if not channel else 'thread_ts'}"
        return slack.refuse(method, Refusal("invalid_arguments", (missing,)))
    if channel not in slack.channels:
        return slack.refuse(method, Refusal("channel_not_found"))
    if not slack.thread(channel, ts):
        return slack.refuse(method, Refusal("invalid_thread_ts"))
    return channel, ts


def _title(value: Any) -> str | Refusal:
    title = str(value or "")
    if len(title) > TITLE_CHARS:
        return Refusal("invalid_arguments", (f"[ERROR] title must be at most {TITLE_CHARS} characters",))
    return title


def set_status(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "agents.sessions.setStatus"
    status = str(args.get("status") or "")
    if status not in STATUSES:
        return slack.refuse(method, Refusal("invalid_arguments", (f"[ERROR] invalid status: {status!r}",)))
    where = _thread(slack, method, args)
    if isinstance(where, dict):
        return where
    title = _title(args.get("title"))
    if isinstance(title, Refusal):
        return slack.refuse(method, title)
    session = slack.sessions.get(where)
    if session is None:
        session = slack.sessions[where] = AgentSession(*where, status=status, title=title)
    session.status = status
    session.statuses.append(status)
    slack.notify({"type": "agent_session", "session": session.as_json()})
    return {"ok": True, "status": session.status, "title": session.title}


def session_status_refusal(args: dict[str, Any]) -> Refusal | None:
    """``chat.stopStream``'s ``session_status``, if given, is one of the statuses."""
    status = args.get("session_status")
    if status is None or status in STATUSES:
        return None
    return Refusal("invalid_arguments", (f"[ERROR] invalid session_status: {status!r}",))


def stream_stopped(slack: Workspace, channel: str, thread_ts: str | None, args: dict[str, Any]) -> None:
    """A stream in the thread was stopped: its session (if it has one) takes the call's
    ``session_status``, ``active`` by default."""
    session = slack.sessions.get((channel, thread_ts or ""))
    if session is None:
        return
    status = str(args.get("session_status") or "active")
    session.status = status
    session.statuses.append(status)
    slack.notify({"type": "agent_session", "session": session.as_json()})


def rename(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "agents.sessions.rename"
    where = _thread(slack, method, args)
    if isinstance(where, dict):
        return where
    title = _title(args.get("title"))
    if isinstance(title, Refusal) or not title:
        return slack.refuse(method, title if isinstance(title, Refusal) else Refusal("invalid_arguments"))
    session = slack.sessions.get(where)
    if session is None:
        return slack.refuse(method, Refusal("session_not_found"))
    session.title = title
    slack.notify({"type": "agent_session", "session": session.as_json()})
    return {"ok": True, "title": session.title}


METHODS: dict[str, Method] = {
    "agents.sessions.setStatus": set_status,
    "agents.sessions.rename": rename,
}
