"""A plan's ``answer`` template: the reply without a second model call, only when every node
finished; otherwise the joiner model answers as before."""

from __future__ import annotations

from typing import Any

import pytest

from agent.answer.template import invented_values, templated_answer
from agent.answer.vetting import NARRATED, NULL_STATED, TOOLS_WRITTEN, unreadable
from agent.errors import PlanError
from agent.events import AnswerReady, AwaitingApproval
from agent.execution.context import EngineSettings
from agent.plan.validation import validate_plan
from tests.agent.harness import MEMORY, finish, harness
from tests.fakes.tools import ToolLog, simulated_registry


def _answer(events: list[object]) -> str:
    return next(e.answer for e in events if isinstance(e, AnswerReady))


async def test_a_templated_answer_is_sent_with_one_model_call() -> None:
    plan = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "alpha"}},
                      {"id": "d", "tool": "deploy", "args": {"target": "${a}"}}],
            "answer": "Deployed ${d.deployed} (looked up: ${a})."}
    async with harness(MEMORY, [plan]) as h:
        await h.engine.ask("tpl1", "look up alpha and deploy it", requested_by="U1")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert _answer(h.drain()) == "Deployed value of alpha (looked up: value of alpha)."
        assert len(h.llm.calls) == 1  # the planner only: no joiner call


async def test_a_rejected_node_sends_the_run_to_the_joiner_model() -> None:
    plan = {"nodes": [{"id": "d", "tool": "deploy", "args": {"target": "prod"}}],
            "answer": "Deployed ${d.deployed}."}
    async with harness(MEMORY, [plan, finish("The deploy was rejected: nothing changed.")]) as h:
        await h.engine.ask("tpl2", "deploy prod", requested_by="U1")
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=False, by="U9", reason="freeze")
        await h.engine.idle()
        assert _answer(h.drain()) == "The deploy was rejected: nothing changed."
        assert len(h.llm.calls) == 2
        assert "d: rejected" in h.llm.calls[1][-1].content


async def test_a_failed_node_or_a_missing_field_falls_back_to_the_joiner() -> None:
    failing = {"nodes": [{"id": "b", "tool": "broken", "args": {"key": "x"}}], "answer": "Got ${b}."}
    missing = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "x"}}], "answer": "Got ${a.3}."}
    told = "b failed: the lookup service has no entry for 'x'"
    async with harness(MEMORY, [failing, finish(told), missing, finish("no such field")]) as h:
        await h.engine.ask("tpl3", "get b")
        assert _answer(h.drain()) == told
        await h.engine.ask("tpl4", "get a")
        assert _answer([e for e in h.drain() if isinstance(e, AnswerReady)][-1:]) == "no such field"
        assert len(h.llm.calls) == 4


def test_a_record_pasted_into_the_answer_is_left_to_the_joiner_a_value_from_it_is_not() -> None:
    plan = {"nodes": [{"id": "log"}, {"id": "hosts"}], "answer": "logs/app.log has ${log}; ${hosts}"}
    done = {"log": {"status": "done", "output": {"path": "logs/app.log", "content": "ERROR x"}},
            "hosts": {"status": "done", "output": ["a", "b"]}}
    assert templated_answer(plan, done) is None
    assert templated_answer({**plan, "answer": "${log.content} on ${hosts}"}, done) == 'ERROR x on ["a", "b"]'
    records = {**done, "hosts": {"status": "done", "output": [{"host": "a"}]}}
    assert templated_answer({**plan, "answer": "${log.content}: ${hosts}"}, records) is None



def test_a_whole_text_of_several_lines_in_a_sentence_is_left_to_the_joiner_alone_it_is_not() -> None:
    """aimed day-and-acme: "The amount invoiced on 2026-11-05 was ${invoice_amount.content}, and
    Acme GmbH paid ${acme_amount.content} in November." was filled with the whole CSV, twice."""
    csv_text = "invoice,date,amount_eur\nN-1,2026-11-05,10.50\nN-2,2026-11-06,4.00\n"
    plan = {"nodes": [{"id": "inv"}], "answer": "The amount invoiced on 2026-11-05 was ${inv.content}."}
    done = {"inv": {"status": "done", "output": {"path": "billing/inv.csv", "content": csv_text}}}
    assert templated_answer(plan, done) is None
    assert templated_answer({**plan, "answer": "${inv.content}"}, done) == csv_text  # "show me" the file
    one_line = {"inv": {"status": "done", "output": {"path": "billing/inv.csv", "content": "10.50\n"}}}
    assert templated_answer(plan, one_line) == "The amount invoiced on 2026-11-05 was 10.50\n."


