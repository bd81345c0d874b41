"""A sum, count, average, share or maximum over a data file read whole, with nothing in the
plan to compute it, is computed by dagbot before the joiner writes (agent/plan/uncomputed.py,
agent/engine/computed_values.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.tools import StructuredTool

from agent.answer.failures import with_uncomputed_told
from agent.engine.computed_values import COMPUTED_ID
from agent.events import AnswerReady, PlanReady
from agent.plan import uncomputed
from agent.plan.format import Plan
from agent.plan.uncomputed import (
    asked_values,
    computed_nothing,
    is_data_file,
    rewritten_values,
    searched_data_files,
    uncomputed_reads,
)
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, services_on
from tests.fakes.packages import ScriptedPackages


def registry(workspace: Path) -> ToolRegistry:
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=workspace)))
    return tools


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


READ: dict[str, object] = {"id": "orders", "tool": "read_file", "args": {"path": "data/orders.csv"}}
SUM: dict[str, object] = {"id": "total", "depends_on": ["orders"], "package": {
    "goal": "sum the amount column",
    "code": "import csv, io\nrows = csv.DictReader(io.StringIO(inputs['orders']['content']))\n"
            "result = sum(float(r['amount']) for r in rows)"}}


@pytest.mark.parametrize(("request_text", "kinds"), [
    ("What is the total of the amount column in data/orders.csv?", ["sum"]),
    ("How many rows of data/orders.csv have the status failed?", ["count"]),
    ("Add up the amounts in data/orders.csv", ["sum"]),
    ("What's the mean duration in ci/builds.csv?", ["average"]),
    ("What percentage of the backups succeeded?", ["share"]),
    ("What is the backup success rate?", ["share"]),
    ("Which consumer in queue/consumers.json has the highest lag?", ["maximum or minimum"]),
    ("Which region has the most orders, and what is their total?", ["sum", "maximum or minimum"]),
    ("What's the ID of the newest snapshot in backups/snapshots.txt?", ["maximum or minimum"]),  # evening
    ("break billing/hosting-2026-11.csv down by project: how much does each cost?", ["per group"]),  # weekend
    ("Which consumers in queue/consumers.json are stalled?", ["filter"]),
    ("Which of them have MFA off?", ["filter"]),
    ("Which action items in notes/standup.md are still open?", ["filter"]),  # a noun of two words
    ("which open action items in retros/x.md are due before 2026-12-03?", ["filter"]),  # and a word before it
    ("Which volume's snapshot failed?", ["filter"]),  # an outcome (aimed follow-up-failed-volume)
    ("Which build timed out in ci/builds.csv?", ["filter"]),
    ("Which cluster does queue/consumers.json describe?", []),
    ("Which status does the checkout service have?", []),
    ("List the builds that took at least 600 s", []),
    ("What is the rate limit in config.json?", []),
    ("Break down the queue depth by consumer in ops/queues.csv.", ["per group"]),
    ("What is the p95 per region in slo/latency.csv?", ["per group"]),
    ("What does rate_limit_per_min say in config.json?", []),
    # "per" a file or "per the" one: according to it (monday rollback-time-and-catalog-size)
    ("At what time did Lev roll checkout back, per retros/2026-11-27-checkout-retro.md?", []),
    ("When did it end, per notes.md, or per the retro?", []),
    ("How much was invoiced on 2026-11-05, and how much did Acme pay?", ["sum"]),  # aimed day-and-acme
    ("What is our annual vendor spend in data/vendors.csv?", ["sum"]),  # wide vendor-total
    ("How much memory may deploy/api.yaml use, and how much RAM does db-1 have?", []),  # what files state
])
def test_the_request_s_words_name_the_value_it_asks_for(request_text: str, kinds: list[str]) -> None:
    assert asked_values(request_text) == kinds


def test_a_data_file_read_alone_for_a_sum_is_found(tmp_path: Path) -> None:
    assert uncomputed_reads(plan(READ), registry(tmp_path),
                            "What is the total of the amount column in data/orders.csv?") == ["orders"]
    page = plan({"id": "status", "tool": "http_get", "args": {"url": "http://127.0.0.1:8080/status.json"}})
    assert uncomputed_reads(page, registry(tmp_path), "What is the average p99 on status.json?") == ["status"]
    # a command's saved output (console total-restarts: kubectl get pods -o wide, a table of columns)
    pods = plan({"id": "pods", "tool": "read_file", "args": {"path": "ops/pods-wide.txt"}})
    assert uncomputed_reads(pods, registry(tmp_path), "How many restarts in ops/pods-wide.txt in total?") == ["pods"]
    # metrics scraped to a file (evening memory-used-share)
    metrics = plan({"id": "db", "tool": "read_file", "args": {"path": "metrics/db-01.prom"}})
    assert uncomputed_reads(metrics, registry(tmp_path), "What percentage of memory is in use per "
                                                         "metrics/db-01.prom?") == ["db"]


def test_a_plan_that_computes_or_a_value_a_file_states_is_not_found(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    asked = "What is the total of the amount column in data/orders.csv?"
    assert uncomputed_reads(plan(READ, SUM), tools, asked) == []  # a package computes it
    search = plan({"id": "errors", "tool": "search_files", "args": {"query": "ERROR", "pattern": "logs/app.log"}})
    assert uncomputed_reads(search, tools, "How many ERROR lines are in logs/app.log?") == []  # its matches
    # a search's matches count and filter; they add up nothing (aimed day-and-acme)
    day = plan(READ, {"id": "day", "tool": "search_files", "args": {"query": "2026-11-05", "pattern": "data/orders.csv"}})
    assert uncomputed_reads(day, tools, "What was the total of data/orders.csv on 2026-11-05?") == ["orders"]
    # a search of the file the plan reads whole is lines for the joiner to pick from; the rows are
    # queried (nightly failed-runs: two failed runs matched, the answer named one)
    assert uncomputed_reads(day, tools, "How many orders in data/orders.csv are from 2026-11-05?") == ["orders"]
    alone = plan({"id": "day", "tool": "search_files", "args": {"query": "2026-11-05", "pattern": "data/orders.csv"}})
    assert uncomputed_reads(alone, tools, "How many orders in data/orders.csv are from 2026-11-05?") == []
    settings = plan({"id": "deploy", "tool": "read_file", "args": {"path": "deploy.yaml"}})
    assert uncomputed_reads(settings, tools, "How many replicas does deploy.yaml ask for?") == []
    assert uncomputed_reads(plan(READ), tools, "Which orders in data/orders.csv are open?") == ["orders"]
    # a search of the same kind of file beside the read is no other source (broad escalated: a JSON
    # file's matching lines hold no record's key); a search of a JSON file computes nothing
    searched = {"id": "open", "tool": "search_files", "args": {"query": "open", "pattern": "data/orders.json"}}
    json_read = {"id": "orders", "tool": "read_file", "args": {"path": "data/orders.json"}}
    assert uncomputed_reads(plan(searched, json_read), tools, "Which orders in data/orders.json are open?") \
        == ["orders"]
    notes = {"id": "notes", "tool": "read_file", "args": {"path": "notes/oncall.md"}}
    assert uncomputed_reads(plan(READ, notes), tools, "Who is on call, and which orders are open?") == []
    listed = plan({"id": "files", "tool": "list_files", "args": {"path": "data"}},
                  {"id": "read", "tool": "read_file", "depends_on": ["files"], "args": {"path": "${files.files.0}"}})
    assert uncomputed_reads(listed, tools, "How many orders are there in total?") == []  # no data file named



def test_markdown_notes_read_alone_are_computed_like_a_data_file(tmp_path: Path) -> None:
    """aimed open-items: "Which action items … are still open?" over a checklist was answered by
    the joiner's model, every item marked done; its items are a table's rows."""
    tools = registry(tmp_path)
    notes = {"id": "standup", "tool": "read_file", "args": {"path": "notes/standup.md"}}
    asked = "Which action items in notes/standup.md are still open?"
    assert uncomputed_reads(plan(notes), tools, asked) == ["standup"]
    assert uncomputed_reads(plan(notes, READ), tools, asked) == []  # notes beside a data file: as before
    assert uncomputed_reads(plan(notes), tools, "Who owns the password rotation in notes/standup.md?") == []


def test_a_search_that_matched_nothing_computed_nothing(tmp_path: Path) -> None:
    """fresh follow-up-admins: "which of them have MFA off?" searched users.json for ``mfa: false``."""
    tools = registry(tmp_path)
    searched = plan(READ, {"id": "off", "tool": "search_files", "args": {"query": "open", "pattern": "data/orders.csv"}})
    asked = "Which orders in data/orders.csv are open?"
    nothing = {"off": {"status": "done", "output": {"matches": [], "truncated": False}}}
    found = {"off": {"status": "done", "output": {"matches": [{"path": "data/orders.csv", "line": 2}]}}}
    assert uncomputed_reads(searched, tools, asked, nothing) == ["orders"]
    # (and one that matched, beside the read of its file, is lines to pick from: the rows are queried)
    assert uncomputed_reads(searched, tools, asked, found) == ["orders"]


async def test_dagbot_computes_it_before_the_joiner_writes_and_the_joiner_answers_from_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,amount\nA,10\nB,32.5\n")
    llm = ScriptedChatModel(replies=[{"nodes": [READ]}, "The amounts total 42.5."])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: {"total_amount": 42.5}})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("uncomputed-1", "What is the total of the amount column in data/orders.csv?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [job] = packages.jobs
    assert job.code == "" and set(job.inputs) == {"orders"} and "order,amount" in job.inputs["orders"]["content"]
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (COMPUTED_ID,)]
    assert len(llm.calls) == 2 and "total_amount" in str(llm.calls[1])  # one joiner call, after the computing
    [answer] = [e.answer for e in seen if isinstance(e, AnswerReady)]
    assert answer == "The amounts total 42.5."


def test_packages_that_found_nothing_in_a_data_file_are_found(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    asked = "Which orders in data/orders.csv are open?"
    empty = {"orders": {"status": "done", "output": {"content": "order,amount"}},
             "total": {"status": "done", "output": []}}
    assert computed_nothing(plan(READ, SUM), tools, asked, empty) == ["total"]
    for output in (0, ["A"], False):  # a value: a zero, names, a no
        assert computed_nothing(plan(READ, SUM), tools, asked, {**empty, "total": {"status": "done", "output": output}}) == []
    assert computed_nothing(plan(READ, SUM), tools, "Show me data/orders.csv", empty) == []  # nothing to compute
    written = {"id": "w", "tool": "write_file", "args": {"path": "o.txt", "content": "${total}"}, "depends_on": ["total"]}
    assert computed_nothing(plan(READ, SUM, written), tools, asked, empty) == []  # a change was made of it
    # a package that failed, or was skipped for one that failed, gave nothing either (data manual-certs)
    failed = {**empty, "total": {"status": "failed", "error": "KeyError: 'auto_renew'"}}
    assert computed_nothing(plan(READ, SUM), tools, asked, failed) == ["total"]
    shown = {"id": "shown", "depends_on": ["total"], "package": {"goal": "output", "code": "result = 1"}}
    skipped = {**failed, "shown": {"status": "skipped", "error": "skipped: 'total' was failed"}}
    assert computed_nothing(plan(READ, SUM, shown), tools, asked, skipped) == ["shown"]
    assert computed_nothing(plan(READ, SUM, shown), tools, asked, {
        **skipped, "shown": {"status": "done", "output": 2}}) == []
    # Markdown notes read and searched, and nothing else: their items are rows (monday due-before-dec-3)
    retro = {"id": "retro", "tool": "read_file", "args": {"path": "retros/retro.md"}}
    due = {"id": "due", "tool": "search_files", "args": {"query": "due", "pattern": "retros/retro.md"}}
    picked = {"id": "picked", "depends_on": ["due"], "package": {"goal": "filter", "code": "result = 1"}}
    broke = {"picked": {"status": "failed", "error": "SyntaxError"}}
    items = "Which open action items in retros/retro.md are due before 2026-12-03?"
    assert computed_nothing(plan(retro, due, picked), tools, items, broke) == ["picked"]
    assert computed_nothing(plan(due, picked), tools, items, broke) == []  # no read: nothing to compute from
    config = {"id": "config", "tool": "read_file", "args": {"path": "deploy/app.yaml"}}
    assert computed_nothing(plan(retro, config, picked), tools, items, broke) == []  # not the notes alone


def test_a_value_computed_from_a_package_that_found_nothing_is_no_value(tmp_path: Path) -> None:
    """weekend cost-per-project: "break … down by project" filtered a project no row holds, and
    the sum of the empty filter answered 0."""
    tools = registry(tmp_path)
    asked = "break data/orders.csv down by region: how much does each cost?"
    chosen = {"id": "chosen", "depends_on": ["orders"], "package": {"goal": "filter by region", "code": "result = []"}}
    summed = {"id": "summed", "depends_on": ["chosen"], "package": {"goal": "sum", "code": "result = 0"}}
    results = {"orders": {"status": "done", "output": {"content": "order,region,amount"}},
               "chosen": {"status": "done", "output": []}, "summed": {"status": "done", "output": 0}}
    assert computed_nothing(plan(READ, chosen, summed), tools, asked, results) == ["summed"]
    found = {**results, "chosen": {"status": "done", "output": [{"order": "A"}]}}
    assert computed_nothing(plan(READ, chosen, summed), tools, asked, found) == []  # it found rows
    beside = {"id": "beside", "depends_on": ["orders"], "package": {"goal": "count", "code": "result = 2"}}
    assert computed_nothing(plan(READ, chosen, summed, beside), tools, asked, {
        **results, "beside": {"status": "done", "output": 2}}) == []  # another final gave a value
    # but a final that failed leaves its part to a guess, whatever the others gave (monday
    # top-error-client: the top client's package failed, a count of every line did not)
    top = {"id": "top", "depends_on": ["orders"], "package": {"goal": "the top region", "code": "1/0"}}
    assert computed_nothing(plan(READ, beside, top), tools, asked, {
        **results, "beside": {"status": "done", "output": 2},
        "top": {"status": "failed", "error": "ZeroDivisionError"}}) == ["top"]


REWRITTEN = [{"attempt": 1, "code": "result = inputs['orders']['rows'][0]", "error": "KeyError: 'rows'"},
             {"attempt": 2, "code": "result = 60", "error": None}]


def test_a_value_rewritten_from_a_goal_alone_is_no_value() -> None:
    """aimed day-and-acme: the planner's packages read fixed rows of a read that has none, and
    their rewrites, from the goal "sum", gave the total of every invoice for both asks."""
    shown = {"id": "shown", "depends_on": ["total"], "package": {"goal": "output", "code": "result = 1"}}
    drawn = Plan.model_validate({"nodes": [READ, SUM, shown]}).model_dump()
    done = {"status": "done", "output": 60}
    assert rewritten_values(drawn, {"total": {**done, "attempt_log": REWRITTEN}, "shown": done}) == {"total", "shown"}
    mended = [REWRITTEN[0], {**REWRITTEN[1], "mended_by": "nested-key"}]  # a runtime mend: the planner's code, mended
    queried = [REWRITTEN[0], {**REWRITTEN[1], "query": "SELECT SUM(amount) FROM data"}]  # written for the request
    code = SUM["package"]["code"]  # type: ignore[index]
    planned = [{**REWRITTEN[0], "query": "SELECT x FROM data"}, {**REWRITTEN[1], "code": code}]  # the plan's, last
    for log in ([REWRITTEN[0] | {"error": None}], mended, queried, planned):
        assert rewritten_values(drawn, {"total": {**done, "attempt_log": log}, "shown": done}) == set(), log
    assert rewritten_values(drawn, {"total": {"status": "failed", "attempt_log": REWRITTEN}}) == set()
    computing = {"nodes": [{"id": "computed", "package": {
        "goal": "Compute from the inputs every value this request asks for: the total", "code": ""}}]}
    assert rewritten_values(computing, {"computed": {**done, "attempt_log": REWRITTEN}}) == set()  # dagbot's own
    tools = registry(Path("/tmp"))
    results = {"orders": {"status": "done", "output": {"content": "order,amount"}},
               "total": {**done, "attempt_log": REWRITTEN}, "shown": done}
    assert computed_nothing(plan(READ, SUM, shown), tools, "What is the total amount in data/orders.csv?",
                            results) == ["shown"]


async def test_dagbot_computes_the_request_when_the_plans_packages_were_rewritten_from_their_goals(
        tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,amount\nA,10\nB,32.5\n")
    llm = ScriptedChatModel(replies=[{"nodes": [READ, SUM]}, "The amounts total 42.5."])
    packages = ScriptedPackages(outputs={"total": lambda inputs: 10, COMPUTED_ID: lambda inputs: {"total": 42.5}},
                                rewritten={"total"}, queries={COMPUTED_ID: "SELECT SUM(amount) AS total FROM data"})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("uncomputed-4", "What is the total of the amount column in data/orders.csv?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [job.node_id for job in packages.jobs] == ["total", COMPUTED_ID]
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (COMPUTED_ID,)]
    # the joiner is shown dagbot's value alone: the rewritten one gave way
    assert "## Computed values\n### computed" in str(llm.calls[1][-1].content)
    assert "### total" not in str(llm.calls[1][-1].content)
    assert [e.answer for e in seen if isinstance(e, AnswerReady)] == ["The amounts total 42.5."]


async def test_dagbot_computes_the_request_when_the_plans_own_package_computed_nothing(tmp_path: Path) -> None:
    """fresh no-mfa: the planner's filter compared ``mfa == 'off'`` over a file of ``false`` and
    answered with nothing; a query over the file is dagbot's second try."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,status\nA,open\nB,closed\n")
    open_ones = {"id": "open", "depends_on": ["orders"], "package": {"goal": "filter", "code": "result = []"}}
    llm = ScriptedChatModel(replies=[{"nodes": [READ, open_ones]}, "Order A is open."])
    packages = ScriptedPackages(outputs={"open": lambda inputs: [], COMPUTED_ID: lambda inputs: ["A"]})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("uncomputed-2", "Which orders in data/orders.csv are open?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [job.node_id for job in packages.jobs] == ["open", COMPUTED_ID]
    assert set(packages.jobs[1].inputs) == {"orders", "open"}
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (COMPUTED_ID,)]
    [answer] = [e.answer for e in seen if isinstance(e, AnswerReady)]
    assert answer == "Order A is open."


