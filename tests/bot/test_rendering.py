"""Block Kit rendering is pure: limits, icons, buttons, splitting — no Slack, no engine."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from agent.events import AnswerReady, AwaitingApproval, NodeFinished, NodeStarted, PlanReady
from agent.ports.stores import Approval, ApprovalStatus
from bot.ground.blocks import (
    MAX_BLOCKS,
    MAX_VIEW_BLOCKS,
    SECTION_TEXT_LIMIT,
    clip,
    fit,
    line_sections,
    section,
)
from bot.ground.mrkdwn import escape, markdown_to_mrkdwn, split_text
from bot.views.approval_view import pretty_args, reason_from, reject_modal, render_approval
from bot.views.home_view import MAX_APPROVALS, home_view
from bot.views.progress_view import RunProgress
from bot.views.reply_view import answer_replies, status_reply
from bot.views.status_view import render_status
from tests.fakes.slack_api import block_problems


def approval(**changes: object) -> Approval:
    values: dict[str, object] = dict(
        id="ap1", thread_id="slack:T:C:1.0", plan_id="p1", node_id="deploy", tool="deploy",
        args={"target": "prod"}, args_digest="d", why="ship it", status=ApprovalStatus.PENDING,
        requested_by="U1", requested_at=1000.0, expires_at=2000.0)
    values.update(changes)
    return Approval(**values)  # type: ignore[arg-type]


def progress_with(nodes: int) -> RunProgress:
    progress = RunProgress(request="r", requested_by="U1", started_at=time.time())
    plan = {"thought": "t", "nodes": [{"id": f"n{i}", "tool": "lookup", "args": {}} for i in range(nodes)]}
    progress.apply(PlanReady(thread_id="t", run_id="r", plan=plan))
    return progress


# ------------------------------------------------------------------ mrkdwn


def test_markdown_becomes_mrkdwn() -> None:
    text = "# Result\n**bold** and *italic* and ~~gone~~\n- one\n- two\nsee [docs](https://x.test/a?b=1&c=2)"
    assert markdown_to_mrkdwn(text) == (
        "*Result*\n*bold* and _italic_ and ~gone~\n• one\n• two\nsee docs (https://x.test/a?b=1&amp;c=2)")
    assert markdown_to_mrkdwn("[https://x.test](https://x.test)") == "<https://x.test|https://x.test>"


def test_code_is_left_alone_but_escaped() -> None:
    text = "run `a < b` then\n```\nif x > 1 and **y**:\n```"
    assert markdown_to_mrkdwn(text) == "run `a &lt; b` then\n```\nif x &gt; 1 and **y**:\n```"


def test_escaping_shows_untrusted_text_as_written() -> None:
    assert escape("<@U123> & <#C1|ops> <https://a.test|a> <script> in <#C2>") == (
        "&lt;@U123&gt; &amp; &lt;#C1|ops&gt; &lt;https://a.test|a&gt; &lt;script&gt; in <#C2>")


@given(st.text(alphabet=st.sampled_from(list("ab \n`x")), max_size=4000), st.integers(64, 500))
def test_split_text_respects_the_limit_and_keeps_fences_balanced(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    if text.count("```") % 2 == 0:
        assert all(chunk.count("```") % 2 == 0 for chunk in chunks)
    assert "".join(c.replace("```", "").replace("\n", "").replace(" ", "") for c in chunks) == \
        text.replace("```", "").replace("\n", "").replace(" ", "")


# ------------------------------------------------------------------ blocks


def test_blocks_stay_within_slack_limits() -> None:
    assert clip("x" * 10, 5) == "xxxx…"
    sections = line_sections(["y" * 1000] * 10 + ["z" * 5000])
    assert all(len(s["text"]["text"]) <= SECTION_TEXT_LIMIT for s in sections)
    blocks = fit([section(str(i)) for i in range(80)], keep_last=2)
    assert len(blocks) == MAX_BLOCKS and blocks[-1]["text"]["text"] == "79"


# ------------------------------------------------------------------ status


def test_status_shows_node_states_and_a_cancel_button_while_active() -> None:
    progress = progress_with(2)
    progress.apply(NodeStarted(thread_id="t", run_id="r", node_id="n0", label="lookup"))
    progress.apply(NodeFinished(thread_id="t", run_id="r", node_id="n1", preview="v"))
    _, blocks = render_status(progress, time.time(), "slack:T:C:1.0")
    rendered = "\n".join(b.get("text", {}).get("text", "") for b in blocks)
    assert ":arrows_counterclockwise: `n0` lookup" in rendered and ":white_check_mark: `n1`" in rendered
    assert blocks[-1]["elements"][0]["value"] == "slack:T:C:1.0"
    progress.apply(AnswerReady(thread_id="t", run_id="r", answer="a", duration_s=1, nodes_run=2, tokens=5))
    _, final = render_status(progress, time.time(), "slack:T:C:1.0")
    assert all(b["type"] != "actions" for b in final)


def test_a_huge_plan_still_fits_one_message() -> None:
    progress = progress_with(40)
    for node in progress.nodes.values():
        node.detail = "e" * 400
    text, blocks = render_status(progress, time.time(), "slack:T:C:1.0")
    assert block_problems(text, blocks) == []


# --------------------------------------------------------------- approvals


def test_approval_pending_has_buttons_then_shows_the_decision() -> None:
    _, pending = render_approval(approval(), "<@U1>")
    buttons = pending[-1]["elements"]
    assert [(b["text"]["text"], b.get("style")) for b in buttons] == [
        ("Approve", "primary"), ("Reject", "danger"), ("Edit", None)]
    decided = approval(status=ApprovalStatus.REJECTED, decided_by="U2", reason="not <now>")
    _, blocks = render_approval(decided, "<@U1>")
    assert blocks[-1]["text"]["text"] == ":no_entry: Rejected by <@U2>: not &lt;now&gt;"
    assert all(b["type"] != "actions" for b in blocks)


def test_big_arguments_are_cut_to_fit() -> None:
    huge = approval(args={"body": "x" * 50_000, "to": "team@example.com"}, why="w" * 9000, note="n" * 9000)
    text, blocks = render_approval(huge, "<@U1>")
    assert block_problems(text, blocks) == []
    assert "more characters" in pretty_args(huge.args)


def test_big_edited_arguments_fit_and_secrets_never_show() -> None:
    from dataclasses import replace

    edited = replace(approval(args={"body": "x" * 50_000, "token": "tok-1"}), edited_by="U2", edits=1,
                     edited_args={"body": "y" * 50_000, "token": "tok-2"})
    text, blocks = render_approval(edited, "<@U1>", secret=frozenset({"token"}))
    assert block_problems(text, blocks) == []
    shown = str(blocks)
    assert "tok-1" not in shown and "tok-2" not in shown and "Edited by <@U2>" in shown
    assert blocks[-1]["block_id"] == f"approval:{edited.id}:1"  # Approve names the version it shows


def test_home_shows_each_approval_whole_within_the_view_limit() -> None:
    edited = [render_approval(approval(id=f"ap{i}", node_id=f"d{i}", edited_args={"target": "staging"},
                                       edited_by="U2", edits=1, note="check first"), "<@U2>")[1]
              for i in range(MAX_APPROVALS)]
    assert len(edited[0]) == 9  # heading, edit, both argument sets (titled), why, note, context, buttons
    blocks = home_view([], edited, 12, [])["blocks"]
    assert MAX_BLOCKS < len(blocks) <= MAX_VIEW_BLOCKS and not block_problems("", blocks, max_blocks=100)
    titles = [b for b in blocks if b["type"] == "section" and "Approval needed" in b["text"]["text"]]
    buttons = [b for b in blocks if b["type"] == "actions"]
    assert len(titles) == len(buttons) == MAX_APPROVALS  # every approval shown has its buttons
    assert any("and 12 more" in str(b) for b in blocks) and "*Your recent runs*" in str(blocks[-2])

    # approvals too big for the view together: those shown are whole, the others counted
    huge = [[*blocks, section("more")] * 3 for blocks in edited]  # 27 blocks each, 3 buttons blocks
    blocks = home_view([], huge, 0, [])["blocks"]
    whole = len([b for b in blocks if b["type"] == "actions"]) // 3
    assert len(blocks) <= MAX_VIEW_BLOCKS and 0 < whole < MAX_APPROVALS
    assert any(f"and {MAX_APPROVALS - whole} more" in str(b) for b in blocks) and "not shown" not in str(blocks)


def test_the_reject_modal_carries_the_approval_and_reads_the_reason() -> None:
    modal = reject_modal(approval(), '{"approval_id": "ap1"}')
    assert modal["private_metadata"] == '{"approval_id": "ap1"}' and len(modal["title"]["text"]) <= 24
    state = {"state": {"values": {"reason": {"reason": {"value": "  too risky "}}}}}
    assert reason_from(state) == "too risky"
    assert reason_from({"state": {"values": {"reason": {"reason": {"value": None}}}}}) is None


# ----------------------------------------------------------------- answers


def test_a_long_answer_is_split_over_messages_within_limits() -> None:
    progress = progress_with(1)
    progress.apply(AwaitingApproval(thread_id="t", run_id="r", approval_id="a", node_id="n0", tool="deploy",
                                    args={}, why="", requested_by="U1", expires_at=0))
    progress.apply(AnswerReady(thread_id="t", run_id="r", answer="", duration_s=2.5, nodes_run=3, tokens=1234))
    answer = "\n\n".join(f"paragraph {i} " + "word " * 200 for i in range(200))
    replies = answer_replies(answer, progress)
    assert len(replies) > 1
    assert all(block_problems(r.text, r.blocks) == [] for r in replies)
    assert "1,234 LLM tokens" in replies[-1].blocks[-1]["elements"][0]["text"]
    assert "(part 1 of" in replies[0].blocks[-1]["elements"][0]["text"]


def test_status_reply_lists_runs_and_approvals() -> None:
    from bot.views.reply_view import ApprovalLine, RunLine

    reply = status_reply([RunLine("https://x.test/1", "deploy <prod>", "running")],
                         [ApprovalLine("https://x.test/2", "deploy", "d", "U1")])
    text = reply.blocks[0]["text"]["text"]
    assert "<https://x.test/1|deploy &lt;prod&gt;> — running" in text and "`deploy` (node `d`)" in text
    # a request is stored as Slack sent it, escaped: it is shown as typed, not escaped twice
    reply = status_reply([RunLine("https://x.test/1", "a &lt; b &amp;&amp; <@U1> &gt; c", "running")], [])
    assert "<https://x.test/1|a &lt; b &amp;&amp; &lt;@U1&gt; &gt; c> — running" in reply.text
