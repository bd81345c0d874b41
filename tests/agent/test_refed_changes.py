"""A change its plan's failed packages left skipped is fed by dagbot's computing package and
asks its approver (agent/engine/refed_changes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.engine.computed_values import COMPUTED_ID
from agent.engine.refed_changes import refed_plan, with_computed_content
from agent.events import AwaitingApproval, PlanReady
from agent.plan.format import Plan
from agent.plan.whole_results import whole_results_in_changes
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, services_on
from tests.agent.test_uncomputed import registry
from tests.fakes.packages import ScriptedPackages

ASK = "Write the keys of the escalated tickets in data/tickets.json to reports/escalated.txt"
READ = {"id": "tickets", "tool": "read_file", "args": {"path": "data/tickets.json"}}
EXTRACT = {"id": "extract", "package": {"goal": "code", "code": "inputs['tickets']['json']['data']"},
           "depends_on": ["tickets"]}
FILTER = {"id": "filter", "package": {"goal": "code", "code": "inputs['extract']['data']"}, "depends_on": ["extract"]}
WRITE = {"id": "write", "tool": "write_file", "args": {"path": "reports/escalated.txt", "content": "${filter.text}"},
         "depends_on": ["filter"]}
RED = ("write_file", "send_email")


def ran(**statuses: str) -> dict[str, dict[str, Any]]:
    return {node: {"status": status} for node, status in statuses.items()}


def test_the_failed_packages_give_way_and_the_change_takes_the_computed_value() -> None:
    plan = {"thought": "t", "nodes": [READ, EXTRACT, FILTER, WRITE], "answer": "Wrote ${filter.text}"}
    results = ran(tickets="done", extract="failed", filter="skipped", write="skipped")
    refed = refed_plan(plan, results, ASK, RED)
    assert refed is not None
    new, computed = refed
    assert computed == COMPUTED_ID
    assert [node["id"] for node in new["nodes"]] == ["tickets", COMPUTED_ID, "write_2"]
    assert new["nodes"][1]["depends_on"] == ["tickets"] and new["nodes"][1]["package"]["code"] == ""
    assert new["nodes"][2]["args"] == {"path": "reports/escalated.txt", "content": "${computed}"}
    assert new["nodes"][2]["depends_on"] == [COMPUTED_ID]
    assert "answer" not in new and new["thought"] == "t"  # (its sentence named the packages)


def test_only_a_change_skipped_for_packages_that_failed_and_fed_its_content_is_refed() -> None:
    plan = {"nodes": [READ, EXTRACT, FILTER, WRITE]}
    assert refed_plan(plan, ran(tickets="done", extract="done", filter="done", write="done"), ASK, RED) is None
    assert refed_plan(plan, ran(tickets="done", extract="failed", filter="skipped", write="rejected"), ASK, RED) \
        is None
    # the read failed: no package can stand in for what it read
    assert refed_plan(plan, ran(tickets="failed", extract="skipped", filter="skipped", write="skipped"), ASK, RED) \
        is None
    # the write's content was not the packages' (it only waited on them)
    fixed = {**WRITE, "args": {"path": "reports/escalated.txt", "content": "SUP-12"}}
    assert refed_plan({"nodes": [READ, EXTRACT, FILTER, fixed]},
                      ran(tickets="done", extract="failed", filter="skipped", write="skipped"), ASK, RED) is None
    # another step goes on from a package that failed: its input would be gone
    other = {"id": "count", "package": {"goal": "count", "code": "result = 1"}, "depends_on": ["filter"]}
    assert refed_plan({"nodes": [READ, EXTRACT, FILTER, WRITE, other]},
                      ran(tickets="done", extract="failed", filter="skipped", write="skipped", count="skipped"),
                      ASK, RED) is None


def test_a_change_that_failed_on_a_finished_package_giving_it_nothing_is_refed() -> None:
    """console full-disks-to-file: the package set no ``result`` (or not the field referred to),
    the write failed before it ran, no approval asked, and nothing was written."""
    plan = {"nodes": [READ, EXTRACT, FILTER, WRITE]}
    for output in (None, {"keys": ["SUP-12"]}):
        results = ran(tickets="done", extract="done", filter="done", write="failed")
        results["filter"]["output"] = output
        refed = refed_plan(plan, results, ASK, RED)
        assert refed is not None
        new, _ = refed
        assert [node["id"] for node in new["nodes"]] == ["tickets", "extract", COMPUTED_ID, "write_2"]
        assert new["nodes"][2]["depends_on"] == ["tickets", "extract"]
        assert new["nodes"][3]["args"]["content"] == "${computed}"
    # a row's fields one per line (morning overdue-to-file) are the one value, once
    fields = {**WRITE, "args": {"path": "reports/escalated.txt",
                                "content": "${filter.rows[0].key}\n${filter.rows[0].team}, ${filter.rows[0].sev}"}}
    results = ran(tickets="done", extract="done", filter="done", write="failed")
    results["filter"]["output"] = None
    refed = refed_plan({"nodes": [READ, EXTRACT, FILTER, fields]}, results, ASK, RED)
    assert refed is not None and refed[0]["nodes"][3]["args"]["content"] == "${computed}"
    kept = {**fields, "args": {"path": "reports/escalated.txt", "content": "Keys: ${filter.keys} (${filter.n})"}}
    refed = refed_plan({"nodes": [READ, EXTRACT, FILTER, kept]}, results, ASK, RED)
    assert refed is not None and refed[0]["nodes"][3]["args"]["content"] == "Keys: ${computed} (${computed})"
    # the package's value was there: the change failed for a reason of its own (the tool's)
    results = ran(tickets="done", extract="done", filter="done", write="failed")
    results["filter"]["output"] = "SUP-12"
    assert refed_plan(plan, results, ASK, RED) is None
    # an output too large to keep inline is not judged
    results["filter"] = {"status": "done", "preview": "…", "bytes": 90_000}
    assert refed_plan(plan, results, ASK, RED) is None


async def test_the_refed_change_asks_its_approver_with_the_computed_content(tmp_path: Path) -> None:
    """broad rejected-escalated: the planner's packages failed, the write was skipped, and nobody
    was asked anything."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tickets.json").write_text('{"tickets": [{"key": "SUP-12", "escalated": true}]}\n')
    llm = ScriptedChatModel(replies=[{"nodes": [READ, EXTRACT, FILTER, WRITE]}])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: "SUP-12"})  # extract: no output, fails
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("refed-1", ASK)
        seen = [events.get_nowait() for _ in range(events.qsize())]
        state = await services.engine.state("refed-1")
    assert [job.node_id for job in packages.jobs] == ["extract", COMPUTED_ID]
    assert [e.added for e in seen if isinstance(e, PlanReady)] == [(), (COMPUTED_ID, "write_2")]
    [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert (asked.node_id, asked.args) == ("write_2", {"path": "reports/escalated.txt", "content": "SUP-12", "append": False})
    assert state["results"]["computed"]["status"] == "done"
    assert not (tmp_path / "reports" / "escalated.txt").exists()  # nothing written before it is approved


COUNT_ASK = "Write the number of ERROR lines in logs/app.log to reports/count.txt"
WHOLE = {"nodes": [{"id": "count", "tool": "read_file", "args": {"path": "logs/app.log"}},
                   {"id": "write", "tool": "write_file", "args": {"path": "reports/count.txt", "content": "${count}"},
                    "depends_on": ["count"]}]}


async def test_a_change_still_given_a_reads_whole_result_after_repair_takes_a_computed_value(tmp_path: Path) -> None:
    """tuning follow-up-write: "Write that number to reports/count.txt" was planned twice as a
    ``write_file`` of ``${count}``, a read's whole result, and the file got the log as JSON."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text("x ERROR a\ny INFO b\nz ERROR c\n")
    llm = ScriptedChatModel(replies=[WHOLE, WHOLE])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: 2})
    async with services_on(MEMORY, llm, registry(tmp_path), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("whole-1", COUNT_ASK)
        seen = [events.get_nowait() for _ in range(events.qsize())]
    [ready] = [e for e in seen if isinstance(e, PlanReady)]
    assert [n["id"] for n in ready.plan["nodes"]] == ["count", COMPUTED_ID, "write"]
    [job] = packages.jobs
    assert job.inputs.keys() == {"count"} and job.goal.endswith(COUNT_ASK)
    [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert asked.args["content"] == "2"  # the computed number, not the read as JSON


def test_a_dump_the_request_asks_for_is_left_as_it_is() -> None:
    plan = Plan.model_validate(WHOLE)
    [problem] = whole_results_in_changes(plan, registry(Path("/tmp")))
    assert with_computed_content(plan, [problem], "Save the read of logs/app.log as JSON to reports/count.txt") \
        is None
    fed = with_computed_content(plan, [problem], COUNT_ASK)
    assert fed is not None and fed.nodes[2].args["content"] == "${computed}" and fed.nodes[2].depends_on == [
        "computed", "count"]
