"""Planning through the graph: repair round, clear failures, replans, follow-ups."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr
from structlog.testing import capture_logs

from agent.engine.replans import answered_without_steps
from agent.events import (
    AnswerReady,
    AwaitingApproval,
    Planning,
    PlanReady,
    PlanRepairing,
    Replanning,
    RunFailed,
)
from agent.execution.context import EngineSettings
from agent.plan.references import UnresolvedReference, resolve
from agent.tools.masking import MASK
from infra.settings import Settings
from infra.wiring import open_services
from tests.agent.harness import MEMORY, Harness, finish, harness, replan
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog, simulated_registry

GOOD = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
BAD = {"nodes": [{"id": "a", "tool": "teleport", "args": {}}]}


async def test_one_repair_round_feeds_the_errors_back() -> None:
    async with harness(MEMORY, [BAD, GOOD, finish("fixed")]) as h:
        await h.engine.ask("p1", "look up a")
        repair_prompt = h.llm.calls[1][-1].content
        assert "Your previous plan was invalid" in repair_prompt
        assert "node 'a', field 'tool': unknown tool 'teleport'" in repair_prompt
        assert [type(e) for e in h.drain() if isinstance(e, Planning | PlanReady)] == [Planning, PlanReady]
        assert isinstance(h.events[-1], AnswerReady) and h.events[-1].answer == "fixed"


async def test_an_llm_that_keeps_making_bad_plans_ends_with_a_clear_message() -> None:
    async with harness(MEMORY, [BAD, BAD]) as h:
        await h.engine.ask("p2", "look up a")
        failed = h.drain()[-1]
        assert isinstance(failed, RunFailed)
        assert failed.error.startswith("I could not make a valid plan for this request")
        assert "unknown tool 'teleport'" in failed.error
        assert "Traceback" not in failed.error
        assert h.log.calls == []


RUNS_A_PROGRAM = {"nodes": [{"id": "restart", "package": {
    "goal": "restart web", "code": "import subprocess\nsubprocess.run(['systemctl', 'restart', 'web'])"}}]}
CAN_CHANGE = "What I can change: `deploy`, `scale`, `send`, each after an approval."


async def test_a_plan_that_only_runs_a_program_in_a_package_is_answered_with_i_cant() -> None:
    """No tool restarts services; a model that packages `systemctl restart` (and computes
    nothing: no result, no input, no print) gets the user a plain "I can't" at once, with the
    changes its tools can make: no repair round, no list of the plan's faults; nothing runs."""
    async with harness(MEMORY, [RUNS_A_PROGRAM]) as h:
        await h.engine.ask("p2b", "restart web")
        events = h.drain()
        answered = events[-1]
        assert isinstance(answered, AnswerReady)
        assert answered.answer == (
            "I can't do that: it needs running a program, and none of my tools does that (the plan tried "
            f"it in package code: 'restart'). {CAN_CHANGE}")
        assert not any(isinstance(e, PlanRepairing) for e in events)
        assert len(h.llm.calls) == 1  # no repair round, no joiner: the reply is said
        assert h.log.calls == []


@pytest.mark.parametrize("code", [
    "import subprocess\nresult = subprocess.run(['grep', '-c', 'ERROR', 'app.log']).stdout",  # computes
    "import subprocess\nprint(subprocess.check_output(['grep', '-c', 'ERROR', 'app.log']))",  # shows it
])
async def test_a_package_that_computes_with_a_program_goes_to_the_repair_round(code: str) -> None:
    """A count written as ``grep`` is a package the repair round can make work: no "I can't"."""
    greps = {"nodes": [{"id": "count", "package": {"goal": "count errors", "code": code}}]}
    async with harness(MEMORY, [greps, GOOD, finish("7")]) as h:
        await h.engine.ask("p2g", "count the errors")
        events = h.drain()
        assert any(isinstance(e, PlanRepairing) for e in events)
        assert "uses subprocess" in h.llm.calls[1][-1].content
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "7"