SEARCH: dict[str, object] = {"id": "mfa", "tool": "search_files",
                             "args": {"query": "mfa: false", "pattern": "access/users.json"}}


def test_a_data_file_a_search_matched_nothing_in_is_found(tmp_path: Path) -> None:
    tools = registry(tmp_path)
    asked = "Which of them have MFA off?"
    nothing = {"mfa": {"status": "done", "output": {"matches": [], "truncated": False, "files_searched": 1}}}
    assert searched_data_files(plan(SEARCH), tools, asked, nothing) == ["access/users.json"]
    matched = {"mfa": {"status": "done", "output": {"matches": [{"path": "access/users.json", "line": 3}]}}}
    # a JSON file's matching line is no record (broad escalated: ``"escalated": true,`` without its key)
    assert searched_data_files(plan(SEARCH), tools, asked, matched) == ["access/users.json"]
    rows = {**SEARCH, "args": {"query": "mfa=false", "pattern": "access/users.csv"}}
    assert searched_data_files(plan(rows), tools, asked, matched) == []  # a CSV's lines are rows: its matches answer it
    assert searched_data_files(plan(SEARCH), tools, "Does access/users.json mention mfa?", nothing) == []
    # a question for one value, after a search for a column's name (wide follow-up-login-ip: "ip")
    ip = {**SEARCH, "args": {"query": "ip", "pattern": "logs/edge-access.log"}}
    first = "Which request in logs/edge-access.log got a 401?"
    assert searched_data_files(plan(ip), tools, "From which IP did it come?", nothing, first) \
        == ["logs/edge-access.log"]
    assert searched_data_files(plan(ip), tools, "Did it come from 10.1.2.4?", nothing, first) == []
    for pattern in ("**/*.json", "notes/oncall.md", "${users.path}"):  # no data file named by itself
        other = {**SEARCH, "args": {"query": "x", "pattern": pattern}}
        assert searched_data_files(plan(other), tools, asked, nothing) == [], pattern
    # a search of many files looked through the data file the request, or the one before it, names
    # (aimed follow-up-failed-volume: "Which volume's snapshot failed?" after "Show me logs/snapshots.log")
    everywhere = {**SEARCH, "args": {"query": "result=failed", "pattern": "**/*"}}
    before = "Show me logs/snapshots.log"
    assert searched_data_files(plan(everywhere), tools, "Which volume's snapshot failed?", nothing, before) \
        == ["logs/snapshots.log"]
    assert searched_data_files(plan(everywhere), tools, "Which of them failed in access/users.json?", nothing,
                               before) == ["access/users.json"]  # the request's own file first
    logs = {**SEARCH, "args": {"query": "result=failed", "pattern": "logs/*.log"}}
    assert searched_data_files(plan(logs), tools, "Which volume's snapshot failed?", nothing, before) \
        == ["logs/snapshots.log"]
    assert searched_data_files(plan(logs), tools, "Which of them failed in access/users.json?", nothing) == []
    # a pattern that took in no file at all ("snapshot") looked through nothing: the named file is read
    word = {**SEARCH, "args": {"query": "failed", "pattern": "snapshot"}}
    assert searched_data_files(plan(word), tools, "Which volume's snapshot failed?", nothing, before) == []
    nowhere = {"mfa": {"status": "done", "output": {"matches": [], "truncated": False, "files_searched": 0}}}
    assert searched_data_files(plan(word), tools, "Which volume's snapshot failed?", nowhere, before) \
        == ["logs/snapshots.log"]
    assert searched_data_files(plan(everywhere), tools, "Which volume's snapshot failed?", nothing,
                               "Compare logs/a.log with logs/b.log") == []  # which of two: not certain
    read = {"id": "users", "tool": "read_file", "args": {"path": "access/users.json"}}
    assert searched_data_files(plan(SEARCH, read), tools, asked, nothing) == []  # read whole already
    computes = {"id": "count", "package": {"goal": "count", "code": "result = 1"}}
    assert searched_data_files(plan(SEARCH, computes), tools, asked, nothing) == []


