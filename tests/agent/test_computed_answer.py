"""Values computed for the request itself are worded by the joiner, shown alone, with no replan
offered (agent/engine/computed_answer.py): dagbot's data set saw a right share pasted back as a
results list, and right per-team totals replanned into "I can't"."""

from __future__ import annotations

from typing import Any

from agent.engine.computed_answer import ComputedValue, computed_reply, missing_values, request_values
from agent.engine.computed_values import GOAL
from agent.events import AnswerReady
from agent.plan.validation import validate_plan
from tests.agent.harness import MEMORY, Harness, finish, harness
from tests.fakes.tools import ToolLog, simulated_registry

PER_TEAM = "SELECT team, SUM(cost) AS total FROM data GROUP BY team"
PLAN = {"nodes": [{"id": "costs", "tool": "lookup", "args": {"key": "costs"}},
                  {"id": "per_team", "package": {"goal": "sum the cost column per team",
                                                 "code": "result = {}"}, "depends_on": ["costs"]}]}
ASKED = "Give me the total cost per team"
DONE = {"status": "done"}


def queried(output: Any, query: str | None = PER_TEAM, error: str | None = None) -> dict[str, Any]:
    return {"status": "done", "output": output,
            "attempt_log": [{"attempt": 1, "code": "…", "error": error, **({"query": query} if query else {})}]}


def test_the_final_packages_values_count_only_when_written_for_the_request() -> None:
    totals = {"payments": 3030.75, "search": 5446.15}
    assert request_values(PLAN, {"costs": DONE, "per_team": queried(totals)}, ["send"]) == [
        ComputedValue("per_team", totals, PER_TEAM)]
    # the planner's code, as it ran: whether it answers the request is still the joiner's to judge
    assert request_values(PLAN, {"costs": DONE, "per_team": queried(totals, query=None)}, []) == []
    # a query that failed, then code that did not: not the query's value
    failed_then = {"status": "done", "output": totals, "attempt_log": [
        {"attempt": 1, "code": "…", "error": "no such column", "query": PER_TEAM},
        {"attempt": 2, "code": "…", "error": None}]}
    assert request_values(PLAN, {"costs": DONE, "per_team": failed_then}, []) == []
    # dagbot's own package, its code written from the request
    ours = {"nodes": [PLAN["nodes"][0], {"id": "computed", "package": {
        "goal": GOAL.format(request=ASKED), "code": ""}, "depends_on": ["costs"]}]}
    assert request_values(ours, {"costs": DONE, "computed": queried(30, query=None)}, []) == [
        ComputedValue("computed", 30, None)]
    # the plan's own packages that failed or were skipped give way to dagbot's (aimed failed-backups)
    theirs = {"nodes": [*ours["nodes"], {"id": "filter", "package": {"goal": "filter", "code": "…"},
                                         "depends_on": ["costs"]},
                        {"id": "ids", "package": {"goal": "ids", "code": "…"}, "depends_on": ["filter"]}]}
    gave_way = {"costs": DONE, "computed": queried(["b-102"]), "filter": {"status": "failed"},
                "ids": {"status": "skipped"}}
    assert request_values(theirs, gave_way, []) == [ComputedValue("computed", ["b-102"], PER_TEAM)]
    assert request_values(theirs, {**gave_way, "computed": {"status": "failed"}}, []) == []
    assert request_values(theirs, {**gave_way, "costs": {"status": "failed"}}, []) == []  # a read: as before


