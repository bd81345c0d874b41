"""Every sentence the bot says in Slack, in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.access.unattended import unattended_route


def slack_date(ts: float) -> str:
    """A date Slack shows in the reader's time zone (with a UTC fallback)."""
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(ts)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def user(user_id: str | None) -> str:
    """A person, mentioned; a run's requester that is an alert route (no person), named."""
    route = unattended_route(user_id)
    if route is not None:
        return f"the alert route `{route}`"
    return f"<@{user_id}>" if user_id else "someone"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


# ------------------------------------------------------------------ help

def help_text(command: str) -> str:
    return (
        f"*dagbot* plans your request as a graph of tool calls, runs the independent parts in "
        f"parallel and asks before anything changes the world.\n\n"
        f"• `{command} <request>` starts new work; I reply in a thread under your request.\n"
        f"• Mention me (`@dagbot <request>`) in a channel, or send me a direct message.\n"
        f"• Reply in one of my threads to follow up: no mention needed, and I remember what the "
        f"thread already did. If a run is still going, your follow-up waits its turn.\n"
        f"• Red actions (deploys, emails, …) wait for *Approve*; everything else keeps running.\n"
        f"• *Cancel* on a status message stops that run.\n"
        f"• `{command} status` lists your active runs and the approvals waiting for you.\n"
        f"• `{command} every weekday at 09:00 <request>` runs a request on a schedule, each time in a new "
        f"thread of this channel, as you (also `every day at 8:30`, `every monday at 10:00`, "
        f"`every 2 hours`, `every 15 minutes`; times are UTC unless a zone follows: "
        f"`at 09:00 Europe/Paris`).\n"
        f"• `{command} schedules` lists your schedules and this channel's, with *Cancel*."
    )


NOT_IN_CHANNEL = (
    "I can't post in this conversation. Invite me with `/invite @dagbot` (or send me a direct "
    "message) and ask again."
)
SOMETHING_BROKE = "Something went wrong on my side while starting that run. Please try again in a moment."
CLICK_FAILED = ("Something went wrong on my side while handling that. Please look at the approval "
                "message to see where it stands, and try again in a moment.")

CANNOT_POST_REASONS = {
    "ratelimited": "Slack is rate-limiting me right now",
    "not_in_channel": "I'm not a member of this conversation",
    "channel_not_found": "I can't see this conversation",
    "is_archived": "this conversation is archived",
    "msg_too_long": "the request is too long for a Slack message",
    "invalid_blocks": "the request is too long for a Slack message",
    "connection_error": "I couldn't reach Slack",
}


def could_not_start(error: str | None) -> str:
    """Slack refused the run's root or status message (``error`` is its code): nothing started."""
    why = CANNOT_POST_REASONS.get(error or "", "Slack refused my message")
    return (f"Sorry, I couldn't start that run: {why} (`{error or 'unknown'}`), so I could not post its "
            "status in the thread. Nothing was run; please ask again in a moment.")


def reply_not_posted(error: str, *, answered: bool) -> str:
    """Slack refused the run's answer (or, if not ``answered``, the message saying why it
    ended), even after retries: the status message says so."""
    what = "the answer" if answered else "the message saying why it ended"
    why = CANNOT_POST_REASONS.get(error, "Slack refused my message")
    return f":warning: I couldn't post {what} in this thread: {why} (`{error}`)."


def root_message(requester: str, request: str) -> str:
    quoted = "\n".join(f"> {line}" for line in request.splitlines() or [""])
    return f"{user(requester)} asked:\n{quoted}"


# ---------------------------------------------------------------- status

PHASE_TITLES = {
    "queued": ":hourglass_flowing_sand: *Queued* — I'll start on this when the current run in this "
              "thread finishes.",
    "planning": ":thought_balloon: *Planning…*",
    "running": ":gear: *Running the plan*",
    "waiting": ":raised_hand: *Waiting for approval* — nothing else can run until someone decides.",
    "replanning": ":repeat: *Replanning*",
    "answered": ":white_check_mark: *Done*",
    "failed": ":x: *Failed*",
    "cancelled": ":no_entry_sign: *Cancelled*",
}
def answered_not_all_done(counts: list[tuple[int, str]]) -> str:
    """The status heading of a run that answered though some of its steps did not run to their
    end: ``counts`` is how many were, e.g. ``[(1, "rejected")]``."""
    listed = ", ".join(f"{n} step{'s' if n > 1 else ''} {state}" for n, state in counts)
    return f":ballot_box_with_check: *Answered* — {listed}"


NODE_ICONS = {
    "waiting": ":white_circle:",
    "running": ":arrows_counterclockwise:",
    "awaiting_approval": ":raised_hand:",
    "done": ":white_check_mark:",
    "failed": ":x:",
    "rejected": ":no_entry:",
    "skipped": ":fast_forward:",
}
CANCEL_BUTTON = "Cancel"


CANCELLED_BEFORE_START = "Cancelled before it started."


# ------------------------------------------------------------- approvals

