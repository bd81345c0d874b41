"""Mail to each recipient the results name: one approved red step per address, every address and
word from a result (agent/engine/recipient_mails.py)."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from agent.engine.mail_totals import total_lines
from agent.engine.recipient_mails import (
    MAIL_WHY,
    RECIPIENTS_ID,
    asks_recipient_mails,
    mailing_reads,
    mails_of,
    mails_reply,
    recipient_mails_plan,
)
from agent.errors import PlanProblem
from agent.events import AwaitingApproval, PlanReady
from agent.execution.address_book import address_book, owner_of
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, services_on
from tests.agent.test_tools_email import Recorder
from tests.fakes.packages import ScriptedPackages

ASK = ("Send a reminder to the owner of each open action item in notes/review.md; their addresses are "
       "in team/directory.yaml")
NOTES = {"id": "notes", "tool": "read_file", "args": {"path": "notes/review.md"}}
TEAM = {"id": "team", "tool": "read_file", "args": {"path": "team/directory.yaml"}}
BUNDLED = {"id": "remind", "package": {"goal": "remind the owners", "code": "result = []"},
           "depends_on": ["notes", "team"]}
DIRECTORY = "jonas: jonas@example.com\nwei: wei@example.com\n"
DIRECTORY_PEOPLE = """\
people:
  - name: Amara Okafor
    email: amara@example.com
    team: sre
  - name: Jonas Berg
    email: jonas@example.com
    team: sre
  - name: Wei Chen
    email: wei@example.com
    team: payments
"""
MAILS = [{"to": "jonas@example.com", "subject": "Open action item", "body": "Add a saturation alert"},
         {"to": "wei@example.com", "subject": "Open action item", "body": "Run the load test"}]


def registry(workspace: Path, port: int = 2525) -> ToolRegistry:
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=workspace),
                                                    smtp=SmtpConfig(host="127.0.0.1", port=port)))
    return tools


def done(output: Any = None) -> dict[str, Any]:
    return {"status": "done", "output": output}


@pytest.mark.parametrize(("output", "mails"), [
    (MAILS, [("jonas@example.com", "Open action item", "Add a saturation alert"),
             ("wei@example.com", "Open action item", "Run the load test")]),
    # a package's own objects: the address found in any field, the rest the text
    ([{"owner": "jonas", "email": "jonas@example.com", "item": "Add a saturation alert"}],
     [("jonas@example.com", None, "Add a saturation alert")]),
    ([{"owner": "jonas", "email": "jonas@example.com", "due": "2026-12-01", "what": "alert"}],
     [("jonas@example.com", None, "owner: jonas\ndue: 2026-12-01\nwhat: alert")]),
    (["jonas@example.com: Add a saturation alert"], [("jonas@example.com", None, "Add a saturation alert")]),
    ({"jonas@example.com": ["alert", "dashboard"]}, [("jonas@example.com", None, "alert\ndashboard")]),
    ({"mails": ["wei@example.com - Run the load test"]}, [("wei@example.com", None, "Run the load test")]),
    # one address twice: one mail with both items
    ([{"to": "jonas@example.com", "body": "a"}, {"to": "wei@example.com", "body": "c"},
      {"to": "JONAS@example.com", "body": "b"}], [("jonas@example.com", None, "a\nb"), ("wei@example.com", None, "c")]),
])
def test_the_mails_a_package_lists(output: Any, mails: list[tuple[str, str | None, str]]) -> None:
    assert mails_of(output) == mails


@pytest.mark.parametrize("output", [
    [],                                                                 # nothing listed
    ["jonas@example.com, wei@example.com: both"],                       # two addresses in one mail
    [{"to": "jonas@example.com", "body": "a"}, {"owner": "wei"}],      # one without an address
    ["jonas@example.com"],                                              # an address, nothing to say
    "jonas@example.com: Add a saturation alert",                        # a text, not a list
    42,
])
def test_what_lists_no_mails(output: Any) -> None:
    assert mails_of(output) is None


POSTMORTEM = """\
Responders: @oksana (oksana.hrytsenko@example.com), @rafael (rafael.quintero@example.com),
@bettina (bettina.lund@example.com)

