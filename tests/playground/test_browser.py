"""The playground in a real browser, used as a person would: Chromium (Debian's) driven by
Playwright. Each example is run from its suggestion chip; approvals are clicked; what the page
shows is what is asserted. One test saves docs/playground.png, the README's screenshot; another
saves what the streamed plan looks like under /tmp (DAGBOT_PLAN_SCREENSHOT), to look at."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from infra.playground.app import Playground
from infra.playground.demo import targets
from tests.sandbox.conftest import running_in_ci

pytestmark = pytest.mark.timeout(180)

CHROMIUM = os.environ.get("DAGBOT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "playground.png"
PLAN_SCREENSHOT = Path(os.environ.get("DAGBOT_PLAN_SCREENSHOT", "/tmp/dagbot-plan.png"))
"""Where the plan test saves what it saw (not in docs/: for a person to look at)."""
WAIT = 60_000
"""Milliseconds a person would wait for the bot (the examples take a few seconds each)."""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}: run `make browser` (Debian's chromium)"
        if running_in_ci():
            pytest.fail(reason + " (CI is set: the browser tests must run)", pytrace=False)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, playground: Playground) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    opened = await context.new_page()
    await opened.goto(playground.url + "/")
    await expect(opened.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT)
    yield opened
    await context.close()


def thread(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("thread-pane")


async def run_example(page: Page, key: str, root_text: str) -> None:
    """Click the suggestion, then open the thread of the request it started."""
    await page.get_by_test_id(f"example-{key}").click()
    root = page.get_by_test_id("channel-pane").get_by_test_id("message").filter(has_text=root_text)
    await expect(root).to_have_count(1, timeout=WAIT)
    await root.get_by_test_id("replies-link").click()
    await expect(thread(page)).to_be_visible()


@pytest.mark.tracker
async def test_the_page_says_it_runs_the_demo_model(page: Page) -> None:
    badge = page.get_by_test_id("model-badge")
    await expect(badge).to_contain_text("Demo model")
    await expect(badge).to_contain_text("run `make model` (a local model) or set OPENAI_API_KEY for real planning")
    for key in ("parallel", "package", "approval", "followup", "reject", "approve_all", "tracker", "tracker_note"):
        await expect(page.get_by_test_id(f"example-{key}")).to_be_visible()


@pytest.mark.tracker
async def test_a_note_in_the_playgrounds_mcp_incident_tracker_is_approved(page: Page) -> None:
    await run_example(page, "tracker_note", "Add a note to INC-142")
    await expect(thread(page)).to_contain_text("Approval needed: tracker__add_note", timeout=WAIT)
    await thread(page).get_by_role("button", name="Approve", exact=True).click()
    await expect(thread(page)).to_contain_text("Added the note to INC-142 in the incident tracker (it has 2 notes now)",
                                               timeout=WAIT)


async def test_the_test_alert_opens_its_thread_and_resolve_says_so(page: Page) -> None:
    await page.get_by_test_id("alert-fire").click()  # Alertmanager's webhook to the playground's hook
    await expect(thread(page)).to_contain_text("1 alert firing", timeout=WAIT)  # its thread opens by itself
    await expect(thread(page)).to_contain_text("checkout is degraded (p99 870 ms", timeout=WAIT)
    await expect(page.get_by_test_id("alert-info")).to_contain_text("POST /hooks/alertmanager → 200 opened")
    await page.get_by_test_id("alert-resolve").click()
    await expect(thread(page)).to_contain_text("Resolved", timeout=WAIT)
    await expect(page.get_by_test_id("alert-resolve")).to_be_hidden()


async def test_parallel_reads_then_a_follow_up_mail(page: Page) -> None:
    await run_example(page, "parallel", "How are our services doing")
    await expect(thread(page)).to_contain_text("checkout: degraded", timeout=WAIT)
    await expect(thread(page)).to_contain_text("INC-142")
    await expect(thread(page)).to_contain_text("demo model: it only knows the example requests")
    await expect(thread(page)).to_contain_text("Done", timeout=WAIT)  # the run has ended

    await page.get_by_test_id("example-followup").click()  # sent into the open thread
    await expect(thread(page).get_by_role("button", name="Approve", exact=True)).to_have_count(1, timeout=WAIT)
    await thread(page).get_by_role("button", name="Approve", exact=True).click()
    await expect(thread(page)).to_contain_text("Emailed it to oncall@example.com", timeout=WAIT)
    await page.get_by_test_id("mail-tab").click()
    mail = page.get_by_test_id("mail-item")
    await expect(mail).to_have_count(1, timeout=WAIT)
    await expect(mail).to_contain_text("oncall@example.com")
    await expect(mail).to_contain_text("dagbot: How are our services doing?")


async def test_an_answer_takes_a_thumbs_up(page: Page) -> None:
    await run_example(page, "parallel", "How are our services doing")
    await expect(thread(page)).to_contain_text("checkout: degraded", timeout=WAIT)
    good = thread(page).get_by_role("button", name="Good answer")
    await expect(good).to_have_count(1, timeout=WAIT)
    await expect(thread(page).get_by_role("button", name="Bad answer")).to_have_count(1)
    # streamed in, the answer is shown once, whole, no longer being written
    await expect(thread(page).get_by_test_id("message").filter(has_text="checkout: degraded")).to_have_count(1)
    await expect(thread(page).get_by_test_id("writing")).to_have_count(0)
    await expect(thread(page).locator("[aria-busy='true']")).to_have_count(0)
    await good.click()
    thanks = thread(page).get_by_test_id("ephemeral").filter(has_text="Thanks for the 👍")
    await expect(thanks).to_have_count(1, timeout=WAIT)
    await expect(page.get_by_test_id("refusal")).to_have_count(0)  # the stand-in took the stream and buttons


async def test_package_healed_by_reflexion(page: Page) -> None:
    await run_example(page, "package", "Count the errors")
    await expect(thread(page)).to_contain_text("checkout 4, payments 2, search 1", timeout=WAIT)
    await expect(thread(page)).to_contain_text("attempt 2/3", timeout=WAIT)


async def test_approval_waits_alone_and_only_the_requester_may_approve(page: Page) -> None:
    await run_example(page, "parallel", "How are our services doing")  # some history for the screenshot
    await expect(thread(page)).to_contain_text("checkout: degraded", timeout=WAIT)
    await run_example(page, "approval", "Publish the 2.4.0 release notes")
    approve = thread(page).get_by_role("button", name="Approve", exact=True)
    await expect(approve).to_have_count(1, timeout=WAIT)
    # The green branches finish while the approval waits.
    await expect(thread(page)).to_contain_text("Waiting for approval", timeout=WAIT)
    await expect(thread(page).locator("[data-testid='task'][data-task-id='metrics'][data-status='complete']")
                 ).to_have_count(1, timeout=WAIT)
    await expect(thread(page).get_by_test_id("writing")).to_have_count(0, timeout=WAIT)  # only waiting now
    await page.screenshot(path=str(SCREENSHOT))

    await page.get_by_test_id("user-picker").select_option(value="U0BOB")
    await approve.click()
    notice = thread(page).get_by_test_id("ephemeral").filter(has_text="may decide on this approval")
    await expect(notice).to_have_count(1, timeout=WAIT)
    await page.get_by_test_id("user-picker").select_option(value="U0ALICE")
    await expect(notice).to_have_count(0)  # shown only to bob

    await approve.click()
    await expect(thread(page)).to_contain_text("Published the 2.4.0 release notes", timeout=WAIT)
    await expect(thread(page)).to_contain_text("Approved by")
    await page.get_by_test_id("files-tab").click()
    await expect(page.get_by_test_id("file-item").filter(has_text="releases/2.4.0.md")).to_have_count(1,
                                                                                                       timeout=WAIT)


async def test_the_plan_shows_its_tasks_change_state(page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    # a slow machine's page still sees the metrics read in progress (10 s: under http_get's
    # 20 s timeout, which would retry it)
    monkeypatch.setattr(targets, "SLOW_METRICS_SECONDS", 10.0)
    await run_example(page, "approval", "Publish the 2.4.0 release notes")
    plan = thread(page).get_by_test_id("plan")
    await expect(plan).to_have_count(1, timeout=WAIT)

    def task(node: str, status: str):  # type: ignore[no-untyped-def]
        return plan.locator(f"[data-testid='task'][data-task-id='{node}'][data-status='{status}']")

    # one row per node, each changing state as the run goes: the red one waits, with a link
    await expect(plan.get_by_test_id("task")).to_have_count(4, timeout=WAIT)
    await expect(task("metrics", "in_progress")).to_have_count(1, timeout=WAIT)  # a slow read
    await expect(task("metrics", "complete")).to_have_count(1, timeout=WAIT)
    await expect(task("metrics", "complete").get_by_test_id("task-output")).to_contain_text("metrics.json")
    waiting = task("publish", "pending")
    await expect(waiting).to_have_count(1, timeout=WAIT)
    await expect(waiting.get_by_test_id("task-details")).to_contain_text("waiting for approval")
    await expect(waiting.get_by_role("link", name="Approval message")).to_have_count(1)
    await expect(thread(page).get_by_test_id("plan")).to_contain_text("Plan: 4 steps — waiting for approval")
    # its stream stays open while the approval waits, but nothing is being written
    plan_message = thread(page).get_by_test_id("message").filter(has=page.get_by_test_id("plan"))
    await expect(plan_message).to_have_attribute("aria-busy", "true")
    await expect(plan_message.get_by_test_id("writing")).to_have_count(0, timeout=WAIT)
    await plan.scroll_into_view_if_needed()
    await page.screenshot(path=str(PLAN_SCREENSHOT))

    await thread(page).get_by_role("button", name="Approve", exact=True).click()
    await expect(task("publish", "complete")).to_have_count(1, timeout=WAIT)
    await expect(plan).to_contain_text("Plan: 4 steps — done", timeout=WAIT)
    await expect(plan.locator("[data-status='pending'], [data-status='in_progress']")).to_have_count(0)
    # the answer follows in the thread, with its feedback buttons; the status message keeps Cancel only
    await expect(thread(page)).to_contain_text("Published the 2.4.0 release notes", timeout=WAIT)
    await expect(thread(page).get_by_role("button", name="Good answer")).to_have_count(1, timeout=WAIT)
    await expect(thread(page).get_by_test_id("message").filter(has_text="Done").filter(has_text="`metrics`")
                 ).to_have_count(0)


async def test_rejection_with_a_reason(page: Page) -> None:
    await run_example(page, "reject", "Clear logs/app.log")
    reject = thread(page).get_by_role("button", name="Reject")
    await expect(reject).to_have_count(1, timeout=WAIT)
    await reject.click()
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible(timeout=WAIT)
    await expect(modal.locator("label").filter(has_text="Why?")).to_have_text("Why? It is shown in the thread (optional)")
    await modal.locator("textarea").fill("we keep logs for 30 days")
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_have_count(0, timeout=WAIT)
    await expect(thread(page)).to_contain_text("did not clear logs/app.log", timeout=WAIT)
    await expect(thread(page)).to_contain_text("we keep logs for 30 days")
    await expect(thread(page)).to_contain_text("Rejected by")


BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Deploy report"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": (
        "*bold* _italic_ ~gone~ `inline code` <https://example.com/runbook|the runbook> <@U0ALICE>\n"
        "• first item\n&lt;script&gt;alert(1)&lt;/script&gt;\n```for i in 1 2 3\n  *not bold*\n```")}},
    {"type": "divider"},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": ":stopwatch: 1.2s · _small print: set OPENAI_API_KEY_"}]},
    {"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "rich ", "style": {"bold": True}},
                                                   {"type": "link", "url": "https://example.com/rt", "text": "link"}]},
        {"type": "rich_text_list", "style": "bullet", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "listed one"}]},
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "listed two"}]}]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "df -h"}]},
        {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]}]},
    {"type": "markdown", "text": "## Summary\n**strong** words, _see snake_case_name_ and a [doc](https://example.com/doc)\n\n- alpha\n- beta"},
    {"type": "actions", "block_id": "controls", "elements": [
        {"type": "button", "action_id": "go", "value": "1", "style": "primary",
         "text": {"type": "plain_text", "text": "Go"}},
        {"type": "button", "action_id": "stop", "value": "2", "style": "danger",
         "text": {"type": "plain_text", "text": "Stop"}},
        {"type": "button", "action_id": "more", "value": "3", "text": {"type": "plain_text", "text": "More"}}]},
]


async def test_every_block_type_renders_as_slack_shows_it(page: Page, playground: Playground) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    await client.chat_postMessage(channel="C0OPS", text="Deploy report", blocks=BLOCKS)
    message = page.get_by_test_id("channel-pane").get_by_test_id("message").filter(has_text="Deploy report")
    await expect(message).to_have_count(1, timeout=WAIT)
    await expect(message.locator("b", has_text="bold").first).to_be_visible()
    await expect(message.locator("i", has_text="italic").first).to_be_visible()
    await expect(message.locator("s", has_text="gone")).to_be_visible()
    await expect(message.locator("code", has_text="inline code")).to_be_visible()
    await expect(message.locator("a[href='https://example.com/runbook']")).to_have_text("the runbook")
    await expect(message).to_contain_text("@alice")
    await expect(message).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    await expect(message.locator("pre", has_text="*not bold*")).to_be_visible()  # no formatting in code
    await expect(message.locator("hr")).to_have_count(1)
    # italics around a word with underscores in it, as Slack shows them (no stray underscores)
    await expect(message.locator("i", has_text="small print: set OPENAI_API_KEY")).to_have_text(
        "small print: set OPENAI_API_KEY")
    await expect(message.locator("em, i", has_text="see snake_case_name")).to_have_text("see snake_case_name")
    await expect(message.locator("a[href='https://example.com/rt']")).to_have_text("link")
    await expect(message.locator("li", has_text="listed two")).to_be_visible()
    await expect(message.locator("pre", has_text="df -h")).to_be_visible()
    await expect(message.locator("blockquote", has_text="quoted")).to_be_visible()
    await expect(message.locator("b", has_text="strong")).to_be_visible()
    await expect(message.locator("li", has_text="beta")).to_be_visible()
    for label, style in (("Go", "primary"), ("Stop", "danger"), ("More", "default")):
        button = message.get_by_role("button", name=label)
        await expect(button).to_have_attribute("data-action-id", label.lower() if label != "More" else "more")
        await expect(button).to_have_class(re.compile(style))


async def test_an_answer_shows_slacks_mentions_as_slack_does_but_never_pings(page: Page,
                                                                            playground: Playground) -> None:
    """Slack reads its <…> syntax in markdown blocks too, and so does the page: what a model or a
    fetched page writes would ping there. The answer the bot sends from the same text does not."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.views.answer_view import answer_messages
    from bot.views.progress_view import RunProgress

    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    written = ("ping <!here> and <!subteam^S0SRE|@sre> for <@U0ALICE>: sign in at "
               "[https://sso.example.com](https://evil.example/login)")
    await client.chat_postMessage(channel="C0OPS", text="raw", blocks=[{"type": "markdown", "text": "Raw: " + written}])
    [answer] = answer_messages("Answer: " + written, RunProgress(request="r", requested_by="U0ALICE", started_at=0))
    await client.chat_postMessage(channel="C0OPS", text=answer.text, blocks=answer.blocks)
    messages = page.get_by_test_id("channel-pane").get_by_test_id("message")
    raw, sent = messages.filter(has_text="Raw:"), messages.filter(has_text="Answer:")
    await expect(sent).to_have_count(1, timeout=WAIT)
    await expect(raw.locator(".mention.broadcast")).to_have_text("@here")  # as Slack would show it: a ping
    await expect(raw.locator("a[href='https://evil.example/login']")).to_have_text("https://sso.example.com")
    await expect(sent.locator(".mention.broadcast")).to_have_count(0)
    await expect(sent.locator(".mention", has_text="@alice")).to_have_count(1)  # who asked: still a mention
    await expect(sent.locator("a[href='https://evil.example/login']")).to_have_text("https://evil.example/login")
    await expect(sent).to_contain_text("ping @\u2060here and @sre for @alice: sign in at https://sso.example.com "
                                       "(https://evil.example/login)")


