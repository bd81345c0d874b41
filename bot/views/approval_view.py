"""Approval messages and the reject-reason modal (pure rendering)."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.ports.standing import standing_decision
from agent.ports.stores import Approval, ApprovalStatus
from agent.tools.masking import MASK
from bot.ground.action_ids import (
    APPROVE_ACTION,
    APPROVE_FOR_THREAD_ACTION,
    EDIT_ACTION,
    REJECT_ACTION,
    REJECT_CALLBACK,
    REJECT_REASON_ACTION,
)
from bot.ground.blocks import (
    SECTION_TEXT_LIMIT,
    Block,
    actions,
    button,
    clip,
    context,
    notification,
    plain,
    section,
)
from bot.ground.mrkdwn import escape
from bot.views import wording as say
from bot.views.standing_view import (
    APPROVE_FOR_THREAD_BUTTON,
    approved_by_standing,
    approved_for_thread,
)

BUTTONS_BLOCK = "approval:"
"""The buttons' block id: ``approval:<id>:<edits>``, so a click names the arguments it saw."""
REASON_BLOCK = "reason"
REASON_MAX_CHARS = 500
MODAL_TITLE_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000


def pretty_args(args: dict[str, Any], limit: int = SECTION_TEXT_LIMIT) -> str:
    """Arguments as an indented JSON code block, cut to fit one section."""
    text = escape(json.dumps(args, indent=2, ensure_ascii=False, default=str))
    budget = limit - len("```\n\n```") - 40
    if len(text) > budget:
        text = text[:budget].rstrip() + f"\n… ({len(text) - budget:,} more characters)"
    return f"```\n{text}\n```"


_CANCELLED_BY = re.compile(r"run cancelled by (?:<@([UW][A-Z0-9]+)>|([UW][A-Z0-9]+))")
"""The reason the engine gives when someone's Cancel withdrew the approval (agent.engine.engine),
naming the user id the bot cancelled as (as a mention, ``<@U…>``, in approvals withdrawn by
earlier versions): the one withdrawal reason whose mention is the bot's own."""


def decision_line(approval: Approval, *, stale: bool = False) -> str:
    match approval.status:
        case ApprovalStatus.APPROVED:
            standing = standing_decision(approval)
            if standing is None:
                return say.approved(approval.decided_by, approval.decided_at)
            if standing.granted_here:
                return approved_for_thread(approval.decided_by, approval.decided_at, approval.tool,
                                           approval.requested_by)
            return approved_by_standing(approval.decided_by, approval.decided_at)
        case ApprovalStatus.REJECTED:
            reason = escape(clip(approval.reason, 500)) if approval.reason else None
            return say.rejected(approval.decided_by, reason)
        case ApprovalStatus.EXPIRED:
            return say.EXPIRED
        case ApprovalStatus.WITHDRAWN:
            if approval.reason and (cancel := _CANCELLED_BY.fullmatch(approval.reason)):
                return say.withdrawn(f"run cancelled by {say.user(cancel[1] or cancel[2])}")
            return say.withdrawn(escape(clip(approval.reason, 500)) if approval.reason else None)
    return say.NO_LONGER_NEEDED if stale else ""


def masked(args: dict[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    return {k: (MASK if k in secret and v is not None else v) for k, v in args.items()}


def render_approval(approval: Approval, approvers: str, *, stale: bool = False,
                    secret: frozenset[str] = frozenset(), standing: bool = False) -> tuple[str, list[Block]]:
    """While pending: Approve/Reject/Edit buttons, and "Approve for this thread" with ``standing``
    (the policy offers it for the tool). After: who decided and when, no buttons. Edited
    arguments are shown first, then the plan's; ``secret`` arguments never are."""
    heading = say.approval_title(approval.tool, approval.node_id)
    blocks: list[Block] = [section(heading)]
    if approval.edited_args is not None:
        blocks += [section(say.edited_by(approval.edited_by, approval.edits)),
                   section(pretty_args(masked(approval.edited_args, secret), SECTION_TEXT_LIMIT // 2)),
                   section(say.ORIGINAL_ARGS),
                   section(pretty_args(masked(approval.args, secret), SECTION_TEXT_LIMIT // 2))]
    else:
        blocks.append(section(pretty_args(masked(approval.args, secret))))
    blocks.append(section(f"*Why:* {escape(clip(approval.why, 2500))}"))
    if approval.note:
        blocks.append(section(f":warning: {escape(clip(approval.note, 2500))}"))
    blocks.append(context(say.approval_context(approval.requested_by, approvers, approval.expires_at)))
    if approval.is_pending and not stale:
        approve = [button(say.APPROVE_BUTTON, APPROVE_ACTION, approval.id, style="primary")]
        if standing:
            approve.append(button(APPROVE_FOR_THREAD_BUTTON, APPROVE_FOR_THREAD_ACTION, approval.id))
        blocks.append(actions(
            *approve,
            button(say.REJECT_BUTTON, REJECT_ACTION, approval.id, style="danger"),
            button(say.EDIT_BUTTON, EDIT_ACTION, approval.id),
            block_id=f"{BUTTONS_BLOCK}{approval.id}:{approval.edits}",
        ))
    else:
        blocks.append(section(decision_line(approval, stale=stale), block_id=f"decision:{approval.id}"))
    return notification(f"Approval needed: {approval.tool} ({approval.node_id})"), blocks


def approver_dm(approval: Approval, intro: str, message: tuple[str, list[Block]]) -> tuple[str, list[Block]]:
    """The DM to someone who may decide on an approval asked where they may not see it: what
    ``intro`` says (who asked, where, a link), then the approval's ``message`` as
    :func:`render_approval` made it, buttons (or final state) included."""
    _, blocks = message
    return (notification(say.approver_dm_notice(approval.tool, approval.node_id, approval.requested_by)),
            [section(intro), *blocks])


def seen_edits(block_id: str) -> int | None:
    """The version of the arguments an Approve click saw (None: a message from before edits)."""
    _, _, edits = block_id.removeprefix(BUTTONS_BLOCK).partition(":")
    return int(edits) if edits.isdigit() else None


def reject_modal(approval: Approval, metadata: str) -> dict[str, Any]:
    if len(metadata) > PRIVATE_METADATA_LIMIT:
        raise ValueError("modal metadata too long")
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": metadata,
        "title": plain(say.REJECT_MODAL_TITLE, MODAL_TITLE_LIMIT),
        "submit": plain(say.REJECT_MODAL_SUBMIT, MODAL_TITLE_LIMIT),
        "close": plain(say.REJECT_MODAL_CLOSE, MODAL_TITLE_LIMIT),
        "blocks": [
            section(say.reject_modal_intro(approval.tool, approval.node_id)),
            {
                "type": "input", "block_id": REASON_BLOCK, "optional": True,
                "label": plain(say.REJECT_REASON_LABEL, 2000),
                "element": {"type": "plain_text_input", "action_id": REJECT_REASON_ACTION, "multiline": True,
                            "max_length": REASON_MAX_CHARS},
            },
        ],
    }


def reason_from(view: dict[str, Any]) -> str | None:
    """The reason typed into the reject modal, or None when left empty."""
    value = (view.get("state", {}).get("values", {}).get(REASON_BLOCK, {})
             .get(REJECT_REASON_ACTION, {}).get("value"))
    return (value.strip() or None) if isinstance(value, str) else None