## Follow-ups
- [x] Put os-data-3 back into the cluster — @rafael (done 2026-11-24)
- [ ] Raise os-data-2's heap from 16g to 24g — @rafael, due 2026-11-28
- [ ] Add a circuit breaker to the OpenSearch client — @oksana, due 2026-12-05
"""


def test_items_that_name_their_owners_are_mailed_to_the_addresses_written_with_those_names() -> None:
    """morning mail-followup-owners: the addresses on a Responders line beside handles; nightly
    mail-action-owners: names in the review, addresses in a YAML directory."""
    book = address_book([{"path": "p.md", "content": POSTMORTEM}])
    rows = [{"section": "Follow-ups", "text": "Raise os-data-2's heap from 16g to 24g — @rafael, due 2026-11-28",
             "done": 0, "open": 1},
            {"section": "Follow-ups", "text": "Add a circuit breaker to the OpenSearch client — @oksana",
             "done": 0, "open": 1}]
    assert mails_of(rows, book) == [
        ("rafael.quintero@example.com", None, "Raise os-data-2's heap from 16g to 24g — @rafael, due 2026-11-28"),
        ("oksana.hrytsenko@example.com", None, "Add a circuit breaker to the OpenSearch client — @oksana")]
    assert mails_of(rows) is None  # with no book, nobody to mail them to
    directory = address_book([{"path": "team/directory.yaml", "content": DIRECTORY_PEOPLE}])
    assert owner_of("Jonas Berg: add an alert on pgbouncer pool saturation", directory) == "jonas@example.com"
    assert mails_of([{"name": "Wei Chen", "text": "write a load test", "open": 1}], directory) == [
        ("wei@example.com", None, "write a load test")]
    # an object keyed by whom: each pair an item (nightly mail-action-owners' package)
    assert mails_of({"Jonas Berg": "add an alert on pgbouncer pool saturation (due 2026-11-26)",
                     "Wei Chen": ["write a load test"]}, directory) == [
        ("jonas@example.com", None, "Jonas Berg: add an alert on pgbouncer pool saturation (due 2026-11-26)"),
        ("wei@example.com", None, "Wei Chen: write a load test")]  # (an item's own closing bracket kept)
    # one row, an object of a name and what to tell them (tuesday mail-clickstream-owner: nothing sent)
    assert mails_of({"name": "Jonas Berg", "failed": 3}, directory) == [
        ("jonas@example.com", None, "name: Jonas Berg\nfailed: 3")]
    assert mails_of({"name": "Jonas Berg", "dag": "nightly_export"}, directory) == [
        ("jonas@example.com", None, "name: Jonas Berg\ndag: nightly_export")]
    assert mails_of({"name": "nobody we know", "failed": 3}, directory) is None
    assert owner_of("Jonas and Wei pair on it", directory) is None  # two owners: no one's alone
    assert owner_of("the sre team's item", directory) is None  # a word two entries share
    assert owner_of("nobody we know", directory) is None


def test_which_requests_mail_recipients_the_results_name() -> None:
    assert asks_recipient_mails(ASK)
    assert asks_recipient_mails("email each of their owners a heads-up about their cert")
    assert not asks_recipient_mails("Email the total to data@example.com")  # it names its recipient
    assert not asks_recipient_mails("How many mails did the owners get?")  # a question
    assert not asks_recipient_mails("List the owners of the open action items")  # no mail asked


def test_dagbot_lists_the_mails_once_then_plans_one_mail_each(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    plan = {"nodes": [NOTES, TEAM, BUNDLED], "answer": "Reminded ${remind}"}
    results = {"notes": done({"content": "- [ ] alert (jonas)"}), "team": done({"content": DIRECTORY}),
               "remind": done([])}
    listing = recipient_mails_plan(plan, results, ASK, tools)
    assert listing is not None
    listed, package_id = listing
    assert package_id == RECIPIENTS_ID and "answer" not in listed
    package = listed["nodes"][-1]
    # (the items are picked from the reads that hold no address: the directory is who, not what)
    assert package["depends_on"] == ["notes"] and package["package"]["code"] == ""
    assert ASK in package["package"]["goal"]
    # the listing ran: one mail node per mail, each waiting on it
    ran = {**results, RECIPIENTS_ID: done(MAILS)}
    mailing = recipient_mails_plan(listed, ran, ASK, tools)
    assert mailing is not None
    mailed, none = mailing
    assert none is None
    added = mailed["nodes"][len(listed["nodes"]):]
    assert [(n["id"], n["tool"], n["args"], n["depends_on"]) for n in added] == [
        ("mail", "send_email", {"to": "jonas@example.com", "body": "Add a saturation alert",
                                "subject": "Open action item"}, [RECIPIENTS_ID]),
        ("mail_2", "send_email", {"to": "wei@example.com", "body": "Run the load test",
                                  "subject": "Open action item"}, [RECIPIENTS_ID])]
    # they ran: nothing more to plan; and a listing that gave no mails is not tried again
    sent = {**ran, "mail": done({"sent_to": ["jonas@example.com"]}), "mail_2": done({})}
    assert recipient_mails_plan(mailed, sent, ASK, tools) is None
    assert recipient_mails_plan(listed, {**results, RECIPIENTS_ID: done("nobody")}, ASK, tools) is None


def test_the_named_file_that_holds_both_items_and_addresses_is_listed_from(tmp_path: Path) -> None:
    """monday mail-open-actions: a retro whose action items name their owners' addresses was
    read, and dagbot's listing took only the two searches beside it, which found nothing."""
    tools = registry(tmp_path)
    ask = "Mail everyone who still has an open action item in retros/retro.md their own items"
    plan = {"nodes": [{"id": "open", "tool": "search_files", "args": {"query": "open"}},
                      {"id": "retro", "tool": "read_file", "args": {"path": "retros/retro.md"}}]}
    results = {"open": done({"matches": []}),
               "retro": done({"content": "- [ ] @lev (lev@example.org): add a canary stage"})}
    listing = recipient_mails_plan(plan, results, ask, tools)
    assert listing is not None
    assert listing[0]["nodes"][-1]["depends_on"] == ["retro", "open"]