async def test_a_plan_that_keeps_running_programs_beside_a_read_is_answered_with_i_cant() -> None:
    """A draft that also reads goes to the repair round (it may keep what can be done); still
    running the program after it, the reply is "I can't"."""
    reads_and_restarts = {"nodes": [{"id": "cfg", "tool": "lookup", "args": {"key": "web"}},
                                    *RUNS_A_PROGRAM["nodes"]]}
    async with harness(MEMORY, [reads_and_restarts, RUNS_A_PROGRAM]) as h:
        await h.engine.ask("p2f", "restart web")
        answered = h.drain()[-1]
        assert isinstance(answered, AnswerReady) and answered.answer.startswith("I can't do that: it needs running")
        assert "subprocess" in h.llm.calls[1][-1].content  # the repair round was told why
        assert len(h.llm.calls) == 2


async def test_a_plan_that_only_deletes_a_file_in_a_package_is_answered_with_i_cant() -> None:
    """bench.quality delete-log: no tool deletes files, and a package's ``os.remove`` was run
    (and failed in the sandbox, which has no workspace files) instead of being refused."""
    deletes = {"nodes": [{"id": "delete", "package": {"goal": "delete file",
                                                      "code": "import os\nos.remove('logs/app.log')"}}]}
    async with harness(MEMORY, [deletes]) as h:
        await h.engine.ask("p2d", "delete logs/app.log")
        answered = h.drain()[-1]
        assert isinstance(answered, AnswerReady)
        assert answered.answer.startswith(
            "I can't do that: it needs deleting, moving or renaming files, and none of my tools does that "
            "(the plan tried it in package code: 'delete').")
        assert len(h.llm.calls) == 1


async def test_faults_of_the_package_that_deletes_do_not_hide_the_i_cant() -> None:
    """bench.quality delete-log, as the 1.5B model wrote it after its repair round: the package
    that deletes also depends on a node the plan never made. That package cannot run whatever
    its dependencies are."""
    delete = {"id": "delete", "depends_on": ["app"], "package": {
        "goal": "delete file", "code": "import os\nos.remove('logs/app.log')"}}
    first = {"nodes": [{"id": "log", "tool": "lookup", "args": {"key": "app.log"}}, delete]}
    async with harness(MEMORY, [first, {"nodes": [delete], "answer": "logs/app.log has been deleted."}]) as h:
        await h.engine.ask("p2e", "delete logs/app.log")
        answered = h.drain()[-1]
        assert isinstance(answered, AnswerReady)
        assert answered.answer.startswith("I can't do that: it needs deleting, moving or renaming files")
        assert "unknown node 'app'" in h.llm.calls[1][-1].content  # the repair round was told
        assert len(h.llm.calls) == 2


async def test_a_package_running_programs_beside_other_faults_still_lists_them() -> None:
    both = {"nodes": [*RUNS_A_PROGRAM["nodes"], *BAD["nodes"]]}
    async with harness(MEMORY, [both, both]) as h:
        await h.engine.ask("p2c", "restart web")
        failed = h.drain()[-1]
        assert isinstance(failed, RunFailed) and failed.error.startswith("I could not make a valid plan")
        assert "unknown tool 'teleport'" in failed.error and "subprocess" in failed.error


async def test_a_package_reaching_the_network_is_no_i_cant() -> None:
    """A page can be read with a tool (bench.quality average-p99 packaged ``requests.get`` of the
    page its plan had read): the plan's faults are listed, not "I can't"."""
    fetches = {"nodes": [{"id": "p99", "package": {
        "goal": "g", "code": "import requests\nresult = requests.get('https://x').json()"}}]}
    async with harness(MEMORY, [fetches, fetches]) as h:
        await h.engine.ask("p2d", "average p99 of the status page")
        failed = h.drain()[-1]
        assert isinstance(failed, RunFailed) and failed.error.startswith("I could not make a valid plan")
        assert "uses requests" in failed.error


async def test_an_unreachable_model_is_reported_not_raised() -> None:
    def boom(messages: list[BaseMessage]) -> Any:
        raise ConnectionError("connection refused")

    async with harness(MEMORY, [boom]) as h:
        await h.engine.ask("p3", "anything")
        failed = h.drain()[-1]
        assert isinstance(failed, RunFailed)
        assert "could not reach the planner model" in failed.error and "OPENAI_BASE_URL" in failed.error


