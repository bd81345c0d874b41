"""Text dagbot did not write (tools' output and errors, the model's plans and answers, reasons
people type) never pings in Slack (@channel, @here, @everyone, a user group), never mentions
someone the run does not involve, and never shows a link whose label hides its address. The
bot's own mentions (who asked, who decided, who may approve) keep working. Answers are checked
as posted, as streamed piece by piece, and as filled in from a plan's answer template."""

from __future__ import annotations

import json
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.answer.template import templated_answer
from agent.events import DecisionRecorded, NodeFailed, PlanReady
from bot.ground.mrkdwn import WORD_JOINER, escape, safe_markdown, streamable_markdown
from bot.views.answer_view import answer_messages
from bot.views.progress_view import RunProgress
from bot.views.reply_view import failure_replies, root_message
from bot.views.status_view import render_status
from tests.bot.chat import ALICE, BOB, MEMORY, chat_with, finish, running_bot, settle
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, Message

HOSTILE = ("<!channel> <!here> <!everyone> <!subteam^S0SRE|@sre> <@U0CEO> "
           "<https://evil.example/login|https://sso.example.com>")
"""What a web page, a database row or a prompt-injected model may put in front of the bot."""
PINGS = ("<!channel", "<!here", "<!everyone", "<!subteam", "<@U0CEO", "|https://sso.example.com>")


def leaks(*texts: str) -> list[str]:
    shown = "\n".join(texts)
    return [sequence for sequence in PINGS if sequence in shown]


def shown(message: Message) -> str:
    """Everything the message ever showed: each version's text and blocks, and its stream."""
    return json.dumps([message.versions, message.text, message.blocks, message.appended], ensure_ascii=False)


def at(name: str) -> str:
    """How a special mention shows once it cannot ping: "@here", with an invisible joiner."""
    return "@" + WORD_JOINER + name


# ------------------------------------------------------------------ pure rendering


def test_a_tool_error_in_the_status_message_shows_as_written_without_pinging() -> None:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    progress.apply(PlanReady(thread_id="t", run_id="r", plan={"thought": HOSTILE,
                                                              "nodes": [{"id": "q", "tool": "sql_query"}]}))
    progress.apply(NodeFailed(thread_id="t", run_id="r", node_id="q", error=f'invalid input: "{HOSTILE}"'))
    _, blocks = render_status(progress, 1.0, "k")
    rendered = json.dumps(blocks)
    assert leaks(rendered) == []
    assert "&lt;!channel&gt;" in rendered and "&lt;https://evil.example/login|https://sso.example.com&gt;" in rendered


def test_a_rejection_shows_who_rejected_and_their_reason_escaped() -> None:
    progress = RunProgress(request="r", requested_by=ALICE, started_at=0.0)
    progress.apply(PlanReady(thread_id="t", run_id="r", plan={"nodes": [{"id": "d", "tool": "deploy"}]}))
    progress.apply(DecisionRecorded(thread_id="t", run_id="r", approval_id="a", node_id="d", status="rejected",
                                    decided_by=BOB, reason=f"no, {HOSTILE}"))
    _, status = render_status(progress, 1.0, "k")
    failed = failure_replies("the run failed", progress)
    answered = answer_messages("I did not deploy.", progress)
    for rendered in (json.dumps(status), json.dumps([r.blocks for r in failed]),
                     json.dumps([r.blocks for r in answered])):
        assert leaks(rendered) == []
        assert f"rejected by <@{BOB}>: no, &lt;!channel&gt;" in rendered  # the bot's mention, the reason as typed


def test_an_answer_template_filled_with_a_fetched_page_does_not_ping() -> None:
    plan = {"nodes": [{"id": "page", "tool": "http_get"}], "answer": "The page is titled: ${page.title}"}
    answer = templated_answer(plan, {"page": {"status": "done", "output": {"title": HOSTILE, "status": 200}}})
    assert answer is not None
    [reply] = answer_messages(answer, RunProgress(request="r", requested_by=ALICE, started_at=0.0))
    assert leaks(reply.text, json.dumps(reply.blocks)) == []
    assert reply.blocks[0]["text"] == (
        f"The page is titled: {at('channel')} {at('here')} {at('everyone')} @sre @U0CEO "
        "https://sso.example.com (https://evil.example/login)")


def test_special_mentions_and_links_in_markdown_show_as_what_they_stand_for() -> None:
    cases = {
        "<!here|here> and <!channel>": f"{at('here')} and {at('channel')}",
        "bare @here, @Channel and @everyone": f"bare {at('here')}, {at('Channel')} and {at('everyone')}",
        "mail ops@here.example, @heresy": "mail ops@here.example, @heresy",
        "&lt;!channel&gt; &#60;!here&#62;": f"{at('channel')} {at('here')}",  # entities a renderer may decode
        "<!subteam^S0SRE> <!date^1700000000^{date}|Nov 14>": "@S0SRE Nov 14",
        "<@U0CEO|the boss> in <#C0GEN|general>, <#ops>": "@the boss in <#C0GEN>, #ops",  # a channel: no ping
        "[https://sso.example.com](https://evil.example/login)": "https://sso.example.com (https://evil.example/login)",
        "![logo](https://evil.example/x.png) [docs](https://docs.example.com)":
            "logo (https://evil.example/x.png) docs (https://docs.example.com)",
        "[https://docs.example.com](https://docs.example.com)": "[https://docs.example.com](https://docs.example.com)",
        "[[a](https://a.example)](https://evil.example)": "[a (https://a.example)] (https://evil.example)",
        "[sso]\n\n[sso]: https://evil.example": "[sso]\n\n\\[sso]: https://evil.example",
        "`[a](b)` then ```x``` and Array<string|number>": "`[a](b)` then ```x``` and Array<string|number>",
        "```\nhandlers[i](event) <!here>\n```": f"```\nhandlers[i](event) {at('here')}\n```",
        "```\nnot closed, so not code: [x](https://evil.example)": "```\nnot closed, so not code: x (https://evil.example)",
        "not closed: <!chan": f"not closed: <{WORD_JOINER}!chan",  # nothing can read it any more
    }
    for written, safe in cases.items():
        assert safe_markdown(written) == safe, written


