"""Scenarios: who may ask for which tool, where the bot answers, and follow-ups by someone else."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.access.policy import Policy
from tests.bot.chat import ALICE, BOB, MALLORY, MEMORY, OPS, Chat, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack

DEPLOY = {"thought": "ship it", "nodes": [
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "asked to deploy"}]}
LOOKUP = {"thought": "read", "nodes": [{"id": "look", "tool": "lookup", "args": {"key": "health"}}]}
DEPLOYERS_ONLY = Policy.model_validate({"tools": {"deploy": {"requesters": [ALICE, "S0SRE"]}}})


def tools_offered(prompt: list[Any]) -> set[str]:
    """The tools listed in a planner prompt's "Tools" section (its system message)."""
    system = str(prompt[0].content)
    listed = system.split("## Tools\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([a-z_]+)\(", listed, re.M))


async def test_a_request_naming_a_forbidden_tool_is_refused(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, DEPLOY], policy=DEPLOYERS_ONLY) as app, \
            chat_with(slack, app) as chat:
        mallory = chat.person(MALLORY)
        thread = await mallory.runs("deploy prod")

        # the plan names deploy (the model insists, even after the repair round): validation refuses it
        failure = await thread.bot_says("could not make a valid plan")
        assert "node 'deploy', field 'tool': not allowed: only <@U0ALICE>, user group S0SRE may use " \
               "'deploy', and <@U0MALLORY> may not" in failure.content
        assert app.log.count("deploy") == 0 and thread.approvals() == []

        # the planner was never offered deploy; lookup, which nobody restricted, it was
        assert len(app.llm.calls) == 2
        for prompt in app.llm.calls:
            assert "lookup" in tools_offered(prompt) and "deploy" not in tools_offered(prompt)
        assert "not allowed: only <@U0ALICE>" in str(app.llm.calls[1][1].content)  # the repair round's


async def test_package_code_cannot_call_a_forbidden_green_tool(slack: FakeSlack) -> None:
    policy = Policy.model_validate({"tools": {"lookup": {"requesters": [ALICE]}}})
    sneaky = {"thought": "x", "nodes": [{"id": "p", "package": {
        "goal": "look it up", "code": "result = tools.lookup(key='secret')"}}]}
    async with running_bot(slack, MEMORY, [sneaky, sneaky], policy=policy) as app, \
            chat_with(slack, app) as chat:
        thread = await chat.person(BOB).runs("look up the secret")
        failure = await thread.bot_says("could not make a valid plan")
        assert "calls a tool that is not allowed: only <@U0ALICE> may use 'lookup'" in failure.content
        assert app.log.count("lookup") == 0


async def test_a_follow_up_is_checked_against_the_person_who_asks_it(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [LOOKUP, finish("healthy"), DEPLOY, DEPLOY, DEPLOY],
                           policy=DEPLOYERS_ONLY) as app, chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        thread = await alice.runs("is prod healthy?")
        await thread.answer()

        # bob follows up in alice's thread: the plan is checked against bob, who may not deploy
        await bob.replies(thread, "now deploy prod")
        failure = await thread.bot_says("and <@U0BOB> may not")
        assert "only <@U0ALICE>, user group S0SRE may use 'deploy'" in failure.content
        assert "deploy" not in tools_offered(app.llm.calls[2])
        assert app.log.count("deploy") == 0 and thread.approvals() == []

        # alice asks the same in the same thread: she may, so the plan stands and waits for approval
        await settle(app)
        await alice.replies(thread, "deploy prod")
        approval = await thread.approval_for("deploy")
        assert "deploy" in tools_offered(app.llm.calls[4])
        assert "Requested by <@U0ALICE>" in approval.content


async def test_group_members_may_use_the_tool(slack: FakeSlack) -> None:
    slack.add_usergroup("S0SRE", [BOB])
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], policy=DEPLOYERS_ONLY) as app, \
            chat_with(slack, app) as chat:
        bob = chat.person(BOB)
        thread = await bob.runs("deploy prod")
        await bob.approves(await thread.approval_for("deploy"))
        await thread.answer()
        assert app.log.count("deploy") == 1


async def test_a_tool_limited_to_a_channel_is_refused_elsewhere(slack: FakeSlack) -> None:
    slack.add_channel("C0DEPLOY", "deploys")
    policy = Policy.model_validate({"tools": {"deploy": {"channels": ["C0DEPLOY"]}}})
    async with running_bot(slack, MEMORY, [DEPLOY, DEPLOY, DEPLOY, finish("deployed")],
                           policy=policy) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        refused = await alice.runs("deploy prod", channel=OPS)
        await refused.bot_says("not allowed: 'deploy' may only be used in <#C0DEPLOY>")

        allowed = await alice.runs("deploy prod", channel="C0DEPLOY")
        await alice.approves(await allowed.approval_for("deploy"))
        await allowed.answer()
        assert app.log.count("deploy") == 1