def test_the_files_the_request_names_that_nothing_read_are_read_for_the_listing(tmp_path: Path) -> None:
    """evening mail-action-owners: the plan only listed the meeting notes (``list_files``) and
    ran packages that failed, so no result held an address."""
    tools = registry(tmp_path)
    listed = {"id": "notes", "tool": "list_files", "args": {"pattern": "notes/review.md"}}
    plan = {"nodes": [listed, BUNDLED], "answer": "Reminded ${remind}"}
    results = {"notes": done({"files": [{"path": "notes/review.md"}]}), "remind": {"status": "failed"}}
    reading = recipient_mails_plan(plan, results, ASK, tools)
    assert reading is not None
    read, package_id = reading
    assert package_id == RECIPIENTS_ID and "answer" not in read
    assert [(n["id"], n.get("tool"), n.get("args"), n.get("depends_on")) for n in read["nodes"][2:]] == [
        ("review", "read_file", {"path": "notes/review.md"}, None),
        ("directory", "read_file", {"path": "team/directory.yaml"}, None),
        (RECIPIENTS_ID, None, None, ["review", "directory"])]
    # read and listed once: nothing more is added when the listing gave no mails
    ran = {**results, "review": done({"content": "- [ ] alert (jonas)"}), "directory": done({"content": "…"}),
           RECIPIENTS_ID: done("nobody")}
    assert recipient_mails_plan(read, ran, ASK, tools) is None


def test_a_package_of_the_plan_that_listed_the_mails_gives_them_at_once(tmp_path: Path) -> None:
    plan = {"nodes": [NOTES, TEAM, BUNDLED]}
    results = {"notes": done({"content": "…"}), "team": done({"content": DIRECTORY}), "remind": done(MAILS)}
    mailing = recipient_mails_plan(plan, results, ASK, registry(tmp_path))
    assert mailing is not None and mailing[1] is None
    assert [n["args"]["to"] for n in mailing[0]["nodes"][3:]] == ["jonas@example.com", "wei@example.com"]