async def test_a_streamed_message_shows_being_written_then_whole_then_gone(page: Page,
                                                                          playground: Playground) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    asked = playground.slack.post_as_user("C0OPS", "U0ALICE", "how is checkout?", None)
    started = await client.chat_startStream(channel="C0OPS", thread_ts=asked.ts, markdown_text="Checkout is **deg",
                                            recipient_user_id="U0ALICE", recipient_team_id=playground.slack.team)
    root = page.get_by_test_id("channel-pane").get_by_test_id("message").filter(has_text="how is checkout?")
    await root.get_by_test_id("replies-link").click()
    streamed = thread(page).get_by_test_id("message").filter(has_text="Checkout is")
    await expect(streamed.get_by_test_id("writing")).to_have_text("dagbot is writing…", timeout=WAIT)
    await expect(streamed).to_have_attribute("aria-busy", "true")  # assistive tech waits for the whole

    await client.chat_appendStream(channel="C0OPS", ts=started["ts"], markdown_text="raded**: p99 is 2.1 s")
    await expect(streamed.locator("b", has_text="degraded")).to_be_visible(timeout=WAIT)
    await expect(streamed.get_by_test_id("writing")).to_have_count(1)
    footer = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "1.2s · demo"}]}]
    await client.chat_stopStream(channel="C0OPS", ts=started["ts"], markdown_text=".", blocks=footer)
    await expect(streamed.get_by_test_id("writing")).to_have_count(0, timeout=WAIT)
    await expect(streamed).not_to_have_attribute("aria-busy", "true")
    await expect(streamed).to_contain_text("Checkout is degraded: p99 is 2.1 s.")
    await expect(streamed.locator(".context")).to_contain_text("1.2s · demo")

    await client.chat_delete(channel="C0OPS", ts=started["ts"])  # as the bot withdraws a draft
    await expect(streamed).to_have_count(0, timeout=WAIT)
    await expect(root.get_by_test_id("replies-link")).to_have_count(0)
    await expect(page.get_by_test_id("refusal")).to_have_count(0)