async def test_dagbot_reads_and_computes_a_data_file_a_search_matched_nothing_in(tmp_path: Path) -> None:
    """fresh follow-up-admins: "Which of them have MFA off?" was a search of the JSON file for
    ``mfa: false`` (it holds ``"mfa": false``); the joiner then named a user from the earlier
    turn's read by itself. dagbot reads the file and computes the request from it."""
    (tmp_path / "access").mkdir()
    (tmp_path / "access" / "users.json").write_text('[{"login": "cwong", "role": "admin", "mfa": false}]\n')
    llm = ScriptedChatModel(replies=[{"nodes": [SEARCH]}, "cwong has MFA off."])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: ["cwong"]})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("searched-1", "Which of them have MFA off?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [job] = packages.jobs
    assert job.node_id == COMPUTED_ID and set(job.inputs) == {"mfa", "users"}
    assert '"login": "cwong"' in job.inputs["users"]["content"]  # the file, read whole
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), ("users", COMPUTED_ID)]
    [answer] = [e.answer for e in seen if isinstance(e, AnswerReady)]
    assert answer == "cwong has MFA off."


async def test_a_follow_ups_search_of_every_file_reads_the_file_the_thread_named(tmp_path: Path) -> None:
    """aimed follow-up-failed-volume: "Which volume's snapshot failed?" after "Show me
    logs/snapshots.log" searched every file for ``snapshot result=failed`` and matched nothing."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "snapshots.log").write_text("volume=vol-db result=ok\nvolume=vol-cache result=failed\n")
    shown = {"id": "log", "tool": "read_file", "args": {"path": "logs/snapshots.log"}}
    everywhere = {"id": "snap", "tool": "search_files", "args": {"query": "snapshot result=failed", "pattern": "**/*"}}
    llm = ScriptedChatModel(replies=[{"nodes": [shown]}, "Here it is.", {"nodes": [everywhere]},
                                     "vol-cache's snapshot failed."])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: ["vol-cache"]})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        await services.engine.ask("searched-2", "Show me logs/snapshots.log")
        events = services.events.open()
        await services.engine.ask("searched-2", "Which volume's snapshot failed?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [job] = packages.jobs
    assert job.node_id == COMPUTED_ID and "volume=vol-cache result=failed" in job.inputs["snapshots"]["content"]
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), ("snapshots", COMPUTED_ID)]
    assert [e.answer for e in seen if isinstance(e, AnswerReady)] == ["vol-cache's snapshot failed."]


async def test_dagbot_computes_the_request_when_the_plans_own_packages_failed(tmp_path: Path) -> None:
    """data manual-certs: the planner's filter failed (a key read at the JSON's top) and the
    package after it was skipped; a query over the file is dagbot's second try, and the answer
    still tells the failure."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,status\nA,open\nB,closed\n")
    open_ones = {"id": "open", "depends_on": ["orders"],
                 "package": {"goal": "filter", "code": "result = inputs['orders']['rows']"}}
    shown = {"id": "shown", "depends_on": ["open"], "package": {"goal": "output", "code": "result = inputs['open']"}}
    llm = ScriptedChatModel(replies=[{"nodes": [READ, open_ones, shown]}, "Order A is open."])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: ["A"]})  # "open" fails
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("uncomputed-3", "Which orders in data/orders.csv are open?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [job.node_id for job in packages.jobs] == ["open", COMPUTED_ID]
    assert set(packages.jobs[1].inputs) == {"orders"}
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (COMPUTED_ID,)]
    [answer] = [e.answer for e in seen if isinstance(e, AnswerReady)]
    assert answer.startswith("Order A is open.") and "`open`" in answer


