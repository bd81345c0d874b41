"""The Web API's look-ups: who the app is (``auth.test``), who people and user groups are, what a
conversation is and what a thread holds, and where Socket Mode connects.

``conversations.info`` tells a public channel from a private one, a DM and a group DM
(``is_private``, ``is_im``, ``is_mpim``) and, as Slack answers a bot, finds no private
conversation the bot is not in. ``conversations.replies`` gives a thread's messages, with their
metadata when asked (``include_all_metadata``).
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.blockkit import Refusal
from infra.emulators.slack.chat import Method
from infra.emulators.slack.workspace import Workspace


def auth_test(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "url": slack.web_url, "team": slack.team_name, "user": slack.bot_name,
            "team_id": slack.team, "user_id": slack.bot_user, "bot_id": slack.bot_id,
            "is_enterprise_install": False}


def connections_open(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Socket Mode's WebSocket address (the app-level token's call)."""
    if not slack.socket_mode_url:
        return slack.refuse("apps.connections.open", Refusal("not_allowed_token_type"))
    return {"ok": True, "url": slack.socket_mode_url}


def users_info(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = slack.users.get(str(args.get("user", "")))
    if user is None:
        return {"ok": False, "error": "user_not_found"}
    return {"ok": True, "user": {"id": user.id, "name": user.name, "real_name": user.name,
                                 "is_bot": user.is_bot}}


def usergroup_members(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    group = str(args.get("usergroup", ""))
    if group not in slack.usergroups:
        return {"ok": False, "error": "no_such_subteam"}
    return {"ok": True, "users": slack.usergroups[group]}


def conversation_info(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = slack.channels.get(str(args.get("channel", "")))
    if conversation is None or (conversation.private and not conversation.bot_is_member):
        return slack.refuse("conversations.info", Refusal("channel_not_found"))
    if conversation.im:
        user = next(iter(conversation.members or []), None)
        return {"ok": True, "channel": {"id": conversation.id, "created": slack.created, "is_im": True,
                                        "is_org_shared": False, "user": user, "is_user_deleted": False,
                                        "priority": 0}}
    return {"ok": True, "channel": {
        "id": conversation.id, "name": conversation.name, "name_normalized": conversation.name,
        "is_channel": not conversation.mpim, "is_group": False, "is_im": False, "is_mpim": conversation.mpim,
        "is_private": conversation.private, "created": slack.created, "is_archived": False,
        "is_general": False, "is_shared": False, "is_org_shared": False, "is_ext_shared": False,
        "is_member": conversation.bot_is_member}}


def replies(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "conversations.replies"
    channel, root = str(args.get("channel", "")), str(args.get("ts", ""))
    if channel not in slack.channels:
        return slack.refuse(method, Refusal("channel_not_found"))
    message = slack.message(channel, root)
    if message is None:
        return slack.refuse(method, Refusal("thread_not_found"))
    with_metadata = args.get("include_all_metadata") in (True, "true", "1", 1)
    return {"ok": True, "messages": [
        {"type": "message", "ts": m.ts, "text": m.text, "user": m.user, "thread_ts": m.thread_ts,
         **({"bot_id": m.bot_id} if m.bot_id else {}),
         **({"metadata": m.metadata} if with_metadata and m.metadata else {})}
        for m in slack.thread(channel, root) or [message]]}  # a reply's ts: that reply alone


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "apps.connections.open": connections_open,
    "users.info": users_info,
    "usergroups.users.list": usergroup_members,
    "conversations.info": conversation_info,
    "conversations.replies": replies,
}
