"""Streamed messages: ``chat.startStream``, ``chat.appendStream`` and ``chat.stopStream``, as Slack
answers and refuses them (its method reference).

A stream is a bot reply in a thread (Slack wants streamed messages to answer someone: outside
DMs the recipient's user and team are required) whose Markdown grows with each append, at most
12,000 characters a call. Until it is stopped it is *streaming*: watchers see it being written,
and Slack will not ``chat.update`` it (``streaming_state_conflict``). Stopping adds the last
Markdown, then ``blocks`` under it (footer, feedback buttons), checked as a message's blocks;
a stopped stream takes no more appends or stops (``message_not_in_streaming_state``).
:attr:`~.workspace.Workspace.stream_error` makes streaming unavailable, as it is to an app
without the scope.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.blockkit import MARKDOWN_TEXT_LIMIT, Refusal, message_refusal
from infra.emulators.slack.chat import Method, can_post, named_message
from infra.emulators.slack.workspace import Message, Workspace


def markdown_blocks(text: str) -> list[dict[str, Any]]:
    """How Slack holds a streamed message's Markdown: one ``markdown`` block."""
    return [{"type": "markdown", "text": text}] if text else []


def _markdown_refusal(args: dict[str, Any], *, required: bool) -> Refusal | None:
    text = args.get("markdown_text")
    if text is None or text == "":
        return Refusal("invalid_arguments", ("[ERROR] missing required field: markdown_text "
                                             "[json-pointer:/markdown_text]",)) if required else None
    if not isinstance(text, str):
        return Refusal("invalid_arguments", ("[ERROR] markdown_text must be a string "
                                             "[json-pointer:/markdown_text]",))
    if len(text) > MARKDOWN_TEXT_LIMIT:
        return Refusal("msg_too_long")
    return None


def start_stream(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.startStream"
    if slack.stream_error:
        return slack.refuse(method, Refusal(slack.stream_error))
    channel = str(args.get("channel", ""))
    problem = can_post(slack, method, channel)
    if problem:
        return problem
    thread_ts = str(args.get("thread_ts") or "")
    if not thread_ts or slack.message(channel, thread_ts) is None:  # a reply to someone, always
        return slack.refuse(method, Refusal("invalid_thread_ts"))
    user, team = args.get("recipient_user_id"), args.get("recipient_team_id")
    if not slack.channels[channel].im and not (user and team):
        return slack.refuse(method, Refusal("invalid_arguments", (
            "[ERROR] recipient_user_id and recipient_team_id are required when streaming to "
            "channels [json-pointer:/recipient_user_id]",)))
    if team and team != slack.team:
        return slack.refuse(method, Refusal("team_not_found"))
    refusal = _markdown_refusal(args, required=False)
    if refusal:
        return slack.refuse(method, refusal)
    text = str(args.get("markdown_text") or "")
    message = slack.post_as_bot(channel, text, markdown_blocks(text), thread_ts, streaming=True)
    message.appended = [text] if text else []
    return {"ok": True, "channel": channel, "ts": message.ts}


def _stream(slack: Workspace, method: str, args: dict[str, Any],
            *, required: bool) -> Message | dict[str, Any]:
    """The stream a call names, or Slack's refusal of the call."""
    message = named_message(slack, method, args)
    if isinstance(message, dict):
        return message
    if not message.streaming:
        return slack.refuse(method, Refusal("message_not_in_streaming_state"))
    refusal = _markdown_refusal(args, required=required)
    return slack.refuse(method, refusal) if refusal else message


def append_stream(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = _stream(slack, "chat.appendStream", args, required=True)
    if isinstance(message, dict):
        return message
    piece = str(args["markdown_text"])
    message.appended.append(piece)
    message.show(message.text + piece, markdown_blocks(message.text + piece))
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts}


def stop_stream(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.stopStream"
    message = _stream(slack, method, args, required=False)
    if isinstance(message, dict):
        return message
    last = str(args.get("markdown_text") or "")
    text = message.text + last
    extra = args.get("blocks") or []
    blocks = [*markdown_blocks(text), *extra] if isinstance(extra, list) else extra
    refusal = message_refusal(text, blocks) if text or blocks else None  # an empty stream may end
    if refusal:
        return slack.refuse(method, refusal)
    if last:
        message.appended.append(last)
    message.streaming = False
    message.metadata = args.get("metadata") or message.metadata
    message.show(text, blocks)
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts,
            "message": {"type": "message", "text": text, "ts": message.ts, "bot_id": slack.bot_id,
                        "user": slack.bot_user, "thread_ts": message.thread_ts}}


METHODS: dict[str, Method] = {
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
}
