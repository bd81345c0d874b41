"""A package whose inputs hold one table is computed by one SQL query the model writes, compiled
into package code that runs in the real sandbox (sandbox/table_query.py); a query that fails or
finds nothing is written once more, told why, then the planner's code has its turn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.plan.uncomputed import COMPUTING_GOAL
from agent.ports.sandbox import PackageJob, Sandbox, SandboxLimits
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.flag_columns import flag_polarity, flag_words_as_numbers, flipped_flags, kept_flags
from sandbox.query_checks import (
    absent_values,
    asked_of,
    beside_a_total,
    conditions_per_row,
    counted_span,
    counted_unasked,
    grouped,
    kept_conditions,
    mended_share,
    names_nothing,
    needless_limit,
    one_group,
    one_row_named_before,
    percents_as_written,
    query_faults,
    quoted_aliases,
    quoted_clause_words,
    selects_its_conditions,
    shared_names,
    shares_for_which,
    span_counted_as_rows,
    status_classes,
    swapped_values,
    told_values_added,
    unasked_likes,
    unasked_values,
    unpicked_extreme,
    unused_columns,
    unused_phrases,
    unused_values,
    with_row_names,
    without_copied_row,
    without_negated,
    without_stated_texts,
    without_targets,
    without_totals_beside,
    without_whole_lists,
)
from sandbox.reflexion import ReflexionPackageRunner
from sandbox.table_query import (
    NAME,
    SHARE_RULE,
    TWO_VALUES_RULE,
    Table,
    describe,
    extract_sql,
    find_table,
    query_code,
    query_task,
    share_rule,
    two_values_rule,
)
from sandbox.table_rows import query_rows, table_rows

COSTS = ("team,service,cost_usd\npayments,ledger,1240.50\npayments,fraud-check,480.00\n"
         "search,indexer,2210.00\n")
SUMS_EVERY_ROW = ("import csv, io\nrows = csv.DictReader(io.StringIO(inputs['costs']['content']))\n"
                  "result = sum(float(r['cost_usd']) for r in rows)\n")
REQUEST = "What is the total cost_usd of the payments team in finance/costs.csv?"
TOTAL = "What is the total cost_usd in finance/costs.csv?"


def job(code: str = SUMS_EVERY_ROW, request: str = REQUEST, final: bool = True,
        content: str = COSTS) -> PackageJob:
    return PackageJob(thread_id="T1", run_id="R1", node_id="total", goal="sum the cost_usd column", code=code,
                      inputs={"costs": {"path": "finance/costs.csv", "content": content}},
                      request=request, final=final)


def sql(text: str) -> str:
    return f"```sql\n{text}\n```"


async def test_the_query_answers_the_request_where_the_planners_code_dropped_its_filter(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments'")])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    outcome = await runner.run(job(), gateway, _none)

    assert outcome.ok and outcome.output == 1720.5, outcome
    assert [(a.attempt, a.mended_by, a.error) for a in outcome.attempts] == [(1, NAME, None)]
    assert "WHERE team = 'payments'" in outcome.attempts[0].code
    # the query the result came from, for the answer (agent/engine/computed_answer.py)
    assert outcome.attempts[0].query == "SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments'"
    prompt = str(llm.calls[0][-1].content)
    assert REQUEST in prompt and "the value the request needs" in prompt and "sum the cost_usd column" in prompt
    assert "- team (text): 'payments', 'search'" in prompt and "- cost_usd (number): 1240.5, 480.0, 2210.0" in prompt
    assert "share" not in prompt  # (no share asked: its formula was copied where none was)


def test_a_table_read_beside_files_that_are_no_table_is_queried_for_its_own_part() -> None:
    """aimed memory-and-mail-host: "how much memory may deploy/api.yaml use, and email the
    hostname with the least free disk in inventory/servers.json" was queried as
    ``SUM(ram_gb) AS total, hostname`` over the inventory, and the memory answered as 16."""
    manifest = "name: api\nresources:\n  limits:\n    memory: 3Gi\n"
    servers = json.dumps({"servers": [{"hostname": "web-1", "free_disk_gb": 42.5},
                                      {"hostname": "web-2", "free_disk_gb": 8.25}]})
    inputs = {"memory": {"path": "deploy/api.yaml", "content": manifest},
              "search": {"files_searched": 1, "matches": []},
              "servers": {"path": "inventory/servers.json", "content": servers}}
    table = find_table(inputs)
    assert table is not None and table.source == "inventory/servers.json"
    assert table.others == ("deploy/api.yaml",)  # (the search's result is no read)
    asked = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs=inputs,
                       request="How much memory may deploy/api.yaml use, and email the hostname with the least "
                               "free disk in inventory/servers.json to infra@example.com")
    assert query_task(asked, table).endswith(
        "The table holds inventory/servers.json alone. What the request asks of deploy/api.yaml is answered "
        "from that read, not here: compute only what it asks of inventory/servers.json.")
    # the table read alone: the whole request is the query's
    alone = find_table({"servers": inputs["servers"]})
    assert alone is not None and alone.others == ()
    assert query_task(asked, alone).endswith("Compute the value the request needs from this table.")


def test_a_column_beside_a_total_of_the_whole_table_is_a_fault() -> None:
    """aimed memory-and-mail-host: "the hostname with the least free disk" was queried as
    ``SUM(free_disk_gb) AS total, hostname AS n … ORDER BY free_disk_gb ASC LIMIT 1``: web-1."""
    servers = json.dumps([{"hostname": "web-1", "free_disk_gb": 42.5}, {"hostname": "web-2", "free_disk_gb": 8.25}])
    table = find_table({"servers": {"path": "inventory/servers.json", "content": servers}})
    assert table is not None
    summed = "SELECT SUM(free_disk_gb) AS total, hostname AS n FROM data ORDER BY free_disk_gb ASC LIMIT 1"
    assert beside_a_total(table, summed) == ["hostname"]
    assert beside_a_total(table, "SELECT COUNT(*) AS n, \"hostname\" FROM data WHERE free_disk_gb < 10") == ["hostname"]
    for fine in ("SELECT hostname FROM data ORDER BY free_disk_gb ASC LIMIT 1",
                 "SELECT hostname, MIN(free_disk_gb) AS least FROM data",  # (SQLite: the least row's)
                 "SELECT hostname, SUM(free_disk_gb) AS total FROM data GROUP BY hostname",
                 "SELECT SUM(free_disk_gb) AS total FROM data"):
        assert beside_a_total(table, fine) == [], fine
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                     request="Which host has the least free disk in inventory/servers.json?")
    assert query_faults(table, job, summed) == [
        "The query totals the whole table with no GROUP BY, so hostname beside the total is any row's, not the "
        "one asked for: for the row with the most or least of a column, SELECT hostname FROM data ORDER BY "
        "<column> LIMIT 1 (no SUM); for a total per hostname, GROUP BY hostname."]


def test_a_total_beside_the_row_a_query_picks_is_left_out() -> None:
    """aimed memory-and-mail-host: told of the total beside the hostname, the model wrote the same
    query twice; its ORDER BY and LIMIT say a row is asked for."""
    servers = json.dumps([{"hostname": "web-1", "free_disk_gb": 42.5}, {"hostname": "web-2", "free_disk_gb": 8.25}])
    table = find_table({"servers": {"path": "inventory/servers.json", "content": servers}})
    assert table is not None
    assert without_totals_beside(table, "SELECT SUM(free_disk_gb) AS total, hostname AS n FROM data "
                                        "ORDER BY free_disk_gb ASC LIMIT 1") == \
        "SELECT hostname AS n FROM data ORDER BY free_disk_gb ASC LIMIT 1"
    for kept in ("SELECT SUM(free_disk_gb) AS total, hostname FROM data",  # no row picked: told, not mended
                 "SELECT SUM(free_disk_gb) AS total, hostname FROM data GROUP BY hostname ORDER BY total LIMIT 1",
                 "SELECT COUNT(*) AS n, hostname FROM data ORDER BY COUNT(*) DESC LIMIT 1",
                 "SELECT hostname FROM data ORDER BY free_disk_gb LIMIT 1"):
        assert without_totals_beside(table, kept) is None, kept


async def test_the_query_loop_picks_the_row_a_total_stood_beside(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    servers = json.dumps([{"hostname": "web-1", "free_disk_gb": 42.5}, {"hostname": "web-2", "free_disk_gb": 8.25}])
    summed = "SELECT SUM(free_disk_gb) AS total, hostname AS n FROM data ORDER BY free_disk_gb ASC LIMIT 1"
    llm = ScriptedChatModel(replies=[sql(summed)])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    asked = PackageJob(thread_id="T1", run_id="R1", node_id="least", goal="the host with the least free disk",
                       code="result = None", inputs={"servers": {"path": "inventory/servers.json", "content": servers}},
                       request="Which host in inventory/servers.json has the least free disk?", final=True)
    outcome = await runner.run(asked, gateway, _none)
    assert outcome.ok and outcome.output == "web-2", outcome
    assert outcome.attempts[0].query == "SELECT hostname AS n FROM data ORDER BY free_disk_gb ASC LIMIT 1"


async def test_a_query_of_data_under_an_alias_is_checked_and_mended_by_its_columns_names(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """evening mail-action-owners: ``FROM data AS T1 WHERE T1.section = 'meetings/…md'``, the
    notes' own path behind an alias, went unseen four times and the query found nothing."""
    notes = ("## Action items\n\n| Action | Owner | Status |\n|---|---|---|\n"
             "| Add a lock_timeout | Kenji | open |\n| Rotate the password | Ines | done |\n")
    aliased = ("SELECT T1.action, T1.owner FROM data AS T1 WHERE T1.section = 'meetings/sync.md' "
               "AND T1.status = 'open'")
    runner = ReflexionPackageRunner(sandbox, ScriptedChatModel(replies=[sql(aliased)]), limits, max_attempts=3,
                                    table_queries=True)
    asked = PackageJob(thread_id="T1", run_id="R1", node_id="open", goal="the open action items",
                       code="result = None", inputs={"notes": {"path": "meetings/sync.md", "content": notes}},
                       request="Email each owner of an open action item in meetings/sync.md their item", final=True)
    outcome = await runner.run(asked, gateway, _none)
    assert outcome.ok and outcome.attempts[0].query == "SELECT action, owner FROM data WHERE status = 'open'"
    assert outcome.output == {"action": "Add a lock_timeout", "owner": "Kenji"}, outcome


async def test_when_no_rewrite_is_without_faults_the_query_with_the_fewest_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """tuning status-and-incidents: the rewrites turned between a name and a count, and the last
    one written ran; the one told the fewest faults runs (the later of equals)."""
    fewest = "SELECT COUNT(*) AS n FROM data"  # one fault: a count where which team is asked
    more = "SELECT team FROM data WHERE team = 'billing'"  # two: a value no row holds, and no most one
    llm = ScriptedChatModel(replies=[sql(fewest), sql(more), sql(more)])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    outcome = await runner.run(job(request="Which team spent the most in finance/costs.csv?"), gateway, _none)
    assert len(llm.calls) == 3 and outcome.attempts[0].query == fewest, outcome


def test_a_file_two_steps_read_is_one_table() -> None:
    """aimed day-and-acme: two reads of billing/invoices-nov.csv, one per ask, were two tables,
    so no query ran and the writer's Python returned the first matching row's amount."""
    read = {"path": "finance/costs.csv", "content": COSTS}
    table = find_table({"day": read, "acme": dict(read)})
    assert table is not None and table.read == "inputs['day']['content']" and len(table.rows) == 3
    assert find_table({"day": read, "other": {"path": "finance/other.csv", "content": COSTS}}) is None


def test_the_rule_for_two_values_is_shown_only_where_two_are_asked() -> None:
    """aimed day-and-acme: two sums, each with its own condition, over one CSV."""
    assert two_values_rule(job(request="How much was invoiced on 2026-11-05, and how much did Acme pay?")) \
        == TWO_VALUES_RULE
    assert two_values_rule(job(request="How many pages did checkout get, and how many did search?")) \
        == TWO_VALUES_RULE
    # two names asked: counted both when shown the rule (tuning status-and-incidents)
    assert two_values_rule(job(request="Which service is degraded, and who owns the open incident?")) == ""
    assert two_values_rule(job(request="How much did the payments team spend and on what?")) == ""
    assert two_values_rule(job(request=REQUEST)) == ""