def test_a_failed_package_that_took_nothing_from_any_node_gives_way() -> None:
    """weekend multi-domain-certs: an ``output`` package printing a variable of another package's
    code failed; the query beside it had found the certificates, which the answer never named."""
    names = ["shop.example.net", "assets.shop.example.net"]
    unfed = {"nodes": [*PLAN["nodes"], {"id": "output", "package": {
        "goal": "code", "code": "print('${certificates_json}')"}}]}
    assert request_values(unfed, {"costs": DONE, "per_team": queried(names), "output": {"status": "failed"}},
                          []) == [ComputedValue("per_team", names, PER_TEAM)]
    # a failed package that took a node's result was a step of the answer: the joiner tells it
    fed = {"nodes": [*PLAN["nodes"], {"id": "output", "package": {"goal": "code", "code": "…"},
                                      "depends_on": ["costs"]}]}
    assert request_values(fed, {"costs": DONE, "per_team": queried(names), "output": {"status": "failed"}},
                          []) == []
    # one that refers to nothing at all may have read through its tools: the joiner tells it
    alone = {"nodes": [*PLAN["nodes"], {"id": "output", "package": {"goal": "code", "code": "…"}}]}
    assert request_values(alone, {"costs": DONE, "per_team": queried(names), "output": {"status": "failed"}},
                          []) == []


def test_a_failed_step_a_change_or_a_value_too_large_leaves_the_answer_to_the_joiner() -> None:
    assert request_values(PLAN, {"costs": {"status": "failed"}, "per_team": queried(1)}, []) == []
    too_large = {"status": "done", "preview": "…", "bytes": 90_000,
                 "attempt_log": [{"attempt": 1, "code": "…", "error": None, "query": PER_TEAM}]}
    assert request_values(PLAN, {"costs": DONE, "per_team": too_large}, []) == []
    changed = {"nodes": [*PLAN["nodes"], {"id": "mail", "tool": "send",
                                          "args": {"to": "a@b.c", "body": "${per_team}"}}]}
    assert request_values(changed, {"costs": DONE, "per_team": queried(1), "mail": DONE}, ["send"]) == []
    # a read no step took is part of the answer as it is: the joiner sees every result
    beside = {"nodes": [*PLAN["nodes"], {"id": "owner", "tool": "lookup", "args": {"key": "owner"}}]}
    assert request_values(beside, {"costs": DONE, "per_team": queried(1), "owner": DONE}, []) == []
    # a package another node goes on from is no final value
    plan = validate_plan({"nodes": [*PLAN["nodes"], {"id": "top", "package": {
        "goal": "the largest", "code": "result = max(inputs['per_team'].values())"},
        "depends_on": ["per_team"]}]}, simulated_registry(ToolLog())).model_dump(exclude_none=True)
    assert request_values(plan, {"costs": DONE, "per_team": queried(1), "top": queried(1, query=None)},
                          []) == []


async def answered(thread: str, reply: str, totals: dict[str, float],
                   query: str | None = PER_TEAM) -> tuple[str, Harness]:
    """The answer to :data:`ASKED` when ``per_team`` computed ``totals`` (by ``query``, if one)
    and the joiner replied ``reply``; and the harness, to read its calls."""
    async with harness(MEMORY, [PLAN, finish(reply)]) as h:
        h.packages.outputs["per_team"] = lambda inputs: totals
        if query is not None:
            h.packages.queries["per_team"] = query
        await h.engine.ask(thread, ASKED)
        return (await h.next_event(AnswerReady)).answer, h


async def test_the_joiner_words_a_queried_value_and_is_offered_no_replan() -> None:
    answer, h = await answered("ca1", "Payments spent 3030.75 and search 5446.15.",
                               {"payments": 3030.75, "search": 5446.15})
    assert answer == "Payments spent 3030.75 and search 5446.15."
    prompt = str(h.llm.calls[1][-1].content)
    assert prompt == (f"## Computed values\n### per_team (computed by `{PER_TEAM}`)\n- payments: 3030.75\n"
                      f"- search: 5446.15\n\n## Request\n{ASKED}")
    assert h.llm.offered[1] == []  # no replan: the values were computed for this request


async def test_a_worded_value_no_result_holds_still_falls_back_to_dagbots_own_reply() -> None:
    answer, _ = await answered("ca2", "Payments spent 9999.", {"payments": 3030.75})
    assert "9999" not in answer and "3030.75" in answer


async def test_the_planners_own_code_leaves_the_joiner_its_replan() -> None:
    _, h = await answered("ca3", "Payments spent 3030.75.", {"payments": 3030.75}, query=None)
    assert "## Results" in str(h.llm.calls[1][-1].content)
    assert h.llm.offered[1] == ["replan"]


