"""A value the joiner's draft states that no result holds is computed by a package dagbot adds
to the plan that ran (agent/engine/computed_values.py): once a request, from the nodes that
finished, shown and audited; when it fails, the answer goes on as before (a replan, or
dagbot's own reply), never with the value from nowhere."""

from __future__ import annotations

from typing import Any

from agent.engine.computed_values import COMPUTED_ID, computing_goal, computing_plan
from agent.events import AnswerReady, PlanReady
from agent.execution.context import EngineSettings
from agent.ports.audit import AuditKind
from infra.cli.terminal import render
from tests.agent.harness import MEMORY, finish, harness

READ = {"nodes": [{"id": "orders", "tool": "lookup", "args": {"key": "orders"}},
                  {"id": "plans", "tool": "lookup", "args": {"key": "plans"}}]}
ASKED = "what do the orders total?"


async def test_a_value_no_result_holds_is_computed_by_a_package_then_answered() -> None:
    async with harness(MEMORY, [READ, finish("The orders total 1,234."), finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv1", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
        labels = h.labels()
        audit = await h.services.store.audit_entries()
    assert answer == "The orders total 60."
    [job] = h.packages.jobs
    assert job.code == "" and job.goal.endswith(ASKED)  # written in the sandbox, from the request
    assert job.inputs == {"orders": "value of orders", "plans": "value of plans"}  # every finished node
    assert labels.index("PlanReady") < labels.index("NodeStarted:computed") < labels.index(
        "NodeFinished:computed") < labels.index("AnswerReady")
    assert labels.count("NodeStarted:orders") == 1  # what had run is not run again
    assert "orders_total" in str(h.llm.calls[2])  # the joiner answered from the computed result
    assert [e.detail.get("added") for e in audit if e.kind == AuditKind.PLAN] == [None, [COMPUTED_ID]]


async def test_content_no_step_read_in_the_joiners_answer_is_computed_too() -> None:
    """evening memory-and-relay: the joiner answered with a metrics file's lines rewritten (a
    gauge no read held), twice; the values the request asks are computed from the reads."""
    rewritten = finish('The orders file says "content": "node_load5 3.42, made up"')
    async with harness(MEMORY, [READ, rewritten, finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv9", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert answer == "The orders total 60." and [job.node_id for job in h.packages.jobs] == [COMPUTED_ID]


async def test_the_added_node_is_shown_as_one_more_step_of_the_plan_that_ran() -> None:
    async with harness(MEMORY, [READ, finish("The orders total 1,234."), finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv2", ASKED)
        await h.next_event(AnswerReady)
        ready = [e for e in h.drain() if isinstance(e, PlanReady)]
    assert [e.added for e in ready] == [(), (COMPUTED_ID,)]
    assert [n["id"] for n in ready[1].plan["nodes"]] == ["orders", "plans", COMPUTED_ID]
    shown = render(ready[1])
    assert shown is not None and "computed: package: Compute" in shown and "orders:" not in shown


async def test_when_the_computation_fails_the_value_is_never_posted() -> None:
    async with harness(MEMORY, [READ, finish("The orders total 1,234."), finish("The orders total 1,234.")],
                       settings=EngineSettings(max_replans=0)) as h:  # (no scripted output: it fails)
        await h.engine.ask("cv3", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert len(h.packages.jobs) == 1  # once a request
    assert not answer.startswith("The orders total")  # dagbot's own reply, saying why
    assert "it states 1,234, which no result" in answer and "`computed` (package: Compute" in answer
    assert answer.split("`computed`")[1].rstrip().endswith("failed (no scripted output)\nNothing was changed.")


async def test_the_plans_answer_sentence_filled_from_nowhere_is_computed_and_written_by_the_joiner() -> None:
    plan = {**READ, "answer": "The orders total ${orders_total}."}
    async with harness(MEMORY, [plan, finish("The orders total 1,234."), finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv4", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert answer == "The orders total 60." and len(h.packages.jobs) == 1


def test_only_finished_nodes_feed_it_and_nothing_finished_computes_nothing() -> None:
    results: dict[str, Any] = {"orders": {"status": "done", "output": "1,2"},
                               "plans": {"status": "failed", "error": "not found"}}
    extended = computing_plan({**READ, "answer": "x ${orders}", "thought": "t"}, results, " sum it ")
    assert extended is not None and extended["answer"] == "x ${orders}" and extended["thought"] == "t"
    added = extended["nodes"][-1]
    assert added["id"] == COMPUTED_ID and added["depends_on"] == ["orders"]
    assert added["package"] == {"goal": "Compute from the inputs every value this request asks for: sum it",
                                "code": ""}
    assert computing_plan(READ, {"orders": {"status": "failed"}}, "sum it") is None
    follow_up = computing_plan(READ, results, "and the overdue ones?", "sum the invoices")
    assert follow_up is not None and follow_up["nodes"][-1]["package"]["goal"].endswith(
        "asks for: and the overdue ones? (a follow-up to: sum the invoices)")
    taken = {"nodes": [{"id": COMPUTED_ID, "tool": "lookup", "args": {"key": "x"}}]}
    again = computing_plan(taken, {COMPUTED_ID: {"status": "done", "output": 1}}, "sum it")
    assert again is not None and again["nodes"][-1]["id"] == f"{COMPUTED_ID}_2"


async def test_when_the_computation_fails_the_plans_sentence_filled_from_nowhere_is_still_found() -> None:
    """tuning average-p99: the package failed, dagbot's computation failed too, and the joiner's
    sentence, filled with a value one input happened to hold, must not pass for an answer."""
    plan = {"nodes": [{"id": "orders", "tool": "lookup", "args": {"key": "orders"}},
                      {"id": "total", "package": {"goal": "sum", "code": "result = 1"}, "depends_on": ["orders"]}],
            "answer": "The orders total ${total}."}
    async with harness(MEMORY, [plan, finish("The orders total 1,234."), finish("The orders total 1,234.")],
                       settings=EngineSettings(max_replans=0)) as h:  # (no scripted outputs: both fail)
        await h.engine.ask("cv5", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert [job.node_id for job in h.packages.jobs] == ["total", COMPUTED_ID]
    assert answer.startswith("I could not complete that: `total` failed") and "1,234" not in answer



async def test_the_joiner_is_shown_the_computed_values_not_the_reads_they_came_from() -> None:
    """data-cron-failure-rate: the computed share was right, and the joiner, shown the log beside
    it, pasted the results list back as its answer."""
    async with harness(MEMORY, [READ, finish("The orders total 1,234."), finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv5", ASKED)
        await h.next_event(AnswerReady)
    first, last = str(h.llm.calls[1][-1].content), str(h.llm.calls[2][-1].content)
    assert "- orders: done → <untrusted source=\"lookup\">value of orders" in first  # before: the read itself
    # (agent/engine/computed_answer.py: the values computed for the request, and the request)
    assert last.startswith("## Computed values\n### computed\n- orders_total: 60") and last.endswith(ASKED)
    assert "value of orders" not in last
    assert h.llm.offered[-1] == []  # and no replan offered: what is left is the wording


def test_the_nodes_a_finished_computing_package_took_its_values_from() -> None:
    from agent.engine.computed_values import computed_from

    plan = computing_plan(READ, {"orders": {"status": "done"}, "plans": {"status": "done"}}, ASKED)
    assert plan is not None
    assert computed_from(plan, {COMPUTED_ID: {"status": "done"}}) == {"orders": COMPUTED_ID, "plans": COMPUTED_ID}
    assert computed_from(plan, {COMPUTED_ID: {"status": "failed"}}) == {}  # failed: the reads are what there is
    # a manifest read beside an inventory: the query was the inventory's, the manifest's read is shown
    # (aimed memory-and-mail-host)
    files = {"nodes": [{"id": "manifest", "tool": "read_file", "args": {"path": "deploy/api.yaml"}},
                       {"id": "servers", "tool": "read_file", "args": {"path": "inventory/servers.json"}},
                       {"id": COMPUTED_ID, "depends_on": ["manifest", "servers"],
                        "package": {"goal": computing_goal(ASKED), "code": ""}}]}
    assert computed_from(files, {COMPUTED_ID: {"status": "done"}}) == {"servers": COMPUTED_ID}
    alone = {"nodes": [files["nodes"][0], {**files["nodes"][2], "depends_on": ["manifest"]}]}
    assert computed_from(alone, {COMPUTED_ID: {"status": "done"}}) == {"manifest": COMPUTED_ID}


async def test_a_joiner_that_pasted_the_results_twice_words_the_computed_values() -> None:
    """evening memory-and-relay: the joiner pasted a metrics file and a Postfix config, and again
    when asked to word them; the values the request asks are computed, and those it words."""
    pasted = '- orders: done → {"key": "orders", "value": "value of orders"}'
    async with harness(MEMORY, [READ, pasted, pasted, finish("The orders total 60.")]) as h:
        h.packages.outputs[COMPUTED_ID] = lambda inputs: {"orders_total": 60}
        await h.engine.ask("cv10", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert answer == "The orders total 60." and [job.node_id for job in h.packages.jobs] == [COMPUTED_ID]


async def test_a_joiner_that_pasted_the_results_twice_for_a_request_asking_nothing_computed_gets_them_shown() -> None:
    """tuning list-files: the joiner pasted the listing twice; a package "computing" a list of
    files found none, and the answer said "(none)". What no value is asked of is shown as read."""
    pasted = '- orders: done → {"key": "orders", "value": "value of orders"}'
    async with harness(MEMORY, [READ, pasted, pasted]) as h:
        await h.engine.ask("cv11", "show me the orders and the plans")
        answer = (await h.next_event(AnswerReady)).answer
    assert h.packages.jobs == []
    assert "value of orders" in answer and "value of plans" in answer and "→ {" not in answer