def test_items_that_name_nobody_go_to_whom_them_means(tmp_path: Path) -> None:
    """weekend follow-up-mail-assignee: after an answer that named the incident's assignee, "email
    them api-3's address from edge/haproxy.cfg" listed api-3's row, which names nobody: nothing
    was sent. "Them" is the one address the answer before meant."""
    tools = registry(tmp_path)
    ask = "email them api-3's address from edge/haproxy.cfg"
    cfg = {"id": "cfg", "tool": "read_file", "args": {"path": "edge/haproxy.cfg"}}
    reads = {"cfg": done({"content": "server api-3 10.0.3.23:9000 check"})}
    listing = recipient_mails_plan({"nodes": [cfg]}, reads, ask, tools, ["Maja.Lindgren@example.net"])
    assert listing is not None and listing[1] == RECIPIENTS_ID  # the results hold no address: her's is
    row = {"backend": "be_api", "server": "api-3", "address": "10.0.3.23:9000", "weight": None, "backup": 0}
    ran = {**reads, RECIPIENTS_ID: done(row)}
    mailing = recipient_mails_plan(listing[0], ran, ask, tools, ["Maja.Lindgren@example.net"])
    assert mailing is not None and mailing[1] is None
    [mail] = mailing[0]["nodes"][2:]
    assert mail["tool"] == "send_email" and mail["args"]["to"] == "maja.lindgren@example.net"
    assert "10.0.3.23:9000" in mail["args"]["body"] and "weight" not in mail["args"]["body"]
    # two people meant, none, or an item that names an address: no guess at who gets what
    for pointed in ([], ["a@example.net", "b@example.net"]):
        assert recipient_mails_plan(listing[0], ran, ask, tools, pointed) is None
    named = {**ran, RECIPIENTS_ID: done({"server": "api-3", "owner": "ren@example.net"})}
    assert recipient_mails_plan(listing[0], named, ask, tools, ["maja.lindgren@example.net"]) is None


def test_no_mails_are_planned_that_the_results_do_not_call_for(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    plan = {"nodes": [NOTES, TEAM, BUNDLED]}
    results = {"notes": done({"content": "…"}), "team": done({"content": DIRECTORY}), "remind": done(MAILS)}
    mail = {"id": "send", "tool": "send_email", "args": {"to": "${remind}", "body": "x"}}
    for status in ("done", "failed", "rejected"):  # a red step ran (it may have sent), or was refused
        assert recipient_mails_plan({"nodes": [*plan["nodes"], mail]}, {**results, "send": {"status": status}},
                                    ASK, tools) is None
    # an address the results do not hold is none to mail
    invented = {**results, "remind": done([{"to": "boss@example.com", "body": "hi"}])}
    assert recipient_mails_plan(plan, invented, ASK, tools) is not None  # (lists them itself instead)
    assert recipient_mails_plan(plan, invented, ASK, tools)[1] == RECIPIENTS_ID  # type: ignore[index]
    # no address in any result: nobody to mail
    nobody = {"notes": done({"content": "…"}), "team": done({"content": "jonas: desk 4"}), "remind": done([])}
    assert recipient_mails_plan(plan, nobody, ASK, tools) is None
    assert recipient_mails_plan(plan, results, "Email the reminders to leads@example.com", tools) is None
    without_mail = ToolRegistry()
    register_builtin_tools(without_mail, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path)))
    assert recipient_mails_plan(plan, results, ASK, without_mail) is None  # no tool only sends mail


