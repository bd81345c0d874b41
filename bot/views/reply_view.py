"""Thread replies: the request's root message, final answers, help, ``/agent status`` (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ground.blocks import (
    MAX_BLOCKS,
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Block,
    clip,
    context,
    line_sections,
    notification,
    section,
)
from bot.ground.mrkdwn import escape, markdown_to_mrkdwn, plain_special_mentions, quiet, split_text, unescape
from bot.views import wording as say
from bot.views.progress_view import RunProgress
from bot.views.status_view import refused_notes


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[Block]


def root_message(requester: str, request: str) -> Reply:
    """The channel message a slash command request lives under (Slack already escaped it; its
    mentions and links are the requester's own, but the bot does not ping a whole channel or
    group on anyone's behalf)."""
    text = say.root_message(requester, quiet(plain_special_mentions(clip(request, SECTION_TEXT_LIMIT - 200))))
    return Reply(notification(text), [section(text)])


def answer_replies(answer: str, progress: RunProgress, note: str = "") -> list[Reply]:
    """The final answer as mrkdwn, split over as many messages as Slack's limits need,
    the last one ending with the refused nodes and a footer (duration, nodes, tokens, and
    ``note``: what the operator wants every answer to say, e.g. that a demo model wrote it)."""
    footer = say.answer_footer(progress.duration_s or 0.0,
                               progress.nodes_run, progress.tokens, escape(note))
    return _chunked(markdown_to_mrkdwn(answer.strip() or "(no answer)", progress.people()),
                    refused_notes(progress), footer)


def failure_replies(error: str, progress: RunProgress) -> list[Reply]:
    return _chunked(say.run_failed(escape(error, progress.people())), refused_notes(progress), "")


def _chunked(body: str, notes: list[str], footer: str) -> list[Reply]:
    chunks = split_text(body, SECTION_TEXT_LIMIT)
    per_message = MAX_BLOCKS - 3  # room for the notes and the footer
    groups = [chunks[i:i + per_message] for i in range(0, len(chunks), per_message)]
    replies = []
    for number, group in enumerate(groups, 1):
        blocks = [section(chunk) for chunk in group]
        text = "\n".join(group)
        if len(groups) > 1:
            blocks.append(context(say.answer_continued(number, len(groups))))
        if number == len(groups):
            blocks.extend(line_sections(notes)[:1])
            if footer:
                blocks.append(context(footer))
        replies.append(Reply(clip(text, MESSAGE_TEXT_LIMIT) if len(groups) == 1 else notification(text),
                             blocks))
    return replies


def help_reply(command: str) -> Reply:
    text = say.help_text(command)
    return Reply(notification(text), [section(text)])


def request_link(link: str, request: str) -> str:
    """A link to a request's thread labelled with its start. ``request`` is the text as Slack
    sent it (escaped already): shown as typed, not escaped twice."""
    return f"<{link}|{escape(clip(unescape(request), 80)) or 'request'}>"


@dataclass(frozen=True)
class RunLine:
    link: str
    request: str
    state: str


@dataclass(frozen=True)
class ApprovalLine:
    link: str
    tool: str
    node_id: str
    requested_by: str | None


def status_reply(runs: list[RunLine], approvals: list[ApprovalLine], limit: int = 20) -> Reply:
    lines = [say.ACTIVE_RUNS_TITLE]
    lines += [f"• {request_link(r.link, r.request)} — {r.state}" for r in runs[:limit]]
    if not runs:
        lines.append(say.NO_ACTIVE_RUNS)
    elif len(runs) > limit:
        lines.append(f"… and {len(runs) - limit} more")
    lines.append("")
    lines.append(say.PENDING_APPROVALS_TITLE)
    lines += [f"• <{a.link}|`{a.tool}` (node `{a.node_id}`)> requested by {say.user(a.requested_by)}"
              for a in approvals[:limit]]
    if not approvals:
        lines.append(say.NO_PENDING_APPROVALS)
    elif len(approvals) > limit:
        lines.append(f"… and {len(approvals) - limit} more")
    return Reply(notification("\n".join(lines)), line_sections(lines))
