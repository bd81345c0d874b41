"""The values in a plan's SQL are the request's (agent/plan/sql_values.py): a quoted value no
one named goes to the repair round."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool

from agent.events import AwaitingApproval, PlanReady, PlanRepairing, RunEvent
from agent.plan.format import Plan
from agent.plan.sql_values import unnamed_sql_values, without_unnamed_filters
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish
from tests.fakes.tools import ToolLog, simulated_registry

RECORD = "Record in the deploys table that search 1.8.1 was deployed on 2026-11-23 with status ok"
INSERT = "INSERT INTO deploys (service, version, deployed_on, status) VALUES ('{}', '1.8.1', '2026-11-23', 'ok')"


def sql_registry(log: ToolLog) -> ToolRegistry:
    async def sql_query(sql: str) -> dict[str, Any]:
        log.calls.append(("sql_query", {"sql": sql}))
        return {"rows": [[5]], "columns": ["count"]}

    async def sql_execute(sql: str) -> dict[str, Any]:
        log.calls.append(("sql_execute", {"sql": sql}))
        return {"rowcount": 1}

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=sql_query, description="Query."), Risk.GREEN)
    registry.add(StructuredTool.from_function(coroutine=sql_execute, description="Change."), Risk.RED,
                 effects={"record", "delete rows"})
    return registry


def plan(*nodes: dict[str, Any]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


def test_a_value_nobody_named_is_a_problem_and_the_requests_values_are_not() -> None:
    tools = sql_registry(ToolLog())
    invented = plan({"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("database")}})
    [problem] = unnamed_sql_values(invented, tools, RECORD)
    assert problem.node == "record" and problem.message.startswith(
        "uses the value 'database', which neither the request nor the thread names")
    asked = plan({"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("search")}})
    assert unnamed_sql_values(asked, tools, RECORD) == []


def test_a_filter_nobody_asked_for_is_a_problem_and_named_words_or_patterns_are_not() -> None:
    tools = sql_registry(ToolLog())
    counts = "How many deploys are in the deploys table, and how many of them failed?"
    filtered = plan({"id": "all", "tool": "sql_query", "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'ok'"}},
                    {"id": "failed", "tool": "sql_query",
                     "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'failed'"}})
    [problem] = unnamed_sql_values(filtered, tools, counts)
    assert problem.node == "all" and "'ok'" in problem.message
    like = plan({"id": "c", "tool": "sql_query",
                 "args": {"sql": "SELECT * FROM deploys WHERE service LIKE '%Checkout%' AND note = 'it''s'"}})
    assert unnamed_sql_values(like, tools, "Which checkout deploys say it's done?") == []
    earlier = [["Which service failed?", "billing failed.", {}]]
    follow_up = plan({"id": "c", "tool": "sql_query", "args": {"sql": "SELECT * FROM deploys WHERE service = 'billing'"}})
    assert unnamed_sql_values(follow_up, tools, "When was it deployed?", earlier) == []
    assert unnamed_sql_values(follow_up, tools, "When was it deployed?") != []
    not_sql = plan({"id": "n", "tool": "send", "args": {"to": "ops", "body": "select 'the best' one"}})
    assert unnamed_sql_values(not_sql, tools, "Mail ops") == []  # a mail is no statement


async def test_the_repair_round_is_told_the_value_and_a_second_miss_runs_as_it_is() -> None:
    # (two words where the service goes, "search api": the listed-values mend cannot say which)
    record = RECORD.replace("that search", "that search api")
    log = ToolLog()
    invented = {"nodes": [{"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("database")}}]}
    asked = {"nodes": [{"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("search")}}]}
    llm = ScriptedChatModel(replies=[invented, asked])
    events: list[RunEvent] = await asked_once(llm, sql_registry(log), "sqlv-1", record)
    [repairing] = [e for e in events if isinstance(e, PlanRepairing)]
    assert "uses the value 'database'" in repairing.problems[0]
    [approval] = [e for e in events if isinstance(e, AwaitingApproval)]
    assert approval.args["sql"] == INSERT.format("search")

    again = ScriptedChatModel(replies=[invented, invented])
    events = await asked_once(again, sql_registry(ToolLog()), "sqlv-2", record)
    [approval] = [e for e in events if isinstance(e, AwaitingApproval)]  # the approver sees what it will do
    assert approval.args["sql"] == INSERT.format("database")


async def test_the_one_word_the_request_has_in_the_values_place_is_taken_with_no_repair_round() -> None:
    """tuning record-deploy: 'database' for "search", told and written again."""
    invented = {"nodes": [{"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("database")}}]}
    events = await asked_once(ScriptedChatModel(replies=[invented]), sql_registry(ToolLog()), "sqlv-3", RECORD)
    assert not [e for e in events if isinstance(e, PlanRepairing)]
    [approval] = [e for e in events if isinstance(e, AwaitingApproval)]
    assert approval.args["sql"] == INSERT.format("search")
    [ready] = [e for e in events if isinstance(e, PlanReady)]
    assert "listed-values" in ready.mends


def test_a_read_only_querys_filter_on_a_value_nobody_named_is_left_out_after_the_repair_round() -> None:
    """tuning deploy-counts: ``WHERE status = 'ok'`` for "how many deploys are in the deploys
    table?", told once and written again."""
    tools = sql_registry(ToolLog())
    counts = "How many deploys are in the deploys table, and how many of them failed?"
    filtered = plan({"id": "all", "tool": "sql_query", "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'ok'"}},
                    {"id": "some", "tool": "sql_query",
                     "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'failed' AND region = 'eu'"}},
                    {"id": "either", "tool": "sql_query",
                     "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'failed' OR note = 'x'"}})
    kept = without_unnamed_filters(filtered, tools, counts)
    assert [node.args["sql"] for node in kept.nodes] == [
        "SELECT count(*) FROM deploys", "SELECT count(*) FROM deploys WHERE status = 'failed'",
        "SELECT count(*) FROM deploys WHERE status = 'failed' OR note = 'x'"]  # one of an OR stays
    assert [p.node for p in unnamed_sql_values(kept, tools, counts)] == ["either"]
    # a change's values are the approver's to see: left as they are
    invented = plan({"id": "record", "tool": "sql_execute", "args": {"sql": INSERT.format("database")}})
    assert without_unnamed_filters(invented, tools, RECORD) == invented