def test_slack_syntax_too_long_to_read_is_broken_not_read() -> None:
    long_link = "<https://evil.example/" + "x" * 600 + "|https://sso.example.com>"
    assert safe_markdown(long_link) == "<" + WORD_JOINER + long_link[1:]  # shown as written: its address too
    long_mention = "<!subteam^S0SRE|" + "@" * 600 + ">"
    assert safe_markdown(long_mention) == "<" + WORD_JOINER + long_mention[1:]


def test_the_run_own_people_may_be_mentioned_in_an_answer_others_not() -> None:
    assert safe_markdown(f"<@{ALICE}> asked, <@{BOB}|bob> rejected, <@U0CEO> was cc'd", {ALICE, BOB}) == (
        f"<@{ALICE}> asked, <@{BOB}> rejected, @U0CEO was cc'd")
    assert escape(f"<@{ALICE}> & <@U0CEO>", {ALICE}) == f"<@{ALICE}> &amp; &lt;@U0CEO&gt;"


def test_a_request_quoted_by_the_bot_does_not_ping_for_the_requester() -> None:
    reply = root_message(ALICE, "tell <!channel> and <!subteam^S0SRE|@sre> that <@U0BOB> deploys")
    assert leaks(reply.text) == [] and "<!subteam" not in reply.text
    assert reply.text == f"<@{ALICE}> asked:\n> tell {at('channel')} and @sre that <@U0BOB> deploys"


PIECES = ["<", ">", "!", "@", "here", "channel", "[", "]", "(", ")", "`", "```", "\n", " ", "x", "|", ":",
          "https://a", "&lt;", "&gt;", "\\", '"', "#", "subteam^S1", "U1", "U2", "    "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
@example(["<", ":", "&gt;", "|", " ", ">"])  # a "&gt;" before the "|" closed nothing yet
@example(["<", "<", "#", ">", " ", ">"])  # the first "<" opened syntax once "<#>" was read
def test_what_is_streamed_never_changes_and_the_whole_answer_is_safe(pieces: list[str]) -> None:
    answer = "".join(pieces)
    final = safe_markdown(answer, {"U1"})
    for end in range(len(answer) + 1):  # each moment of the stream: Slack keeps what was appended
        assert final.startswith(streamable_markdown(answer[:end], {"U1"})), answer[:end]
    if "```" not in answer:  # (a code block is streamed once closed)
        assert streamable_markdown(answer + "\n", {"U1"}) == safe_markdown(answer + "\n", {"U1"})
    assert safe_markdown(final, {"U1"}) == final
    # no complete Slack sequence is left but a mention of the run's people
    assert not re.search(r"(?:<|&lt;)(?:!|#(?![CG][A-Z0-9]+>)|@(?!U1>)|https://a\|)[^<>\n]*?(?:>|&gt;)", final), final


# ------------------------------------------------------------------ in Slack


async def test_status_and_approval_messages_show_untrusted_text_without_pinging(
        slack: FakeSlack) -> None:
    plan = {"thought": f"the runbook says {HOSTILE}", "nodes": [
        {"id": "q", "tool": "broken", "args": {"key": HOSTILE}},
        {"id": "d", "tool": "deploy", "args": {"target": "prod", "note": HOSTILE}, "why": f"the page said {HOSTILE}"},
    ]}
    async with running_bot(slack, MEMORY, [plan, finish(f"Deployed. {HOSTILE}")]) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("check and deploy")
        approval = await thread.approval_for("d")
        await alice.approves(approval)
        answer = await thread.answer()
        await settle(app)
        status = await thread.status_showing(":x: `q`", f"approved by <@{ALICE}>")
        for message in (status, approval, answer):
            assert leaks(shown(message)) == [], message.content
        assert "&lt;!channel&gt;" in status.content and "&lt;!here&gt;" in approval.content  # shown as written
        assert f"Requested by <@{ALICE}>" in approval.history()[0]  # the bot's own mentions work
        assert f"Approved by <@{ALICE}>" in approval.content
        assert at("channel") in answer.blocks[0]["text"]
        assert app.log.count("deploy") == 1


async def test_a_streamed_answer_never_pings_even_for_a_moment(slack: FakeSlack) -> None:
    text = f"Hi <@{ALICE}>, as the page asked: {HOSTILE} and [the login page](https://evil.example/login). Done."
    with FakeOpenAI([{"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}, finish(text)],
                    piece=3) as fake:  # "<!channel>" arrives as "<!c", "han", "nel>"
        model = ChatOpenAI(model="fake", base_url=fake.url, api_key=SecretStr("unused"), max_retries=0)
        async with running_bot(slack, MEMORY, [], model=model, stream_interval_seconds=0.01) as app, \
                chat_with(slack, app) as chat:
            thread = await chat.person(ALICE).runs("look up a")
            answer = await thread.answer()
            await settle(app)
    assert len(answer.appended) > 1  # it did stream, in pieces
    assert leaks(shown(answer)) == []
    assert "".join(answer.appended) == answer.text == answer.blocks[0]["text"]
    assert answer.text.startswith(f"Hi <@{ALICE}>, as the page asked: {at('channel')} {at('here')}")
    assert "the login page (https://evil.example/login)" in answer.text
