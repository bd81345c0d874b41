"""Every message and modal dagbot renders passes the emulated Slack's Block Kit rules, as it must pass
Slack's; and the rules catch the mistakes they exist for."""

from __future__ import annotations

import time

import pytest

from agent.plan.readiness import NodeState
from agent.ports.stores import Approval, ApprovalStatus
from bot.views.approval_view import reject_modal, render_approval
from bot.views.progress_view import NodeView, Phase, RunProgress
from bot.views.reply_view import answer_replies, failure_replies, help_reply, root_message
from bot.views.status_view import render_status
from infra.emulators.slack.blockkit import message_refusal, view_refusal


def approval(status: ApprovalStatus, **fields: object) -> Approval:
    base: dict[str, object] = dict(
        id="a1", thread_id="t", plan_id="p", run_id="r", node_id="mail", tool="send_email",
        args={"to": "ops@example.com", "body": "x" * 5000}, args_digest="d", why="asked " * 600,
        requested_by="U0ALICE", status=status, requested_at=time.time(), expires_at=time.time() + 60,
        decided_by="U0BOB" if status is not ApprovalStatus.PENDING else None, reason="no " * 400,
        note="check first " * 300)
    base.update(fields)
    return Approval(**base)  # type: ignore[arg-type]


def progress(phase: Phase, nodes: int) -> RunProgress:
    run = RunProgress(request="req", requested_by="U0ALICE", phase=phase, started_at=time.time() - 5,
                      thought="because " * 300, note="failed " * 400, cancelled_by="U0BOB")
    for i in range(nodes):
        run.nodes[f"n{i}"] = NodeView(id=f"n{i}", label="http_get " + "u" * 200, state=list(NodeState)[i % 6],
                                      detail="e" * 500, attempt=2, max_attempts=3)
    return run


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("nodes", [0, 1, 40])
def test_status_messages_pass(phase: Phase, nodes: int) -> None:
    text, blocks = render_status(progress(phase, nodes), time.time(), "slack:T:C:1.0")
    assert message_refusal(text, blocks) is None


@pytest.mark.parametrize("status", list(ApprovalStatus))
def test_approval_messages_pass(status: ApprovalStatus) -> None:
    text, blocks = render_approval(approval(status), "<@U0ALICE>")
    assert message_refusal(text, blocks) is None


def test_reject_modal_passes() -> None:
    assert view_refusal(reject_modal(approval(ApprovalStatus.PENDING), "m" * 2000)) is None


@pytest.mark.parametrize("append", [True, False, None])
def test_edit_modal_passes(append: bool | None) -> None:
    from agent.tools.files import WriteFileArgs
    from bot.views.edit_view import EditTarget, edit_modal

    args = {"path": "logs/app.log", "content": "", **({} if append is None else {"append": append})}
    view = edit_modal(approval(ApprovalStatus.PENDING, tool="write_file", args=args),
                      EditTarget(WriteFileArgs.model_json_schema(), frozenset()), "m")
    assert view_refusal(view) is None


@pytest.mark.parametrize("answer", ["short", "# Title\n**bold** and `code`\n" * 3000,
                                    "```\n" + "code line\n" * 4000 + "```"])
def test_answers_and_failures_pass(answer: str) -> None:
    run = progress(Phase.ANSWERED, 3)
    for reply in answer_replies(answer, run, "demo model: it only knows the example requests"):
        assert message_refusal(reply.text, reply.blocks) is None
    for reply in failure_replies(answer, run):
        assert message_refusal(reply.text, reply.blocks) is None


def test_help_and_root_messages_pass() -> None:
    for reply in (help_reply("/agent"), root_message("U0ALICE", "do " * 2000)):
        assert message_refusal(reply.text, reply.blocks) is None


def test_the_rules_catch_what_they_are_for() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert message_refusal("t", [section] * 51).error == "invalid_blocks"  # type: ignore[union-attr]
    assert message_refusal("x" * 40_001, []).error == "msg_too_long"  # type: ignore[union-attr]
    assert message_refusal("", None).error == "no_text"  # type: ignore[union-attr]
    assert message_refusal("t", "not a list").error == "invalid_blocks_format"  # type: ignore[union-attr]
    markdown = {"type": "markdown", "text": "m" * 7000}
    assert message_refusal("t", [markdown, markdown]).error == "invalid_blocks"  # type: ignore[union-attr]
    assert message_refusal("t", [markdown]) is None
    rich = {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                               "elements": [{"type": "text", "text": "hi"}]}]}
    assert message_refusal("t", [rich, {"type": "divider"}]) is None
    styled = {"type": "actions", "elements": [{"type": "button", "action_id": "a", "style": "loud",
                                               "text": {"type": "plain_text", "text": "Go"}}]}
    assert message_refusal("t", [styled]).error == "invalid_blocks"  # type: ignore[union-attr]


def test_the_page_shows_every_emoji_the_bot_writes() -> None:
    """The page turns a shortcode into its emoji only from its own table; one the bot writes and
    the table lacks would show as ``:name:`` text, as Slack never does."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (root / "infra/playground/static/playground.js").read_text()
    table = script[script.index("const EMOJI = {"):script.index("};", script.index("const EMOJI = {"))]
    known = set(re.findall(r'(?:^|[\s{,])"?([a-z0-9_+-]+)"?:\s*"', table))
    written = {name for folder in ("bot", "agent", "infra/playground")
               for path in (root / folder).rglob("*.py")
               for name in re.findall(r"(?<![\w:]):([a-z](?:[a-z0-9_+-]*[a-z0-9])?):(?![\w:])", path.read_text())}
    sphinx_roles = {"mod", "class", "func", "meth", "data", "attr"}
    assert written - sphinx_roles - known == set()
