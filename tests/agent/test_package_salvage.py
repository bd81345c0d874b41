"""A draft whose packages stay broken after the repair round, beside sound reads: the reads run
and one package computes the request from them (agent/engine/package_salvage.py). A program the
plan runs, a tool node that goes on from a package, or a broken read still end the run as before.
Packages carry the request (and the one before it, for a follow-up), and whether another package
goes on from their result."""

from __future__ import annotations

from agent.engine.computed_values import COMPUTED_ID
from agent.engine.package_salvage import salvaged_draft
from agent.errors import PlanProblem
from agent.events import AnswerReady, PlanReady, RunFailed
from tests.agent.harness import MEMORY, finish, harness

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
    assert [(j.node_id, j.follows) for j in last] == [("rows", ASKED), ("share", ASKED)]