def test_a_syslog_and_any_file_in_a_logs_folder_are_data_files() -> None:
    """weekend failed-ssh-per-source: logs/lb-02.syslog was no data file, so "how many … from each
    address" read it alone and the joiner's model counted."""
    assert is_data_file("logs/lb-02.syslog") and is_data_file("var/log/auth.syslog")
    assert is_data_file("logs/worker.err") and is_data_file("srv/log/app.out.1")
    assert not is_data_file("deploy/api.yaml") and not is_data_file("logs/README")
    for path in ("config/catalog/items.yaml", "backlog/sprint.yaml", "/etc/rsyslog/main.conf"):
        assert not is_data_file(path) and uncomputed._DATA_FILE.search(path) is None, path


JUNIT = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="smoke" tests="2">\n'
         '  <testsuite name="checkout"><testcase classname="smoke.checkout" name="pay" time="12.655"/>\n'
         '  <testcase classname="smoke.checkout" name="cart" time="2.118"/></testsuite>\n</testsuites>\n')


def test_an_xml_file_read_whole_that_is_a_test_report_is_a_data_file(tmp_path: Path) -> None:
    """weekend slowest-test: "Which test in ci/smoke.xml ran the longest?" read the report and
    searched it for "longest"; the joiner's model gave a suite's time for a test's."""
    tools = registry(tmp_path)
    asked = "Which test in ci/smoke.xml ran the longest, and for how long?"
    read = {"id": "smoke", "tool": "read_file", "args": {"path": "ci/smoke.xml"}}
    search = {"id": "longest", "tool": "search_files", "args": {"query": "longest", "pattern": "ci/smoke.xml"}}
    results = {"smoke": {"status": "done", "output": {"path": "ci/smoke.xml", "content": JUNIT}},
               "longest": {"status": "done", "output": {"matches": [{"line": 3, "text": "…"}]}}}
    assert uncomputed_reads(plan(read, search), tools, asked, results) == ["smoke"]
    pom = {**results, "smoke": {"status": "done", "output": {"path": "ci/smoke.xml", "content": "<project/>"}}}
    assert uncomputed_reads(plan(read, search), tools, asked, pom) == []  # other XML is no table
    assert uncomputed_reads(plan(read, search), tools, asked, {}) == []  # (not read yet: not known)