async def test_what_slack_would_refuse_shows_on_the_page(page: Page, playground: Playground) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0OPS", text="t", blocks=[{"type": "carousel"}])
    refusal = page.get_by_test_id("refusal")
    await expect(refusal).to_have_count(1, timeout=WAIT)
    await expect(refusal).to_contain_text("invalid_blocks")
    await expect(page.get_by_test_id("channel-pane").get_by_test_id("message")).to_have_count(0)


async def test_an_event_a_slower_state_load_missed_stays_on_the_page(page: Page, playground: Playground) -> None:
    """The page reloads its whole state whenever its event stream (re)connects. An event that arrives
    while such a load is in flight, published after the snapshot was taken, must survive the snapshot
    replacing the page's state (CI once saw the refusal list emptied that way)."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    snapshot_taken, release = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        snapshot = await route.fetch()  # taken now: before the refusal below
        snapshot_taken.set()
        await release.wait()
        await route.fulfill(response=snapshot)

    await page.route("**/ui/state", hold)
    reload = asyncio.ensure_future(page.evaluate("loadState()"))
    await asyncio.wait_for(snapshot_taken.wait(), timeout=WAIT / 1000)
    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0OPS", text="t", blocks=[{"type": "carousel"}])
    await expect(page.get_by_test_id("refusal-toast")).to_have_count(1, timeout=WAIT)  # the event is in
    release.set()
    await reload  # the stale snapshot has replaced the page's state
    await expect(page.get_by_test_id("refusal")).to_have_count(1)
    await expect(page.get_by_test_id("refusal")).to_contain_text("invalid_blocks")
    await expect(page.get_by_test_id("refusal-toast")).to_have_count(1)  # replayed quietly: no second toast


async def test_simulated_rate_limits_are_switched_from_the_page(page: Page, playground: Playground) -> None:
    await page.get_by_test_id("rate-limit-switch").check()
    await expect(page.get_by_test_id("rate-limit-switch")).to_be_checked()
    assert (await _wait_for(lambda: playground.slack.rate_limit.on))
    await run_example(page, "parallel", "How are our services doing")
    # the status edits are refused now and then, and the bot waits as told: the answer still comes
    await expect(thread(page)).to_contain_text("checkout: degraded", timeout=WAIT)
    assert playground.slack.rate_limit.refused >= 1


async def _wait_for(probe):  # type: ignore[no-untyped-def]
    from tests.fakes.waiting import wait_until

    return await wait_until(probe, within=10, what="the switch")


async def test_an_agent_conversation_shows_its_session_and_the_stop_button_cancels(
    page: Page, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The person's DM with the app (Slack's agent messaging experience): a request there is a
    thread whose session shows processing with the request as its title, and a Stop button while
    the bot works; Stop sends agent_session_stopped, and the run is cancelled as by Cancel."""
    # the metrics read outlasts a slow machine's page: the session is still processing at the click
    monkeypatch.setattr(targets, "SLOW_METRICS_SECONDS", 20.0)
    await page.get_by_test_id("dm-app").click()
    await expect(page.get_by_test_id("channel-pane")).to_contain_text("Your agent conversation with dagbot")
    request = "Publish the 2.4.0 release notes to releases/2.4.0.md and check the live error rate."
    await page.get_by_test_id("composer").fill(request)
    await page.get_by_test_id("composer").press("Enter")
    root = page.get_by_test_id("channel-pane").get_by_test_id("message").filter(has_text="Publish the 2.4.0")
    await expect(root.get_by_test_id("replies-link")).to_have_count(1, timeout=WAIT)
    await root.get_by_test_id("replies-link").click()

    session = thread(page).get_by_test_id("session")
    await expect(session.get_by_test_id("session-status")).to_have_text("processing", timeout=WAIT)
    await expect(session).to_contain_text(request[:60])  # its title: the request
    # the plan's stream is under way (on a loaded machine the session shows processing while
    # the planner still works, and a stop then stops no stream)
    await expect(thread(page).get_by_test_id("plan")).to_have_count(1, timeout=WAIT)
    await session.get_by_test_id("session-stop").click()  # while the slow metrics read runs
    # Slack stopped the plan's stream at the click: no error, no plan posted again; the status
    # message lists the nodes as the cancel left them
    await expect(thread(page)).to_contain_text("Cancelled", timeout=WAIT)
    await expect(thread(page).get_by_test_id("plan")).to_have_count(0, timeout=WAIT)
    await expect(thread(page)).to_contain_text("publish", timeout=WAIT)
    # the sidebar's "Slack refused": none, but for an append already on its way when Stop was
    # clicked (a loaded machine: Slack refuses it, message_not_in_streaming_state, as it would)
    await expect(page.get_by_test_id("refusal").filter(has_not_text="message_not_in_streaming_state")
                 ).to_have_count(0)
    await expect(session.get_by_test_id("session-status")).to_have_text("active", timeout=WAIT)
    await expect(session.get_by_test_id("session-stop")).to_have_count(0)
    await expect(session).to_have_text("active" + request)  # its status and title, nothing else ("false")
    await expect(thread(page)).not_to_contain_text("Published the 2.4.0 release notes")

    # another person sees their own conversation, not alice's
    await page.get_by_test_id("user-picker").select_option("U0BOB")
    await expect(page.get_by_test_id("channel-pane").get_by_test_id("message")).to_have_count(0)