KEY = "sk-TOPSECRET-42"


@pytest.mark.parametrize("key_from", ["settings", "model"])
async def test_a_model_error_is_shown_by_class_and_status_and_logged_without_the_key(
    sqlite_url: str, key_from: str,
) -> None:
    with FakeOpenAI([], refuse_with=401) as fake, capture_logs() as logs:  # it quotes the key back
        settings = Settings(database_url=sqlite_url, openai_base_url=fake.url,
                            openai_api_key=SecretStr(KEY if key_from == "settings" else ""))
        llm = ChatOpenAI(model="m", base_url=fake.url, api_key=SecretStr(KEY), max_retries=0) \
            if key_from == "model" else None  # handed in ready-made, as the playground does
        async with open_services(settings, llm=llm, registry=simulated_registry(ToolLog()),
                                 packages=ScriptedPackages()) as services:
            queue = services.events.open()
            await services.engine.ask("p9", "look up a")
            events = [queue.get_nowait() for _ in range(queue.qsize())]
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert failed[0].error == ("I could not reach the planner model (OpenAIAuthenticationError, HTTP 401: the key "
                               "was refused). Check OPENAI_BASE_URL, OPENAI_API_KEY and DAGBOT_MODEL, "
                               "then ask again.")
    logged = [e["error"] for e in logs if e["event"] == "the planner model failed"]
    assert "invalid credentials (Authorization: Bearer " + MASK in logged[0]
    assert KEY not in repr(logs)


async def test_joiner_replans_with_feedback_and_stops_at_the_limit() -> None:
    def broken(key: str) -> dict[str, Any]:  # (each fails its own way: something new each time)
        return {"nodes": [{"id": "a", "tool": "broken", "args": {"key": key}}]}

    again = replan("use lookup instead")
    replies = [broken("a"), again, broken("b"), again, broken("c"), finish("gave up after two replans")]
    async with harness(MEMORY, replies, settings=EngineSettings(max_replans=2)) as h:
        await h.engine.ask("p4", "find a")
        events = h.drain()
        assert [e.replan for e in events if isinstance(e, Replanning)] == [1, 2]
        second_plan_prompt = h.llm.calls[2][-1].content
        assert "What to change: use lookup instead" in second_plan_prompt
        assert ("a: failed — <untrusted source=\"broken\">the lookup service has no entry for 'a'</untrusted>"
                in second_plan_prompt)
        assert "No replans are left" in h.llm.calls[-1][0].content
        # the joiner is offered `replan` while replans are left, then no tool at all
        assert h.llm.offered[1::2] == [["replan"], ["replan"], []]
        assert isinstance(events[-1], AnswerReady)
        assert h.log.count("broken") == 3


