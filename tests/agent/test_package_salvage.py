"""A draft whose packages stay broken after the repair round, beside sound reads: the reads run
and one package computes the request from them (agent/engine/package_salvage.py). A program the
plan runs, a tool node that goes on from a package, or a broken read still end the run as before.
Packages carry the request (and the one before it, for a follow-up), and whether another package
goes on from their result."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, field_validator

from agent.engine.computed_values import COMPUTED_ID
from agent.engine.package_salvage import (
    salvaged_change,
    salvaged_draft,
    salvaged_file_queries,
    salvaged_together,
    without_changes,
)
from agent.errors import FileWhereTableGoes, PlanProblem
from agent.events import AnswerReady, AwaitingApproval, PlanReady, RunFailed
from agent.tools.registry import Risk
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, finish, harness, services_on
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, reading_registry, simulated_registry

READ = {"id": "read_logs", "tool": "lookup", "args": {"key": "cron"}}
JAVASCRIPT = {"nodes": [READ,
                        {"id": "failed", "package": {"goal": "filter",
                                                     "code": "inputs['logs'].filter(l => l.includes('x'))"},
                         "depends_on": ["read_logs"]},
                        {"id": "share", "package": {"goal": "calculate",
                                                    "code": "inputs['failed'].length / inputs['logs'].length"},
                         "depends_on": ["failed", "read_logs"]}],
              "answer": "${share}% failed."}
ASKED = "What share of the runs failed?"


async def test_packages_still_broken_after_the_repair_round_give_way_to_one_that_computes_the_request() -> None:
    async with harness(MEMORY, [JAVASCRIPT, JAVASCRIPT, finish("30% of the runs failed.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: 30
        await h.engine.ask("ps1", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
        ready = [e for e in h.drain() if isinstance(e, PlanReady)]
    assert answer == "30% of the runs failed."
    assert [n["id"] for n in ready[-1].plan["nodes"]] == ["read_logs", COMPUTED_ID]
    assert "answer" not in ready[-1].plan  # its sentence named the packages that are gone
    assert "packages-salvaged" in ready[-1].mends
    [job] = h.packages.jobs
    assert job.code == "" and job.goal.endswith(ASKED) and job.inputs == {"read_logs": "value of cron"}
    assert job.request == ASKED and job.final and job.follows == ""
    assert h.log.calls == [("lookup", {"key": "cron"})]


async def test_a_change_nobody_asked_for_is_left_out_before_the_packages_are_salvaged() -> None:
    """unseen depth-by-consumer: broken packages and a write of ``${result}`` to a report nobody
    named, for a request that asks for no change."""
    unasked = {"id": "write", "tool": "send", "args": {"to": "ops@example.com", "body": "${result}"}}
    draft = {"nodes": [*JAVASCRIPT["nodes"], unasked]}
    async with harness(MEMORY, [draft, draft, finish("30% of the runs failed.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: 30
        await h.engine.ask("ps5", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
        ready = [e for e in h.drain() if isinstance(e, PlanReady)]
    assert answer == "30% of the runs failed."
    assert [n["id"] for n in ready[-1].plan["nodes"]] == ["read_logs", COMPUTED_ID]
    assert h.log.calls == [("lookup", {"key": "cron"})]  # nothing sent
    # the change's problems were all the draft had: the rest runs as drafted
    sound = {"nodes": [READ, {"id": "share", "package": {"goal": "share", "code": "result = 30"},
                              "depends_on": ["read_logs"]}, unasked]}
    async with harness(MEMORY, [sound, sound, finish("30% of the runs failed.")]) as h:
        h.packages.outputs["share"] = lambda inputs: 30
        await h.engine.ask("ps6", ASKED)
        assert (await h.next_event(AnswerReady)).answer == "30% of the runs failed."
        ready = [e for e in h.drain() if isinstance(e, PlanReady)]
    assert [n["id"] for n in ready[-1].plan["nodes"]] == ["read_logs", "share"]
    assert "unasked-change-left-out" in ready[-1].mends and h.log.calls == [("lookup", {"key": "cron"})]
    # asked for a change, the draft is the request's to answer for: no salvage drops it
    assert without_changes(draft, [], ["send"]) is not None
    assert without_changes({"nodes": [READ]}, [], ["send"]) is None  # no change in it
    fed = {"nodes": [READ, unasked, {"id": "p", "package": {"goal": "g", "code": "result = 1"},
                                     "depends_on": ["write"]}]}
    assert without_changes(fed, [], ["send"]) is None  # a package goes on from the change


async def test_a_program_run_in_a_package_or_a_broken_read_is_not_salvaged() -> None:
    restarts = {"nodes": [READ, {"id": "restart", "package": {
        "goal": "restart", "code": "import subprocess\nsubprocess.run(['systemctl', 'restart', 'web'])"}}]}
    async with harness(MEMORY, [restarts, restarts]) as h:
        await h.engine.ask("ps2", "restart web")
        answered = h.drain()[-1]
    assert isinstance(answered, AnswerReady) and answered.answer.startswith("I can't do that")
    assert not h.packages.jobs

    broken_read = {"nodes": [{"id": "r", "tool": "teleport", "args": {}}, *JAVASCRIPT["nodes"][1:]]}
    async with harness(MEMORY, [broken_read, broken_read]) as h:
        await h.engine.ask("ps3", ASKED)
        failed = h.drain()[-1]
    assert isinstance(failed, RunFailed) and "unknown tool 'teleport'" in failed.error and not h.packages.jobs


def test_a_tool_node_that_goes_on_from_a_package_keeps_the_draft_as_it_is() -> None:
    problems = [PlanProblem("share", "package.code", "syntax error line 1: invalid syntax", code_fault=True)]
    writes = {"id": "mail", "tool": "send", "args": {"text": "${share}"}}
    assert salvaged_draft({"nodes": [*JAVASCRIPT["nodes"], writes]}, problems, ASKED) is None
    after = {"id": "mail", "tool": "send", "args": {"text": "x"}, "depends_on": ["share"]}
    assert salvaged_draft({"nodes": [*JAVASCRIPT["nodes"], after]}, problems, ASKED) is None
    assert salvaged_draft("not a plan", problems, ASKED) is None
    salvaged = salvaged_draft(JAVASCRIPT, problems, ASKED, follows="How many runs were there?")
    assert salvaged is not None and salvaged["nodes"][-1]["package"]["goal"].endswith(
        "(a follow-up to: How many runs were there?)")


async def test_a_package_knows_the_request_and_whether_another_package_goes_on_from_it() -> None:
    chain = {"nodes": [READ, {"id": "rows", "package": {"goal": "parse", "code": "result = inputs['read_logs']"},
                              "depends_on": ["read_logs"]},
                       {"id": "share", "package": {"goal": "share", "code": "result = len(inputs['rows'])"},
                        "depends_on": ["rows"]}]}
    async with harness(MEMORY, [chain, finish("1"), chain, finish("1")]) as h:
        h.packages.outputs.update(rows=lambda inputs: ["x"], share=lambda inputs: 1)
        await h.engine.ask("ps4", ASKED)
        await h.next_event(AnswerReady)
        await h.engine.ask("ps4", "And the ok ones?")
        await h.next_event(AnswerReady)
    first, last = h.packages.jobs[:2], h.packages.jobs[2:]
    assert [(j.node_id, j.final, j.request, j.follows) for j in first] == [
        ("rows", False, ASKED, ""), ("share", True, ASKED, "")]
    # the request before, with the start of its answer ("that queue's depth" means the queue it named)
    assert [(j.node_id, j.follows) for j in last] == [("rows", f"{ASKED} (its answer: 1)"),
                                                     ("share", f"{ASKED} (its answer: 1)")]


async def test_a_follow_ups_packages_are_not_shown_the_note_of_what_failed_before() -> None:
    """aimed follow-up-longest-snapshot: the answer before ended with "Not done, and why: …
    failed (…)", and the query for "how big was it?" was told to filter on ``'failed'``."""
    chain = {"nodes": [READ, {"id": "rows", "package": {"goal": "parse", "code": "result = inputs['read_logs']"},
                              "depends_on": ["read_logs"]},
                       {"id": "share", "package": {"goal": "share", "code": "result = len(inputs['rows'])"},
                        "depends_on": ["read_logs"]}]}
    async with harness(MEMORY, [chain, finish("vol-db took longest."), chain, finish("1")]) as h:
        h.packages.outputs.update(rows=lambda inputs: ["x"])  # ("share" fails)
        await h.engine.ask("ps5", ASKED)
        answered = await h.next_event(AnswerReady)
        assert "Not done, and why:" in answered.answer  # (the note the follow-up is not shown)
        h.packages.outputs.update(share=lambda inputs: 1)
        await h.engine.ask("ps5", "How big was it?")
        await h.next_event(AnswerReady)
    assert {j.follows for j in h.packages.jobs[2:]} == {f"{ASKED} (its answer: vol-db took longest.)"}


