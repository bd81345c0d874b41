"""Scenarios: a request with a red node, approved or rejected while the green branch runs."""

from __future__ import annotations

from tests.bot.chat import ALICE, MEMORY, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack

DEPLOY_AND_LOOK_UP = {
    "thought": "deploying needs approval; the lookups do not depend on it",
    "nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship release 1.2"},
        {"id": "a", "tool": "lookup", "args": {"key": "a"}},
        {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
    ],
}

DEPLOY_THEN_VERIFY = {
    "thought": "deploy, then verify it",
    "nodes": [
        {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship release 1.2"},
        {"id": "verify", "tool": "lookup", "args": {"key": "${deploy.deployed}"}},
        {"id": "docs", "tool": "lookup", "args": {"key": "release-notes"}},
    ],
}


async def test_approve_while_the_green_branch_runs(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY_AND_LOOK_UP, finish("Deployed **prod**.")]) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)

        # alice asks; the bot quotes her request and posts a status message before any plan exists
        thread = await alice.runs("deploy prod and look up a")
        assert "<@U0ALICE> asked" in thread.root().content
        status = await thread.status_message()
        assert "Planning" in status.history()[0]

        # the bot shows an approval for the red node; the green branch runs to the end meanwhile
        approval = await thread.approval_for("deploy")
        assert '"target": "prod"' in approval.content and "ship release 1.2" in approval.content
        assert "May approve: <@U0ALICE>" in approval.content
        await thread.status_showing(":white_check_mark: `a`", ":white_check_mark: `b`",
                                    ":raised_hand: `deploy`")
        edits_before_click = len(status.versions)
        assert app.log.count("deploy") == 0

        # alice approves; the red tool runs once and the answer arrives with its footer
        await alice.approves(approval)
        answer = await thread.answer()
        assert "Deployed **prod**." in answer.content  # the LLM's Markdown, in a markdown block
        assert answer.blocks[0] == {"type": "markdown", "text": "Deployed **prod**."}
        assert "3 nodes run" in answer.content and "LLM tokens" in answer.content
        assert app.log.count("deploy") == 1

        # the approval now says who approved and has no buttons; the status is final
        await slack.wait_for(lambda: "Approved by <@U0ALICE>" in approval.content, what="approval updated")
        assert approval.buttons() == []
        await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `deploy`")
        assert status.buttons() == []

        # the edits before the click show the green branch done while deploy waited
        before = status.history()[:edits_before_click]
        assert any(":white_check_mark: `b`" in v and ":raised_hand: `deploy`" in v for v in before)
        assert not any(":white_check_mark: `deploy`" in v for v in before)


async def test_reject_with_a_reason_skips_the_dependents(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY_THEN_VERIFY, finish("I did not deploy.")]) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("deploy prod and verify")
        approval = await thread.approval_for("deploy")

        # alice rejects, giving a reason in the modal
        await alice.rejects(approval, reason="change freeze until Monday")

        # the approval says who rejected and why; verify (which needed deploy) is skipped
        await slack.wait_for(lambda: "Rejected by <@U0ALICE>: change freeze until Monday" in approval.content,
                             what="approval shows the rejection")
        answer = await thread.answer()
        assert "I did not deploy." in answer.content
        assert "`deploy` (deploy) did not run: rejected by <@U0ALICE>: change freeze until Monday" in answer.content
        await thread.status_showing(":no_entry: `deploy`", ":fast_forward: `verify`", ":white_check_mark: `docs`")
        assert app.log.count("deploy") == 0
        assert app.log.args_of("lookup") == [{"key": "release-notes"}]