async def test_what_a_replaced_plan_did_stands_for_the_joiner_the_new_plan_and_follow_ups() -> None:
    """A replan replaces the plan, not what it did: the mail sent under plan 1 is in the next
    planner's prompt, the final joiner's, and the thread's history."""
    plan1 = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "ops@example.com", "body": "deploy done"}},
                       {"id": "status", "tool": "broken", "args": {"key": "web"}}]}
    plan2 = {"nodes": [{"id": "status", "tool": "lookup", "args": {"key": "web"}}]}
    async with harness(MEMORY, [plan1, replan("status failed: use lookup"), plan2,
                                    finish("Mailed ops; web is fine.")]) as h:
        await h.engine.ask("p6", "mail ops@example.com that the deploy is done and check web", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.next_event(AnswerReady)
        await h.engine.idle()
        assert h.log.count("send") == 1
        second_plan_prompt, final_joiner_prompt = h.llm.calls[2][-1].content, h.llm.calls[3][-1].content
        assert "mail: done" in second_plan_prompt and "do not repeat a red call" in second_plan_prompt
        earlier, current = final_joiner_prompt.split("## Plan\n")
        assert "Earlier plans for this request ran" in earlier and "mail: done" in earlier
        assert "status: failed" in earlier and "status: done" in current
        history = (await h.engine.state("p6"))["history"][-1]["results"]
        assert history["mail (plan 1)"]["status"] == "done" and history["status"]["status"] == "done"


async def test_a_replan_that_never_validates_is_answered_from_the_results_in_hand() -> None:
    """The replan's draft and its repair are both invalid: nothing is lost, the joiner answers
    from what the plan before it found, offered no replan (bench.quality oncall-and-incidents)."""
    plan1 = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "ops@example.com", "body": "done"}},
                       {"id": "status", "tool": "broken", "args": {"key": "web"}}]}
    async with harness(MEMORY, [plan1, replan("use lookup"), BAD, BAD,
                                    finish("Mailed ops; web's status could not be read.")]) as h:
        await h.engine.ask("p7", "mail ops@example.com and check web", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        answered = await h.next_event(AnswerReady)
        assert answered.answer == ("Mailed ops; web's status could not be read.\n\nNot done, and why:\n"
                                   "• `status` (broken): failed (the lookup service has no entry for 'web')")
        assert h.log.count("send") == 1 and h.log.count("teleport") == 0
        final_joiner = h.llm.calls[-1]
        assert h.llm.offered[-1] == [] and "No replans are left" in final_joiner[0].content
        assert "mail: send done" in final_joiner[-1].content  # the changes the first plan made
        assert "status: failed" in final_joiner[-1].content


async def test_a_first_plan_that_never_validates_still_says_why() -> None:
    async with harness(MEMORY, [BAD, BAD]) as h:
        await h.engine.ask("p7b", "look up a")
        failed = h.drain()[-1]
        assert isinstance(failed, RunFailed) and "unknown tool 'teleport'" in failed.error


async def test_a_replan_that_finds_nothing_new_is_answered_without_another() -> None:
    """The joiner asked for a replan with every fact in hand and the planner made the same read
    again: the joiner is offered no further replan, though replans are left."""
    async with harness(MEMORY, [GOOD, replan("find a"), GOOD, finish("a is value of a")],
                       settings=EngineSettings(max_replans=2)) as h:
        await h.engine.ask("p7c", "look up a")
        events = h.drain()
        assert [e.replan for e in events if isinstance(e, Replanning)] == [1]
        assert h.llm.offered[1::2] == [["replan"], []]
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "a is value of a"


async def test_a_replans_plan_of_the_models_sentence_alone_is_answered_by_the_joiner_from_what_ran() -> None:
    """tuning find-runbook: the joiner, shown the runbook read whole, asked for a replan saying it
    held no steps; the replan had no node and that sentence, which was posted as it was. The
    joiner answers from what ran instead, offered no further replan."""
    alone = {"nodes": [], "answer": "The runbook does not contain any steps."}
    async with harness(MEMORY, [GOOD, replan("The runbook does not contain any steps."), alone,
                                finish("Its first step: value of a")],
                       settings=EngineSettings(max_replans=2)) as h:
        await h.engine.ask("p7e", "look up a and tell me its first step")
        events = h.drain()
        assert h.llm.offered[1::2] == [["replan"], []]
        assert "value of a" in str(h.llm.calls[-1])  # what the earlier plan read is in view
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "Its first step: value of a"


def test_only_the_models_own_sentence_in_a_replans_nodeless_plan_is_answered_again() -> None:
    """An "I can't" dagbot writes (the draft asked for what no tool does) is no sentence of the
    model's, nor a sentence with references, nor a first plan's: each is posted as it is."""
    said = "The runbook does not contain any steps."
    state: dict[str, Any] = {"request": "r", "plan": {"nodes": [], "answer": said},
                             "draft": {"nodes": [], "answer": said}, "earlier_results": [{"a": {}}]}
    assert answered_without_steps(state)  # type: ignore[arg-type]
    cases = [{"draft": {"nodes": [{"id": "x", "tool": "teleport"}]}},  # dagbot's "I can't"
             {"earlier_results": []},  # a first plan: no results to answer from
             {"plan": {"nodes": [], "answer": "${a.value}"}, "draft": {"nodes": [], "answer": "${a.value}"}},
             {"plan": {"nodes": [{"id": "a", "tool": "lookup"}], "answer": said}}]
    for changed in cases:
        assert not answered_without_steps({**state, **changed}), changed  # type: ignore[arg-type]


async def test_a_replan_that_finds_something_new_may_replan_again() -> None:
    other = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
    async with harness(MEMORY, [GOOD, replan("find b"), other, replan("find c"), GOOD, finish("done")],
                       settings=EngineSettings(max_replans=2)) as h:
        await h.engine.ask("p7d", "look up a, b")
        events = h.drain()
        assert [e.replan for e in events if isinstance(e, Replanning)] == [1, 2]
        assert h.llm.offered[1::2] == [["replan"], ["replan"], []]


async def test_a_follow_up_uses_the_previous_run_result() -> None:
    first = {"nodes": [{"id": "summary", "tool": "lookup", "args": {"key": "weekly report"}}]}

    def second(messages: list[BaseMessage]) -> dict[str, Any]:
        prompt = str(messages[-1].content)
        assert "Earlier run 1" in prompt and "Summary: value of weekly report" in prompt
        return {"nodes": [{"id": "mail", "tool": "send",
                           "args": {"to": "bob@example.com", "body": "Summary: value of weekly report"}}]}

    async with harness(MEMORY, [first, finish("Summary: value of weekly report"), second,
                                      finish("Sent.")]) as h:
        await h.engine.ask("conv", "summarise the weekly report", requested_by="U1")
        await h.engine.ask("conv", "now email that summary to bob@example.com", requested_by="U1")
        asked = [e for e in h.drain() if type(e).__name__ == "AwaitingApproval"]
        await h.engine.decide(asked[0].approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert h.log.args_of("send") == [{"to": "bob@example.com", "body": "Summary: value of weekly report"}]
        state = await h.engine.state("conv")
        assert [m.type for m in state["messages"]] == ["human", "ai", "human", "ai"]
        assert [r["request"] for r in state["history"]] == [
            "summarise the weekly report", "now email that summary to bob@example.com"]


async def _approved_follow_up_plan(h: Harness) -> list[str]:
    """Approve the follow-up's red node; the node ids of the follow-up's plan."""
    asked = [e for e in h.drain() if type(e).__name__ == "AwaitingApproval"]
    await h.engine.decide(asked[0].approval_id, approved=True, by="U1")
    await h.engine.idle()
    plans = [e.plan for e in h.drain() if isinstance(e, PlanReady)]
    return [n["id"] for n in plans[-1]["nodes"]]


async def test_a_follow_up_reading_an_earlier_runs_node_gets_that_node_back() -> None:
    """The follow-up's package reads inputs['log'], a node of the run before: the plan gets
    that green call back (its result reused) rather than a repair round."""
    first = {"nodes": [{"id": "log", "tool": "lookup", "args": {"key": "app log"}}]}
    second = {"nodes": [{"id": "count", "package": {"goal": "measure", "code": "result = len(inputs['log'])"}},
                        {"id": "mail", "tool": "send", "why": "asked",
                         "args": {"to": "bob@example.com", "body": "${count}"}}]}
    async with harness(MEMORY, [first, finish("It says: value of app log"), second,
                                      finish("Sent.")]) as h:
        h.packages.outputs["count"] = lambda inputs: len(inputs["log"])
        await h.engine.ask("recall", "what does the app log say?", requested_by="U1")
        await h.engine.ask("recall", "mail its length to bob@example.com", requested_by="U1")
        assert await _approved_follow_up_plan(h) == ["log", "count", "mail"]
        assert h.log.args_of("send") == [{"to": "bob@example.com", "body": str(len("value of app log"))}]
        assert h.log.count("lookup") == 1  # the earlier result, reused


async def test_a_follow_up_naming_an_earlier_runs_package_runs_it_again_with_its_read() -> None:
    """"Which is the longest?", then "mail its name": the follow-up writes ``${top}``, the
    package of the run before; it comes back with the read it takes its input from."""
    first = {"nodes": [{"id": "log", "tool": "lookup", "args": {"key": "app log"}},
                       {"id": "top", "package": {"goal": "the longest word", "code": "result = inputs['log']"}}]}
    second = {"nodes": [{"id": "mail", "tool": "send", "why": "asked",
                         "args": {"to": "bob@example.com", "body": "${top}"}}]}
    async with harness(MEMORY, [first, finish("The longest: value"), second, finish("Sent.")]) as h:
        h.packages.outputs["top"] = lambda inputs: max(str(inputs["log"]).split(), key=len)
        await h.engine.ask("again", "which word of the app log is the longest?", requested_by="U1")
        await h.engine.ask("again", "mail it to bob@example.com", requested_by="U1")
        assert await _approved_follow_up_plan(h) == ["top", "log", "mail"]
        assert h.log.args_of("send") == [{"to": "bob@example.com", "body": "value"}]


async def test_a_follow_up_writing_an_earlier_value_as_a_step_sends_that_value() -> None:
    """fresh follow-up-slowest: the run before computed ``search``; the follow-up's mail body is
    ``${search.name}``, the value taken for a node's id. The engine hands the mends the thread's
    results by node with their status, so the value is written in (the mail carries it) and no
    repair round is spent on an unknown node."""
    first = {"nodes": [{"id": "log", "tool": "lookup", "args": {"key": "latency"}},
                       {"id": "computed", "package": {"goal": "the slowest", "code": "result = 1"}}]}
    second = {"nodes": [{"id": "mail", "tool": "send", "why": "asked",
                         "args": {"to": "sre@example.com", "body": "${search.name}"}}]}
    async with harness(MEMORY, [first, finish("The slowest is `search`."), second, finish("Sent.")]) as h:
        h.packages.outputs["computed"] = lambda inputs: "search"
        await h.engine.ask("slowest", "which service is the slowest?", requested_by="U1")
        await h.engine.ask("slowest", "Email that service's name to sre@example.com", requested_by="U1")
        events = h.drain()
        assert not [e for e in events if isinstance(e, PlanRepairing)]
        asked = [e for e in events if isinstance(e, AwaitingApproval)]
        await h.engine.decide(asked[0].approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert h.log.args_of("send") == [{"to": "sre@example.com", "body": "search"}]


def test_references_resolve_whole_values_fields_and_text() -> None:
    outputs = {"a": {"n": 3, "items": ["x", "y"]}, "b": "text"}
    assert resolve({"v": "${a}"}, outputs) == {"v": {"n": 3, "items": ["x", "y"]}}
    assert resolve({"v": "${a.items.1}"}, outputs) == {"v": "y"}
    assert resolve({"v": "n=${a.n}, b=${b}"}, outputs) == {"v": "n=3, b=text"}
    assert resolve(["${b}", 4], outputs) == ["text", 4]
    try:
        resolve("${a.missing}", outputs)
    except UnresolvedReference as exc:
        assert "has no 'missing'" in str(exc)
    else:
        raise AssertionError("a missing field must be reported")


async def test_a_plan_with_no_nodes_is_answered_from_the_conversation() -> None:
    first = {"nodes": [{"id": "summary", "tool": "lookup", "args": {"key": "weekly report"}}]}

    def joiner(messages: list[BaseMessage]) -> dict[str, Any]:
        prompt = str(messages[-1].content)  # the joiner sees the thread so far
        assert "Earlier run 1" in prompt and "Answer: Summary: value of weekly report" in prompt
        return finish("You're welcome: the summary was 'value of weekly report'.")

    async with harness(MEMORY, [first, finish("Summary: value of weekly report"),
                                    {"thought": "nothing to run", "nodes": []}, joiner]) as h:
        await h.engine.ask("thanks", "summarise the weekly report")
        await h.engine.ask("thanks", "thanks! what was it again?")
        events = h.drain()
        plans = [e.plan for e in events if isinstance(e, PlanReady)]
        assert plans[-1]["nodes"] == []
        assert isinstance(events[-1], AnswerReady) and "You're welcome" in events[-1].answer
        assert h.log.count("lookup") == 1  # the follow-up ran no tool


async def test_a_change_aimed_elsewhere_than_the_request_says_is_aimed_where_it_says_before_approval() -> None:
    elsewhere = {"nodes": [{"id": "w", "tool": "send", "why": "asked", "args": {"to": "ops@example.org",
                                                                              "body": "done"}}]}
    async with harness(MEMORY, [elsewhere]) as h:
        await h.engine.ask("p-aim", "Send 'done' to oncall@example.com")
        waiting = [e for e in h.drain() if isinstance(e, AwaitingApproval)]
        assert [e.args["to"] for e in waiting] == ["oncall@example.com"]  # what the approver sees
        assert len(h.llm.calls) == 1 and h.log.calls == []  # no repair round; nothing ran unapproved


async def test_a_change_aimed_elsewhere_than_the_request_says_is_repaired_before_approval() -> None:
    elsewhere = {"nodes": [{"id": "w", "tool": "send", "why": "asked", "args": {"to": "ops@example.org",
                                                                              "body": "done"}}]}
    named = {"nodes": [{"id": "w", "tool": "send", "why": "asked", "args": {"to": "oncall@example.com",
                                                                          "body": "done"}}]}
    async with harness(MEMORY, [elsewhere, named]) as h:
        # two addresses named: which one the change was meant for is not plain, so the model repairs
        await h.engine.ask("p-ground", "Send 'done' to oncall@example.com or to backup@example.com")
        repair_prompt = h.llm.calls[1][-1].content
        assert "'ops@example.org' is named nowhere in the request" in repair_prompt
        assert "the target it names ('backup@example.com', 'oncall@example.com')" in repair_prompt
        waiting = [e for e in h.drain() if isinstance(e, AwaitingApproval)]
        assert [e.args["to"] for e in waiting] == ["oncall@example.com"]  # the only approval asked
        assert h.log.calls == []


async def test_a_change_still_aimed_elsewhere_after_the_repair_is_left_out_and_the_rest_runs() -> None:
    unasked = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}},
                         {"id": "w", "tool": "send", "why": "keep a copy",
                          "args": {"to": "copies@example.org", "body": "${a}"}}]}
    async with harness(MEMORY, [unasked, unasked, finish("a is its value")]) as h:
        await h.engine.ask("p-unasked", "Look up a in lookup.example.com")
        events = h.drain()
        assert not [e for e in events if isinstance(e, AwaitingApproval)]  # no approval asked
        assert h.log.calls == [("lookup", {"key": "a"})]  # the read ran
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "a is its value"


