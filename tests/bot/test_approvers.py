"""Approver policy (pure) and its user-group resolution through the fake Web API."""

from __future__ import annotations

import pytest

from bot.access import AccessDirectory
from bot.app import web_client
from bot.approvers import ApproverPolicy, describe, is_allowed
from bot.config import BotConfig
from bot.policy import Policy
from bot.threads import ThreadRef, strip_mention
from tests.fakes.slack_api import FakeSlack


def test_policy_from_json() -> None:
    policy = ApproverPolicy.from_json('{"deploy": ["U1", "S9"], "*": "U7"}')
    assert policy.approvers_for("deploy") == ("U1", "S9")
    assert policy.approvers_for("send") == ("U7",) and policy.supervisors == ("U7",)
    assert ApproverPolicy.from_json("").approvers_for("deploy") == ()
    for bad in ("[1]", '{"deploy": ["bob"]}', "{nope"):
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


def test_thread_keys_and_mentions() -> None:
    ref = ThreadRef("T1", "C1", "1700000000.000100")
    assert ref.key == "slack:T1:C1:1700000000.000100" and ThreadRef.parse(ref.key) == ref
    assert ThreadRef.parse("cli:abc") is None
    assert ref.link == "https://slack.com/archives/C1/p1700000000000100"
    assert strip_mention("<@U0BOT> deploy  <@U2> now", "U0BOT") == "deploy <@U2> now"
    assert strip_mention("<@U0BOT|dagbot> do:\n- a\n- b", "U0BOT") == "do:\n- a\n- b"