def test_the_template_needs_every_node_done_with_its_output_in_the_state() -> None:
    plan = {"nodes": [{"id": "a"}, {"id": "b"}], "answer": "${a} and ${b.n}"}
    done = {"a": {"status": "done", "output": "x"}, "b": {"status": "done", "output": {"n": 2}}}
    assert templated_answer(plan, done) == "x and 2"
    assert templated_answer({**plan, "answer": "${b}"}, done) is None  # a record: the joiner reads it
    assert templated_answer(plan, {**done, "b": {"status": "done", "preview": "…", "bytes": 99_999}}) is None
    assert templated_answer(plan, {**done, "b": {"status": "skipped"}}) is None
    assert templated_answer(plan, {"a": done["a"]}) is None
    assert templated_answer({**plan, "answer": "  "}, done) is None
    # bench.quality average-p99: a package's null result posted as "… is null."
    assert templated_answer(plan, {**done, "a": {"status": "done", "output": None}}) is None
    assert templated_answer(plan, {**done, "b": {"status": "done", "output": {"n": None}}}) is None
    assert templated_answer({"nodes": plan["nodes"]}, done) is None


@pytest.mark.parametrize(("answer", "expected"), [
    (["not", "text"], "field 'answer': must be a string"),
])
def test_a_bad_answer_template_is_refused_by_validation(answer: object, expected: str) -> None:
    with pytest.raises(PlanError) as caught:
        validate_plan({"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "k"}}], "answer": answer},
                      simulated_registry(ToolLog()))
    assert any(expected in str(p) for p in caught.value.problems), caught.value.problems


def test_a_template_naming_no_node_of_the_plan_is_dropped_and_the_joiner_answers() -> None:
    plan = validate_plan({"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "k"}}],
                          "answer": "Found ${zz}."}, simulated_registry(ToolLog()))
    assert plan.answer is None and [n.id for n in plan.nodes] == ["a"]


def test_a_valid_answer_template_is_kept_in_the_plan() -> None:
    plan = validate_plan({"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "k"}}],
                          "answer": "It is ${a}."}, simulated_registry(ToolLog()))
    assert plan.answer == "It is ${a}."
    assert plan.model_dump(exclude_none=True, exclude_defaults=True)["answer"] == "It is ${a}."


def test_an_answer_written_without_a_result_in_it_is_left_to_the_joiner() -> None:
    """With nodes to run, an answer that uses none of their results was written before any of
    them: a guess. With no nodes, it is the whole reply (say, that nothing can do the request)."""
    registry = simulated_registry(ToolLog())
    guessed = validate_plan({"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "k"}}],
                             "answer": "The log has 3 errors."}, registry)
    assert guessed.answer is None
    refusal = validate_plan({"nodes": [], "answer": "I can't reboot servers."}, registry)
    assert refusal.answer == "I can't reboot servers."


def test_a_reference_this_format_cannot_fill_is_left_to_the_joiner_not_posted() -> None:
    # as a small model wrote it: Python's subscript inside ${…}
    plan = {"nodes": [{"id": "incidents", "tool": "lookup"}, {"id": "oncall", "tool": "lookup"}],
            "answer": "${oncall} is on call; ${incidents.rows[0]['open']} incidents are open."}
    done = {"incidents": {"status": "done", "output": {"rows": [{"open": 2}]}},
            "oncall": {"status": "done", "output": "maria"}}
    assert templated_answer(plan, done) is None
    # a shell variable in the sentence names no node: it is text
    assert templated_answer({**plan, "answer": "${oncall} set ${HOME}"}, done) == "maria set ${HOME}"


def test_a_joiner_answer_with_a_reference_left_in_it_is_not_posted() -> None:
    results = {"search_files": {"status": "done", "output": {"matches": []}}}
    assert unreadable("Found ${search_files.matches[0].text}.", results) is not None
    assert unreadable("Found ${search_files.matches[-1]['text']}.", results) is not None
    assert unreadable("Set ${HOME} and ${other.x}; nothing found.", results) is None  # names no result


def test_the_results_pasted_as_listed_are_no_answer_but_a_line_in_words_is() -> None:
    results = {"email": {"status": "done", "output": {"sent_to": ["team@example.com"]}}}
    assert "copies the results" in str(unreadable('- email: done → {"sent_to": ["team@example.com"]}', results))
    assert "copies the results" in str(unreadable('* `email`: done -> [1, 2]', results))
    assert unreadable("- email: done → sent to team@example.com", results) is None  # in words
    pasted = '- secondary on call: done → {"matches": [], "truncated": false}'  # a label of its own
    assert "copies the results" in str(unreadable(pasted, results))
    assert unreadable("Saved: done → see reports/x.md", results) is None
    for scalar in ("false", "25", "-0.5", "null"):  # a JSON scalar alone after the arrow
        assert "copies the results" in str(unreadable(f"- rollout: done → {scalar}", results)), scalar
    assert unreadable("- rollout: done → 25 % of users", results) is None  # in words
    # the tool named before the status, or the prompt's note on a read copied out (unseen mail-follow-up-owners)
    assert "copies the results" in str(unreadable('- read_note: read_note done → {"file": "x.md"}', results))
    copied_note = "- find: find done (what the request asks for was computed from it: see computed)"
    assert "copies the results" in str(unreadable(copied_note, results))
    assert unreadable("- email: sent, done → team@example.com has it", results) is None
    # a JSON object after an arrow under one word of its own in the status's place (monday find-sessions-type)
    made_up = '- files: sessions_cache → {"files": ["path/to/sessions_cache"], "truncated": false}'
    assert "copies the results" in str(unreadable(made_up, results))
    assert unreadable("- cache: sessions → moved to r7g.large", results) is None  # in words


def test_an_answer_stating_null_is_no_answer_unless_a_result_holds_the_word() -> None:
    """morning search-avg-latency: "The average latency of the successful /v1/search calls … is
    null." (the package that was to compute it computed nothing)."""
    computed_nothing = {"avg": {"status": "done", "output": None}}
    for stated in ("The average latency is null.", "- p99: None", "avg = NaN", "It is `null`"):
        assert unreadable(stated, computed_nothing) == NULL_STATED, stated
    assert unreadable("Nothing is null here; the average is 557 ms.", computed_nothing) is None
    # a file that says null: the word is a value a result holds
    read = {"config": {"status": "done", "output": {"path": "app.yaml", "content": "timeout: null\n"}}}
    assert unreadable("The timeout is null.", read) is None


def test_an_answer_telling_what_the_model_would_do_next_is_no_answer() -> None:
    """morning channel-and-invoice: the search found nothing, and the answer told the plan."""
    results = {"alerts": {"status": "done", "output": {"matches": [], "files_searched": 1}}}
    for told in ("To find the Slack channel where non-critical search alerts land, I need to search the "
                 "`alerting/routes.yaml` file and then look for the invoice in `finance/receivables.csv`.",
                 "Let me check the routes first.", "I'll read the file and count the lines.",
                 "We will first query the table."):
        assert unreadable(told, results) == NARRATED, told
    quoted = {"todo": {"status": "done", "output": {"path": "notes/todo.md",
                                                   "content": "we need to check the replica count before Friday"}}}
    assert unreadable("We need to check the replica count before Friday, says notes/todo.md.", quoted) is None
    for answered in ("The channel is #search-alerts. You need to check the routes file to change it.",
                     "Disk is 95% full on db-1; we need to check the backups folder.",
                     "Builds b-2 and b-5 failed. I will run the backup once you approve it.",
                     "We have to run the migration again: it failed on step 3.",
                     "I found no route for non-critical search alerts in alerting/routes.yaml.",
                     "Let's say the cache lasts 300 s: that is what config/product-search.env sets."):
        assert unreadable(answered, results) is None, answered


def test_tool_definitions_written_out_are_no_answer_unless_a_result_holds_them() -> None:
    """monday mail-checkout-resolve: after the package computing the total failed, the joiner wrote
    eight made-up tools' definitions ("read_csv", "mail"…) as "the JSON plan for this task"."""
    results = {"pages": {"status": "done", "output": {"path": "oncall/pages.csv", "content": "page,ttr\n"}}}
    written = ('Here\'s the JSON plan for this task:\n\n```json\n{\n  "type": "function",\n  "function": {\n'
               '    "name": "read_csv",\n    "description": "Read the contents of a CSV file.",\n'
               '    "parameters": {\n      "properties": {"file_path": {"type": "string"}},\n'
               '      "required": ["file_path"],\n      "type": "object"\n    }\n  }\n}\n```')
    assert unreadable(written, results) == TOOLS_WRITTEN
    assert unreadable('Define it as {"description": "x", "parameters": {"type": "object"}}.', results) \
        == TOOLS_WRITTEN
    # an API's description a step read is data
    spec = {"spec": {"status": "done", "output": {"path": "api/tools.json",
                                                 "content": '[{"type": "function", "function": {"name": "x"}}]'}}}
    assert unreadable('It defines one tool: {"type": "function", "function": {"name": "x"}}.', spec) is None
    assert unreadable("The function `read_csv` takes a file_path parameter.", results) is None


CODE_ANSWER = ("To calculate it you can use the following Python code:\n\n```python\nimport csv\n"
               "rows = list(csv.DictReader(open('ci/builds.csv')))\nprint(len(rows))\n```\n")


def test_code_for_the_person_to_run_is_no_answer_unless_asked_for_or_held_by_a_result() -> None:
    """dev-percent-passed: the package failed, and the joiner answered with a script to run."""
    results = {"builds": {"status": "done", "output": {"path": "ci/builds.csv", "content": "build,result\n"}}}
    assert unreadable(CODE_ANSWER, results, "What percentage of the builds passed?") == \
        "it gives code for the person to run instead of the answer"
    bare = "Run this:\n```\nfor line in open('x'):\n    print(line)\n```"  # no language, Python lines
    assert unreadable(bare, results, "How many lines?") is not None
    assert unreadable(CODE_ANSWER, results, "Write me a Python script that counts the builds") is None  # asked
    script = "import csv\nrows = list(csv.DictReader(open('ci/builds.csv')))\nprint(len(rows))"
    shown = {"script": {"status": "done", "output": {"path": "count.py", "content": script + "\n"}}}
    assert unreadable(CODE_ANSWER, shown, "What does count.py do?") is None  # a file read and shown
    large = {"script": {"status": "done", "preview": {"path": "etl.dat", "content": script + "\n# …"}}}
    assert unreadable(CODE_ANSWER, large, "Show me etl.dat") is None  # a large output's preview holds it
    assert unreadable(CODE_ANSWER, results, "Show me what is in scripts/etl.py") is None  # a script named
    assert unreadable("The result is:\n```\nb-501 passed\n```", results, "Which build passed?") is None  # data


async def test_an_answer_that_is_code_to_run_is_planned_again_as_a_package() -> None:
    first = {"nodes": [{"id": "count", "tool": "lookup", "args": {"key": "builds"}}]}
    second = {"nodes": [{"id": "again", "tool": "lookup", "args": {"key": "builds again"}}]}
    async with harness(MEMORY, [first, finish(CODE_ANSWER), second, finish("7 builds passed.")]) as h:
        await h.engine.submit("t1", "How many builds passed?")
        done = await h.next_event(AnswerReady)
    assert done.answer == "7 builds passed."
    replan = [str(m.content) for m in h.llm.calls[2]]
    assert any("it gives code for the person to run instead of the answer. Plan a package node" in m
               for m in replan)


FAILED_P99 = {"status": "failed", "error": "Traceback (most recent call last):\n  ...\nModuleNotFoundError: No module named 'numpy'"}


@pytest.mark.parametrize("answer", [
    "The average p99 is 100 ms.", "The average p99 is 100 ms", "  The average p99 is about 120ms.\n"])
def test_the_plans_sentence_completed_with_a_value_no_result_holds_is_found(answer: str) -> None:
    plan = {"nodes": [{"id": "status"}, {"id": "p99"}], "answer": "The average p99 is ${p99}."}
    results = {"status": {"status": "done", "output": {"text": "{}"}}, "p99": FAILED_P99}
    assert invented_values(answer, plan, results) == "`p99` failed: ModuleNotFoundError: No module named 'numpy'"


def test_a_field_a_done_node_lacks_is_no_value_either() -> None:
    """bench.quality find-runbook: a search that found nothing, its sentence completed anyway."""
    plan = {"nodes": [{"id": "hits"}], "answer": "Its first step is ${hits.matches[0].text}."}
    results = {"hits": {"status": "done", "output": {"matches": [], "truncated": False}}}
    assert invented_values("Its first step is to open the Introduction.", plan, results) == (
        "`hits` has no matches.0.text in its result")  # said to a person too: no ${…} in it


def test_a_placeholder_no_result_fills_is_no_value_either() -> None:
    """bench.quality average-p99: ``${p99:.2f}`` in the sentence, "… is 120 ms." written."""
    plan = {"nodes": [{"id": "p99"}], "answer": "The average p99 is ${p99:.2f} ms."}
    assert invented_values("The average p99 is 120 ms.", plan, {"p99": {"status": "done", "output": None}}) == (
        "`p99` computed nothing")
    # the node has a value: the joiner may have read it (a placeholder is no reference it fills)
    assert invented_values("The average p99 is 323.75 ms.", plan, {"p99": {"status": "done", "output": 323.75}}) is None


def test_a_null_result_is_no_value_either() -> None:
    plan = {"nodes": [{"id": "p99"}], "answer": "The average p99 is ${p99}."}
    assert invented_values("The average p99 is 120 ms.", plan, {"p99": {"status": "done", "output": None}}) == (
        "`p99` computed nothing")


@pytest.mark.parametrize(("answer", "p99"), [
    ("I could not compute the average: the p99 package failed (numpy is missing).", FAILED_P99),
    ("The average p99 is 324 ms.", {"status": "done", "output": 324}),  # the value is there
])
def test_an_answer_that_says_what_happened_or_has_the_value_stands(answer: str, p99: dict[str, Any]) -> None:
    plan = {"nodes": [{"id": "p99"}], "answer": "The average p99 is ${p99}."}
    assert invented_values(answer, plan, {"p99": p99}) is None
    assert invented_values(answer, {"nodes": [{"id": "p99"}]}, {"p99": p99}) is None  # no sentence


INVENTED = {"nodes": [{"id": "b", "tool": "broken", "args": {"key": "x"}}], "answer": "The value is ${b}."}


async def test_the_joiner_filling_a_failed_nodes_value_plans_again() -> None:
    fixed = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "x"}}], "answer": "The value is ${a}."}
    async with harness(MEMORY, [INVENTED, finish("The value is 42."), fixed]) as h:
        await h.engine.ask("tpl9", "get the value")
        answer = _answer(h.drain())
        assert answer.startswith("The value is ") and "42" not in answer
        assert "The results hold no value for the answer's sentence (`b` failed" in str(h.llm.calls[2][-1].content)


async def test_with_no_replan_left_the_invented_value_is_replaced_by_what_happened() -> None:
    async with harness(MEMORY, [INVENTED, finish("The value is 42.")],
                       settings=EngineSettings(max_replans=0)) as h:
        await h.engine.ask("tpl10", "get the value")
        answer = _answer(h.drain())
        assert answer.startswith("I could not complete that: `b` failed") and "42" not in answer


async def test_a_rejected_nodes_value_filled_in_is_never_planned_again() -> None:
    plan = {"nodes": [{"id": "m", "tool": "send", "args": {"to": "ops@example.com", "body": "hi"}}],
            "answer": "Sent as ${m.message_id}."}
    async with harness(MEMORY, [plan, finish("Sent as 7.")]) as h:
        await h.engine.ask("tpl11", "send hi to ops@example.com", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=False, by="U1")
        answer = _answer([await h.next_event(AnswerReady)])
        assert answer.startswith("I could not complete that: `m` rejected") and len(h.llm.calls) == 2
        assert h.log.count("send") == 0