async def test_an_optional_target_still_named_nowhere_after_the_repair_is_dropped_and_the_change_asked() -> None:
    """data-follow-up-busiest: the mail asked for carried a cc of the model's own, twice, and the
    whole mail was left out; now only the cc is (an optional argument), and the approver sees it."""
    noted = {"nodes": [{"id": "d", "tool": "deploy", "why": "asked",
                        "args": {"target": "web.example.com", "note": "notes.example.org"}}]}
    async with harness(MEMORY, [noted, noted]) as h:
        await h.engine.ask("p-option", "Deploy web.example.com")
        assert "'notes.example.org' is named nowhere" in h.llm.calls[1][-1].content  # the repair asked
        waiting = [e for e in h.drain() if isinstance(e, AwaitingApproval)]
        assert [e.args for e in waiting] == [{"target": "web.example.com", "note": ""}]  # no stray note
        assert h.log.calls == []


async def test_the_reply_planned_as_a_change_is_left_out_and_what_it_would_send_is_the_reply() -> None:
    # a small model's way to answer "count …": the count sent over the file it read, as "answer"
    plan = {"nodes": [{"id": "log", "tool": "lookup", "args": {"key": "logs/app.log"}},
                      {"id": "answer", "tool": "send", "why": "the count",
                       "args": {"to": "logs/app.log", "body": "${log}"}}]}
    async with harness(MEMORY, [plan]) as h:
        await h.engine.ask("p-reply", "Count the lines of logs/app.log")
        events = h.drain()
        assert not [e for e in events if isinstance(e, AwaitingApproval)]
        [ready] = [e.plan for e in events if isinstance(e, PlanReady)]
        assert ready["nodes"] == [plan["nodes"][0]] and ready["answer"] == "${log}"
        assert h.log.calls == [("lookup", {"key": "logs/app.log"})]
        # what the node would have sent is the reply, without a joiner call
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "value of logs/app.log"
        assert len(h.llm.calls) == 1


