"""A mail's recipient written as a name or a role is the one address the results give it, found
before anyone is asked to approve the mail (agent/execution/named_recipients.py, the plan mend
``named-recipients``, agent/execution/address_book.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.events import AwaitingApproval, PlanReady
from agent.execution.named_recipients import with_named_recipients
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, services_on
from tests.agent.test_recipient_mails import registry
from tests.agent.test_tools_email import Recorder
from tests.fakes.packages import ScriptedPackages

RETRO = """\
# Retro: checkout outage
Facilitator: Hana Yoon (hana.yoon@example.org)
- **On-call**: Lev Petrov <lev.petrov@example.org>
## Action items
- [ ] @ama (ama.mensah@example.org): load-test cart, due 2026-12-09
"""
DIRECTORY = "secondary:\n  name: Priya Raman\n  email: priya@example.org\n"
READ = {"path": "retros/retro.md", "content": RETRO}
TO = frozenset({"to", "cc"})


@pytest.mark.parametrize(("to", "found"), [
    ("retro facilitator", "hana.yoon@example.org"),           # a role, its label before a colon
    ("the on-call engineer", "lev.petrov@example.org"),       # a Markdown label
    ("Ama", "ama.mensah@example.org"),                        # a handle
    ("secondary", "priya@example.org"),                       # a YAML key over the person's entry
    (["Hana Yoon", "Ama"], ["hana.yoon@example.org", "ama.mensah@example.org"]),
    ("Hana, Ama", "hana.yoon@example.org, ama.mensah@example.org"),
    ("hana.yoon@example.org", "hana.yoon@example.org"),       # an address is left as it is
    ("${who.email}", "${who.email}"),
])
def test_a_recipient_named_is_the_address_the_results_write_with_that_name(to: Any, found: Any) -> None:
    results = [READ, {"path": "team/directory.yaml", "content": DIRECTORY}, None]
    assert with_named_recipients({"to": to, "body": "b"}, TO, results) == {"to": found, "body": "b"}


@pytest.mark.parametrize("to", [
    "the auditors",                       # nobody by that name
    "Hana and the auditors",              # one of two unknown: the whole argument is left
    "example",                            # a word every address holds is no one's name
])
def test_a_name_the_results_give_no_one_or_several_is_left_as_written(to: str) -> None:
    assert with_named_recipients({"to": to}, TO, [READ]) == {"to": to}


ASK = ("Add up how long the checkout pages in oncall/pages.csv took and mail the total to the retro's "
       "facilitator; her address is in retros/retro.md")


def plan(to: str) -> dict[str, Any]:
    """monday mail-checkout-resolve's plan: the mail waits only for the total."""
    return {"nodes": [
        {"id": "retro", "tool": "read_file", "args": {"path": "retros/retro.md"}},
        {"id": "pages", "tool": "read_file", "args": {"path": "oncall/pages.csv"}},
        {"id": "total", "package": {"goal": "sum", "code": "result = 1"}, "depends_on": ["pages"]},
        {"id": "mail", "tool": "send_email", "depends_on": ["total"],
         "args": {"to": to, "subject": "Checkout pages", "body": "They took ${total} in all."}}]}


@asynccontextmanager
async def asked(tmp_path: Path, port: int, to: str, joiner_reply: str, thread: str
                ) -> AsyncIterator[tuple[Any, asyncio.Queue[Any]]]:
    """The engine that ran :func:`plan` with its mail ``to`` someone, and its events' queue."""
    (tmp_path / "retros").mkdir()
    (tmp_path / "oncall").mkdir()
    (tmp_path / "retros" / "retro.md").write_text(RETRO)
    (tmp_path / "oncall" / "pages.csv").write_text("page,service,minutes\nP-1,checkout,47\n")
    llm = ScriptedChatModel(replies=[plan(to), joiner_reply])
    packages = ScriptedPackages(outputs={"total": lambda inputs: "47 minutes"})
    async with services_on(MEMORY, llm, registry(tmp_path, port), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask(thread, ASK)
        yield services, events


def drained(events: asyncio.Queue[Any]) -> list[Any]:
    return [events.get_nowait() for _ in range(events.qsize())]


async def test_the_mail_to_a_role_goes_to_its_address_and_its_approver_sees_the_address(
        tmp_path: Path, smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    async with asked(tmp_path, port, "retro facilitator", "Mailed the total to Hana.", "named-1") as (services, events):
        seen = drained(events)
        [approval] = [e for e in seen if isinstance(e, AwaitingApproval)]
        assert not recorder.envelopes
        await services.engine.decide(approval.approval_id, approved=True, by="U-approver")
        await services.engine.idle()
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert "named-recipients" in ready.mends
    assert [n.get("depends_on") for n in ready.plan["nodes"] if n["id"] == "mail"] == [["retro", "total"]]
    assert approval.args["to"] == "hana.yoon@example.org"
    assert approval.args["body"] == "They took 47 minutes in all."
    assert [tuple(e.rcpt_tos) for e in recorder.envelopes] == [("hana.yoon@example.org",)]


async def test_a_name_no_result_gives_an_address_fails_before_anyone_is_asked(
        tmp_path: Path, smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    async with asked(tmp_path, port, "the auditors", "I could not mail the auditors.", "named-2") as (services, events):
        await services.engine.idle()
        seen = drained(events)
        state = await services.engine.state("named-2")
    assert not [e for e in seen if isinstance(e, AwaitingApproval)]
    assert not recorder.envelopes
    mail = state["results"]["mail"]
    assert mail["status"] == "failed"
    assert mail["error"] == "no result gives an address for 'the auditors': nothing was sent, and no approval asked"