APPROVE_BUTTON = "Approve"
REJECT_BUTTON = "Reject"
EDIT_BUTTON = "Edit"


def approval_title(tool: str, node_id: str) -> str:
    return f":lock: *Approval needed:* `{tool}` (node `{node_id}`)"


def approval_context(requester: str | None, approvers: str, expires_at: float) -> str:
    return (f"Requested by {user(requester)} · May approve: {approvers} · "
            f"Expires {slack_date(expires_at)}")


def approved(by: str | None, at: float | None) -> str:
    when = f" at {slack_date(at)}" if at else ""
    return f":white_check_mark: Approved by {user(by)}{when}"


def rejected(by: str | None, reason: str | None) -> str:
    return f":no_entry: Rejected by {user(by)}" + (f": {reason}" if reason else "")


EXPIRED = ":hourglass: Expired: nobody decided in time, so it was treated as rejected."


def withdrawn(reason: str | None) -> str:
    return ":no_entry_sign: Withdrawn" + (f": {reason}" if reason else "")


NO_LONGER_NEEDED = ":heavy_minus_sign: No longer needed: the plan changed or the run finished without it."

REJECT_MODAL_TITLE = "Reject"
REJECT_MODAL_SUBMIT = "Reject"
REJECT_MODAL_CLOSE = "Back"
REJECT_REASON_LABEL = "Why? It is shown in the thread"  # (Slack adds "(optional)")


def reject_modal_intro(tool: str, node_id: str) -> str:
    return f"Reject `{tool}` (node `{node_id}`)? Nodes that depend on it will be skipped."


EDIT_MODAL_TITLE = "Edit arguments"
EDIT_MODAL_SUBMIT = "Save"
EDIT_MODAL_CLOSE = "Cancel"
SECRET_PLACEHOLDER = "secret: left empty, it stays as it is"  # noqa: S105 - a hint, not a secret
JSON_HINT = "JSON: numbers, true/false, [lists] or {objects}; text in \"quotes\""
NOT_AN_OBJECT = 'The arguments must be one JSON object, like {"name": "value"}.'


def secrets_kept(names: list[str]) -> str:
    """The hint of the one JSON field when secret arguments are left out of it."""
    if not names:
        return ""
    return f"Secret arguments ({', '.join(names)}) are not shown; left out, they keep their value."


def not_json(problem: str) -> str:
    return f"This is not valid JSON ({problem}). Text needs \"quotes\"."


def edit_modal_intro(tool: str, node_id: str) -> str:
    return (f"Edit what `{tool}` (node `{node_id}`) will run with. After you save, the approval message "
            "shows the original and your values, and Approve runs yours.")


def edited_by(by: str | None, edits: int) -> str:
    times = f" ({edits} edits)" if edits > 1 else ""
    return f":pencil2: *Edited by {user(by)}{times}:* these are the arguments that will run."


ORIGINAL_ARGS = "*The plan's original arguments:*"


def edit_not_saved(errors: list[str]) -> str:
    listed = "\n".join(f"• {e}" for e in errors)
    return f"Your edit was not saved; the arguments did not fit the tool:\n{listed}\nClick Edit to try again."


TOO_LONG_TO_EDIT = ("An argument of this step is too long to edit in Slack (over 3,000 characters). "
                    "Reject it with a reason instead, and ask for what you want in the thread.")


# ---------------------------------------------------------- approver DMs

ASKED_IN = {
    "assistant": "in their assistant pane with me",
    "direct message": "in their direct messages with me",
    "group DM": "in a group DM",
}


def asked_in(kind: str, channel: str) -> str:
    """Where an approval was asked, told to someone who may not be in that conversation
    (``kind``: a :class:`bot.ground.conversation_kinds.ConversationKind` value, or ``assistant``)."""
    return ASKED_IN.get(kind, f"in <#{channel}>, a private channel" if kind == "private channel"
                        else f"in <#{channel}>")


def approver_dm_intro(requester: str | None, where: str, link: str) -> str:
    if unattended_route(requester) is not None:  # (nobody asked, and nobody watches the run)
        return (f":bell: {user(requester)} started a run that asks for this {where}, and no person is "
                f"waiting on it: you are one of its approvers (<{link}|the approval message>). You may "
                "decide here, in the thread, or in my Home tab.")
    return (f":bell: {user(requester)} asked for this {where}, where you may not see it "
            f"(<{link}|the approval message>). You may decide here, or in my Home tab.")


def approver_dm_notice(tool: str, node_id: str, requester: str | None) -> str:
    return f"Approval needed: {tool} ({node_id}), asked by {user(requester)}"


def about_approval(tool: str, node_id: str, link: str) -> str:
    """What a notice sent by DM (not beside the approval) is about."""
    return f"About the approval of `{tool}` (node `{node_id}`) in <{link}|this thread>:"


ARGS_CHANGED = ("Someone edited these arguments after you opened them, so nothing was changed. "
                "Look at the approval message again before you decide.")
