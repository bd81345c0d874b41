"""The stand-in's streamed messages: ``chat.startStream``, ``chat.appendStream`` and
``chat.stopStream``, as Slack answers and refuses them (its method reference).

A stream is a bot reply in a thread (Slack wants streamed messages to answer someone: outside
DMs the recipient's user and team are required) whose Markdown grows with each append, at most
12,000 characters a call. Until it is stopped it is *streaming*: the page shows it being
written, and Slack will not ``chat.update`` it (``streaming_state_conflict``). Stopping adds
the last Markdown, then ``blocks`` under it (footer, feedback buttons), checked as a message's
blocks; a stopped stream takes no more appends or stops (``message_not_in_streaming_state``).

Each method is one of the stand-in's (``slack``), kept here to keep that module short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.playground.blockkit import MARKDOWN_TEXT_LIMIT, Refusal, message_refusal

if TYPE_CHECKING:
    from infra.playground.standin import PostedMessage, SlackStandIn


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


def chat_start_stream(slack: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.startStream"
    channel = str(args.get("channel", ""))
    problem = slack._channel_problem(method, channel)
    if problem:
        return problem
    thread_ts = str(args.get("thread_ts") or "")
    if not thread_ts or slack.message(channel, thread_ts) is None:  # a reply to someone, always
        return slack._refuse(method, Refusal("invalid_thread_ts"))
    user, team = args.get("recipient_user_id"), args.get("recipient_team_id")
    if not channel.startswith("D") and not (user and team):
        return slack._refuse(method, Refusal("invalid_arguments", (
            "[ERROR] recipient_user_id and recipient_team_id are required when streaming to "
            "channels [json-pointer:/recipient_user_id]",)))
    if team and team != slack.team:
        return slack._refuse(method, Refusal("team_not_found"))
    refusal = _markdown_refusal(args, required=False)
    if refusal:
        return slack._refuse(method, refusal)
    text = str(args.get("markdown_text") or "")
    message = slack.post_as_bot(channel, text, markdown_blocks(text), thread_ts, streaming=True)
    return {"ok": True, "channel": channel, "ts": message.ts}


def _stream(slack: SlackStandIn, method: str, args: dict[str, Any],
            *, required: bool) -> PostedMessage | dict[str, Any]:
    """The stream a call names, or Slack's refusal of the call."""
    message = slack.named_message(method, args)
    if isinstance(message, dict):
        return message
    if not message.streaming:
        return slack._refuse(method, Refusal("message_not_in_streaming_state"))
    refusal = _markdown_refusal(args, required=required)
    return slack._refuse(method, refusal) if refusal else message


def chat_append_stream(slack: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    message = _stream(slack, "chat.appendStream", args, required=True)
    if isinstance(message, dict):
        return message
    message.text += str(args["markdown_text"])
    message.blocks = markdown_blocks(message.text)
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts}


def chat_stop_stream(slack: SlackStandIn, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.stopStream"
    message = _stream(slack, method, args, required=False)
    if isinstance(message, dict):
        return message
    text = message.text + str(args.get("markdown_text") or "")
    extra = args.get("blocks") or []
    blocks = [*markdown_blocks(text), *extra] if isinstance(extra, list) else extra
    refusal = message_refusal(text, blocks) if text or blocks else None  # an empty stream may end
    if refusal:
        return slack._refuse(method, refusal)
    message.text, message.blocks, message.streaming = text, blocks, False
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts,
            "message": {"type": "message", "text": text, "ts": message.ts, "bot_id": slack.bot_id,
                        "user": slack.bot.id, "thread_ts": message.thread_ts}}