EDIT_SCREENSHOT = Path(os.environ.get("DAGBOT_EDIT_SCREENSHOT", "/tmp/dagbot-edit.png"))


async def test_an_edited_call_runs_as_edited_and_the_answer_tells_what_ran(page: Page,
                                                                         playground: Playground) -> None:
    """Edit shows each argument as its kind asks: the file's content in a text box (its last line
    break kept), append as true/false; the approval then shows who edited it, with an emoji, and
    the answer says what the edited call did, not what the plan meant to do."""
    await run_example(page, "reject", "Clear logs/app.log")
    edit = thread(page).get_by_role("button", name="Edit")
    await expect(edit).to_have_count(1, timeout=WAIT)
    await edit.click()
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible(timeout=WAIT)
    content, append = modal.get_by_test_id("input-arg:content"), modal.get_by_test_id("input-arg:append")
    await expect(content).to_have_js_property("tagName", "TEXTAREA")
    await expect(append.get_by_role("radio", name="false")).to_be_checked()
    await expect(append.get_by_role("radio", name="true")).not_to_be_checked()
    await expect(modal).not_to_contain_text("(optional) (optional)")
    await content.fill("rotated by ops\n")
    await page.screenshot(path=str(EDIT_SCREENSHOT))
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_have_count(0, timeout=WAIT)

    approval = thread(page).get_by_test_id("message").filter(has_text="Approval needed")
    await expect(approval).to_contain_text("Edited by", timeout=WAIT)
    await expect(approval).not_to_contain_text(":pencil2:")
    await expect(approval.locator(".emoji[title=':pencil2:']")).to_have_count(1)
    await thread(page).get_by_role("button", name="Approve", exact=True).click()
    await expect(thread(page)).to_contain_text("it was not cleared", timeout=WAIT)
    await expect(thread(page)).not_to_contain_text("Cleared logs/app.log")
    await page.screenshot(path=str(EDIT_SCREENSHOT.with_name(EDIT_SCREENSHOT.stem + "-answer.png")))
    assert playground.workspace is not None
    assert (playground.workspace / "logs" / "app.log").read_text() == "rotated by ops\n"