async def test_each_recipient_gets_an_approved_mail_of_their_own(tmp_path: Path,
                                                                 smtp: tuple[Recorder, int]) -> None:
    """nightly mail-action-owners: the planner bundled the reminders into a package that cannot
    send; nothing was sent and nobody was asked."""
    recorder, port = smtp
    (tmp_path / "notes").mkdir()
    (tmp_path / "team").mkdir()
    (tmp_path / "notes" / "review.md").write_text("- [ ] Add a saturation alert (jonas)\n- [ ] Run the load test (wei)\n")
    (tmp_path / "team" / "directory.yaml").write_text(DIRECTORY)
    llm = ScriptedChatModel(replies=[{"nodes": [NOTES, TEAM, BUNDLED]}])  # (no joiner: the mails are facts)
    packages = ScriptedPackages(outputs={RECIPIENTS_ID: lambda inputs: MAILS})  # (remind: no output, fails)
    async with services_on(MEMORY, llm, registry(tmp_path, port), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("mails-1", ASK)
        seen = [events.get_nowait() for _ in range(events.qsize())]
        asked = [e for e in seen if isinstance(e, AwaitingApproval)]
        assert not recorder.envelopes  # nothing sent before it is approved
        for each in asked:
            await services.engine.decide(each.approval_id, approved=True, by="U-approver")
        await services.engine.idle()
        state = await services.engine.state("mails-1")
    assert [job.node_id for job in packages.jobs] == ["remind", RECIPIENTS_ID]
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (RECIPIENTS_ID,), ("mail", "mail_2")]
    assert [(e.node_id, e.args["to"]) for e in asked] == [("mail", "jonas@example.com"), ("mail_2", "wei@example.com")]
    sent = {tuple(e.rcpt_tos): message_from_bytes(e.content).get_payload() for e in recorder.envelopes}  # type: ignore[arg-type]
    assert set(sent) == {("jonas@example.com",), ("wei@example.com",)}
    assert "saturation alert" in str(sent[("jonas@example.com",)]) and "load test" in str(sent[("wei@example.com",)])
    # dagbot's own answer, one line a mail; the bundled package's failure told under it
    assert state["answer"].startswith(
        "Sent 2 mails, one to each recipient the results name:\n"
        "• jonas@example.com: sent — Add a saturation alert\n"
        "• wei@example.com: sent — Run the load test\n\nNot done, and why:\n• `remind`")


SMTPLIB = {"id": "ping", "package": {"goal": "mail the owners",
                                     "code": "import smtplib\ns = smtplib.SMTP('localhost')\nresult = 1"},
           "depends_on": ["notes", "team"]}