def test_the_share_rule_is_shown_only_where_a_share_is_asked() -> None:
    """data follow-up-team-share: "And how much of that is the search team's?" was queried as
    ``SUM(CASE WHEN team = 'search' THEN cost_usd ELSE 0 END) / COUNT(*) AS share``."""
    assert share_rule(job(request="And how much of that is the search team's?")) == ""
    assert share_rule(job(request="What share of the runs failed?")) == SHARE_RULE
    assert share_rule(job(request="What percentage of the requests were errors?")) == SHARE_RULE


async def test_a_query_that_leaves_out_a_value_the_request_names_is_written_again_told_so_once(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) AS total FROM data"),
                                     sql("SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5 and len(outcome.attempts) == 1, outcome
    told = str(llm.calls[1][-1].content)
    assert "names 'payments' (a value of team), which the query never uses" in told

    stubborn = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) FROM data")], repeat_last=True)
    outcome = await ReflexionPackageRunner(sandbox, stubborn, limits, table_queries=True).run(job(), gateway, _none)
    # told once, and the value still left out: added to the query (tuesday api-tag-and-orders-host)
    assert outcome.ok and outcome.output == 1720.5 and len(stubborn.calls) == 2

    # a rewrite that mends one fault and makes another is sent back again (fresh no-mfa-to-file)
    mended_badly = ScriptedChatModel(replies=[
        sql("SELECT SUM(cost_usd) FROM data"),                                      # payments left out
        sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments' AND service = 'costs'"),
        sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments'")])
    outcome = await ReflexionPackageRunner(sandbox, mended_badly, limits, table_queries=True).run(
        job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5 and len(mended_badly.calls) == 3, outcome
    assert "No row has service = 'costs'" in str(mended_badly.calls[2][-1].content)

    # a follow-up: the value the request before it named is no filter of this one
    follow_up = PackageJob(**{**job().__dict__, "request": "And how much of that is the search team's?",
                              "follows": REQUEST})
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) FROM data WHERE team = 'search'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(follow_up, gateway, _none)
    assert outcome.ok and outcome.output == 2210 and len(llm.calls) == 1, outcome
    assert f"(a follow-up to: {REQUEST})" in str(llm.calls[0][-1].content)


async def test_one_row_kept_where_the_request_asks_for_every_group_is_told_once(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    every = "What did each team spend, according to finance/costs.csv?"
    llm = ScriptedChatModel(replies=[
        sql("SELECT team, SUM(cost_usd) AS total FROM data GROUP BY team ORDER BY total DESC LIMIT 1"),
        sql("SELECT team, SUM(cost_usd) AS total FROM data GROUP BY team")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(
        job(request=every), gateway, _none)
    assert outcome.ok and outcome.output == {"payments": 1720.5, "search": 2210}, outcome
    assert "no single most or least" in str(llm.calls[1][-1].content)

    # dev-follow-up-laggard: "write its name to …", a follow-up to "which … has the highest …?"
    top = ScriptedChatModel(replies=[sql("SELECT team FROM data ORDER BY cost_usd DESC LIMIT 1")])
    follow_up = PackageJob(**{**job().__dict__, "request": "Write its team to reports/top.txt",
                              "follows": "Which row has the highest cost_usd?"})
    outcome = await ReflexionPackageRunner(sandbox, top, limits, table_queries=True).run(follow_up, gateway, _none)
    assert outcome.ok and outcome.output == "search" and len(top.calls) == 1, outcome


BACKUPS = ("job,duration_s\npg-orders,2467\npg-users,591\nminio-assets,7082\npg-orders,2550\n"
           "pg-users,602\nminio-assets,134\n")


@pytest.mark.parametrize(("request_text", "aggregate", "kept"), [
    ("Which job took the longest?", "MAX", {"job": "minio-assets", "d": 7082}),
    ("who had the shortest run?", "MIN", {"job": "minio-assets", "d": 134}),
    ("which job was the fastest, going by its slowest run?", "MAX", None),  # (most and least: no telling)
])
def test_a_query_listing_every_group_keeps_the_one_the_request_asks_for(
        request_text: str, aggregate: str, kept: dict[str, int] | None) -> None:
    """nightly follow-up-longest-size: "which job took the longest" queried as every job's
    ``MAX(duration)``; the answer then named the wrong one of three rows."""
    columns, rows = table_rows(BACKUPS, ".csv")
    listed = f"SELECT job, {aggregate}(duration_s) AS d FROM data GROUP BY job"
    assert len(query_rows(columns, rows, listed)) == 3  # (every job, as written)
    mended = one_group(request_text, listed)
    assert (query_rows(columns, rows, mended) if mended else None) == kept, mended


async def test_the_runner_keeps_the_one_group_before_the_query_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[sql("SELECT job, MAX(duration_s) AS d FROM data GROUP BY job")])
    asked = PackageJob(**{**job().__dict__, "request": "Which job took the longest?",
                          "inputs": {"log": {"path": "backups/runs.csv", "content": BACKUPS}}})
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(asked, gateway, _none)
    assert outcome.ok and outcome.output == {"job": "minio-assets", "d": 7082} and len(llm.calls) == 1, outcome


RUNS_LOG = (
    "ts=2026-11-22T01:30:01Z job=minio-assets status=ok size=112.0GiB duration=1h53m40s\n"
    "ts=2026-11-23T01:00:03Z job=pg-orders status=failed size=0B duration=0m48s\n"
    "ts=2026-11-23T01:00:05Z job=pg-users status=ok size=6.5GiB duration=9m58s\n"
    "ts=2026-11-23T01:30:00Z job=minio-assets status=ok size=113.5GiB duration=1h58m02s\n")
LONGEST = "Which job took the longest in backups/runs.log? (its answer: minio-assets took the longest, 7082 s.)"


@pytest.mark.parametrize(("request_text", "follows", "sql_text", "narrowed"), [
    ("how big was that backup?", LONGEST, "SELECT SUM(size) FROM data WHERE job = 'minio-assets'",
     "SELECT SUM(size) FROM data WHERE job = 'minio-assets' AND duration = 7082"),
    ("and when did it run?", LONGEST, "SELECT ts FROM data WHERE job = 'minio-assets' ORDER BY ts",
     "SELECT ts FROM data WHERE job = 'minio-assets' AND duration = 7082 ORDER BY ts"),
    ("how big were those backups?", LONGEST, "SELECT SUM(size) FROM data WHERE job = 'minio-assets'", None),
    ("how big was that backup?", "", "SELECT SUM(size) FROM data WHERE job = 'minio-assets'", None),  # no answer
    ("how big was that backup?", LONGEST.replace("7082 s", "about two hours"),
     "SELECT SUM(size) FROM data WHERE job = 'minio-assets'", None),  # no number tells the rows apart
    ("how big was that backup?", LONGEST, "SELECT size FROM data WHERE job = 'pg-users'", None),  # one row
    ("how big was that backup?", LONGEST, "SELECT size FROM data WHERE job = 'minio-assets' OR job = 'x'", None),
])
def test_a_follow_up_about_one_thing_keeps_the_row_the_answer_before_named(
        request_text: str, follows: str, sql_text: str, narrowed: str | None) -> None:
    """nightly follow-up-longest-size: "how big was that backup?" after the longest job summed
    both of that job's runs (225.5 GiB) where the one run was 113.5."""
    table = find_table({"log": {"path": "backups/runs.log", "content": RUNS_LOG}})
    assert table is not None
    asked = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                       request=request_text, follows=follows)
    mended = one_row_named_before(table, asked, sql_text)
    assert mended == narrowed
    if mended is not None and "SUM" in mended:
        columns, rows = table_rows(RUNS_LOG, ".log")
        assert query_rows(columns, rows, sql_text) == "225.5 GiB" and query_rows(columns, rows, mended) == "113.5 GiB"


def test_the_run_a_request_asks_for_is_named_by_its_own_column() -> None:
    """nightly longest-run: "which backup … ran the longest?" answered with the job alone."""
    table = find_table({"log": {"path": "backups/runs.log", "content": RUNS_LOG}})
    assert table is not None
    picked = with_row_names(table, "which backup in backups/runs.log ran the longest?",
                            "SELECT job FROM data ORDER BY duration DESC LIMIT 1")
    assert picked == "SELECT job, ts FROM data ORDER BY duration DESC LIMIT 1"
    columns, rows = table_rows(RUNS_LOG, ".log")
    assert query_rows(columns, rows, picked) == {"job": "minio-assets", "ts": "2026-11-23T01:30:00Z"}


@pytest.mark.parametrize(("request_text", "sql_text", "told"), [
    ("which backup in backups/runs.log ran the longest?", "SELECT ts FROM data", "longest"),
    ("How big was the smallest backup?", "SELECT SUM(size) FROM data WHERE status = 'ok'", "smallest"),
    ("which backup ran the longest?", "SELECT job FROM data ORDER BY duration DESC LIMIT 1", None),
    ("which backup ran the longest?", "SELECT MAX(duration) FROM data", None),  # (told otherwise)
    ("How long did each job take at most?", "SELECT job, duration FROM data", None),  # (several)
    ("How big were the backups?", "SELECT size FROM data", None),  # (no most or least)
    ("Which run was the longest and which the shortest?", "SELECT job FROM data", None),
])
def test_a_most_or_least_the_query_never_picks_is_told(request_text: str, sql_text: str, told: str | None) -> None:
    """nightly longest-run: "which backup … ran the longest?" queried ``SELECT ts FROM data``:
    the first row's time was answered."""
    assert unpicked_extreme(request_text, sql_text) == told
    table = find_table({"log": {"path": "backups/runs.log", "content": RUNS_LOG}})
    assert table is not None
    faults = query_faults(table, job(request=request_text), sql_text)
    assert any("keeps every row it matches" in f for f in faults) is (told is not None), faults


@pytest.mark.parametrize("left", [
    ("Which jobs took the longest?", "SELECT job, MAX(duration_s) FROM data GROUP BY job"),  # (several asked)
    ("How long did each job take?", "SELECT job, MAX(duration_s) FROM data GROUP BY job"),  # (no "which")
    ("Which job took the longest?", "SELECT job, MAX(duration_s) AS d FROM data GROUP BY job ORDER BY d DESC"),
    ("Which job took the longest?", "SELECT job, MAX(duration_s), MIN(duration_s) FROM data GROUP BY job"),
    ("Which job took the longest?", "SELECT MAX(duration_s) FROM data"),  # (no group to keep)
    ("Which are the top 2 jobs by time?", "SELECT job, SUM(duration_s) FROM data GROUP BY job"),
])
def test_a_query_is_left_as_it_is_where_the_request_asks_for_no_one_group(left: tuple[str, str]) -> None:
    assert one_group(*left) is None


@pytest.mark.parametrize(("request_text", "needless"), [
    ("How many pages did each service get?", True),
    ("Give me the total cost_usd per team", True),
    ("Which team spent the most?", False),
    ("How long was the longest db-backup run?", False),
    ("Which host has the highest load?", False),
])
def test_a_limit_of_one_is_needless_where_the_request_asks_for_no_single_one(request_text: str,
                                                                           needless: bool) -> None:
    assert needless_limit(request_text, "SELECT a FROM data ORDER BY b DESC LIMIT 1") is needless
    assert not needless_limit(request_text, "SELECT a, COUNT(*) FROM data GROUP BY a")


async def test_a_value_no_row_holds_is_told_before_the_query_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """data-payments-cost: ``… AND service = 'costs'``, a word of the file's path as a value."""
    llm = ScriptedChatModel(replies=[
        sql("SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments' AND service = 'costs'"),
        sql("SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5 and len(outcome.attempts) == 1, outcome
    assert ("No row has service = 'costs' (service holds 'ledger', 'fraud-check', 'indexer')"
            in str(llm.calls[1][-1].content))
    # the path the request names as a value (data-payments-cost as written) is left out in place
    llm = ScriptedChatModel(replies=[
        sql("SELECT SUM(cost_usd) AS total FROM data WHERE team = 'payments' AND service = 'finance/costs.csv'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5 and len(llm.calls) == 1, outcome


def test_the_values_a_query_compares_a_text_column_with_that_no_row_holds() -> None:
    table = find_table({"costs": {"path": "finance/costs.csv", "content": COSTS}})
    assert table is not None
    assert absent_values(table, "SELECT 1 FROM data WHERE \"team\" = 'Payments' OR service != 'web'") == [
        ("team", "Payments", ["payments", "search"]), ("service", "web", ["ledger", "fraud-check", "indexer"])]
    assert absent_values(table, "SELECT 1 FROM data WHERE team = 'payments' AND team LIKE 'pay%' "
                                "AND cost_usd = '3' AND nope = 'x' AND team = service") == []


async def test_a_condition_on_a_value_the_request_never_names_is_told_once(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """data-sev1-ack: the sev1 pages' average written ``… AND service = 'search' AND date IN (…)``,
    values copied from the rows the model was shown."""
    llm = ScriptedChatModel(replies=[
        sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments' AND service IN ('ledger', 'fraud-check')"),
        sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5, outcome
    told = str(llm.calls[1][-1].content)
    assert "The request names none of service = 'ledger', service = 'fraud-check': leave those conditions out" in told


DISKS = ('[{"host": "db-1", "used_gb": 420, "size_gb": 500}, {"host": "db-2", "used_gb": 310, "size_gb": 500},'
         ' {"host": "web-1", "used_gb": 70, "size_gb": 80}]')


def test_a_share_per_group_of_one_row_is_a_condition_on_rows() -> None:
    """data-full-disks: "which hosts are more than 80% full" written as a share per host."""
    table = find_table({"disks": {"path": "infra/disks.json", "content": DISKS}})
    assert table is not None
    share = ("SELECT host, 100.0 * SUM(CASE WHEN used_gb / size_gb > 0.8 THEN 1 ELSE 0 END) / COUNT(*) AS share "
             "FROM data GROUP BY host")
    assert conditions_per_row(table, share) == "host"
    assert conditions_per_row(table, share + " HAVING share > 0.8") == "host"
    assert conditions_per_row(table, "SELECT host FROM data WHERE used_gb / size_gb > 0.8") is None
    assert conditions_per_row(table, "SELECT host, SUM(used_gb) FROM data GROUP BY host") is None  # no condition
    costs = find_table({"costs": {"path": "finance/costs.csv", "content": COSTS}})
    assert costs is not None  # a team on several rows: a share per team means something
    assert conditions_per_row(costs, "SELECT team, AVG(CASE WHEN cost_usd > 1000 THEN 1 ELSE 0 END) "
                                     "FROM data GROUP BY team") is None


def test_a_query_for_which_rows_selects_what_names_them() -> None:
    """data-manual-certs: "which certificates…" written as a count."""
    table = find_table({"disks": {"path": "infra/disks.json", "content": DISKS}})
    assert table is not None
    which = "Which hosts in infra/disks.json are more than 80% full?"
    assert names_nothing(table, which, "SELECT COUNT(*) AS n FROM data WHERE used_gb / size_gb > 0.8")
    assert not names_nothing(table, which, "SELECT host FROM data WHERE used_gb / size_gb > 0.8")
    assert not names_nothing(table, which, "SELECT DISTINCT host AS h, used_gb FROM data")
    assert not names_nothing(table, which, "SELECT GROUP_CONCAT(host) FROM data WHERE used_gb > 300")
    assert not names_nothing(table, "How many hosts are full, and which?", "SELECT COUNT(*) FROM data")
    # a sentence of its own that asks which asks names, whatever another asks (monday destroyed-resources)
    counted = "SELECT SUM(CASE WHEN used_gb > 300 THEN 1 ELSE 0 END) AS total, COUNT(*) AS n FROM data"
    assert names_nothing(table, "Which hosts are over 80% full? Count the backup hosts too.", counted)
    assert names_nothing(table, "Which hosts are full? How many are there?", "SELECT COUNT(*) FROM data")  # both asked
    assert not names_nothing(table, "What do the disks hold in all?", "SELECT SUM(used_gb) FROM data")
    # "which … the most" queried as MAX alone is told the row to pick (nightly longest-run)
    most = "Which host in infra/disks.json uses the most?"
    assert names_nothing(table, most, "SELECT MAX(used_gb) FROM data")
    [told] = [f for f in query_faults(table, PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="",
                                                        inputs={}, request=most), "SELECT MAX(used_gb) FROM data")
              if "which one" in f]
    assert "ORDER BY used_gb DESC LIMIT 1" in told
    passed_on = "Write the disks in infra/disks.json over 300 GB to reports/big.txt"  # fresh no-mfa-to-file
    assert names_nothing(table, passed_on, "SELECT COUNT(*) AS n FROM data WHERE used_gb > 300")
    assert not names_nothing(table, passed_on, "SELECT host FROM data WHERE used_gb > 300")
    assert not names_nothing(table, "Write the total used_gb to reports/t.txt", "SELECT SUM(used_gb) FROM data")
    assert not names_nothing(table, "Email the number of disks to ops@example.com", "SELECT COUNT(*) FROM data")
    # a column's values asked for by its plural, nothing to compute (data-renew-to-file)
    listed = "Write the hosts whose disks are over 300 GB to reports/full.txt"
    assert names_nothing(table, listed, "SELECT COUNT(*) AS total FROM data WHERE used_gb > 300")
    assert not names_nothing(table, listed, "SELECT host FROM data WHERE used_gb > 300")
    assert not names_nothing(table, "What is the total used_gb of the hosts?", "SELECT SUM(used_gb) FROM data")
    # a column's plural in a path names no values, and "add up" computes (unseen processed-total)
    hosts = find_table({"hosts": {"path": "infra/hosts.csv", "content": "host,used_gb\na,1\nb,2\n"}})
    assert hosts is not None
    assert not names_nothing(hosts, "Add up the used_gb column of infra/hosts.csv.", "SELECT SUM(used_gb) FROM data")
    assert names_nothing(hosts, "Write the hosts of infra/hosts.csv to reports/h.txt", "SELECT COUNT(*) FROM data")
    assert not names_nothing(table, "Add the disks' used_gb up and write it to reports/t.txt",
                             "SELECT SUM(used_gb) FROM data")


def test_values_compared_with_that_the_request_names_are_asked_for() -> None:
    table = find_table({"costs": {"path": "finance/costs.csv", "content": COSTS}})
    assert table is not None
    query = "SELECT 1 FROM data WHERE team = 'payments' AND service NOT IN ('indexer', 'ledger') AND team != 'x'"
    assert unasked_values(table, "the Payments team, not the ledger", query) == [("service", "indexer")]


async def test_a_query_that_orders_by_an_aggregate_without_grouping_is_grouped_by_what_it_selects(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """data-top-spender: ``SELECT team FROM data ORDER BY SUM(cost_usd) DESC LIMIT 1``, which
    SQLite refuses ("misuse of aggregate"), twice; what it means is certain."""
    llm = ScriptedChatModel(replies=[sql("SELECT team FROM data ORDER BY SUM(cost_usd) DESC LIMIT 1")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(
        job(request="Which team spent the most?"), gateway, _none)
    assert outcome.ok and outcome.output == "search" and len(outcome.attempts) == 1, outcome
    assert "GROUP BY team ORDER BY SUM(cost_usd) DESC LIMIT 1" in outcome.attempts[0].code


@pytest.mark.parametrize("query", [
    "SELECT team FROM data GROUP BY team ORDER BY COUNT(*) DESC",  # grouped already
    "SELECT path, MAX(ms) AS ms FROM data",  # the slowest row, as SQLite reads it
    "SELECT team, ROUND(SUM(x), 2) AS t FROM data ORDER BY t DESC",  # no aggregate in its order
    "SELECT COUNT(*) FROM data ORDER BY COUNT(*)",  # no plain column to group by
])
def test_only_a_query_ordered_by_an_aggregate_without_a_group_is_grouped(query: str) -> None:
    assert grouped(query) is None
    assert grouped("SELECT service AS s FROM data WHERE severity = 'sev1' ORDER BY COUNT(*) DESC LIMIT 1") == (
        "SELECT service AS s FROM data WHERE severity = 'sev1' GROUP BY service ORDER BY COUNT(*) DESC LIMIT 1")


async def test_a_query_sqlite_cannot_compile_is_told_its_error_before_it_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """fresh follow-up-owner: ``SELECT owner`` over a table with no such column ran, failed, and
    was written again four times; SQLite's error now reaches the model before anything runs."""
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(pages) FROM data"), sql("SELECT SUM(cost_usd) FROM data")])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    outcome = await runner.run(job(request=TOTAL), gateway, _none)

    assert outcome.ok and outcome.output == 3930.5, outcome
    assert [(a.mended_by, a.error) for a in outcome.attempts] == [(NAME, None)]  # one run: the good query
    assert str(llm.calls[1][-1].content).startswith(
        "The query fails: no such column: pages. The one table is data, and its columns are team, service, "
        "cost_usd: use only those (if each row is one of the pages to count, COUNT(*) counts them).")


async def test_a_failed_query_is_written_again_told_the_error_then_the_planners_code_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    # told before it ran, the same query came back: it runs once, fails, and is asked for again
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(pages) FROM data"), sql("SELECT SUM(pages) FROM data"),
                                     sql("SELECT COUNT(pages) FROM data"), sql("SELECT COUNT(pages) FROM data")])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    outcome = await runner.run(job(request=TOTAL), gateway, _none)

    assert outcome.ok and outcome.output == 3930.5, outcome  # the planner's code, as written
    assert [(a.mended_by, (a.error or "").split(":")[0]) for a in outcome.attempts] == [
        (NAME, "OperationalError"), (NAME, "OperationalError"), (None, "")]
    assert outcome.attempts[2].code == SUMS_EVERY_ROW
    retry = str(llm.calls[2][-1].content)
    assert ("`SELECT SUM(pages) FROM data` failed: OperationalError: no such column: pages (line "
            in retry and "(the table's columns are team, service, cost_usd; if each row is one of the pages to "
            "count, COUNT(*) counts them)" in retry)


async def test_a_query_that_finds_nothing_is_written_again_and_a_second_empty_one_stands(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments' AND cost_usd > 5000"),
                                     sql("SELECT SUM(cost_usd) FROM data WHERE team = 'payments'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(job(), gateway, _none)
    assert outcome.ok and outcome.output == 1720.5, outcome
    assert (outcome.attempts[0].error or "").startswith("NothingFound: the query matched no row")
    assert "matched no row" in str(llm.calls[1][-1].content)

    llm = ScriptedChatModel(replies=[sql("SELECT SUM(cost_usd) FROM data WHERE team = 'search' AND service = 'ledger'"),
                                     sql("SELECT cost_usd FROM data WHERE service = 'ledger' AND team = 'search'")])
    growth = job(request="What did the search team spend on the ledger?")
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(growth, gateway, _none)
    assert outcome.ok and outcome.output is None and len(outcome.attempts) == 2, outcome  # none spent: none


async def test_no_sql_in_the_reply_or_the_same_query_again_goes_on_to_the_planners_code(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=["I would sum the column."])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(
        job(request=TOTAL), gateway, _none)
    assert outcome.ok and outcome.output == 3930.5 and [a.mended_by for a in outcome.attempts] == [None]

    again = sql("SELECT SUM(nope) FROM data")
    llm = ScriptedChatModel(replies=[again, again])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(
        job(request=TOTAL), gateway, _none)
    assert outcome.ok and [a.mended_by for a in outcome.attempts] == [NAME, None]


async def test_no_query_for_a_step_another_package_goes_on_from_nor_without_a_table_nor_when_off(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    silent = ScriptedChatModel(replies=[])
    outcome = await ReflexionPackageRunner(sandbox, silent, limits, table_queries=True).run(
        job(final=False), gateway, _none)
    assert outcome.ok and outcome.output == 3930.5 and not silent.calls  # the planner's code, for its next step

    prose = job(content="# Costs\nPayments spent the most.\n", code="result = 1\n")
    outcome = await ReflexionPackageRunner(sandbox, silent, limits, table_queries=True).run(prose, gateway, _none)
    assert outcome.ok and outcome.output == 1 and not silent.calls
    outcome = await ReflexionPackageRunner(sandbox, silent, limits).run(job(), gateway, _none)  # off
    assert outcome.ok and outcome.output == 3930.5 and not silent.calls


def test_the_table_is_found_only_when_the_inputs_hold_exactly_one() -> None:
    one = {"costs": {"path": "finance/costs.csv", "content": COSTS}, "note": {"path": "a.md", "content": "# x"}}
    table = find_table(one)
    assert table is not None and table.read == "inputs['costs']['content']" and table.suffix == ".csv"
    assert find_table({**one, "rows": [{"a": 1}, {"a": 2}]}) is None  # two tables: which is meant is not certain
    assert find_table({"page": {"status": 200, "json": {"services": [{"name": "a", "p99_ms": 120}]}}}) is not None
    assert "Table `data`: 3 rows" in describe(table)
    assert "SQL = \"SELECT 1 FROM data WHERE team = 'x'\"" in query_code(table, "SELECT 1 FROM data WHERE team = 'x'")
    # a read fanned out to one file is that file's table (fresh full-nodes: ``"each": [{"path": …}]``);
    # to several, no one table; a list of objects with a text field that are no reads is a table
    fanned = find_table({"costs": [{"path": "finance/costs.csv", "content": COSTS, "size": 9}]})
    assert fanned is not None and fanned.read == "inputs['costs'][0]['content']" and fanned.columns[0] == "team"
    assert find_table({"costs": [{"path": "a.csv", "content": COSTS}, {"path": "b.csv", "content": COSTS}]}) is None
    messages = find_table({"m": [{"id": 1, "text": "hi"}, {"id": 2, "text": "yo"}]})
    assert messages is not None and messages.columns == ["id", "text"]


@pytest.mark.parametrize(("reply", "found"), [
    ("```sql\nSELECT a FROM data;\n```", "SELECT a FROM data"),
    ("Here:\n```\nWITH t AS (SELECT 1) SELECT * FROM t\n```", "WITH t AS (SELECT 1) SELECT * FROM t"),
    ("SELECT COUNT(*) FROM data", "SELECT COUNT(*) FROM data"),
    ("```sql\nDELETE FROM data\n```", None),
    ("```sql\nSELECT 1; DROP TABLE data\n```", None),
    ("I cannot.", None),
])
def test_the_sql_of_a_reply(reply: str, found: str | None) -> None:
    assert extract_sql(reply) == found


async def _none(event: object) -> None:
    return None


def test_a_number_column_the_request_names_and_the_query_leaves_out_is_a_fault() -> None:
    """fresh error-share: "what percentage of the requests were errors?" over columns requests and
    errors, written as the share of rows with ``errors > 0`` (100%)."""
    latency = "service,region,p95_ms,requests,errors\napi,eu,180,52000,130\nweb,eu,320,43000,90\n"
    table = find_table({"latency": {"path": "slo/latency.csv", "content": latency}})
    assert table is not None
    asked = "What percentage of the requests in slo/latency.csv were errors?"
    rows_share = "SELECT 100.0 * SUM(CASE WHEN errors > 0 THEN 1 ELSE 0 END) / COUNT(*) AS share FROM data"
    assert unused_columns(table, asked, rows_share) == ["requests"]
    assert unused_columns(table, asked, "SELECT 100.0 * SUM(errors) / SUM(requests) FROM data") == []
    assert unused_columns(table, "How many requests are in slo/latency.csv?", "SELECT SUM(requests) FROM data") == []
    assert unused_columns(table, "How many services are there?", "SELECT COUNT(*) FROM data") == []  # a text column
    assert unused_columns(table, "How many rows have errors?", "SELECT COUNT(*) FROM data WHERE service = 'x'") == []
    [told] = query_faults(table, PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                                            request=asked), rows_share)
    assert "100.0 * SUM(errors) / SUM(requests)" in told  # the formula, with the columns it has
    # a share of a column's total, written as a share of rows, with no number column at all
    # (nightly ams-vcpu-share: "what percentage of all vCPUs … sit in ams?")
    in_eu = "SELECT 100.0 * SUM(CASE WHEN region = 'eu' THEN 1 ELSE 0 END) / COUNT(*) FROM data"
    assert unused_columns(table, "What percentage of all Requests are in eu?", in_eu) == ["requests"]
    assert unused_columns(table, "What percentage of the services are in eu?", in_eu) == []
    # a share going by a column (weekend web-3-share: web-3's share of the rows, not of the weights)
    for going_by in ("Going by the requests, what share is in eu?", "what share does eu get, based on requests?",
                     "which region is biggest by requests?"):
        assert unused_columns(table, going_by, in_eu) == ["requests"], going_by
        told = query_faults(table, PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="",
                                              inputs={}, request=going_by), in_eu)
        assert "SUM(CASE WHEN <condition> THEN requests ELSE 0 END) / SUM(requests)" in told[0]
    assert unused_columns(table, "Going by the region, what share of services is in eu?", in_eu) == []  # (text)


def test_a_follow_up_that_points_back_means_the_values_the_request_before_it_named() -> None:
    """fresh follow-up-admins: "Which of them have MFA off?" after "How many admins…?" was
    queried over every user."""
    users = json.dumps({"users": [{"login": "asilva", "role": "admin", "mfa": True},
                                  {"login": "bkim", "role": "member", "mfa": False},
                                  {"login": "cwong", "role": "admin", "mfa": False}]})
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None

    def told(request: str, follows: str, query: str) -> list[str]:
        return query_faults(table, PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="",
                                              inputs={}, request=request, follows=follows), query)

    before = "How many admins are listed in access/users.json?"
    assert told("Which of them have MFA off?", before, "SELECT login FROM data WHERE mfa = 0") == [
        "The request names 'admin' (a value of role), which the query never uses: filter on it with WHERE if "
        "the request asks about it."]
    assert told("Which of them have MFA off?", before, "SELECT login FROM data WHERE mfa = 0 AND role = 'admin'") == []
    assert told("Which users have MFA off?", before, "SELECT login FROM data WHERE mfa = 0") == []  # a new question
    # "that …" means what the answer before named (unseen follow-up-queue-depth)
    answered = "Who joined last, in access/users.json? (its answer: cwong joined last.)"
    assert told("Put that user's role in reports/role.txt", answered, "SELECT role FROM data") == [
        "The request names 'cwong' (a value of login), which the query never uses: filter on it with WHERE if "
        "the request asks about it."]
    # "it" means what the answer before named (aimed follow-up-longest-snapshot: every size summed)
    assert told("Which role does it have?", answered, "SELECT role FROM data") == [
        "The request names 'cwong' (a value of login), which the query never uses: filter on it with WHERE if "
        "the request asks about it."]
    # the column "that user's role" asks for, never selected (unseen follow-up-queue-depth)
    assert told("Put that user's role in reports/role.txt", answered, "SELECT login FROM data WHERE login = 'cwong'") \
        == ["The request asks for role, which the query never uses: select it (SELECT role FROM data WHERE …).",
            "The query selects only what its WHERE sets (login = 'cwong'): it returns what it was given. Select "
            "the column that holds what the request asks for (role, mfa)."]
    # "that user's login" asks back the value the answer named: selecting it is the answer (data follow-up-busiest)
    assert told("Mail that user's login to ops@example.com", answered,
                "SELECT login FROM data WHERE login = 'cwong'") == []
    # the file shown whole names every login: "which of them" filters none of them out
    shown = 'Show me access/users.json (its answer: {"users": [asilva admin, bkim member, cwong admin]})'
    assert told("Which of them have MFA off?", shown, "SELECT login FROM data WHERE mfa = 0") == []


def planned_resources() -> Table:
    """A Terraform plan's table: a resource replaced, one destroyed, one created."""
    plan = ("  # aws_elasticache_cluster.sessions must be replaced\n"
            "  # aws_security_group_rule.office_ssh will be destroyed\n"
            "  # aws_s3_bucket.exports will be created\n")
    table = find_table({"plan": {"path": "terraform/plan.txt", "content": plan}})
    assert table is not None
    return table


def test_a_word_made_from_a_value_names_it() -> None:
    """monday destroyed-resources: "Count the replacements too." queried as ``action = 'destroy'``
    alone; "replaced" names ``replace`` as well, and a word that only begins with a value does not."""
    table = planned_resources()
    asked = "Which resources will terraform/plan.txt destroy? Count the replacements too."
    assert unused_values(table, asked, "SELECT name FROM data WHERE action = 'destroy'") == [("replace", "action")]
    assert unused_values(table, asked, "SELECT name FROM data WHERE action IN ('destroy', 'replace')") == []
    assert unused_values(table, "Which resources get replaced?", "SELECT name FROM data") == [("replace", "action")]
    assert unused_values(table, "Which resources are creative?", "SELECT name FROM data") == []


def test_a_span_of_days_counted_as_rows_is_computed_where_its_reading_is_plain() -> None:
    """monday days-to-last-due, told how to compute the span, wrote the count again."""
    items = json.dumps([{"item": "canary", "open": True, "due": "2026-12-04"},
                        {"item": "load-test", "open": True, "due": "2026-12-09"},
                        {"item": "memory", "open": False, "due": "2026-12-20"}])
    table = find_table({"items": {"path": "retros/items.json", "content": items}})
    assert table is not None
    asked = "How many days are there from 2026-11-27 to the latest due date of the open items in retros/items.json?"
    mended = span_counted_as_rows(table, asked, "SELECT COUNT(*) AS total FROM data WHERE open = 1")
    assert mended == ("SELECT CAST(ROUND(julianday(MAX(due)) - julianday('2026-11-27')) AS INTEGER) AS days "
                      "FROM data WHERE open = 1")
    assert query_rows(table.columns, table.rows, mended) == 12  # (to 2026-12-09: the closed item's left out)
    earliest = asked.replace("latest", "earliest")
    assert "MIN(due)" in str(span_counted_as_rows(table, earliest, "SELECT COUNT(*) FROM data WHERE open = 1"))
    for unclear in ("How many days are there from 2026-11-27 to the due dates in retros/items.json?",  # which?
                    "How many days are there from the retro to the latest due date in retros/items.json?"):  # from?
        assert span_counted_as_rows(table, unclear, "SELECT COUNT(*) FROM data") is None


def test_a_name_given_to_a_column_that_is_one_of_sqls_words_is_quoted() -> None:
    """monday follow-up-deploy-failer: ``run_started_at AS when``, a syntax error written three times."""
    assert quoted_aliases("SELECT actor AS who, run_started_at AS when FROM data WHERE conclusion = 'failure'") == (
        "SELECT actor AS who, run_started_at AS \"when\" FROM data WHERE conclusion = 'failure'")
    assert quoted_aliases("SELECT CAST(size AS INTEGER) AS order FROM data") == (
        "SELECT CAST(size AS INTEGER) AS \"order\" FROM data")
    assert quoted_aliases("SELECT COUNT(*) AS total FROM data WHERE note = 'x AS when'") is None  # a text, a name


CONSUMER_GROUPS = """
GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG   CONSUMER-ID  HOST        CLIENT-ID
orders-sink     orders.v2       0          3381920         3381920         0     sink-0-6f1e  /10.12.6.14 sink-0
orders-sink     orders.v2       1          3379415         3379427         12    sink-1-c0d9  /10.12.6.15 sink-1

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG   CONSUMER-ID  HOST        CLIENT-ID
billing-ledger  billing.events  0          912044          917444          5400  writer-0-8e  /10.12.5.22 writer-0
billing-ledger  billing.events  3          906552          912572          6020  -            -           -
"""


def test_a_column_named_by_a_clauses_word_is_quoted_where_it_is_no_clause() -> None:
    """tuesday ledger-total-lag: ``WHERE group = 'billing-ledger'`` over kafka-consumer-groups
    output, a syntax error written three times."""
    columns, rows = table_rows(CONSUMER_GROUPS, ".txt")
    table = Table(read="inputs['lag']['content']", suffix=".txt", columns=columns, rows=rows)
    mended = quoted_clause_words(table, "SELECT SUM(lag) AS total FROM data WHERE group = 'billing-ledger'")
    assert mended == "SELECT SUM(lag) AS total FROM data WHERE \"group\" = 'billing-ledger'"
    assert query_rows(table.columns, table.rows, mended) == 11420
    grouped = quoted_clause_words(table, "SELECT group, SUM(lag) FROM data GROUP BY group ORDER BY 2 DESC LIMIT 1")
    assert grouped == 'SELECT "group", SUM(lag) FROM data GROUP BY "group" ORDER BY 2 DESC LIMIT 1'
    # a query that compiles, or a table with no such column: nothing to mend
    assert quoted_clause_words(table, "SELECT SUM(lag) FROM data WHERE \"group\" = 'orders-sink'") is None
    assert quoted_clause_words(table, "SELECT SUM(lag) FROM data GROUP BY topic") is None
    plain = Table(read="x", suffix=".csv", columns=["team", "cost"], rows=[{"team": "a", "cost": 1}])
    assert quoted_clause_words(plain, "SELECT team FROM data WHERE group = 'a'") is None


def test_a_text_a_query_writes_itself_as_a_value_is_left_out() -> None:
    """tuesday api-tag-and-orders-host: ``SELECT 'api' AS image_tag, host …`` over the
    consumer-group output: the tag is the Helm file's, and no row holds 'api'."""
    columns, rows = table_rows(CONSUMER_GROUPS, ".txt")
    table = Table(read="inputs['lag']['content']", suffix=".txt", columns=columns, rows=rows)
    sql = "SELECT 'api' AS image_tag, host AS reader FROM data WHERE group = 'orders-sink' AND partition = 0"
    mended = without_stated_texts(sql)
    assert mended == "SELECT host AS reader FROM data WHERE group = 'orders-sink' AND partition = 0"
    assert query_rows(table.columns, table.rows, str(quoted_clause_words(table, mended))) == "/10.12.6.14"
    # a text alone, or in a condition or a function: the query's own
    assert without_stated_texts("SELECT 'none' AS answer FROM data") is None
    assert without_stated_texts("SELECT COUNT(*), MAX(host) FROM data WHERE host = 'x'") is None
    assert without_stated_texts("SELECT host || ':' || port AS address, lag FROM data") is None


def test_a_value_the_request_names_told_and_still_left_out_is_added() -> None:
    """tuesday api-tag-and-orders-host: told that the request names ``orders.v2`` (a value of
    topic), the rewrite wrote ``WHERE partition = 0``: the first group's reader was the answer."""
    columns, rows = table_rows(CONSUMER_GROUPS, ".txt")
    table = Table(read="inputs['lag']['content']", suffix=".txt", columns=columns, rows=rows)
    asked = "which host is reading partition 0 of orders.v2 in kafka/consumer-lag.txt?"
    told = ["The request names 'orders.v2' (a value of topic), which the query never uses: filter on it with WHERE "
            "if the request asks about it."]
    mended = told_values_added(table, asked, "SELECT host FROM data WHERE partition = 0", told)
    assert mended == "SELECT host FROM data WHERE partition = 0 AND topic = 'orders.v2'"
    assert query_rows(table.columns, table.rows, mended) == "/10.12.6.14"
    assert told_values_added(table, asked, "SELECT host FROM data ORDER BY lag DESC LIMIT 1", told) == (
        "SELECT host FROM data WHERE topic = 'orders.v2' ORDER BY lag DESC LIMIT 1")
    # a condition on the column already, or nothing told of the value: the rewrite's own
    assert told_values_added(table, asked, "SELECT host FROM data WHERE topic LIKE 'orders%'", told) is None
    assert told_values_added(table, asked, "SELECT host FROM data WHERE partition = 0", []) is None


def test_a_value_put_in_place_of_another_the_request_names_keeps_both() -> None:
    """monday destroyed-resources: told that "the replacements" name ``replace``, the rewrite of
    ``action = 'destroy'`` was ``action = 'replace'``."""
    table = planned_resources()
    asked = "Which resources will terraform/plan.txt destroy? Count the replacements too."
    before = "SELECT name FROM data WHERE action = 'destroy'"
    assert swapped_values(table, asked, before, "SELECT name FROM data WHERE action = 'replace'") == (
        "SELECT name FROM data WHERE action IN ('destroy', 'replace')")
    assert swapped_values(table, asked, before, "SELECT name FROM data WHERE action = 'create'") is None  # unnamed
    assert swapped_values(table, "Which resources get replaced?", before,
                          "SELECT name FROM data WHERE action = 'replace'") is None  # destroy unasked: a fix


def test_a_span_of_days_answered_by_a_count_of_rows_is_a_fault() -> None:
    """monday days-to-last-due: "How many days are there from the retro … to the latest due date
    of its open action items?" written ``SELECT COUNT(*)`` and answered 5."""
    items = json.dumps([{"item": "canary", "open": True, "due": "2026-12-04"},
                        {"item": "load-test", "open": True, "due": "2026-12-09"}])
    table = find_table({"items": {"path": "retros/items.json", "content": items}})
    assert table is not None
    asked = "How many days are there from 2026-11-27 to the latest due date of the open items in retros/items.json?"
    told = counted_span(table, asked, "SELECT COUNT(*) AS total FROM data WHERE open = 1")
    assert told == ("The request asks how many days lie between two dates, and the query counts rows: compute the "
                    "span from the dates (the table's dates: due), as (julianday(MAX(due)) - "
                    "julianday('2026-11-27')), with the request's own conditions.")
    assert counted_span(table, asked, "SELECT julianday(MAX(due)) - julianday('2026-11-27') FROM data") is None
    assert counted_span(table, "How many days had an open item in retros/items.json?",
                        "SELECT COUNT(*) FROM data WHERE open = 1") is None  # days counted: a count
    assert counted_span(table, "How many hours passed between the two due dates?",
                        "SELECT COUNT(*) FROM data") == (
        "The request asks how many hours lie between two dates, and the query counts rows: compute the span from "
        "the dates (the table's dates: due), as (julianday(MAX(due)) - julianday(<earlier date>)) * 24, with "
        "the request's own conditions.")


def test_a_yes_no_column_the_request_names_and_the_query_leaves_out_is_a_fault() -> None:
    """fresh no-mfa-to-file: "the users … without MFA", rewritten with no condition on ``mfa``."""
    users = json.dumps({"users": [{"login": "asilva", "team": "web", "mfa": True},
                                  {"login": "bkim", "team": "web", "mfa": False}]})
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None
    asked = "Write the users in access/users.json without MFA to reports/no-mfa.txt"
    assert unused_columns(table, asked, "SELECT login FROM data") == ["mfa"]
    assert unused_columns(table, asked, "SELECT login FROM data WHERE mfa = 0") == []
    assert unused_columns(table, "Write the users to reports/all.txt", "SELECT login FROM data") == []


def test_a_status_class_counted_as_one_status_is_a_fault() -> None:
    """dev gateway-5xx: "how many 5xx responses?" counted as ``status = 500``, the 502s and 503s left out."""
    asked = "How many 5xx responses are there in logs/gateway.log?"
    assert status_classes(asked, "SELECT SUM(CASE WHEN status = 500 THEN 1 ELSE 0 END) FROM data") == ["5xx"]
    assert status_classes(asked, "SELECT COUNT(*) FROM data WHERE status = 502") == ["5xx"]  # wide 5xx
    for ranged in ("SELECT COUNT(*) FROM data WHERE status >= 500", "SELECT COUNT(*) FROM data WHERE status "
                   "BETWEEN 500 AND 599", "SELECT COUNT(*) FROM data WHERE CAST(status AS TEXT) LIKE '5%'"):
        assert status_classes(asked, ranged) == [], ranged
    assert status_classes("How many 500 errors?", "SELECT COUNT(*) FROM data WHERE status = 500") == []
    log = "2026-11-24T10:00:01Z GET /a 200 3ms\n2026-11-24T10:00:02Z GET /b 502 9ms\n"
    table = find_table({"log": {"path": "logs/gateway.log", "content": log}})
    assert table is not None
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={}, request=asked)
    assert query_faults(table, job, "SELECT COUNT(*) FROM data WHERE status = 500") == [
        "5xx is every status from 500 to 599, not one of them alone: WHERE <status column> BETWEEN 500 AND 599."]


def test_a_count_where_the_request_asks_for_none_is_a_fault() -> None:
    """evening load15: "What's db-01's 15-minute load average?" was written ``SELECT COUNT(*) AS
    total FROM data WHERE metric = 'node_load15'``, and answered 1."""
    metrics = "# TYPE node_load15 gauge\nnode_load15 2.51\nnode_load5 2.97\n"
    table = find_table({"db": {"path": "metrics/db-01.prom", "content": metrics}})
    assert table is not None
    asked = "What's db-01's 15-minute load average in metrics/db-01.prom?"
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={}, request=asked)
    counted = "SELECT COUNT(*) AS total FROM data WHERE metric = 'node_load15'"
    assert query_faults(table, job, counted) == [
        "The request asks for no count, and the query selects only COUNT(*): select the value it asks for "
        "(a number column: value)."]
    assert query_faults(table, job, "SELECT value FROM data WHERE metric = 'node_load15'") == []
    # a metric's name, said in the request's own words, is no value nobody asked for
    assert unasked_values(table, asked, counted) == []
    assert unasked_values(table, "What's the disk use?", counted) == [("metric", "node_load15")]
    for counting in ("How many samples are in metrics/db-01.prom?", "Any load samples in metrics/db-01.prom?"):
        assert not counted_unasked(counting, counted), counting
    assert not counted_unasked(asked, "SELECT metric, COUNT(*) FROM data GROUP BY metric")


@pytest.mark.parametrize(("request_text", "query", "told"), [
    ("Write the users in access/users.json without MFA to reports/no-mfa.txt",
     "SELECT login FROM data WHERE team != 'x' AND mfa = 1", [("mfa", False)]),
    ("Which users have MFA turned off?", "SELECT login FROM data WHERE mfa IS TRUE", [("mfa", False)]),
    ("Which users have MFA off?", "SELECT login FROM data WHERE mfa != 0", [("mfa", False)]),
    ("Which users have MFA enabled?", "SELECT login FROM data WHERE NOT mfa", [("mfa", True)]),
    ("Which users have MFA on?", "SELECT login FROM data WHERE mfa = 0", [("mfa", True)]),
    ("Which users have MFA off?", "SELECT login FROM data WHERE mfa = 0", []),
    ("Which users have MFA off?", "SELECT login FROM data WHERE mfa = false", []),
    ("Which users are without MFA?", "SELECT login FROM data WHERE mfa <> 1", []),
    ("Which users with MFA are admins?", "SELECT login FROM data WHERE mfa = 1 AND team = 'web'", []),
    ("Which users have MFA off?", "SELECT login FROM data WHERE mfa = 0 OR mfa = 1", []),  # both ways: left
    ("Which users are on the web team?", "SELECT login FROM data WHERE mfa = 1", []),  # not asked about
])
def test_a_yes_no_column_kept_the_other_way_than_the_request_asks_is_a_fault(
        request_text: str, query: str, told: list[tuple[str, bool]]) -> None:
    """fresh no-mfa-to-file: "the users … without MFA" was queried ``WHERE … mfa = 1``."""
    users = json.dumps([{"login": "asilva", "team": "web", "mfa": True},
                        {"login": "bkim", "team": "web", "mfa": False}])
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None
    assert flag_polarity(table, request_text, query) == told


def test_the_fault_of_a_yes_no_column_kept_the_other_way_says_which_value() -> None:
    users = json.dumps([{"login": "asilva", "mfa": True}, {"login": "bkim", "mfa": False}])
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                     request="Write the users without MFA to reports/no-mfa.txt")
    assert query_faults(table, job, "SELECT login FROM data WHERE mfa = 1") == [
        "The request asks for the rows where mfa is false, and the query keeps those where it is true: "
        "WHERE mfa = 0, not mfa = 1."]


def test_a_share_per_group_kept_for_every_group_where_the_request_asks_which_is_a_fault() -> None:
    """fresh full-nodes: "which nodes reported disk usage over 90%?" was queried as a share of
    ``disk > 90`` per node, every node listed (0 for three of them)."""
    asked = "Which nodes in logs/node.log reported disk usage over 90%?"
    share = "SELECT node, SUM(CASE WHEN disk > 90 THEN 1 ELSE 0 END) * 100.0 / COUNT(*) AS share FROM data GROUP BY node"
    assert shares_for_which(asked, share) == "node"
    assert shares_for_which(asked, "SELECT DISTINCT node FROM data WHERE disk > 90") is None
    assert shares_for_which(asked, share.replace("GROUP BY node", "GROUP BY node HAVING share > 0")) is None
    assert shares_for_which("What share of each node's lines reported disk over 90%?", share) is None  # asked
    assert shares_for_which("How many lines per node reported disk over 90%?", share) is None
    log = "2026-11-24 09:00:12 INFO node-1 disk=62%\n2026-11-24 09:00:13 WARN node-3 disk=91%\n"
    table = find_table({"log": {"path": "logs/node.log", "content": log}})
    assert table is not None
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={}, request=asked)
    assert any("SELECT DISTINCT node FROM data WHERE <condition>" in fault for fault in query_faults(table, job, share))


def test_a_yes_no_column_kept_the_other_way_is_compared_with_the_value_asked_for() -> None:
    users = json.dumps([{"login": "asilva", "role": "admin", "mfa": True}, {"login": "bkim", "role": "x", "mfa": False}])
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None
    asked = "Write the users without MFA to reports/no-mfa.txt"
    assert flipped_flags(table, asked, "SELECT login FROM data WHERE mfa = 1") == "SELECT login FROM data WHERE mfa = 0"
    assert flipped_flags(table, asked, "SELECT login FROM data WHERE mfa IS TRUE AND role = 'admin'") == (
        "SELECT login FROM data WHERE mfa = 0 AND role = 'admin'")
    assert flipped_flags(table, "Which users have MFA on?", "SELECT login FROM data WHERE NOT mfa") == (
        "SELECT login FROM data WHERE mfa = 1")
    assert flipped_flags(table, asked, "SELECT login FROM data WHERE mfa = 0") is None  # as asked


RECEIVABLES = ("invoice,customer,amount_usd,paid\nINV-1,Lumen,1275.50,no\nINV-2,Redwood,9600.00,no\n"
               "INV-3,Harbor,4820.00,YES\nINV-4,Kestrel,15300.00,\n")
"""morning outstanding-total's kind of CSV: a paid flag written as yes and no."""


def test_a_csv_column_of_yes_and_no_is_a_yes_no_column_asked_about_by_un_and_nt() -> None:
    """morning outstanding-total: ``paid = 'no'`` was told it named a value the request ("still
    unpaid") never names, and the rewrite dropped the condition."""
    _, rows = table_rows(RECEIVABLES, ".csv") or ([], [])
    assert [r["paid"] for r in rows] == [False, False, True, None]
    assert table_rows("host,state\na,yes\nb,maybe\n", ".csv") == (
        ["host", "state"], [{"host": "a", "state": "yes"}, {"host": "b", "state": "maybe"}])  # (not only flags)
    table = find_table({"ar": {"path": "finance/receivables.csv", "content": RECEIVABLES}})
    assert table is not None and table.types["paid"] == "INTEGER"
    asked = "how much is still unpaid across all the invoices in finance/receivables.csv?"
    assert flag_words_as_numbers(table, "SELECT SUM(amount_usd) FROM data WHERE paid = 'no' OR \"paid\" != 'Yes'") \
        == "SELECT SUM(amount_usd) FROM data WHERE paid = 0 OR paid != 1"
    assert flag_words_as_numbers(table, "SELECT SUM(amount_usd) FROM data WHERE paid = 0") is None
    assert flipped_flags(table, asked, "SELECT SUM(amount_usd) FROM data WHERE paid = 1") == (
        "SELECT SUM(amount_usd) FROM data WHERE paid = 0")
    assert flipped_flags(table, "which customers still haven't paid?", "SELECT customer FROM data WHERE paid = 1") \
        == "SELECT customer FROM data WHERE paid = 0"
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="sum", code="", inputs={}, request=asked)
    assert query_faults(table, job, "SELECT SUM(amount_usd) AS total FROM data WHERE paid = 0") == []  # how much
    assert query_rows(table.columns, table.rows, "SELECT SUM(amount_usd) FROM data WHERE paid = 0") == 10875.5


def test_the_rows_of_the_yes_no_value_a_request_asks_for_are_kept_where_the_query_never_uses_it() -> None:
    """morning follow-up-biggest-unpaid: "the single biggest unpaid invoice" was queried as the
    largest of all, paid or not."""
    table = find_table({"ar": {"path": "finance/receivables.csv", "content": RECEIVABLES}})
    assert table is not None
    asked = "which customer has the single biggest unpaid invoice?"
    largest = "SELECT customer FROM data WHERE amount_usd = (SELECT MAX(amount_usd) FROM data d2)"
    kept = kept_flags(table, asked, largest)
    assert kept == ('SELECT customer FROM data WHERE "paid" = 0 AND amount_usd = '
                    '(SELECT MAX(amount_usd) FROM data d2 WHERE "paid" = 0)')
    assert query_rows(table.columns, table.rows, largest) == "Kestrel" and \
        query_rows(table.columns, table.rows, kept) == "Redwood"  # (Kestrel's blank paid is no "no")
    assert kept_flags(table, asked, "SELECT customer FROM data ORDER BY amount_usd DESC LIMIT 1") == (
        'SELECT customer FROM data WHERE "paid" = 0 ORDER BY amount_usd DESC LIMIT 1')
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={}, request=asked)
    assert "WHERE paid = 0 (the rows where it is false)" in " ".join(query_faults(table, job, largest))
    # used already, asked both ways, or beside an OR: left as it is
    assert kept_flags(table, asked, "SELECT customer FROM data WHERE paid = 1") is None
    assert kept_flags(table, "how many invoices are paid and how many unpaid?", "SELECT COUNT(*) FROM data") is None
    assert kept_flags(table, asked, "SELECT customer FROM data WHERE amount_usd > 9000 OR customer = 'Lumen'") is None


ADMINS_WITHOUT_MFA = PackageJob(
    thread_id="T1", run_id="R1", node_id="computed", goal="compute", code="",
    inputs={"users": {"path": "access/users.json", "content": json.dumps([
        {"login": "asilva", "role": "admin", "mfa": True}, {"login": "cwong", "role": "admin", "mfa": False},
        {"login": "bkim", "role": "member", "mfa": False}])}},
    request="Which of them have MFA off?", follows="How many admins are listed in access/users.json?")
"""fresh follow-up-admins' computing package: the admins without MFA (cwong)."""


async def test_the_query_loop_mends_a_yes_no_column_kept_the_other_way_and_tells_what_is_left(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """fresh follow-up-admins: "which of them have MFA off?" after "how many admins…": the rewrite
    that used ``mfa`` kept it the wrong way and dropped the admins."""
    follow_up = ADMINS_WITHOUT_MFA
    llm = ScriptedChatModel(replies=[sql("SELECT login FROM data WHERE mfa = 1"),
                                     sql("SELECT login FROM data WHERE mfa = 0 AND role = 'admin'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(follow_up, gateway, _none)
    assert outcome.ok and outcome.output == "cwong", outcome  # (one value alone: itself)
    shown, told = llm.calls[1][-2:]
    assert "mfa = 0" in str(shown.content) and "mfa = 1" not in str(shown.content)  # its query, mended
    assert "names 'admin' (a value of role)" in str(told.content) and "mfa is false" not in str(told.content)


def test_the_conditions_a_rewrite_dropped_unasked_are_kept() -> None:
    """fresh follow-up-admins: told to filter on the admins, the rewrite kept ``role = 'admin'``
    and dropped ``mfa = 0``."""
    users = json.dumps([{"login": "asilva", "role": "admin", "mfa": True}, {"login": "bkim", "role": "x", "mfa": False}])
    table = find_table({"users": {"path": "access/users.json", "content": users}})
    assert table is not None
    told = ["The request names 'admin' (a value of role), which the query never uses: filter on it."]
    before = "SELECT COUNT(*) AS total FROM data WHERE mfa = 0"
    assert kept_conditions(table, before, "SELECT login FROM data WHERE role = 'admin'", told) == (
        "SELECT login FROM data WHERE (role = 'admin') AND mfa = 0")
    assert kept_conditions(table, before, "SELECT login FROM data ORDER BY login", told) == (
        "SELECT login FROM data WHERE mfa = 0 ORDER BY login")
    assert kept_conditions(table, before, "SELECT login FROM data WHERE mfa = 1", told) is None  # changed, not dropped
    named = ["No row has role = 'root' (role holds 'admin', 'x'): compare with a value the table lists."]
    assert kept_conditions(table, "SELECT login FROM data WHERE role = 'root'", "SELECT login FROM data",
                           named) is None  # told about it: dropped as told
    assert kept_conditions(table, "SELECT login FROM data", "SELECT login FROM data WHERE mfa = 0", told) is None
    # a count's CASE WHEN condition (monday follow-up-mail-julia: told about e2e-nightly, the failures dropped)
    counted = "SELECT SUM(CASE WHEN mfa = 0 THEN 1 ELSE 0 END) AS total FROM data"
    assert kept_conditions(table, counted, "SELECT SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END) AS total FROM data",
                           told) == ("SELECT SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END) AS total FROM data "
                                     "WHERE mfa = 0")
    share = "SELECT 100.0 * SUM(CASE WHEN mfa = 0 THEN 1 ELSE 0 END) / COUNT(*) AS share FROM data"
    assert kept_conditions(table, share, "SELECT COUNT(*) FROM data WHERE role = 'admin'", told) is None  # a share's


async def test_the_query_loop_keeps_what_the_rewrite_dropped_unasked(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    follow_up = ADMINS_WITHOUT_MFA
    llm = ScriptedChatModel(replies=[sql("SELECT COUNT(*) AS total FROM data WHERE mfa = 0"),
                                     sql("SELECT login FROM data WHERE role = 'admin'")])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(follow_up, gateway, _none)
    assert outcome.ok and outcome.output == "cwong" and len(llm.calls) == 2, outcome
    assert outcome.attempts[0].query == "SELECT login FROM data WHERE (role = 'admin') AND mfa = 0"


def test_a_list_of_every_value_of_a_column_filters_nothing_and_is_left_out() -> None:
    """unseen depth-by-consumer: told to leave out a list of every queue, the rewrite negated it."""
    table = find_table({"costs": {"path": "finance/costs.csv", "content": COSTS}})
    assert table is not None
    every = "team NOT IN ('payments', 'search')"
    assert without_whole_lists(table, f"SELECT service, SUM(cost_usd) FROM data WHERE {every} GROUP BY service") \
        == "SELECT service, SUM(cost_usd) FROM data GROUP BY service"
    assert without_whole_lists(table, f"SELECT service FROM data WHERE cost_usd > 500 AND {every}") == \
        "SELECT service FROM data WHERE cost_usd > 500"
    assert without_whole_lists(table, "SELECT service FROM data WHERE team IN ('search', 'payments') "
                                      "AND cost_usd > 500") == "SELECT service FROM data WHERE cost_usd > 500"
    assert without_whole_lists(table, "SELECT service FROM data WHERE team IN ('payments')") is None  # a filter
    assert without_whole_lists(table, f"SELECT service FROM data WHERE cost_usd > 2000 OR {every}") is None


def test_a_row_copied_into_the_conditions_is_left_out() -> None:
    """unseen depth-by-consumer: ``WHERE queue = 'orders' AND consumer = 'order-svc'``, the first
    row shown, for "break down the queue depth by consumer", written again when told."""
    table = find_table({"costs": {"path": "finance/costs.csv", "content": COSTS}})
    assert table is not None
    asked = "Break down the cost_usd by team in finance/costs.csv."
    copied = "SELECT team, SUM(cost_usd) FROM data WHERE team = 'payments' AND service = 'ledger' GROUP BY team"
    assert without_copied_row(table, asked, copied) == "SELECT team, SUM(cost_usd) FROM data GROUP BY team"
    one = "SELECT SUM(cost_usd) FROM data WHERE service = 'ledger'"  # one condition: maybe meant
    assert without_copied_row(table, asked, one) is None
    mixed = "SELECT SUM(cost_usd) FROM data WHERE team = 'payments' AND service = 'indexer'"  # no one row
    assert without_copied_row(table, asked, mixed) is None
    named = "The payments team's ledger cost?"
    assert without_copied_row(table, named, copied) is None  # the request names them


def test_a_row_copied_into_a_like_pattern_is_left_out_too() -> None:
    """nightly failures-to-file: "each failed run (job and date)" queried ``job = 'pg-orders' AND
    ts LIKE '2026-11-21%'``, the first row shown; a LIKE the request names, or one beside nothing
    else copied, stays."""
    log = ("ts=2026-11-21T01:00:03Z job=pg-orders status=ok\nts=2026-11-21T01:30:00Z job=minio status=failed\n"
           "ts=2026-11-23T01:00:03Z job=pg-orders status=failed\n")
    table = find_table({"nightly": {"path": "backups/nightly.log", "content": log}})
    assert table is not None
    asked = "Write each failed run from backups/nightly.log (job and date) into reports/failures.txt"
    copied = ("SELECT job, ts FROM data WHERE status = 'failed' AND job = 'pg-orders' "
              "AND ts LIKE '2026-11-21%'")
    assert unasked_likes(table, asked, copied) == [("ts", "2026-11-21%")]
    assert without_copied_row(table, asked, copied) == "SELECT job, ts FROM data WHERE status = 'failed'"
    on_the_23rd = "Which runs failed on 2026-11-23?"
    dated = "SELECT job FROM data WHERE status = 'failed' AND ts LIKE '2026-11-23%'"
    assert unasked_likes(table, on_the_23rd, dated) == []
    # the day copied beside the outcome asked for, from the one row that has both
    assert without_copied_row(table, asked, dated) == "SELECT job FROM data WHERE status = 'failed'"
    alone = "SELECT job FROM data WHERE ts LIKE '2026-11-23%'"
    assert without_copied_row(table, asked, alone) is None  # one condition alone: maybe meant
    named_job = "Add up the runs of pg-orders in backups/nightly.log"  # the job named, the day copied
    day_copied = "SELECT COUNT(*) FROM data WHERE job = 'pg-orders' AND ts LIKE '2026-11-21%'"
    assert without_copied_row(table, named_job, day_copied) == "SELECT COUNT(*) FROM data WHERE job = 'pg-orders'"
    other_day = "SELECT COUNT(*) FROM data WHERE job = 'pg-orders' AND ts LIKE '2026-11-23%'"  # no one row shown
    assert without_copied_row(table, named_job, other_day.replace("11-23", "11-2_")) is not None
    assert without_copied_row(table, named_job.replace("pg-orders", "pg-orders on 2026-11-21"), day_copied) is None
    assert unasked_likes(table, asked, "SELECT job FROM data WHERE ts LIKE '2027%'") == []  # no row: another check
    faults = query_faults(table, PackageJob(thread_id="T1", run_id="R1", node_id="n", goal="failed runs", code="",
                                            inputs={}, request=asked), copied)
    assert any("ts LIKE '2026-11-21%'" in fault and "job = 'pg-orders'" in fault for fault in faults)


def test_a_value_told_to_be_left_out_and_negated_instead_is_left_out() -> None:
    """unseen depth-by-consumer: told to leave out ``queue = 'orders'``, the rewrite wrote
    ``queue != 'orders'``."""
    told = [("team", "payments")]
    assert without_negated("SELECT service, SUM(cost_usd) FROM data WHERE team != 'payments' GROUP BY service",
                           told) == "SELECT service, SUM(cost_usd) FROM data GROUP BY service"
    assert without_negated("SELECT service FROM data WHERE cost_usd > 5 AND team <> 'payments'", told) == \
        "SELECT service FROM data WHERE cost_usd > 5"
    assert without_negated("SELECT service FROM data WHERE team != 'search'", told) is None  # not the one told
    assert without_negated("SELECT service FROM data WHERE team = 'payments'", told) is None


def test_a_query_that_selects_only_what_its_where_sets_is_a_fault() -> None:
    """tuning primary-oncall: ``- Primary: maria (checkout, payments)`` was queried ``SELECT name
    … WHERE name = 'Primary'``, and answered "The primary on call this week is Primary."."""
    notes = "# On-call this week\n\n- Primary: maria (checkout, payments)\n- Secondary: dev (search, api)\n"
    table = find_table({"oncall": {"path": "notes/oncall.md", "content": notes}})
    assert table is not None
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                     request="Who is the primary on call this week? See notes/oncall.md.")
    told = query_faults(table, job, "SELECT name AS primary_on_call FROM data WHERE section = 'On-call this week' "
                                    "AND name = 'Primary'")
    assert told[-1] == ("The query selects only what its WHERE sets (name = 'Primary'): it returns what it was "
                        "given. Select the column that holds what the request asks for (section, text).")
    assert query_faults(table, job, "SELECT text FROM data WHERE name = 'Primary'") == []
    assert selects_its_conditions("SELECT name FROM data WHERE name != 'Primary'") == []
    assert selects_its_conditions("SELECT name, COUNT(*) FROM data WHERE name = 'Primary'") == []


def test_an_outcome_the_request_names_in_other_words_is_asked_for() -> None:
    """aimed snapshot-total: "the successful snapshots" queried ``result = 'ok'`` was told the
    request named no 'ok', and the rewrite summed the failed snapshot too."""
    log = ("2026-11-25T00:10:00Z snapshot volume=vol-data size_mb=5120 result=ok\n"
           "2026-11-25T03:10:00Z snapshot volume=vol-cache size_mb=150 result=failed\n")
    table = find_table({"s": {"path": "logs/snapshots.log", "content": log}})
    assert table is not None
    ok = "SELECT SUM(size_mb) FROM data WHERE result = 'ok'"
    assert unasked_values(table, "How many MB did the successful snapshots write?", ok) == []
    assert unasked_values(table, "Which snapshots errored?", "SELECT volume FROM data WHERE result = 'failed'") == []
    assert unasked_values(table, "How many MB did the snapshots write?", ok) == [("result", "ok")]


def test_a_condition_on_where_the_change_goes_is_left_out() -> None:
    """aimed mail-open-owners: "Email the owners of the open action items … to team@example.com"
    was queried ``WHERE (email = 'team@example.com') AND … open = 1``, four times."""
    notes = ("## Action items\n- [x] Renew the TLS certificate. Owner: Tomas (tomas@example.com)\n"
             "- [ ] Rotate the password. Owner: Ines (ines@example.com)\n")
    table = find_table({"n": {"path": "notes/standup.md", "content": notes}})
    assert table is not None
    asked = "Email the owners of the open action items in notes/standup.md to team@example.com"
    assert without_targets(table, asked, "SELECT owner FROM data WHERE (email = 'team@example.com') AND open = 1") \
        == "SELECT owner FROM data WHERE open = 1"
    assert without_targets(table, asked, "SELECT owner FROM data WHERE open = 1 AND email = 'team@example.com'") \
        == "SELECT owner FROM data WHERE open = 1"
    # an address a row holds is a filter: "the items of ines@example.com"
    assert without_targets(table, asked + " (ines@example.com's)", "SELECT text FROM data WHERE email = "
                           "'ines@example.com'") is None
    # the notes' own path matched with LIKE (broad mail-owners), and with wildcards
    assert without_targets(table, asked, "SELECT email FROM data WHERE section = 'Action items' AND text LIKE "
                           "'notes/standup.md' AND email IS NOT NULL") \
        == "SELECT email FROM data WHERE section = 'Action items' AND email IS NOT NULL"
    assert without_targets(table, asked, "SELECT email FROM data WHERE text LIKE '%notes/standup.md%'") \
        == "SELECT email FROM data"
    assert without_targets(table, asked, "SELECT email FROM data WHERE text LIKE '%password%'") is None


def test_the_words_of_dagbots_computing_goal_name_no_value_of_the_table() -> None:
    """broad october-spend: dagbot's goal "Compute from the inputs every value …" let the query's
    added ``service = 'compute'`` pass as named."""
    spend = "month,service,cost_usd\n2026-09,compute,4210.40\n2026-10,compute,4390.85\n2026-10,storage,912.60\n"
    table = find_table({"spend": {"path": "finance/cloud-spend.csv", "content": spend}})
    assert table is not None
    asked = "How much was spent in 2026-10 in finance/cloud-spend.csv?"
    computing = PackageJob(thread_id="T", run_id="R", node_id="computed", goal=f"{COMPUTING_GOAL} {asked}",
                           code="", inputs={}, request=asked)
    query = "SELECT SUM(cost_usd) AS total FROM data WHERE month = '2026-10' AND service = 'compute'"
    assert any("The request names none of service = 'compute'" in fault
               for fault in query_faults(table, computing, query))
    assert not any("names none of" in fault for fault in query_faults(
        table, computing, "SELECT SUM(cost_usd) AS total FROM data WHERE month = '2026-10'"))
    assert "Compute from" not in asked_of(computing) and asked in asked_of(computing)


def test_a_shares_sum_over_the_count_of_rows_and_its_condition_in_where_are_mended_in_place() -> None:
    """broad storage-share: ``SUM(CASE WHEN service = 'storage' THEN cost_usd ELSE 0 END) /
    COUNT(*) … WHERE service = 'storage'`` answered "64425%"."""
    share = "SELECT 100.0 * SUM(CASE WHEN service = 'storage' THEN cost_usd ELSE 0 END) / COUNT(*) AS share FROM data"
    assert mended_share(f"{share} WHERE provider = 'aws' AND service = 'storage'") == (
        "SELECT 100.0 * SUM(CASE WHEN service = 'storage' THEN cost_usd ELSE 0 END) / SUM(cost_usd) AS share "
        "FROM data WHERE provider = 'aws'")
    counted = "SELECT 100.0 * SUM(CASE WHEN ok = 0 THEN 1 ELSE 0 END) / COUNT(*) AS share FROM data"
    assert mended_share(f"{counted} WHERE ok = 0") == counted  # a share of rows stays one
    assert mended_share(counted) is None
    assert mended_share("SELECT 100.0 * SUM(CASE WHEN team = 'search' THEN cost_usd ELSE 0 END) / SUM(cost_usd) "
                        "FROM data") is None
    spend = "service,cost_usd\ncompute,4210.40\nstorage,880.15\nstorage,140.00\n"
    rows = table_rows(spend, ".csv")
    assert rows is not None
    mended = mended_share(f"{share} WHERE service = 'storage'")
    assert mended is not None and round(query_rows(*rows, mended), 2) == round(100 * 1020.15 / 5230.55, 2)


async def test_the_reflexion_loop_runs_the_share_mended(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[sql(
        "SELECT 100.0 * SUM(CASE WHEN team = 'payments' THEN cost_usd ELSE 0 END) / COUNT(*) AS share "
        "FROM data WHERE team = 'payments'")])
    asked = job(request="What percentage of the cost in finance/costs.csv went to the payments team?")
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, table_queries=True).run(asked, gateway, _none)
    assert outcome.ok and round(outcome.output, 2) == round(100 * 1720.5 / 3930.5, 2), outcome


TICKETS = json.dumps({"exported": "2026-11-27", "tickets": [
    {"key": "SUP-11", "team": "identity", "hours_open": 30.5, "escalated": False},
    {"key": "SUP-12", "team": "payments", "hours_open": 6.25, "escalated": True},
    {"key": "SUP-13", "team": "identity", "hours_open": 12.0, "escalated": True},
    {"key": "SUP-14", "team": "search", "hours_open": 72.75, "escalated": False}]})


def test_which_rows_are_named_by_a_column_each_row_has_its_own_value_of() -> None:
    """broad escalated: "which tickets … got escalated?" written ``SELECT team``, a column several
    tickets share, where ``key`` names each ticket."""
    table = find_table({"tickets": {"path": "data/tickets.json", "content": TICKETS}})
    assert table is not None
    which = "Which tickets in data/tickets.json got escalated?"
    assert shared_names(table, which, "SELECT team FROM data WHERE escalated = 1") == (["team"], ["key"])
    faults = query_faults(table, job(request=which), "SELECT team FROM data WHERE escalated = 1")
    assert any("select what names each row, key" in fault for fault in faults), faults
    # mended in place: the column naming each row selected beside (nightly longest-run)
    assert with_row_names(table, which, "SELECT team FROM data WHERE escalated = 1") == \
        "SELECT team, key FROM data WHERE escalated = 1"
    assert with_row_names(table, which, "SELECT key FROM data WHERE escalated = 1") is None
    assert shared_names(table, which, "SELECT key FROM data WHERE escalated = 1") is None
    assert shared_names(table, which, "SELECT key, team FROM data WHERE escalated = 1") is None
    assert shared_names(table, which, "SELECT COUNT(*) FROM data WHERE escalated = 1") is None
    # the column the request names after "which" is what it asks for
    assert shared_names(table, "Which team has escalated tickets?", "SELECT team FROM data WHERE escalated = 1") \
        is None
    assert shared_names(table, "Which teams' tickets got escalated?", "SELECT team FROM data") is None
    assert shared_names(table, "Which of them got escalated?", "SELECT team FROM data") is None
    assert shared_names(table, "Which tickets per team?", "SELECT team FROM data GROUP BY team") is None
    # a table with no column that tells its rows apart has nothing better to select
    alike = find_table({"t": {"path": "data/t.json", "content": json.dumps(
        [{"team": "a", "state": "x"}, {"team": "a", "state": "y"}, {"team": "b", "state": "y"}])}})
    assert alike is not None
    assert shared_names(alike, "Which tickets are open?", "SELECT team FROM data") is None


def test_the_lists_a_tables_rows_hold_are_shown_and_queried_as_tables_of_their_own() -> None:
    """console cpu-total and fastest-alert: a deployment's containers, a rule group's rules; a
    query of such a table compiles, is judged by that table's rows, and runs in the package."""
    deployments = json.dumps({"deployments": [
        {"name": "api", "replicas": 4, "containers": [{"name": "api", "cpu_m": 500}, {"name": "envoy", "cpu_m": 100}]},
        {"name": "worker", "replicas": 6, "containers": [{"name": "worker", "cpu_m": 1000}]}]})
    inputs = {"deploys": {"path": "deploy/deployments.json", "content": deployments}}
    table = find_table(inputs)
    assert table is not None and list(table.nested) == ["containers"]
    shown = describe(table)
    assert "Table `containers`: 3 rows" in shown and "- deployment_replicas (number): 4, 6" in shown
    asked = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs=inputs,
                       request="What's the total CPU request across every replica of worker in deploy/deployments.json?")
    total = "SELECT SUM(deployment_replicas * cpu_m) FROM containers WHERE deployment_name = 'worker'"
    assert query_faults(table, asked, total) == []
    [fault] = query_faults(table, asked, "SELECT SUM(cpu) FROM containers")
    assert "no such column: cpu" in fault and "the table containers's: deployment_name" in fault
    # "across every replica": the row's field beside the list's rows, named by its own name
    [fault] = query_faults(table, asked, "SELECT SUM(cpu_m) FROM containers WHERE deployment_name = 'worker'")
    assert "The request names the column deployment_replicas, which the query never uses" in fault
    namespace: dict[str, Any] = {"inputs": inputs}
    exec(query_code(table, "SELECT SUM(deployment_replicas * cpu_m) FROM containers"), namespace)
    assert namespace["result"] == 4 * 600 + 6 * 1000


def test_a_column_of_percents_compared_with_the_fraction_the_request_names_is_compared_with_the_percentage() -> None:
    """console mounts-over-80: ``use_percent > 0.8`` kept every mount, for "more than 80% full"."""
    df = "Filesystem  Use% Mounted on\n/dev/a       62% /\n/dev/b       93% /var\n"
    table = find_table({"df": {"path": "ops/df.txt", "content": df}})
    assert table is not None and table.columns == ["filesystem", "use_percent", "mounted_on"]
    request = "Which mounts in ops/df.txt are more than 80% full?"
    assert percents_as_written(table, request, "SELECT mounted_on FROM data WHERE use_percent > 0.8") == \
        "SELECT mounted_on FROM data WHERE use_percent > 80"
    assert percents_as_written(table, request, "SELECT mounted_on FROM data WHERE use_percent > 80") is None
    # a fraction the request does not name as a percentage, or a column of plain numbers: left as it is
    assert percents_as_written(table, request, "SELECT mounted_on FROM data WHERE use_percent > 0.5") is None
    costs = find_table({"c": {"path": "c.csv", "content": "team,ratio\na,0.9\nb,0.7\n"}})
    assert costs is not None and percents_as_written(costs, "over 80%?", "SELECT team FROM data WHERE ratio > 0.8") is None


async def test_the_failed_query_written_again_ends_the_queries_without_another_call(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """weekend ram-and-timeout: after the query failed, the model wrote it again, was told its
    faults, and wrote it once more: a call spent on a reply known already. The planner's code
    runs next."""
    broken = sql("SELECT SUM(pages) FROM data")
    llm = ScriptedChatModel(replies=[broken, broken, broken, broken])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3, table_queries=True)
    outcome = await runner.run(job(request=TOTAL), gateway, _none)

    assert outcome.ok and outcome.attempts[-1].code == SUMS_EVERY_ROW, outcome
    assert len(llm.calls) == 3  # told before it ran (2), asked once after it failed (1): no fourth


def test_a_value_the_request_says_in_the_singular_is_named_and_select_star_names_the_rows() -> None:
    """monday mail-open-actions: "everyone who still has an open action item" names the section
    ``Action items``, and ``SELECT *`` selects the columns that name the rows; both were told
    as faults, and the rewrites queried the wrong section."""
    retro = ("# Retro\n\n## What went well\n- The rollback was quick.\n\n## Action items\n"
             "- [ ] @lev (lev@example.org): add a canary stage, due 2026-12-04\n"
             "- [x] @ama (ama@example.org): raise the memory limit, done 2026-11-27\n")
    table = find_table({"retro": {"path": "retros/retro.md", "content": retro}})
    assert table is not None and "section" in table.columns
    asked = "Mail everyone who still has an open action item in retros/retro.md their own items"
    mails = PackageJob(thread_id="T", run_id="R", node_id="mails", goal=f"List the items. Request: {asked}",
                       code="", inputs={}, request=asked)
    assert query_faults(table, mails, "SELECT * FROM data WHERE section = 'Action items' AND open = 1") == []
    assert query_faults(table, mails, "SELECT email, text FROM data WHERE section = 'Action items' AND open = 1") \
        == []
    # a section the request does not name stays told, in either number
    assert any("names none of section = 'What went well'" in fault for fault in query_faults(
        table, mails, "SELECT * FROM data WHERE section = 'What went well'"))
    # and a count where the rows are asked for stays told
    assert any("asks which ones" in fault for fault in query_faults(
        table, mails, "SELECT COUNT(*) FROM data WHERE open = 1"))


def test_counting_rows_where_each_row_counts_its_repeats_is_told() -> None:
    """monday warnings-per-reason: "Counting the (xN) repeats" over kubectl's events was
    written ``COUNT(*)``, one per row."""
    events = ("LAST SEEN           TYPE      REASON     OBJECT\n"
              "48m (x3 over 50m)   Warning   Unhealthy  pod/catalog\n"
              "3m (x12 over 50m)   Warning   BackOff    pod/checkout\n"
              "2m                  Normal    Rescaled   hpa/catalog\n")
    table = find_table({"events": {"path": "k8s/events.txt", "content": events}})
    assert table is not None and table.types["count"] == "INTEGER"
    asked = "Counting the (xN) repeats, how many Warning events of each reason are in k8s/events.txt?"
    counting = PackageJob(thread_id="T", run_id="R", node_id="n", goal="count", code="", inputs={}, request=asked)
    rows = "SELECT reason, COUNT(*) AS n FROM data WHERE type = 'Warning' GROUP BY reason"
    assert any("SUM(count) counts the repeats" in fault for fault in query_faults(table, counting, rows))
    assert not any("SUM(count)" in fault for fault in query_faults(
        table, counting, "SELECT reason, SUM(count) AS n FROM data WHERE type = 'Warning' GROUP BY reason"))
    # a request that does not count repeats counts rows
    plain = PackageJob(thread_id="T", run_id="R", node_id="n", goal="count", code="", inputs={},
                       request="How many Warning rows of each reason are in k8s/events.txt?")
    assert not any("SUM(count)" in fault for fault in query_faults(table, plain, rows))


def test_a_like_condition_no_row_matches_is_told_with_the_values_the_column_holds() -> None:
    """monday backup-total-and-largest: ``started LIKE '2026-11-29%'``, from the report's file
    name, over a column of times of day: the query matched no row, twice."""
    report = ("JOB         STARTED   RESULT   SIZE\npg-orders   01:00:03  OK       48.6 GB\n"
              "gitlab      03:30:00  OK       27.9 GB\n")
    table = find_table({"report": {"path": "backups/report-2026-11-29.txt", "content": report}})
    assert table is not None
    asked = "How much did the backups in backups/report-2026-11-29.txt write altogether?"
    total = PackageJob(thread_id="T", run_id="R", node_id="n", goal="total", code="", inputs={}, request=asked)
    faults = query_faults(table, total, "SELECT SUM(size) FROM data WHERE started LIKE '2026-11-29%'")
    assert "No row has started LIKE '2026-11-29%' (started holds '01:00:03', '03:30:00'): leave the condition " \
           "out unless the request asks for values like those." in faults
    # a pattern some row matches is no such fault
    assert not any("No row has" in fault for fault in query_faults(
        table, total, "SELECT SUM(size) FROM data WHERE started LIKE '01:%'"))


def test_the_top_groups_sum_for_a_total_asked_apart_is_told() -> None:
    """monday backup-total-and-largest: "how much altogether, and which job was the biggest?"
    queried ``SUM(size) … GROUP BY job ORDER BY total DESC LIMIT 1``: pg-orders' 48.6 GB as the
    total."""
    report = ("JOB         RESULT   SIZE\npg-orders   OK       48.6 GB\ngitlab      OK       27.9 GB\n"
              "grafana-db  OK       95 MB\n")
    table = find_table({"report": {"path": "backups/report.txt", "content": report}})
    assert table is not None
    asked = "How much did the backups write altogether in GB, and which job was the biggest? backups/report.txt"
    both = PackageJob(thread_id="T", run_id="R", node_id="n", goal="both", code="", inputs={}, request=asked)
    top = "SELECT SUM(size) AS total, job FROM data GROUP BY job ORDER BY total DESC LIMIT 1"
    assert any("the SUM is that one group's alone" in fault for fault in query_faults(table, both, top))
    told = "SELECT (SELECT SUM(size) FROM data) AS total, job FROM data ORDER BY size DESC LIMIT 1"
    assert not any("one group's alone" in fault for fault in query_faults(table, both, told))
    assert query_rows(table.columns, table.rows, told) == {"total": pytest.approx(76.59, abs=0.01), "job": "pg-orders"}
    # one clause asking for the group with the biggest total is that query
    most = PackageJob(thread_id="T", run_id="R", node_id="n", goal="most", code="", inputs={},
                      request="Which job wrote the most in total in backups/report.txt?")
    assert not any("one group's alone" in fault for fault in query_faults(table, most, top))


NGINX_ERRORS = """\
2026/11/30 06:40:19 [error] 2211#2211: *93502 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.9, server: shop, request: "GET /api/search HTTP/2.0", upstream: "http://10.20.1.15:8080/api/search", host: "shop"
2026/11/30 07:21:37 [error] 2211#2211: *95901 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.9, server: shop, request: "POST /api/checkout HTTP/2.0", upstream: "http://10.20.2.21:8080/api/checkout", host: "shop"
2026/11/30 07:26:14 [error] 2211#2211: *96114 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.9, server: shop, request: "GET /api/cart HTTP/2.0", upstream: "http://10.20.2.34:8080/api/cart", host: "shop"
"""


def test_two_words_the_request_says_that_only_some_rows_hold_are_a_condition_the_query_needs() -> None:
    """monday timeouts-to-file: "Write each upstream address that timed out in logs/nginx-error.log"
    was queried for every upstream of the log, each with a count."""
    table = find_table({"log": {"path": "logs/nginx-error.log", "content": NGINX_ERRORS}})
    assert table is not None
    ask = "Write each upstream address that timed out in logs/nginx-error.log to reports/timeouts.txt"
    every = "SELECT upstream, COUNT(*) FROM data GROUP BY upstream"
    assert unused_phrases(table, ask, every) == [("timed out", "message", 2)]
    told = query_faults(table, PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs={},
                                          request=ask), every)
    assert ("The request says 'timed out', which message holds in 2 of the 3 rows, and the query never uses "
            "it: keep those rows with WHERE message LIKE '%timed out%' if the request asks about them.") in told
    assert unused_phrases(table, ask, "SELECT DISTINCT upstream FROM data WHERE message LIKE '%timed out%'") == []
    # words every row holds filter nothing; a filler beside a word, or a path's words, are no phrase
    assert unused_phrases(table, "Which upstream request failed the most?", every) == []
    assert unused_phrases(table, "Show the connection refused lines of logs/timed-out.log", every) == [
        ("connection refused", "message", 1)]
    assert unused_phrases(table, "what did the upstream do while connecting?", every) == []