HOME_SCREENSHOT = Path(os.environ.get("DAGBOT_HOME_SCREENSHOT", "/tmp/dagbot-home.png"))


async def test_approve_all_then_a_standing_approval_is_listed_in_home_and_revoked_there(page: Page) -> None:
    """Two approvals of one run wait together: the status message offers Approve all. A standing
    approval ("Approve for this thread") says App Home lists it: the app's Home tab does, with
    Revoke."""
    await run_example(page, "approve_all", "Write the on-call handover")
    approve_all = thread(page).get_by_role("button", name="Approve all")
    await expect(approve_all).to_have_count(1, timeout=WAIT)
    await approve_all.click()
    await expect(thread(page)).to_contain_text("Wrote the on-call handover", timeout=WAIT)
    await expect(thread(page)).to_contain_text("Emailed it to oncall@example.com")

    await page.get_by_test_id("example-approval").click()
    root = page.get_by_test_id("channel-pane").get_by_test_id("message").filter(has_text="Publish the 2.4.0")
    await expect(root).to_have_count(1, timeout=WAIT)
    await root.get_by_test_id("replies-link").click()
    await thread(page).get_by_role("button", name="Approve for this thread").click()
    await expect(thread(page)).to_contain_text("App Home lists it", timeout=WAIT)

    await page.get_by_test_id("dm-app").click()
    await page.get_by_test_id("app-tab-home").click()
    home = page.get_by_test_id("home")
    await expect(home).to_contain_text("write_file", timeout=WAIT)
    revoke = home.get_by_role("button", name="Revoke")
    await expect(revoke).to_have_count(1)
    await page.screenshot(path=str(HOME_SCREENSHOT))
    await revoke.click()
    await expect(home.get_by_role("button", name="Revoke")).to_have_count(0, timeout=WAIT)
    await page.get_by_test_id("app-tab-messages").click()
    await expect(page.get_by_test_id("composer")).to_be_visible()