async def test_the_query_runs_without_the_filter_when_the_repair_round_wrote_it_again() -> None:
    log = ToolLog()
    filtered = {"nodes": [{"id": "all", "tool": "sql_query",
                           "args": {"sql": "SELECT count(*) FROM deploys WHERE status = 'ok'"}}]}
    llm = ScriptedChatModel(replies=[filtered, filtered, finish("There are 5 deploys.")])
    await asked_once(llm, sql_registry(log), "sqlv-3", "How many deploys are in the deploys table?")
    assert log.calls == [("sql_query", {"sql": "SELECT count(*) FROM deploys"})]


def test_a_rows_value_the_request_lists_is_taken_from_it_only_where_one_word_fits() -> None:
    """tuning record-deploy ('database' for "search", told and written again) and wide
    record-ingest (the service left out: three values for four columns)."""
    from agent.plan.mends.listed_values import _mended

    columns = "INSERT INTO deploys (service, version, deployed_on, status) VALUES "
    asked = "Record in the deploys table that search 1.8.1 was deployed on 2026-11-23 with status ok"
    assert _mended(columns + "('database', '1.8.1', '2026-11-23', 'ok')", asked) == \
        columns + "('search', '1.8.1', '2026-11-23', 'ok')"
    assert _mended(columns + "('1.8.1', '2026-11-23', 'ok');", asked) == \
        columns + "('search', '1.8.1', '2026-11-23', 'ok');"
    assert _mended(columns + "('search', '1.8.1', '2026-11-23', 'ok')", asked) is None  # nothing to take
    # two words where the value goes: which one is not plain
    assert _mended(columns + "('database', '1.8.1', '2026-11-23', 'ok')",
                   "Record that search api 1.8.1 was deployed on 2026-11-23 with status ok") is None
    # values out of the request's order: no place says which is which
    assert _mended(columns + "('1.8.1', 'ok', '2026-11-23')", asked) is None
    # no column list: the columns' order is not known
    assert _mended("INSERT INTO deploys VALUES ('1.8.1', '2026-11-23', 'ok')", asked) is None