def test_an_answer_must_state_each_value_it_was_given_as_the_answer_rounds_it() -> None:
    totals = [ComputedValue("per_team", {"payments": 3030.75, "search": 5446.15}, PER_TEAM)]
    assert missing_values("The total per team is 1255.2.", totals) == ["payments", "3030.75", "search", "5446.15"]
    assert missing_values("Payments: $3,030.8; search: 5446.15.", totals) == []
    share = [ComputedValue("computed", 0.3, None)]
    assert missing_values("30% of the runs failed.", share) == []  # a share, as a percentage
    assert missing_values("Most runs failed.", share) == ["0.3"]
    # a mapping's keys are its groups only when the query grouped: otherwise labels
    assert missing_values("The orders total 60.", [ComputedValue("computed", {"orders_total": 60}, None)]) == []
    many = [ComputedValue("hosts", [f"host-{n}" for n in range(20)], None)]
    assert missing_values("Twenty hosts.", many) == []  # a long list may be summed up


def test_dagbots_own_reply_gives_the_values_as_computed_and_the_query() -> None:
    totals = [ComputedValue("per_team", {"payments": 3030.75, "search": 5446.15}, PER_TEAM)]
    assert computed_reply(totals) == (f"Computed from the data (`{PER_TEAM}`):\n- payments: 3030.75\n"
                                      "- search: 5446.15")
    assert computed_reply([ComputedValue("computed", 30, None)]) == "Computed from the data: **30**"
    # a long query on one line, cut with no count of what was cut (a number no result holds)
    long = "SELECT\n    " + ", ".join(f"SUM(c{n}) AS t{n}" for n in range(40)) + "\nFROM data"
    shown = computed_reply([ComputedValue("computed", 30, long)])
    assert shown.startswith("Computed from the data (`SELECT SUM(c0) AS t0, SUM(c1)") and "…`): **30**" in shown
    assert "characters left out" not in shown and "\n    " not in shown
    # two packages that computed the same by the same query (tuesday slowest-statement): said once
    twice = [ComputedValue("slowest", 30, "SELECT 30"), ComputedValue("time", 30, "SELECT 30")]
    assert computed_reply(twice) == "Computed from the data (`SELECT 30`): **30**"


async def test_an_answer_that_leaves_computed_values_out_gives_way_to_dagbots_own() -> None:
    answer, _ = await answered("ca4", "The total cost per team is 1255.2.", {"payments": 3030.75, "search": 1255.2})
    assert answer == f"Computed from the data (`{PER_TEAM}`):\n- payments: 3030.75\n- search: 1255.2"


async def test_an_answer_stating_a_value_no_result_holds_gives_the_computed_values() -> None:
    answer, h = await answered("ca5", "Payments spent 3030.75, up 12.5% on last month.", {"payments": 3030.75})
    assert answer == f"Computed from the data (`{PER_TEAM}`):\n- payments: 3030.75"
    assert [job.node_id for job in h.packages.jobs] == ["per_team"]  # nothing computed again


async def test_a_number_only_the_packages_code_holds_is_a_value_from_nowhere() -> None:
    """unseen processed-total: "… = 100.0 * 100.0 / 100.0 = 100.0" passed because the package's code
    (its attempt log, in the thread's results) held ``100_000``; a result names what it gave."""
    code = "ROWS = 100_000\nresult = {}"
    plan = {"nodes": [PLAN["nodes"][0], {**PLAN["nodes"][1], "package": {"goal": "sum per team", "code": code}}]}
    async with harness(MEMORY, [plan, finish("Payments spent 3030.75 over 100.0 days.")]) as h:
        h.packages.outputs["per_team"] = lambda inputs: {"payments": 3030.75}
        h.packages.queries["per_team"] = PER_TEAM
        await h.engine.ask("ca6", ASKED)
        answer = (await h.next_event(AnswerReady)).answer
    assert h.packages.jobs[0].code == code  # the code ran, and its attempt log holds it
    assert answer == f"Computed from the data (`{PER_TEAM}`):\n- payments: 3030.75"