async def test_an_example_opens_its_thread_and_the_channel_shows_the_newest_message(page: Page,
                                                                                  playground: Playground) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=playground.slack.token, base_url=f"{playground.url}/api/")
    for n in range(30):  # more history than the channel shows at once, in lines that wrap when it narrows
        await client.chat_postMessage(channel="C0OPS", text=f"earlier message {n}: " + "words and more " * 8)
    channel = page.get_by_test_id("channel-pane")
    await expect(channel.get_by_test_id("message").filter(has_text="earlier message 29")).to_be_in_viewport(
        timeout=WAIT)
    await page.get_by_test_id("channel-pane").locator("#channel-messages").evaluate("el => { el.scrollTop = 0; }")
    await expect(channel.get_by_test_id("message").filter(has_text="earlier message 29")).not_to_be_in_viewport()
    await page.get_by_test_id("example-package").click()
    await expect(thread(page)).to_be_visible(timeout=WAIT)  # opened by itself: no click on "replies"
    await expect(thread(page)).to_contain_text("Count the errors in logs/app.log per service.")
    await expect(thread(page)).to_contain_text("checkout 4, payments 2, search 1", timeout=WAIT)
    root = channel.get_by_test_id("message").filter(has_text="Count the errors")
    await expect(root.get_by_test_id("replies-link")).to_be_in_viewport(timeout=WAIT)
    # the thread beside it made the channel narrower, its lines longer: it still follows what comes
    await client.chat_postMessage(channel="C0OPS", text="the newest message")
    await expect(channel.get_by_test_id("message").filter(has_text="the newest message")).to_be_in_viewport(
        timeout=WAIT)