def test_a_query_of_a_table_the_request_names_no_word_of_computes_nothing_it_asks(tmp_path: Path) -> None:
    """monday destroyed-resources: "Which resources will terraform/plan.txt destroy?" was planned
    as the plan's read and a query of the database's ``deploys``; the joiner read the plan itself."""
    tools = registry(tmp_path)
    tools.add(StructuredTool.from_function(coroutine=_rows, name="sql_query", description="SQL"), Risk.GREEN)
    terraform = {"id": "plan", "tool": "read_file", "args": {"path": "terraform/plan.txt"}}
    deploys = {"id": "q", "tool": "sql_query", "args": {"sql": "SELECT service FROM deploys LIMIT 10"}}
    asked = "Which resources will terraform/plan.txt destroy?"
    assert uncomputed_reads(plan(terraform, deploys), tools, asked) == ["plan"]
    # a query of a table the request names (a word sharing its start: "deployments") computes it
    assert uncomputed_reads(plan(terraform, deploys), tools, "Which deployments failed, per terraform/plan.txt?") == []
    assert uncomputed_reads(plan(terraform, deploys), tools, "Which resources in terraform/plan.txt are deploys?") == []
    # a query that failed computed nothing, whatever it named (monday backup-total-and-largest)
    failed = {"q": {"status": "failed", "error": "no such table: deploys"}, "plan": {"status": "done"}}
    assert uncomputed_reads(plan(terraform, deploys), tools, "Which deploys will terraform/plan.txt destroy?",
                            failed) == ["plan"]