async def test_a_failed_package_a_replan_dropped_is_told_under_the_answer() -> None:
    """dev follow-up-laggard: the package that was to find the highest lag failed, the replan
    only looked the value up again, and the joiner named a value it picked itself."""
    plan1 = {"nodes": [{"id": "lag", "tool": "lookup", "args": {"key": "lag"}},
                       {"id": "top", "package": {"goal": "the consumer with the highest lag",
                                                 "code": "result = max(inputs['lag'])"}}]}
    plan2 = {"nodes": [{"id": "lag", "tool": "lookup", "args": {"key": "lag"}}]}
    async with harness(MEMORY, [plan1, replan("the package failed: answer from the lookup"), plan2,
                                finish("The consumer with the highest lag is billing-events.")]) as h:
        await h.engine.ask("p9", "which consumer has the highest lag?")
        answer = (await h.next_event(AnswerReady)).answer
    assert answer == ("The consumer with the highest lag is billing-events.\n\nNot done, and why:\n"
                      "• `top`: failed (no scripted output)")


async def test_a_replan_does_not_make_a_change_the_request_made_already() -> None:
    """aimed mail-open-owners (first run): the replan mailed the owners again, empty-handed. The
    repeated mail is left out of the replan (no second approval); the rest of it runs."""
    plan1 = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "ops@example.com", "body": "deploy done"}},
                       {"id": "status", "tool": "broken", "args": {"key": "web"}}]}
    plan2 = {"nodes": [{"id": "again", "tool": "send", "args": {"to": "ops@example.com", "body": ""}},
                       {"id": "other", "tool": "send", "args": {"to": "dev@example.com", "body": "web"}},
                       {"id": "status", "tool": "lookup", "args": {"key": "web"}}]}
    async with harness(MEMORY, [plan1, replan("status failed: use lookup"), plan2,
                                    finish("Mailed ops and dev; web is fine.")]) as h:
        await h.engine.ask("p6r", "mail ops@example.com that the deploy is done, mail dev@example.com, and check web", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        second = await h.next_event(AwaitingApproval)
        assert second.tool == "send" and second.node_id == "other"  # (not the repeated mail)
        await h.engine.decide(second.approval_id, approved=True, by="U1")
        await h.next_event(AnswerReady)
        await h.engine.idle()
        plans = [e.plan for e in h.events if isinstance(e, PlanReady)]
        assert [n["id"] for n in plans[1]["nodes"]] == ["other", "status"]
        assert [c[1]["to"] for c in h.log.calls if c[0] == "send"] == ["ops@example.com", "dev@example.com"]


async def test_a_replan_that_would_only_repeat_a_change_is_answered_from_the_results_in_hand() -> None:
    plan1 = {"nodes": [{"id": "mail", "tool": "send", "args": {"to": "ops@example.com", "body": "deploy done"}},
                       {"id": "status", "tool": "broken", "args": {"key": "web"}}]}
    plan2 = {"nodes": [{"id": "again", "tool": "send", "args": {"to": "ops@example.com", "body": "again"}}]}
    async with harness(MEMORY, [plan1, replan("mail them again"), plan2, finish("Mailed ops.")]) as h:
        await h.engine.ask("p6s", "mail ops@example.com that the deploy is done and check web", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        answered = await h.next_event(AnswerReady)
        await h.engine.idle()
        assert answered.answer.startswith("Mailed ops.")
        assert h.log.count("send") == 1 and h.llm.offered[-1] == []  # no replan offered again
        assert not [e for e in h.events if isinstance(e, AwaitingApproval) and e.node_id == "again"]