ARGS_CHANGED_BY_YOU = ("You edited these arguments after this was shown to you, so nothing was changed. "
                       "Decide on the updated approval, which shows your edit: the approval message in "
                       "the thread, or App Home once it refreshes (a moment).")


# --------------------------------------------------------------- refusals

def not_allowed(approvers: str) -> str:
    return f"Sorry, only {approvers} may decide on this approval. Nothing was changed."


def already_decided(status: str, by: str | None) -> str:
    return f"This approval was already {status} by {user(by)}. Nothing was changed."


APPROVAL_EXPIRED = (
    "This approval expired before anyone decided, so it counts as rejected. Ask again if it's still needed."
)
APPROVAL_WITHDRAWN = "This approval was withdrawn (its run was cancelled or replanned). Nothing was changed."
APPROVAL_STALE = (
    "This approval is no longer needed: its run finished or changed its plan. Nothing was changed."
)
APPROVAL_NOT_FOUND = "I can't find this approval any more. Nothing was changed."


def schedule_not_made() -> str:
    return ("I could not make the schedule: my scheduler did not take it (my log says why). Nothing "
            "will run for it; please try again in a moment.")


def not_answering_here(*, direct: bool) -> str:
    if direct:
        return ("I don't take requests by direct message or in group DMs in this workspace. Please ask "
                "in a channel where I work, or ask whoever runs dagbot which channels those are.")
    return ("I don't take requests in this channel. Please ask in a channel where I work, or ask "
            "whoever runs dagbot to add this one to the access policy.")


GROUP_UNCHECKED = ("I couldn't check the approver group with Slack just now, so nothing was changed. "
                   "Please try again in a moment.")
CANCEL_NOT_ALLOWED = "Sorry, only the person who asked (or an approver for every tool) can cancel this run."
CANCEL_TOO_LATE = "This run has already finished; there is nothing left to cancel."


# ---------------------------------------------------------------- answers

def answer_footer(seconds: float, nodes_run: int, tokens: int, note: str = "") -> str:
    footer = (f":stopwatch: {duration(seconds)} · {nodes_run} node{'s' if nodes_run != 1 else ''} run · "
              f"{tokens:,} LLM tokens")
    return f"{footer} · _{note}_" if note else footer


def plan_corrected(corrections: list[str]) -> str:
    """Under the plan: what dagbot changed in the model's plan before it ran (dagbot's own words)."""
    return ":wrench: dagbot corrected the model's plan: " + "; ".join(corrections) + "."


def refused_note(node_id: str, tool: str, detail: str | None) -> str:
    return f":no_entry: `{node_id}` ({tool}) did not run: {detail or 'not approved'}"


def run_failed(error: str) -> str:
    return f":x: {error}"


# ---------------------------------------------------------- assistant pane

PROMPTS_TITLE = "Try one of my tools"
STATUS_PLANNING = "is planning…"
STATUS_REPLANNING = "is planning again…"


def status_running(nodes: list[str]) -> str:
    if not nodes:
        return "is working on the plan…"
    return f"is running {', '.join(nodes)}…"


def suggested_prompt(tool: str, what: str, *, red: bool) -> str:
    ask = " (it changes something, so it will ask for approval first)" if red else ""
    return f"What can {tool} do for me here? ({what}{ask})"


# ---------------------------------------------------------------- App Home

HOME_TITLE = "dagbot"
HOME_INTRO = ("Your runs and the approvals waiting for you. Ask for work with `/agent`, a mention, a "
              "direct message, or in the assistant pane.")
HOME_APPROVALS_TITLE = "*Approvals waiting for you*"
HOME_RECENT_TITLE = "*Your recent runs*"
NO_RECENT_RUNS = "You have not asked for anything yet."
RUN_OUTCOMES = {"answered": ":white_check_mark: answered", "ended": ":x: ended without an answer",
                "going": ":gear: going on"}


def more_approvals(count: int) -> str:
    return f"… and {count} more: see `/agent status`."


# ---------------------------------------------------------------- answers

ANSWER_WITHDRAWN = "_This draft was withdrawn: it is not the answer._"
FEEDBACK_GOOD = "Good answer"
FEEDBACK_BAD = "Bad answer"
FEEDBACK_THANKS = {"up": "Thanks for the 👍 — noted.",
                   "down": "Thanks for the 👎 — noted, so the team can look at this answer."}
FEEDBACK_NOT_AN_ANSWER = "That button does not belong to one of my answers, so nothing was recorded."


ANSWER_ENDS = "(the answer above ends here)"
"""The notification of an answer's last message when it holds only the footer and feedback
(its streamed text all arrived before Slack ended the stream)."""


def answer_continued(part: int, total: int) -> str:
    return f"(part {part} of {total})"


# ---------------------------------------------------------------- /status

NO_ACTIVE_RUNS = "You have no active runs."
NO_PENDING_APPROVALS = "No approvals are waiting for you."
ACTIVE_RUNS_TITLE = "*Your active runs*"
PENDING_APPROVALS_TITLE = "*Approvals you can decide*"
