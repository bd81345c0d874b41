"""Scenarios in Slack's assistant pane: suggested prompts from the tools a person may use, a
title from the request, an "is …" status naming the nodes being run (cleared at the end), and
everything else — plans, approvals, follow-ups, cancel — as in channels, one LangGraph thread
per assistant thread. Without the assistant scope it all still works, without the extras."""

from __future__ import annotations

from bot.access.policy import Policy
from bot.ground.threads import ThreadRef
from tests.bot.chat import ALICE, BOB, MALLORY, MEMORY, Thread, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack

LOOK_UP_HELD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a", "gate": "hold"}}]}
LOOK_UP_B = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}
DEPLOYERS_ONLY = Policy.model_validate({"tools": {"deploy": {"requesters": [ALICE]}}})


def titles(prompts: dict[str, object]) -> list[str]:
    return [str(p["title"]).split(":")[0] for p in prompts["prompts"]]  # type: ignore[attr-defined]


async def test_a_thread_in_the_pane_gets_prompts_a_title_and_statuses(slack: FakeSlack) -> None:
    replies = [LOOK_UP_HELD, finish("a is 'value of a'"), LOOK_UP_B, finish("b is 'value of b'")]
    async with running_bot(slack, MEMORY, replies, policy=DEPLOYERS_ONLY) as app, \
            chat_with(slack, app) as chat:
        root = await chat.driver.open_assistant_thread(ALICE, context_channel="C0OPS")
        where = (root.channel, root.ts)
        prompts = await slack.wait_for(lambda: slack.prompts.get(where), what="suggested prompts")
        assert titles(prompts) == ["broken", "lookup", "deploy", "scale"]  # read-only tools first
        assert all(p["message"] for p in prompts["prompts"])

        # mallory may not deploy: her pane does not suggest it
        other = await chat.driver.open_assistant_thread(MALLORY)
        assert "deploy" not in titles(await slack.wait_for(lambda: slack.prompts.get((other.channel, other.ts)),
                                                           what="mallory's prompts"))

        # alice asks in the thread: a run starts there (a status message with Cancel, as in channels)
        await chat.person(ALICE).says("look up a please", channel=root.channel,
                                      thread=Thread(chat, root.channel, root.ts))
        thread = Thread(chat, root.channel, root.ts)
        await thread.status_showing(":arrows_counterclockwise: `a`")
        assert slack.titles[where] == "look up a please"
        await slack.wait_for(lambda: "is running a (lookup)…" in slack.statuses.get(where, []),
                             what="the running status")
        app.log.gates["hold"].set()
        answer = await thread.answer()
        assert "value of a" in answer.content
        await settle(app)
        shown = slack.statuses[where]
        assert shown[0] == "is planning…" and shown[-1] == ""  # cleared once answered
        assert shown.index("is planning…") < shown.index("is running a (lookup)…")

        # a follow-up continues the same LangGraph thread; the title stays the first request's
        await chat.person(ALICE).says("and b", channel=root.channel, thread=thread)
        assert "value of b" in (await thread.answer(1)).content
        await settle(app)  # (the run's history is checkpointed just after its answer goes out)
        key = ThreadRef(slack.team, root.channel, root.ts).key
        state = await app.engine.state(key)
        assert [run["request"] for run in state["history"]] == ["look up a please", "and b"]
        assert slack.titles[where] == "look up a please"
        assert len(slack.calls_of("assistant.threads.setTitle")) == 1


async def test_approvals_and_cancel_work_in_the_pane(slack: FakeSlack) -> None:
    replies = [DEPLOY, finish("deployed"), LOOK_UP_HELD]
    async with running_bot(slack, MEMORY, replies, approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        root = await chat.driver.open_assistant_thread(ALICE)
        thread = Thread(chat, root.channel, root.ts)
        await alice.says("deploy prod", channel=root.channel, thread=thread)
        await bob.approves(await thread.approval_for("ship"))
        assert "deployed" in (await thread.answer()).content
        assert app.log.count("deploy") == 1

        await alice.says("look up a", channel=root.channel, thread=thread)
        await thread.status_showing(":arrows_counterclockwise: `a`", index=1)
        await alice.cancels(thread)
        await thread.status_showing("Cancelled", index=1)
        await settle(app)
        assert slack.statuses[(root.channel, root.ts)][-1] == ""


async def test_without_the_assistant_scope_the_pane_still_answers(slack: FakeSlack) -> None:
    slack.assistant_error = "missing_scope"
    async with running_bot(slack, MEMORY, [LOOK_UP_B, finish("b is 'value of b'")]) as app, \
            chat_with(slack, app) as chat:
        root = await chat.driver.open_assistant_thread(ALICE)
        thread = Thread(chat, root.channel, root.ts)
        await chat.person(ALICE).says("look up b", channel=root.channel, thread=thread)
        assert "value of b" in (await thread.answer()).content
        await settle(app)
        # refused once (the prompts), then not tried again: no title, no statuses
        assistant_calls = [c.method for c in slack.calls if c.method.startswith("assistant.")]
        assert assistant_calls == ["assistant.threads.setSuggestedPrompts"]
        assert slack.statuses == {} and slack.titles == {}