async def test_a_changes_content_wired_to_nothing_is_computed_for_the_request_and_shown_for_approval() -> None:
    """data-renew-to-file: the write's content was ``${filter.text}`` of a search, which returns
    no ``text``, in the draft and again after its repair."""
    log = ToolLog()
    tools = simulated_registry(log)

    async def certs() -> dict[str, Any]:
        return {"path": "tls/certs.json", "content": "[…]"}
    tools.add(StructuredTool.from_function(coroutine=certs, name="certs", description="The certificates."),
              Risk.GREEN, returns=("path", "content"))
    unfed = {"nodes": [{"id": "read", "certs": {}},
                       {"id": "write", "send": {"to": "a@example.com", "body": "${read.domains}"}}]}
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: ["shop.example.com", "vpn.example.com"]})
    asked = "Send the domains expiring in December to a@example.com"
    async with services_on(MEMORY, ScriptedChatModel(replies=[unfed, unfed]), tools, packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("ps6", asked)
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert "change-content-computed" in ready.mends
    [job] = packages.jobs
    assert job.code == "" and job.goal.endswith(asked) and job.inputs == {"read": {"path": "tls/certs.json",
                                                                                   "content": "[…]"}}
    [waiting] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert waiting.args == {"to": "a@example.com", "body": "shop.example.com\nvpn.example.com"}
    assert log.calls == []  # nothing sent before the approval


def test_only_a_red_nodes_unfed_reference_is_computed() -> None:
    problem = PlanProblem("write", "args", "${read.text}: …", unfed_reference="${read.text}")
    draft = {"nodes": [{"id": "read", "tool": "lookup", "args": {"key": "k"}},
                       {"id": "write", "tool": "send", "args": {"to": "a@b.c", "body": "${read.text}"}}]}
    fed = salvaged_change(draft, [problem], ASKED, ["send"])
    assert fed is not None and fed["nodes"][-1]["args"]["body"] == "${computed}"
    assert salvaged_change(draft, [problem], ASKED, []) is None  # a green node: its input, not the answer
    other = PlanProblem("write", "args.to", "'x' is named nowhere")
    assert salvaged_change(draft, [problem, other], ASKED, ["send"]) is None
    with_package = {"nodes": [*draft["nodes"], {"id": "p", "package": {"goal": "g", "code": "result = 1"}}]}
    assert salvaged_change(with_package, [problem], ASKED, ["send"]) is None


def test_a_file_the_plan_only_searched_is_read_for_the_change_computed_from_it() -> None:
    """wide mail-follow-up-owners: the postmortem was searched for "owners" (its table says
    ``owner``), nothing matched, and the mail's body was computed from that empty search."""
    problem = PlanProblem("mail", "args", "${owners.text}: …", unfed_reference="${owners.text}")
    draft = {"nodes": [
        {"id": "owners", "tool": "search_files", "args": {"query": "owners", "pattern": "notes/pm.md"}},
        {"id": "anywhere", "tool": "search_files", "args": {"query": "owner", "pattern": "notes/*.md"}},
        {"id": "mail", "tool": "send", "args": {"to": "a@b.c", "body": "${owners.text}"}}]}
    fed = salvaged_change(draft, [problem], ASKED, ["send"])
    assert fed is not None
    nodes = {n["id"]: n for n in fed["nodes"]}
    assert nodes["read_owners"] == {"id": "read_owners", "tool": "read_file", "args": {"path": "notes/pm.md"}}
    assert nodes[COMPUTED_ID]["depends_on"] == ["owners", "anywhere", "read_owners"]  # (a glob: no one file)
    assert nodes["mail"]["args"]["body"] == "${computed}"
    # a file a node reads already is not read twice
    read = {"nodes": [{"id": "pm", "tool": "read_file", "args": {"path": "notes/pm.md"}}, *draft["nodes"]]}
    fed = salvaged_change(read, [problem], ASKED, ["send"])
    assert fed is not None and not any(n["id"].startswith("read_") for n in fed["nodes"])


class QueryArgs(BaseModel):
    sql: str

    @field_validator("sql")
    @classmethod
    def _tables(cls, sql: str) -> str:
        if "/" in sql.partition(" FROM ")[2].split(" ")[0]:
            raise FileWhereTableGoes("a file, not a table: read it", sql.partition(" FROM ")[2].split(" ")[0])
        return sql


async def test_a_query_that_names_a_file_where_a_table_goes_reads_it_and_computes_the_request() -> None:
    """data-follow-up-team-share: a database's query tool asked for ``SELECT … FROM
    finance/costs.csv``, in the draft and after its repair."""
    log = ToolLog()
    tools = simulated_registry(log)

    async def query(sql: str) -> list[dict[str, Any]]:
        log.calls.append(("query", {"sql": sql}))
        return []

    async def read_file(path: str) -> dict[str, Any]:
        log.calls.append(("read_file", {"path": path}))
        return {"path": path, "content": "team,cost\nsearch,5446.15\n"}
    tools.add(StructuredTool.from_function(coroutine=query, name="query", description="A query.",
                                           args_schema=QueryArgs), Risk.GREEN)
    tools.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file."),
              Risk.GREEN, returns=("path", "content"))
    over_file = {"nodes": [{"id": "total", "query": {"sql": "SELECT SUM(cost) FROM finance/costs.csv"}},
                           {"id": "search", "query": {"sql": "SELECT SUM(cost) FROM finance/costs.csv WHERE team"}}]}
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: 5446.15})
    llm = ScriptedChatModel(replies=[over_file, over_file, finish("The search team's is 5446.15.")])
    asked = "And how much of that is the search team's?"
    async with services_on(MEMORY, llm, tools, packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("ps7", asked)
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert "file-queries-read" in ready.mends
    assert [(n["id"], n.get("tool"), n.get("args")) for n in ready.plan["nodes"]] == [
        ("total", "read_file", {"path": "finance/costs.csv"}), (COMPUTED_ID, None, None)]
    assert log.calls == [("read_file", {"path": "finance/costs.csv"})]  # read once, never queried
    [job] = packages.jobs
    assert job.goal.endswith(asked) and job.inputs == {"total": {"path": "finance/costs.csv",
                                                                 "content": "team,cost\nsearch,5446.15\n"}}
    assert isinstance(seen[-1], AnswerReady) and seen[-1].answer == "The search team's is 5446.15."


def test_a_write_into_a_file_or_a_query_another_node_goes_on_from_is_not_read_instead() -> None:
    problem = PlanProblem("q", "args", "a file, not a table", reads_file="reports/x.csv")
    query = {"id": "q", "tool": "lookup", "args": {"key": "SELECT 1 FROM reports/x.csv"}}
    assert salvaged_file_queries({"nodes": [query]}, [problem], ASKED, ["send"]) is not None
    assert salvaged_file_queries({"nodes": [query]}, [problem], ASKED, ["lookup"]) is None  # a write
    after = {"id": "m", "tool": "send", "args": {"to": "a@b.c", "body": "${q}"}}
    assert salvaged_file_queries({"nodes": [query, after]}, [problem], ASKED, ["send"]) is None
    other = PlanProblem("q", "args", "unknown argument 'x'")
    assert salvaged_file_queries({"nodes": [query]}, [problem, other], ASKED, ["send"]) is None



def test_the_packages_over_queries_of_a_file_give_way_to_the_one_over_its_read() -> None:
    """data-follow-up-team-share: beside its queries over finance/costs.csv, the draft had a
    package that ``return``-ed their ratio and a search of the file; the search stays."""
    search = {"id": "search", "tool": "search_files", "args": {"query": "search"}}
    total = {"id": "total", "tool": "lookup", "args": {"key": "SELECT SUM(cost) FROM finance/costs.csv"}}
    team = {"id": "team", "tool": "lookup", "args": {"key": "SELECT SUM(cost) FROM finance/costs.csv WHERE …"}}
    ratio = {"id": "ratio", "package": {"goal": "code", "code": "return inputs['team'] / inputs['total']"}}
    problems = [PlanProblem("total", "args", "a file", reads_file="finance/costs.csv"),
                PlanProblem("team", "args", "a file", reads_file="finance/costs.csv"),
                PlanProblem("ratio", "package.code", "never sets `result`", code_fault=True, local=True)]
    salvaged = salvaged_file_queries({"nodes": [search, total, team, ratio]}, problems, ASKED, ["send"])
    assert salvaged is not None
    assert [(n["id"], n.get("tool"), n.get("depends_on")) for n in salvaged["nodes"]] == [
        ("search", "search_files", None), ("total", "read_file", None), (COMPUTED_ID, None, ["total"])]
    # a package's fault other than broken code (it runs a program) is the plan's to answer
    programs = PlanProblem("ratio", "package.code", "runs a program", beyond_tools="running a program")
    assert salvaged_file_queries({"nodes": [total, ratio]}, [problems[0], programs], ASKED, ["send"]) is None
    # a tool node that goes on from the package keeps the draft as it is
    mail = {"id": "m", "tool": "send", "args": {"to": "a@b.c", "body": "${ratio}"}}
    assert salvaged_file_queries({"nodes": [total, ratio, mail]}, problems[:1], ASKED, ["send"]) is None


def test_faults_of_several_salvageable_kinds_are_salvaged_together() -> None:
    """aimed memory-and-mail-host: a query over deploy/api.yaml as a table, beside a mail of
    ``${hostname_least_free.text}``, a field its search never returns; after the repair round,
    the file is read, the search stays, and the mail takes the one computing package's value."""
    query = {"id": "api_memory", "tool": "lookup", "args": {"key": "SELECT max(memory) FROM deploy/api.yaml"}}
    search = {"id": "least_free", "tool": "search_files", "args": {"query": "hostname"}}
    mail = {"id": "email", "tool": "send", "args": {"to": "infra@example.com", "body": "${least_free.text}"}}
    problems = [PlanProblem("api_memory", "args", "a file", reads_file="deploy/api.yaml"),
                PlanProblem("email", "args", "no 'text'", unfed_reference="${least_free.text}")]
    together = salvaged_together({"nodes": [query, search, mail]}, problems, ASKED, ["send"])
    assert together is not None
    assert [(n["id"], n.get("tool"), n.get("depends_on")) for n in together["nodes"]] == [
        ("least_free", "search_files", None), ("api_memory", "read_file", None),
        (COMPUTED_ID, None, ["least_free", "api_memory"]), ("email", "send", None)]
    assert together["nodes"][-1]["args"]["body"] == "${" + COMPUTED_ID + "}"
    # a data file only searched is read whole for the package too
    searched = {**search, "args": {"query": "hostname", "pattern": "inventory/servers.json"}}
    read_too = salvaged_together({"nodes": [query, searched, mail]}, problems, ASKED, ["send"])
    assert read_too is not None
    assert [(n["id"], n.get("args", {}).get("path")) for n in read_too["nodes"] if n.get("tool") == "read_file"] == [
        ("api_memory", "deploy/api.yaml"), ("read_least_free", "inventory/servers.json")]
    assert read_too["nodes"][3]["depends_on"] == ["least_free", "api_memory", "read_least_free"]
    # any other fault is the plan's to answer
    other = PlanProblem("email", "args", "unknown argument 'cc'")
    assert salvaged_together({"nodes": [query, search, mail]}, [*problems, other], ASKED, ["send"]) is None
    # a node going on from the file's query would lose its input
    after = {"id": "count", "tool": "lookup", "args": {"key": "${api_memory}"}}
    assert salvaged_together({"nodes": [query, search, mail, after]}, problems, ASKED, ["send"]) is None


async def test_a_question_about_named_files_whose_draft_stays_broken_is_computed_from_their_reads() -> None:
    """evening paid-day-and-kenji: the draft looped before its first node was whole, twice, and
    the run ended with "I could not make a plan"; the two files the question names are read and
    one package computes it from them. A request for a change gets no such plan."""
    log = ToolLog()
    tools = reading_registry(log)
    broken = {"nodes": [{"id": "r", "tool": "teleport", "args": {}}]}
    asked = "When was F-15 paid (billing/invoices.json), and is Kenji primary per team/oncall.yaml?"
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: "2026-11-21; primary"})
    llm = ScriptedChatModel(replies=[broken, broken, finish("Paid and on call: 2026-11-21; primary.")])
    async with services_on(MEMORY, llm, tools, packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("ps9", asked)
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert "question-files-read" in ready.mends
    assert [(n["id"], n.get("args")) for n in ready.plan["nodes"]] == [
        ("invoices", {"path": "billing/invoices.json"}), ("oncall", {"path": "team/oncall.yaml"}),
        (COMPUTED_ID, None)]
    [job] = packages.jobs
    assert job.goal.endswith(asked) and set(job.inputs) == {"invoices", "oncall"}
    assert isinstance(seen[-1], AnswerReady) and seen[-1].answer == "Paid and on call: 2026-11-21; primary."

    log.calls.clear()
    llm = ScriptedChatModel(replies=[broken, broken])
    async with services_on(MEMORY, llm, tools, packages=ScriptedPackages()) as services:
        events = services.events.open()
        await services.engine.ask("ps10", "write what billing/invoices.json says about F-15 to notes/f15.md")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert isinstance(seen[-1], RunFailed) and "unknown tool 'teleport'" in seen[-1].error and not log.calls


def test_searches_nothing_takes_are_left_out_when_every_file_the_request_names_is_read() -> None:
    """weekend longest-incident: searches of the workspace for "pagerduty" and "resolved" beside a
    query of the file the request names; the answer named a line of a search's matches, not the
    incident the package's query found."""
    asked = "Which resolved incident in oncall/incidents.json took the longest to resolve?"
    words = {"id": "oncall", "tool": "search_files", "args": {"query": "pagerduty"}}
    query = {"id": "duration", "tool": "lookup", "args": {"key": "SELECT max(x) FROM oncall/incidents.json"}}
    problem = PlanProblem("duration", "args", "a file, not a table", reads_file="oncall/incidents.json")
    salvaged = salvaged_file_queries({"nodes": [words, query]}, [problem], asked, ["send"])
    assert salvaged is not None
    assert [(n["id"], n.get("tool"), n.get("depends_on")) for n in salvaged["nodes"]] == [
        ("duration", "read_file", None), (COMPUTED_ID, None, ["duration"])]
    together = salvaged_together({"nodes": [words, query]}, [problem], asked, ["send"])
    assert together is not None and [n["id"] for n in together["nodes"]] == ["duration", COMPUTED_ID]
    # a search the request asks for itself stays ("… and which files mention pagerduty?")
    searched = "Which incident in oncall/incidents.json took the longest, and which files mention pagerduty?"
    kept = salvaged_file_queries({"nodes": [words, query]}, [problem], searched, ["send"])
    assert kept is not None and [n["id"] for n in kept["nodes"]] == ["oncall", "duration", COMPUTED_ID]
    # a file the request names that nothing reads: the search may be how it is found; it stays
    other = "How long did the incident in oncall/incidents.json take, and what does notes/retro.md say?"
    kept = salvaged_file_queries({"nodes": [words, query]}, [problem], other, ["send"])
    assert kept is not None and [n["id"] for n in kept["nodes"]] == ["oncall", "duration", COMPUTED_ID]
