"""A follow-up that sends to "them" means whom the answer before named
(agent/plan/pointed_recipients.py): a change sent elsewhere goes to the repair round, and after
it to the one address that answer named, for its approver to see."""

from __future__ import annotations

from agent.events import AwaitingApproval
from agent.plan.format import Plan
from agent.plan.pointed_recipients import misdirected, pointed_addresses, redirected
from tests.agent.harness import MEMORY, finish, harness
from tests.fakes.tools import ToolLog, simulated_registry

ANSWER = "The secondary in team/db-oncall.yaml is priya.raman@example.org."


def test_them_means_the_addresses_the_answer_before_named() -> None:
    assert pointed_addresses("email them how many deadlocks there were", ANSWER) == ["priya.raman@example.org"]
    assert pointed_addresses("Send her the count", "Ines (ines@example.org) and a@b.org") == [
        "ines@example.org", "a@b.org"]
    assert pointed_addresses("email ops@example.org the count", ANSWER) == []  # it names its own
    assert pointed_addresses("how many of them failed?", ANSWER) == []  # no change sent to them
    assert pointed_addresses("email them the count", "") == []  # no answer before


def test_a_mail_to_another_is_a_problem_and_goes_to_the_one_address_named() -> None:
    registry = simulated_registry(ToolLog())
    plan = Plan.model_validate({"nodes": [{"id": "m", "tool": "send",
                                           "args": {"to": "ops-manager@example.org", "body": "3"}}]})
    pointed = ["priya.raman@example.org"]
    [problem] = misdirected(plan, registry, pointed)
    assert problem.node == "m" and "priya.raman@example.org" in problem.message
    sent = redirected(plan, [problem], pointed)
    assert sent is not None and sent.node("m").args == {"to": "priya.raman@example.org", "body": "3"}
    assert redirected(plan, [problem], [*pointed, "a@b.org"]) is None  # which one: not dagbot's to say
    assert misdirected(plan, registry, ["ops-manager@example.org"]) == []


async def test_a_follow_up_mailing_them_asks_to_send_to_whom_the_answer_named() -> None:
    read = {"nodes": [{"id": "oncall", "tool": "lookup", "args": {"key": "oncall"}}]}
    astray = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "ops-manager@example.org", "body": "3"}}]}
    async with harness(MEMORY, [read, finish(ANSWER), astray, astray]) as h:
        await h.engine.ask("pr1", "Who is the secondary in team/db-oncall.yaml?")
        await h.engine.submit("pr1", "email them how many deadlocks there were", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
    assert asked.args["to"] == "priya.raman@example.org"
    assert h.log.count("send") == 0  # nothing sent before the approval


async def test_them_named_by_name_alone_goes_to_the_address_the_results_hold_with_the_name() -> None:
    """weekend follow-up-mail-assignee: the answer before named "Maja Lindgren", no address; the
    mail was planned to api-3@example.net, an address nothing named. The results of that run held
    her address beside her name: the mail goes there, for its approver to see."""
    read = {"nodes": [{"id": "incident", "tool": "lookup", "args": {"key": "assignee Maja Lindgren "
                                                                            "<maja.lindgren@example.net>"}}]}
    astray = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "api-3@example.net", "body": "10.0.3.23"}}]}
    async with harness(MEMORY, [read, finish("The triggered incident is assigned to Maja Lindgren."),
                                astray, astray]) as h:
        await h.engine.ask("pr2", "Who is assigned to the incident that is still triggered?")
        await h.engine.submit("pr2", "email them api-3's address", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
    assert asked.args["to"] == "maja.lindgren@example.net"
    assert h.log.count("send") == 0  # nothing sent before the approval
