"""The Web API's surfaces beyond messages: modals (``views.open``), the Home tab
(``views.publish``) and the assistant pane (``assistant.threads.*``).

A modal opens only with a fresh trigger id from a click or a command (once, within 3 seconds),
for the person who acted. A Home view is published for one person of the workspace. The
assistant pane's threads live in the app's DM with someone: a status set there is cleared when
the app replies in the thread, as Slack does. :attr:`~.workspace.Workspace.home_error` and
:attr:`~.workspace.Workspace.assistant_error` make those unavailable, as they are to an app
without the feature or the scope.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.blockkit import Refusal, view_refusal
from infra.emulators.slack.chat import Method
from infra.emulators.slack.workspace import Workspace


def open_view(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "views.open"
    trigger = str(args.get("trigger_id", ""))
    user, refusal = slack.use_trigger(trigger)
    if refusal is None:
        refusal = view_refusal(args.get("view"))
    if refusal:
        return slack.refuse(method, refusal)
    opened = slack.open_view(user, args["view"], trigger)
    return {"ok": True, "view": opened.view}


def publish_home(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "views.publish"
    if slack.home_error:
        return slack.refuse(method, Refusal(slack.home_error))
    user, view = str(args.get("user_id", "")), args.get("view")
    if user not in slack.users:
        return slack.refuse(method, Refusal("user_not_found"))
    refusal = view_refusal(view, "home")
    if refusal:
        return slack.refuse(method, refusal)
    assert isinstance(view, dict)
    published = dict(view, id=slack.next_id("V"))
    slack.homes.setdefault(user, []).append(published)
    slack.notify({"type": "home", "user": user, "view": published})
    return {"ok": True, "view": published}


def _assistant_thread(slack: Workspace, method: str, args: dict[str, Any],
                      *, valid: bool) -> tuple[str, str] | dict[str, Any]:
    """The DM thread a call names, or Slack's refusal of the call (``valid``: whether the
    call's own arguments are)."""
    if slack.assistant_error:
        return slack.refuse(method, Refusal(slack.assistant_error))
    channel, ts = str(args.get("channel_id", "")), str(args.get("thread_ts", ""))
    if channel not in slack.channels:
        return slack.refuse(method, Refusal("channel_not_found"))
    if not slack.channels[channel].im:
        return slack.refuse(method, Refusal("method_not_supported_for_channel_type"))
    if not slack.thread(channel, ts):
        return slack.refuse(method, Refusal("invalid_thread_ts"))
    if not valid:
        return slack.refuse(method, Refusal("invalid_arguments"))
    return channel, ts


def set_status(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    where = _assistant_thread(slack, "assistant.threads.setStatus", args, valid="status" in args)
    if isinstance(where, dict):
        return where
    slack.statuses.setdefault(where, []).append(str(args["status"]))
    return {"ok": True}


def set_title(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    where = _assistant_thread(slack, "assistant.threads.setTitle", args, valid=bool(args.get("title")))
    if isinstance(where, dict):
        return where
    slack.titles[where] = str(args["title"])
    return {"ok": True}


def set_suggested_prompts(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    prompts = args.get("prompts")
    valid = isinstance(prompts, list) and 1 <= len(prompts) <= 4 and all(
        isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts)
    where = _assistant_thread(slack, "assistant.threads.setSuggestedPrompts", args, valid=valid)
    if isinstance(where, dict):
        return where
    slack.prompts[where] = {"title": args.get("title"), "prompts": prompts}
    return {"ok": True}


METHODS: dict[str, Method] = {
    "views.open": open_view,
    "views.publish": publish_home,
    "assistant.threads.setStatus": set_status,
    "assistant.threads.setTitle": set_title,
    "assistant.threads.setSuggestedPrompts": set_suggested_prompts,
}
