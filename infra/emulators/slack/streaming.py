"""Streamed messages: ``chat.startStream``, ``chat.appendStream`` and ``chat.stopStream``, as Slack
answers and refuses them (its method reference).

A stream is a bot reply in a thread (Slack wants streamed messages to answer someone: outside
DMs the recipient's user and team are required) that grows with each call: Markdown
(``markdown_text``, at most 12,000 characters a call and in all, else ``msg_too_long``) and
``chunks`` (:func:`~.blockkit.chunks_refusal`: ``markdown_text``, ``plan_update`` for the plan's
title, ``task_update`` for one task, whole, by id; malformed ones are refused with
``invalid_chunks``). ``task_display_mode`` (``timeline``, the default, or ``plan``) says how
its tasks show: a task card each, or together in one ``plan`` block above the text. Until it
is stopped it is *streaming*: watchers see it being written, and Slack will not
``chat.update`` it (``streaming_state_conflict``). Stopping adds the last Markdown and chunks,
then ``blocks`` under them (footer, feedback buttons), checked as a message's blocks, and sets
the thread's agent session, if it has one, to ``session_status`` (``active`` when the call
gives none: :func:`.agents.stream_stopped`); a stopped
stream takes no more appends or stops (``message_not_in_streaming_state``), and neither does
one Slack ended after a while without appends (:func:`expire`).
:attr:`~.workspace.Workspace.stream_error` makes streaming unavailable, as it is to an app
without the scope.
"""

from __future__ import annotations

from typing import Any

from infra.emulators.slack.agents import session_status_refusal, stream_stopped
from infra.emulators.slack.blockkit import (
    MARKDOWN_TEXT_LIMIT,
    TASK_DISPLAY_MODES,
    Refusal,
    chunks_refusal,
    message_refusal,
)
from infra.emulators.slack.chat import Method, can_post, named_message
from infra.emulators.slack.workspace import Message, Workspace


def markdown_blocks(text: str) -> list[dict[str, Any]]:
    """How Slack holds a streamed message's Markdown: one ``markdown`` block."""
    return [{"type": "markdown", "text": text}] if text else []


def _rich_text(text: str) -> dict[str, Any]:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                               "elements": [{"type": "text", "text": text}]}]}


def task_card(task: dict[str, Any]) -> dict[str, Any]:
    """A ``task_update`` chunk as the ``task_card`` block the message shows."""
    card: dict[str, Any] = {"type": "task_card", "task_id": task["id"], "title": task["title"],
                            "status": task["status"]}
    for key in ("details", "output"):
        if task.get(key):
            card[key] = _rich_text(str(task[key]))
    if task.get("sources"):
        card["sources"] = list(task["sources"])
    return card


def stream_blocks(message: Message) -> list[dict[str, Any]]:
    """What a streamed message shows: its tasks (one plan block, or a card each), then its
    Markdown, then any blocks chunks."""
    cards = [task_card(task) for task in message.tasks.values()]
    blocks: list[dict[str, Any]] = []
    if cards and message.task_display_mode == "plan":
        blocks.append({"type": "plan", "title": message.plan_title or "Plan", "tasks": cards})
    else:
        blocks.extend(cards)
    blocks.extend(markdown_blocks(message.text))
    blocks.extend(b for chunk in message.chunks if chunk.get("type") == "blocks" for b in chunk["blocks"])
    return blocks


def _content_refusal(args: dict[str, Any], *, required: bool, held: str = "") -> Refusal | None:
    """Why the Markdown and chunks of a call would be refused (``held``: the Markdown the
    stream has already)."""
    text, chunks = args.get("markdown_text"), args.get("chunks")
    if (text is None or text == "") and not chunks:
        return Refusal("invalid_arguments", ("[ERROR] missing required field: markdown_text "
                                             "[json-pointer:/markdown_text]",)) if required else None
    if text is not None and not isinstance(text, str):
        return Refusal("invalid_arguments", ("[ERROR] markdown_text must be a string "
                                             "[json-pointer:/markdown_text]",))
    refusal = chunks_refusal(chunks)
    if refusal:
        return refusal
    added = len(text or "") + sum(len(c["text"]) for c in chunks or [] if c.get("type") == "markdown_text")
    if len(text or "") > MARKDOWN_TEXT_LIMIT or len(held) + added > MARKDOWN_TEXT_LIMIT:
        return Refusal("msg_too_long")
    return None


