"""The Web API's ``chat.*`` methods for whole messages: post, update, delete, ephemeral, permalink.

Each answers as Slack answers and refuses what Slack refuses, with its error codes (its method
reference): a bot may post only where it is a member, or in its DM with someone (a user id as
``channel`` posts there); it may change or delete only its own messages, and not a message
still being streamed; a reply names a message that exists; an ephemeral message goes only to
someone in the conversation; and every text and block passes :mod:`.blockkit`'s rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.emulators.slack.blockkit import Refusal, message_refusal
from infra.emulators.slack.workspace import Message, Workspace

Method = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def can_post(slack: Workspace, method: str, channel: str) -> dict[str, Any] | None:
    """Slack's refusal of the app's posting in ``channel``, or None."""
    conversation = slack.channels.get(channel)
    if conversation is None:
        return slack.refuse(method, Refusal("channel_not_found"))
    if not conversation.bot_is_member and not conversation.im:
        return slack.refuse(method, Refusal("not_in_channel"))
    return None


def named_message(slack: Workspace, method: str, args: dict[str, Any]) -> Message | dict[str, Any]:
    """The message a call names (``channel``, ``ts``), or Slack's refusal of the call."""
    channel = str(args.get("channel", ""))
    if channel not in slack.channels:
        return slack.refuse(method, Refusal("channel_not_found"))
    message = slack.message(channel, str(args.get("ts", "")))
    return message if message is not None else slack.refuse(method, Refusal("message_not_found"))


def post_message(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.postMessage"
    channel = str(args.get("channel", ""))
    user = slack.users.get(channel)
    if user is not None and not user.is_bot:  # a user id: the app's DM with them
        channel = slack.app_dm(channel)
    problem = can_post(slack, method, channel)
    if problem:
        return problem
    thread_ts = args.get("thread_ts") or None
    if thread_ts and slack.message(channel, thread_ts) is None:
        return slack.refuse(method, Refusal("thread_not_found"))
    refusal = message_refusal(args.get("text"), args.get("blocks"))
    if refusal:
        return slack.refuse(method, refusal)
    message = slack.post_as_bot(channel, args.get("text") or "", args.get("blocks") or [], thread_ts,
                                metadata=args.get("metadata"))
    return {"ok": True, "channel": channel, "ts": message.ts,
            "message": {"type": "message", "text": message.text, "ts": message.ts, "bot_id": slack.bot_id,
                        "user": slack.bot_user, "thread_ts": thread_ts}}


def update(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Text and blocks left out keep what the message had (an empty list of blocks removes them)."""
    method = "chat.update"
    message = named_message(slack, method, args)
    if isinstance(message, dict):
        return message
    if not message.is_from_bot:
        return slack.refuse(method, Refusal("cant_update_message"))
    if message.streaming:  # it is stopped first (chat.stopStream)
        return slack.refuse(method, Refusal("streaming_state_conflict"))
    text, blocks = args.get("text"), args.get("blocks")
    text = text if text is not None else message.text
    blocks = blocks if blocks is not None else message.blocks
    refusal = message_refusal(text, blocks)
    if refusal:
        return slack.refuse(method, refusal)
    if args.get("metadata"):
        message.metadata = args["metadata"]
    message.edited = True
    message.show(text or "", blocks or [])
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}


def delete(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.delete"
    message = named_message(slack, method, args)
    if isinstance(message, dict):
        return message
    if not message.is_from_bot:  # a bot token deletes only what that bot posted
        return slack.refuse(method, Refusal("cant_delete_message"))
    slack.remove(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts}


def post_ephemeral(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Only to someone in the conversation: one of its ``members``, or, where everyone is in
    it, someone of the workspace."""
    method = "chat.postEphemeral"
    channel, user = str(args.get("channel", "")), str(args.get("user", ""))
    problem = can_post(slack, method, channel)
    if problem:
        return problem
    members = slack.channels[channel].members
    known = slack.users.get(user)
    if (user not in members) if members is not None else (known is None or known.is_bot):
        return slack.refuse(method, Refusal("user_not_in_channel"))
    refusal = message_refusal(args.get("text"), args.get("blocks"))
    if refusal:
        return slack.refuse(method, refusal)
    ephemeral = slack.post_ephemeral(channel, user, args.get("text") or "", args.get("blocks") or [],
                                     args.get("thread_ts") or None)
    return {"ok": True, "message_ts": ephemeral.ts}


def get_permalink(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
    message = named_message(slack, "chat.getPermalink", {"channel": channel, "ts": ts})
    if isinstance(message, dict):
        return message
    link = f"{slack.web_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != ts:  # a reply: Slack adds the thread
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"ok": True, "channel": channel, "permalink": link}


METHODS: dict[str, Method] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