async def test_the_bot_answers_only_in_allowed_channels_and_dms_can_be_off(slack: FakeSlack) -> None:
    slack.add_channel("C0RANDOM", "random")
    slack.add_channel("D0ALICE", "alice", im=True)
    policy = Policy.model_validate({"channels": [OPS], "direct_messages": False})
    async with running_bot(slack, MEMORY, [LOOKUP, finish("healthy")], policy=policy) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)

        # /agent in a channel that is not on the list: told so, only alice sees it, nothing posted
        response = await alice.driver.slash(ALICE, "C0RANDOM", "is prod healthy?")
        assert response.status_code == 200
        await alice.is_told("I don't take requests in this channel")
        # a mention there, and a DM: told privately (once, though a mention arrives twice)
        await alice.mentions_bot("is prod healthy?", channel="C0RANDOM")
        await alice.says("is prod healthy?", channel="D0ALICE")
        await alice.is_told("I don't take requests by direct message")
        await settle(app)
        assert sum("in this channel" in t for t in slack.told(ALICE)) == 2
        assert [m for m in slack.messages if m.is_from_bot] == []
        assert app.llm.calls == []

        # in #ops it works as always
        thread = await alice.runs("is prod healthy?")
        await thread.answer()
        await asyncio.sleep(0)


GROUP_DM = "G0MPIM"


async def mention_in(chat: Chat, channel: str, text: str, *, mention_first: bool) -> None:
    """Alice @mentions the bot: Slack sends the message twice (``message``, with its
    channel_type, and ``app_mention``, without), in either order."""
    message = chat.slack.post_as_user(channel, ALICE, f"<@{chat.slack.bot_user}> {text}")
    kinds = ["app_mention", "message"] if mention_first else ["message", "app_mention"]
    for kind in kinds:
        response = await chat.driver.event(chat.driver.message_event(message, kind))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("mention_first", [False, True], ids=["message first", "app_mention first"])
async def test_group_dms_are_direct_messages_to_the_policy(slack: FakeSlack,
                                                          mention_first: bool) -> None:
    """``direct_messages: false`` covers group DMs (Slack's mpim), whose ids look like channels'."""
    slack.add_channel(GROUP_DM, "mpdm-alice--bob--dagbot-1", mpim=True)
    policy = Policy.model_validate({"direct_messages": False})
    async with running_bot(slack, MEMORY, [LOOKUP, finish("healthy")], policy=policy) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        await mention_in(chat, GROUP_DM, "is prod healthy?", mention_first=mention_first)
        await alice.is_told("I don't take requests by direct message or in group DMs")
        response = await chat.driver.slash(ALICE, GROUP_DM, "is prod healthy?")
        assert response.status_code == 200
        await slack.wait_for(lambda: len(slack.told(ALICE)) == 2, what=f"two refusals; told: {slack.told(ALICE)}")
        await alice.says("just chatting, no request", channel=GROUP_DM)  # not for the bot: no word
        await settle(app)
        assert all("by direct message or in group DMs" in t for t in slack.told(ALICE))
        assert len(slack.told(ALICE)) == 2  # (once per request, though a mention arrives twice)
        assert [m for m in slack.messages if m.is_from_bot] == [] and app.llm.calls == []

        # in a channel it works as always
        thread = await alice.runs("is prod healthy?")
        assert "healthy" in (await thread.answer()).content


@pytest.mark.parametrize("mention_first", [False, True], ids=["message first", "app_mention first"])
async def test_a_group_dm_is_not_a_channel_outside_the_allow_list(slack: FakeSlack,
                                                                 mention_first: bool) -> None:
    """With a channel allow list and DMs on, a group DM is answered as a DM, a channel that is
    not on the list is refused: told apart though both have channel-like ids."""
    slack.add_channel(GROUP_DM, "mpdm-alice--bob--dagbot-1", mpim=True)
    slack.add_channel("G0PRIVATE", "private-ops")
    policy = Policy.model_validate({"channels": [OPS]})
    async with running_bot(slack, MEMORY, [LOOKUP, finish("healthy")], policy=policy) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        await mention_in(chat, "G0PRIVATE", "is prod healthy?", mention_first=mention_first)
        await alice.is_told("I don't take requests in this channel")
        await mention_in(chat, GROUP_DM, "is prod healthy?", mention_first=mention_first)
        answer = await slack.wait_for(lambda: next((m for m in slack.messages if m.channel == GROUP_DM
                                                    and m.is_from_bot and "healthy" in m.content), None),
                                      what="the answer in the group DM")
        assert answer.thread_ts is not None
        await settle(app)
        assert len(slack.told(ALICE)) == 1 and len(app.llm.calls) == 2