def _take(message: Message, args: dict[str, Any]) -> None:
    """Add a call's Markdown, then its chunks, to the stream."""
    text = str(args.get("markdown_text") or "")
    if text:
        message.appended.append(text)
        message.text += text
    for chunk in args.get("chunks") or []:
        message.chunks.append(chunk)
        if chunk["type"] == "markdown_text":
            message.appended.append(chunk["text"])
            message.text += chunk["text"]
        elif chunk["type"] == "plan_update":
            message.plan_title = chunk["title"]
        elif chunk["type"] == "task_update":
            message.tasks[chunk["id"]] = {k: v for k, v in chunk.items() if k != "type"}


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
    mode = args.get("task_display_mode") or "timeline"
    if mode not in TASK_DISPLAY_MODES:
        return slack.refuse(method, Refusal("invalid_arguments", (
            f"[ERROR] must be one of {', '.join(TASK_DISPLAY_MODES)} [json-pointer:/task_display_mode]",)))
    refusal = _content_refusal(args, required=False)
    if refusal:
        return slack.refuse(method, refusal)
    draft = Message(channel, "", "", [], task_display_mode=mode)
    _take(draft, args)
    posted = slack.post_as_bot(channel, draft.text, stream_blocks(draft), thread_ts, streaming=True)
    posted.appended, posted.chunks, posted.task_display_mode = draft.appended, draft.chunks, mode
    posted.plan_title, posted.tasks = draft.plan_title, draft.tasks
    return {"ok": True, "channel": channel, "ts": posted.ts}


def _stream(slack: Workspace, method: str, args: dict[str, Any],
            *, required: bool) -> Message | dict[str, Any]:
    """The stream a call names, or Slack's refusal of the call."""
    message = named_message(slack, method, args)
    if isinstance(message, dict):
        return message
    if not message.streaming:
        return slack.refuse(method, Refusal("message_not_in_streaming_state"))
    refusal = _content_refusal(args, required=required, held=message.text)
    return slack.refuse(method, refusal) if refusal else message


def append_stream(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = _stream(slack, "chat.appendStream", args, required=True)
    if isinstance(message, dict):
        return message
    _take(message, args)
    message.show(message.text, stream_blocks(message))
    slack.changed(message)
    return {"ok": True, "channel": message.channel, "ts": message.ts}


def stop_stream(slack: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    method = "chat.stopStream"
    message = _stream(slack, method, args, required=False)
    if isinstance(message, dict):
        return message
    pending = Message(message.channel, message.ts, message.text, [], chunks=list(message.chunks),
                      task_display_mode=message.task_display_mode, plan_title=message.plan_title,
                      tasks=dict(message.tasks))
    _take(pending, args)
    extra = args.get("blocks") or []
    blocks = [*stream_blocks(pending), *extra] if isinstance(extra, list) else extra
    # an empty stream may end
    refusal = session_status_refusal(args) \
        or (message_refusal(pending.text, blocks) if pending.text or blocks else None)
    if refusal:
        return slack.refuse(method, refusal)
    _take(message, args)
    message.streaming = False
    message.metadata = args.get("metadata") or message.metadata
    message.show(message.text, blocks)
    slack.changed(message)
    stream_stopped(slack, message.channel, message.thread_ts, args)
    return {"ok": True, "channel": message.channel, "ts": message.ts,
            "message": {"type": "message", "text": message.text, "ts": message.ts, "bot_id": slack.bot_id,
                        "user": slack.bot_user, "thread_ts": message.thread_ts}}


def expire(slack: Workspace, message: Message) -> None:
    """Slack ends a stream nobody appended to for a while: it keeps what it shows, and later
    appends and stops are refused (``message_not_in_streaming_state``)."""
    if message.streaming:
        message.streaming = False
        slack.changed(message)


METHODS: dict[str, Method] = {
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
}