async def test_a_draft_whose_packages_try_to_send_runs_its_reads_and_dagbot_lists_the_mails(
        tmp_path: Path, smtp: tuple[Recorder, int]) -> None:
    """morning mail-followup-owners: "Ping every owner of a still-open follow-up … by email" was
    drafted twice with a package that used smtplib, and the run ended with the plan's faults."""
    recorder, port = smtp
    (tmp_path / "notes").mkdir()
    (tmp_path / "team").mkdir()
    (tmp_path / "notes" / "review.md").write_text("- [ ] Add a saturation alert (Jonas Berg)\n")
    (tmp_path / "team" / "directory.yaml").write_text('"Jonas Berg": j.berg@example.com\nwei: wei@example.com\n')
    draft = {"nodes": [NOTES, TEAM, SMTPLIB]}
    llm = ScriptedChatModel(replies=[draft, draft])
    # the items as rows, no address among them: who gets each is found in the directory
    packages = ScriptedPackages(outputs={RECIPIENTS_ID: lambda inputs: [
        {"section": "", "text": "Add a saturation alert (Jonas Berg)", "done": 0, "open": 1}]})
    async with services_on(MEMORY, llm, registry(tmp_path, port), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("mails-2", ASK)
        seen = [events.get_nowait() for _ in range(events.qsize())]
        [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
        await services.engine.decide(asked.approval_id, approved=True, by="U-approver")
        await services.engine.idle()
    ready = [e for e in seen if isinstance(e, PlanReady)]
    assert [n["id"] for n in ready[0].plan["nodes"]] == ["notes", "team"] and "mailing-reads-kept" in ready[0].mends
    assert [job.node_id for job in packages.jobs] == [RECIPIENTS_ID]  # smtplib never ran
    assert packages.jobs[0].inputs.keys() == {"notes"}
    assert (asked.node_id, asked.args["to"]) == ("mail", "j.berg@example.com")
    assert asked.args["body"] == "Add a saturation alert (Jonas Berg)"
    assert asked.args["subject"] == "Message from dagbot"  # (the tool's own fill-in: no subject was written)
    assert [tuple(e.rcpt_tos) for e in recorder.envelopes] == [("j.berg@example.com",)]


async def test_a_draft_for_mail_to_a_named_address_is_not_run_as_its_reads(tmp_path: Path) -> None:
    draft = {"nodes": [NOTES, TEAM, SMTPLIB]}
    llm = ScriptedChatModel(replies=[draft, draft])
    packages = ScriptedPackages()
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("mails-3", "Email the open action items in notes/review.md to leads@example.com")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert not [e for e in seen if isinstance(e, PlanReady)] and not packages.jobs


def test_the_answer_to_mails_dagbot_planned_is_dagbots_own() -> None:
    plan = {"nodes": [NOTES, {"id": "mail", "tool": "send_email", "why": MAIL_WHY,
                              "args": {"subject": "Message from dagbot", "to": "jonas@example.com",
                                       "body": "Add a saturation alert\nby Friday"}},
                      {"id": "mail_2", "tool": "send_email", "why": MAIL_WHY,
                       "args": {"subject": "Message from dagbot", "to": "wei@example.com", "body": "Run the load test"}}]}
    results = {"notes": done(), "mail": done({"sent_to": ["jonas@example.com"]}),
               "mail_2": {"status": "rejected", "error": "rejected by U9: not now"}}
    assert mails_reply(plan, results) == (
        "Sent 1 of 2 mails, one to each recipient the results name:\n"
        "• jonas@example.com: sent — Add a saturation alert / by Friday\n"
        "• wei@example.com: not sent: not approved (rejected by U9: not now) — Run the load test")
    assert mails_reply(plan, {"notes": done(), "mail": done()}) is None  # one has not run yet
    assert mails_reply({"nodes": [NOTES]}, {"notes": done()}) is None  # no mail of dagbot's


def test_a_follow_ups_draft_reads_the_file_the_thread_asked_about(tmp_path: Path) -> None:
    """morning follow-up-mail-cert-owners: "email each of their owners a heads-up about their
    cert", after a question about pki/certificates.json, was drafted as a listing of the file and
    a package that used smtplib."""
    draft = {"nodes": [{"id": "owners", "list_files": {"pattern": "pki/certificates.json"}},
                       {"id": "send", "package": {"goal": "mail", "code": "import smtplib"}}]}
    problems = [PlanProblem("send", "package.code", "uses smtplib", beyond_tools="sending mail")]
    tools = registry(tmp_path)
    ask = "email each of their owners a heads-up about their cert"
    kept = mailing_reads(draft, problems, ask, tools, ["pki/certificates.json"])
    assert kept == {"nodes": [{"id": "owners", "tool": "list_files", "args": {"pattern": "pki/certificates.json"}},
                              {"id": "certificates", "tool": "read_file", "args": {"path": "pki/certificates.json"}}]}
    assert mailing_reads(draft, problems, ask, tools) == {"nodes": kept["nodes"][:1]}  # no thread: as drafted
    # a problem of a read's own, or a request naming its recipient: not this salvage's
    assert mailing_reads(draft, [*problems, PlanProblem("owners", "args", "bad")], ask, tools) is None
    assert mailing_reads(draft, problems, "email the expiring certs to pki@example.com", tools) is None


def test_a_draft_whose_mail_step_is_broken_runs_the_reads_the_request_names(tmp_path: Path) -> None:
    """weekend mail-cost-owners: the draft's packages never set ``result`` and its ``send_email``
    took ``${billing.total}``, a field no read has; the mails are dagbot's to plan once the file the
    request names is read."""
    draft = {"nodes": [{"id": "owners", "package": {"goal": "owners", "code": "owners = []"}},
                       {"id": "email", "send_email": {"to": "${owners}", "body": "${billing.total}"}}]}
    problems = [PlanProblem("owners", "package.code", "never sets `result`"),
                PlanProblem("email", "args", "${billing.total}: node 'billing' … no 'total'")]
    tools = registry(tmp_path)
    ask = "Email each owner in finance/costs.csv the total of the resources they own"
    assert mailing_reads(draft, problems, ask, tools) == {
        "nodes": [{"id": "costs", "tool": "read_file", "args": {"path": "finance/costs.csv"}}]}
    # a red step of another tool, or a request that names its recipient: not this salvage's
    assert mailing_reads(draft, problems, "Email the cost total in finance/costs.csv to fin@example.com",
                         tools) is None
    # a read that waited for the mail step waits no more
    waiting = {"nodes": [*draft["nodes"], {"id": "files", "list_files": {"pattern": "finance/*"},
                                           "depends_on": ["email"]}]}
    assert mailing_reads(waiting, problems, ask, tools) == {"nodes": [
        {"id": "files", "tool": "list_files", "args": {"pattern": "finance/*"}, "depends_on": []},
        {"id": "costs", "tool": "read_file", "args": {"path": "finance/costs.csv"}}]}
    writes = {"nodes": [*draft["nodes"], {"id": "save", "write_file": {"path": "out.txt", "content": "x"}}]}
    assert mailing_reads(writes, problems, ask, tools) is None


BILL_ROWS = [
    {"period": "2026-11", "resource": "lb-01", "amount_eur": 24.9, "owner": "maja@example.net"},
    {"period": "2026-11", "resource": "db-primary", "amount_eur": 1089.0, "owner": "oskar@example.net"},
    {"period": "2026-11", "resource": "web-pool", "amount_eur": 176.85, "owner": "maja@example.net"},
    {"period": "2026-11", "resource": "backups", "amount_eur": "40.06", "owner": "oskar@example.net"},
]


def test_a_total_the_request_asks_for_ends_each_recipients_mail_summed_over_their_rows() -> None:
    """weekend mail-cost-owners: each owner's rows were mailed, and their total nowhere."""
    asked = "Email each owner in billing/hosting-2026-11.csv the November total of the resources they own"
    mails = mails_of(BILL_ROWS, None, asked)
    assert mails is not None
    assert [(address, text.splitlines()[-1]) for address, _, text in mails] == [
        ("maja@example.net", "Total amount_eur: 201.75"), ("oskar@example.net", "Total amount_eur: 1129.06")]
    assert mails[0][2].splitlines()[:2] == ["period: 2026-11, resource: lb-01, amount_eur: 24.9",
                                            "period: 2026-11, resource: web-pool, amount_eur: 176.85"]
    # no total asked for: the rows alone
    assert all("Total" not in text for _, _, text in mails_of(BILL_ROWS, None, "Email each owner their rows") or [])


@pytest.mark.parametrize(("rows", "asked"), [
    # two number columns, neither named by the request: which to sum is not certain
    ([{"cpu": 2, "amount": 3.5, "owner": "maja@example.net"}], "mail each owner the total"),
    # an id is no amount
    ([{"id": 7, "owner": "maja@example.net", "what": "x"}], "mail each owner the total"),
    # a value that is no number
    ([{"amount": "n/a", "owner": "maja@example.net"}], "mail each owner the total"),
])
def test_no_total_is_added_where_the_column_to_sum_is_not_certain(rows: list[dict[str, Any]], asked: str) -> None:
    assert total_lines([rows], asked) is None


def test_the_column_the_request_names_is_summed_among_several() -> None:
    rows = [{"cpu": 2, "amount": 3.5, "owner": "m@example.net"}, {"cpu": 4, "amount": 1.25, "owner": "m@example.net"}]
    assert total_lines([rows], "mail each owner the total amount") == ["Total amount: 4.75"]


def test_no_total_where_numbers_are_written_with_a_comma_whose_meaning_is_not_certain() -> None:
    """Review: "24,90" was no number, and the one other number column, vcpus, was summed."""
    rows = [{"vcpus": 2, "amount_eur": "24,90", "owner": "m@example.net"},
            {"vcpus": 4, "amount_eur": "1.089,00", "owner": "m@example.net"}]
    assert total_lines([rows], "mail each owner the November total") is None
