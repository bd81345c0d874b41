"""Standing approvals and "Approve all" as Slack shows them (pure rendering and texts).

"Approve for this thread" sits beside Approve on an approval message where the policy offers
it; an approval decided by its click, and the calls its grant approves later, say so; App Home
lists a person's live grants with a Revoke button each; a run's status message offers "Approve
all" while several of its approvals wait.
"""

from __future__ import annotations

from agent.ports.standing import StandingGrant
from agent.ports.stores import Approval
from bot.ground.action_ids import REVOKE_ACTION
from bot.ground.blocks import Block, actions, button, context, divider, section
from bot.ground.threads import ThreadRef
from bot.views import wording as say

GRANT_BLOCK = "standing:"
"""The block id of a grant's Revoke button in App Home: ``standing:<grant id>``."""
MAX_GRANTS = 10
"""Grants listed in App Home (each with its Revoke button); more are counted."""

APPROVE_FOR_THREAD_BUTTON = "Approve for this thread"
APPROVE_ALL_BUTTON = "Approve all"
REVOKE_BUTTON = "Revoke"
HOME_STANDING_TITLE = "*Standing approvals*"


def approved_for_thread(by: str | None, at: float | None, tool: str, requester: str | None) -> str:
    """The decision line of the approval whose click gave a standing approval."""
    when = f" at {say.slack_date(at)}" if at else ""
    return (f":white_check_mark: Approved for this thread by {say.user(by)}{when}: later `{tool}` calls "
            f"{say.user(requester)} asks for here run without asking until it expires or is revoked "
            "(App Home lists it).")


def approved_by_standing(by: str | None, at: float | None) -> str:
    """The decision line of a call a standing grant approved."""
    when = f" at {say.slack_date(at)}" if at else ""
    return f":white_check_mark: Approved{when} by the standing approval {say.user(by)} gave for this thread"


def grant_line(grant: StandingGrant) -> str:
    thread = ThreadRef.parse(grant.thread_id)
    where = f"<{thread.link}|this thread>" if thread is not None else "a thread"
    return (f"`{grant.tool}` calls {say.user(grant.requester)} asks for in {where}, given by "
            f"{say.user(grant.granted_by)} · until {say.slack_date(grant.expires_at)}")


def grant_blocks(grants: list[StandingGrant]) -> list[Block]:
    """App Home's list of a person's live grants, each with Revoke (empty: no section at all)."""
    if not grants:
        return []
    blocks: list[Block] = [divider(), section(HOME_STANDING_TITLE)]
    for grant in grants[:MAX_GRANTS]:
        blocks += [section(grant_line(grant)),
                   actions(button(REVOKE_BUTTON, REVOKE_ACTION, grant.id, style="danger"),
                           block_id=f"{GRANT_BLOCK}{grant.id}")]
    if len(grants) > MAX_GRANTS:
        blocks.append(context(f"… and {len(grants) - MAX_GRANTS} more."))
    return blocks


# ------------------------------------------------------------------ refusals

def never_standing(tool: str) -> str:
    return (f"Sorry, `{tool}` can't be approved for a whole thread: the access policy asks for each call. "
            "Nothing was changed.")


def may_not_grant(tool: str) -> str:
    return (f"Sorry, the access policy doesn't let you approve `{tool}` for the whole thread. Nothing was "
            "changed; you may still approve this call alone.")


GRANT_ENDED = "This standing approval has already ended (expired or revoked). Nothing was changed."
REVOKE_NOT_ALLOWED = ("Sorry, only whoever gave this standing approval, or the person whose calls it "
                      "approves, may revoke it. Nothing was changed.")
NOTHING_TO_APPROVE = "Nothing in this run is waiting for approval any more."


def approve_all_left(left: list[tuple[Approval, str]], approved: int) -> str:
    """What "Approve all" could not approve (each with why), after approving ``approved``."""
    done = f"Approved {approved}. " if approved else ""
    lines = "\n".join(f"• `{approval.tool}` (node `{approval.node_id}`): {why}" for approval, why in left)
    return f"{done}Not approved by you, still waiting:\n{lines}"
