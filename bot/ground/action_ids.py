"""Every ``action_id`` and ``callback_id`` the bot gives, in one place: what Slack names back
when someone clicks a button or submits a modal. The views give them (:mod:`bot.views`), the
listeners route on them (:mod:`bot.inbound.listeners`); a change here is a change of what a
button already posted in Slack sends, so a message posted before it stops working."""

from __future__ import annotations

# ------------------------------------------------------------------ buttons (the listeners route on them)

APPROVE_ACTION = "approval_approve"
APPROVE_FOR_THREAD_ACTION = "approval_approve_thread"
REJECT_ACTION = "approval_reject"
EDIT_ACTION = "approval_edit"
APPROVE_ALL_ACTION = "run_approve_all"
"""On a run's status message while several of its approvals wait."""
CANCEL_ACTION = "run_cancel"
REVOKE_ACTION = "standing_revoke"
"""A standing approval's Revoke button in App Home."""
FEEDBACK_ACTION = "answer_feedback"
"""The 👍/👎 buttons that end a run's answer."""
CANCEL_SCHEDULE_ACTION = "schedule_cancel"
"""A schedule's Cancel button (``/agent schedules`` and App Home)."""

# ------------------------------------------------------------------- modals (the listeners route on them)

REJECT_CALLBACK = "approval_reject_reason"
"""The reject-reason modal."""
EDIT_CALLBACK = "approval_edit_args"
"""The Edit modal of an approval."""

# ------------------------------------------------------ inputs (read back by the view that drew them)

REJECT_REASON_ACTION = "reason"
"""The reject-reason modal's one input."""
EDIT_VALUE_ACTION = "value"
"""Each field of the Edit modal (its block id names the argument)."""