async def _rows(sql: str) -> dict[str, object]:
    return {"rows": []}


async def test_a_figure_answered_after_dagbots_computation_failed_is_told_uncomputed(tmp_path: Path) -> None:
    """tuesday ledger-total-lag: the query failed three times, and the joiner's model gave the
    file's first row (``1200``) for the sum: a value the results hold, stated as if computed."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order,amount\nA,10\nB,32.5\n")
    llm = ScriptedChatModel(replies=[{"nodes": [READ]}, "The amounts total 10."])
    packages = ScriptedPackages(outputs={})  # (no scripted output: the computation fails)
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("uncomputed-9", "What is the total of the amount column in data/orders.csv?")
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [job.node_id for job in packages.jobs] == [COMPUTED_ID]
    [answer] = [e.answer for e in seen if isinstance(e, AnswerReady)]
    assert answer.startswith("The amounts total 10.\n\n_dagbot's own computation of this failed (no scripted "
                             "output), so the figures above were read from the results by the model")


def test_an_answer_that_says_the_computation_failed_or_states_no_figure_is_left_as_it_is() -> None:
    failed = {"status": "failed", "error": "package 'computed' failed after 3 attempts (limit 3):\n"
                                           "  attempt 3/3: KeyError: 'lag' (line 30)"}
    told = with_uncomputed_told("The lag is 1200.", failed)
    assert told.endswith("_dagbot's own computation of this failed (KeyError: 'lag' (line 30)), so the figures "
                         "above were read from the results by the model, not computed: check them._")
    for kept in ("I could not add up the lag: the query failed (KeyError 'lag').", "The group is billing-ledger."):
        assert with_uncomputed_told(kept, failed) == kept
    assert with_uncomputed_told("The lag is 21528.", {"status": "done", "output": 21528}) == "The lag is 21528."
    assert with_uncomputed_told("The lag is 1200.", None) == "The lag is 1200."
