"""Approver policy (pure) and its user-group resolution through the fake Web API."""

from __future__ import annotations

import pytest

from bot.access.access import AccessDirectory, MembershipUnknown
from bot.access.approvers import ApproverPolicy, describe, is_allowed
from bot.access.policy import Policy
from bot.app import web_client
from bot.config import BotConfig
from bot.ground.threads import ThreadRef, strip_mention
from tests.fakes.slack_api import FakeSlack


def test_policy_from_json() -> None:
    policy = ApproverPolicy.from_json('{"deploy": ["U1", "S9"], "*": "U7"}')
    assert policy.approvers_for("deploy") == ("U1", "S9")
    assert policy.approvers_for("send") == ("U7",) and policy.supervisors == ("U7",)
    assert ApproverPolicy.from_json("").approvers_for("deploy") == ()
    for bad in ("[1]", '{"deploy": ["bob"]}', "{nope", '{"deploy": []}', '{"deploy": ["Ubob"]}'):
        with pytest.raises(ValueError, match="DAGBOT_APPROVERS"):
            ApproverPolicy.from_json(bad)


def test_who_is_allowed() -> None:
    members = {"S9": frozenset({"U5"})}
    assert is_allowed((), "U1", "U1", members) and not is_allowed((), "U1", "U2", members)
    assert is_allowed(("U1", "S9"), "U3", "U5", members) and not is_allowed(("U1", "S9"), "U3", "U3", members)
    assert describe(("U1", "S9"), "U3") == "<@U1>, <!subteam^S9>" and describe((), "U3") == "<@U3>"


async def test_groups_are_resolved_through_slack_and_cached(slack: FakeSlack) -> None:
    slack.add_usergroup("S9", ["U5"])
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url))
    directory = AccessDirectory(Policy.from_approvers({"deploy": ("S9",), "*": ("U7",)}), client)
    assert await directory.may_approve("deploy", "U1", "U5")
    assert not await directory.may_approve("deploy", "U1", "U1")
    assert await directory.may_cancel("U1", "U1") and await directory.may_cancel("U1", "U7")
    assert not await directory.may_cancel("U1", "U5")
    assert len(slack.calls_of("usergroups.users.list")) == 1


async def test_a_listing_slack_refuses_is_not_cached(slack: FakeSlack) -> None:
    slack.add_usergroup("S9", ["U5"])
    now = [0.0]
    client = web_client(BotConfig(bot_token=slack.token, api_url=slack.base_url, rate_limit_retries=0))
    directory = AccessDirectory(Policy.from_approvers({"deploy": ("S9",), "*": ("S9",)}), client,
                                clock=lambda: now[0])
    # never listed: whether U5 may decide is unknown, not "no"
    slack.inject("usergroups.users.list", times=2, retry_after=0)
    with pytest.raises(MembershipUnknown):
        await directory.may_approve("deploy", "U1", "U5")
    with pytest.raises(MembershipUnknown):
        await directory.may_cancel("U1", "U5")  # (asked Slack again: nothing was cached)
    assert not await directory.lists_approval("deploy", "U1", "U6")  # lists leave it out
    assert await directory.may_approve("deploy", "U1", "U5")

    # listed once: while Slack refuses, the last list stands, and Slack is asked each time
    now[0] = 1000.0
    slack.inject("usergroups.users.list", times=2, status=200, error="internal_error")
    assert await directory.may_approve("deploy", "U1", "U5")
    assert await directory.may_cancel("U1", "U5")
    slack.usergroups["S9"] = ["U6"]
    assert await directory.may_approve("deploy", "U1", "U6")  # Slack answers again: the new list
    assert [c.status for c in slack.calls_of("usergroups.users.list")] == [429, 429, 200, 200, 200, 200]

    # a group that does not exist is Slack's answer, not a failure: nobody is in it
    missing = AccessDirectory(Policy.from_approvers({"deploy": ("S404",)}), client)
    assert not await missing.may_approve("deploy", "U1", "U5")


async def test_a_group_slack_cannot_be_reached_for_is_unknown() -> None:
    client = web_client(BotConfig(bot_token="xoxb-test", api_url="http://127.0.0.1:9/api/"))
    policy = Policy.model_validate({"tools": {"deploy": {"approvers": ["S9"], "requesters": ["U1", "S9"]}}})
    directory = AccessDirectory(policy, client)
    with pytest.raises(MembershipUnknown):
        await directory.may_approve("deploy", "U1", "U5")
    assert await directory.tool_refusal("deploy", "U1", "C1") is None  # named: no group needed
    refusal = await directory.tool_refusal("deploy", "U5", "C1")
    assert refusal is not None and "could not check whether <@U5> may use 'deploy'" in refusal


def test_thread_keys_and_mentions() -> None:
    ref = ThreadRef("T1", "C1", "1700000000.000100")
    assert ref.key == "slack:T1:C1:1700000000.000100" and ThreadRef.parse(ref.key) == ref
    assert ThreadRef.parse("cli:abc") is None
    assert ref.link == "https://slack.com/archives/C1/p1700000000000100"
    assert strip_mention("<@U0BOT> deploy  <@U2> now", "U0BOT") == "deploy <@U2> now"
    assert strip_mention("<@U0BOT|dagbot> do:\n- a\n- b", "U0BOT") == "do:\n- a\n- b"
