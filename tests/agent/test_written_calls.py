"""What real models write instead of a tool call, or instead of an answer: a call written as
text is the call it was meant to be, and an answer that is a call, or holds a reference to a
result, is never posted as it is."""

from __future__ import annotations

import pytest

from agent.events import AnswerReady, AwaitingApproval, Replanning
from agent.execution.context import EngineSettings
from agent.model.written_calls import WrittenCall, written_calls
from tests.agent.harness import MEMORY, finish, harness

PLAN = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "alpha"}}]}


@pytest.mark.parametrize("text", [
    '<tool_call>\n{"name": "replan", "arguments": {"feedback": "read x"}}\n</tool_call>',
    '```json\n{"name": "replan", "arguments": {"feedback": "read x"}}\n```',
    '{"name": "replan", "parameters": {"feedback": "read x"}}',
    '{"type": "function", "function": {"name": "replan", "arguments": "{\\"feedback\\": \\"read x\\"}"}}',
    # cut off by the reply's token limit (bench.quality errors-by-service: posted as the answer)
    '```json\n{\n  "name": "replan",\n  "arguments": {\n    "feedback": "read x',
    '<tool_call>\n{"name": "replan", "arguments": {"feedback": "read x"',
])
def test_a_call_written_as_text_is_found(text: str) -> None:
    calls, rest = written_calls(text)
    assert calls == [WrittenCall("replan", {"feedback": "read x"})]
    assert rest == ""


@pytest.mark.parametrize("text", [
    "The replicas are set to 4.",
    'deploy.yaml holds:\n```json\n{"name": "checkout", "replicas": 4}\n```',  # JSON, but no call
    '{"name": "checkout", "arguments": {"x": 1}, "owner": "maria"}',  # more than a call
    "```python\nprint('hi')\n```",
    'deploy.yaml holds {"name": "checkout", "arguments": {"x": 1',  # cut off, but after prose
    '```json\n{"name": "checkout", "replicas": 4',  # cut off, and no call
    '```json\n{"name": "replan"',  # no arguments begun: not known to be a call
])
def test_text_that_only_shows_json_is_not_a_call(text: str) -> None:
    assert written_calls(text) == ([], text.strip())


def _answers(events: list[object]) -> list[str]:
    return [e.answer for e in events if isinstance(e, AnswerReady)]


async def test_a_replan_written_as_text_replans() -> None:
    written = '```json\n{"name": "replan", "arguments": {"feedback": "look up beta instead"}}\n```'
    second = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "beta"}}]}
    async with harness(MEMORY, [PLAN, written, second, finish("beta is value of beta")]) as h:
        await h.engine.ask("w1", "look something up")
        events = h.drain()
        assert [e.feedback for e in events if isinstance(e, Replanning)] == ["look up beta instead"]
        assert _answers(events) == ["beta is value of beta"]
        assert [call["key"] for _, call in h.log.calls] == ["alpha", "beta"]


async def test_a_tool_call_written_as_the_answer_becomes_a_replan() -> None:
    written = '{"name": "lookup", "arguments": {"key": "beta"}}'
    second = {"nodes": [{"id": "b", "tool": "lookup", "args": {"key": "beta"}}]}
    async with harness(MEMORY, [PLAN, written, second, finish("done")]) as h:
        await h.engine.ask("w2", "look up alpha and beta")
        events = h.drain()
        feedback = [e.feedback for e in events if isinstance(e, Replanning)]
        assert len(feedback) == 1 and 'lookup({"key": "beta"})' in feedback[0]
        assert _answers(events) == ["done"]


@pytest.mark.parametrize("arguments", [
    '{"to": "ops@example.com", "body": "value of alpha"}',
    '{"to": "ops@example.com", "sent_to": "ops@example.com"}',  # with what it returned (fresh no-mfa-to-file)
])
async def test_a_call_the_plan_already_made_written_as_the_answer_is_not_made_again(arguments: str) -> None:
    # a small model wrote out the write it had just run; the replan wrote the file a second time
    plan = {"nodes": [PLAN["nodes"][0], {"id": "d", "tool": "send", "why": "asked",
                                        "args": {"to": "ops@example.com", "body": "${a}"}}]}
    written = '```json\n{"name": "send", "arguments": ' + arguments + '}\n```'
    async with harness(MEMORY, [plan, written]) as h:
        await h.engine.ask("w8", "look up alpha and send it to ops@example.com", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        events = h.drain()
        assert not [e for e in events if isinstance(e, Replanning)]
        [answer] = _answers(events)
        assert '"arguments"' not in answer and "value of alpha" in answer  # the results, as they are
        assert len(h.log.args_of("send")) == 1


async def test_with_no_replans_left_a_written_call_is_never_posted() -> None:
    written = '<tool_call>{"name": "lookup", "arguments": {"key": "beta"}}</tool_call>'
    settings = EngineSettings(decision_poll_seconds=0.2, max_replans=0)
    async with harness(MEMORY, [PLAN, written], settings=settings) as h:
        await h.engine.ask("w3", "look up alpha")
        [answer] = _answers(h.drain())
        assert "tool_call" not in answer and '"arguments"' not in answer
        assert "value of alpha" in answer  # the results, as they are


async def test_references_in_an_answer_are_filled_or_the_answer_is_not_posted() -> None:
    async with harness(MEMORY, [PLAN, finish("It is ${a}."), PLAN, finish("It is ${a.nope}.")],
                       settings=EngineSettings(decision_poll_seconds=0.2, max_replans=0)) as h:
        await h.engine.ask("w4", "look up alpha")
        assert _answers(h.drain()) == ["It is value of alpha."]
        await h.engine.ask("w5", "look up alpha")
        answer = _answers(h.drain())[-1]
        assert "${" not in answer and "value of alpha" in answer


async def test_the_joiner_is_told_which_changes_were_made() -> None:
    """Only red nodes change anything: the joiner's prompt lists them, or says there were none."""
    red = {"nodes": [{"id": "d", "tool": "deploy", "args": {"target": "prod"}}]}
    async with harness(MEMORY, [PLAN, finish("ok"), red, finish("deployed")]) as h:
        await h.engine.ask("w6", "look up alpha and write it down")
        assert "## Changes made\n(none: this plan wrote, sent or changed nothing)" in h.llm.calls[-1][-1].content
        await h.engine.ask("w7", "deploy prod", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert "## Changes made\n- d: deploy done" in h.llm.calls[-1][-1].content


async def test_an_answer_claiming_a_change_no_step_made_says_nothing_changed() -> None:
    from agent.answer.change_claims import ASK_AGAIN_NOTE, NO_CHANGE_NOTE

    claimed = {**PLAN, "answer": "Checked and saved ${a} to done.txt."}  # no write in the plan
    async with harness(MEMORY, [claimed, PLAN, finish("The file was not written: no tool ran for it."),
                                claimed]) as h:
        await h.engine.ask("c1", "look up alpha and save it to done.txt")  # (commands the save)
        answer = _answers(h.drain())[-1]
        assert "saved value of alpha" not in answer and answer.endswith(f"Nothing was changed.\n\n{ASK_AGAIN_NOTE}")
        assert "• `a` (lookup): done — value of alpha" in answer  # (the run's facts)
        await h.engine.ask("c2", "look up alpha and save it to done.txt")
        assert _answers(h.drain())[-1] == "The file was not written: no tool ran for it."
        await h.engine.ask("c3", "what did the last check find for alpha?")  # (commands nothing: noted)
        assert _answers(h.drain())[-1] == f"Checked and saved value of alpha to done.txt.\n\n{NO_CHANGE_NOTE}"


async def test_a_whole_reference_in_a_text_argument_is_its_text() -> None:
    """``"content": "${count}"`` where count is 7 writes "7": a model means the value as text,
    and a tool that takes only text would refuse the number."""
    plan = {"nodes": [{"id": "count", "package": {"goal": "count", "code": "result = 7"}},
                      {"id": "d", "tool": "deploy", "args": {"target": "${count}"}}]}
    async with harness(MEMORY, [plan, finish("deployed 7")]) as h:
        h.packages.outputs["count"] = lambda inputs: 7
        await h.engine.ask("t1", "count, then deploy that many", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        [deployed] = h.log.args_of("deploy")
        assert deployed["target"] == "7"


async def test_a_packages_list_named_by_its_body_is_written_one_value_per_line() -> None:
    """dev-stalled-to-file: ``"content": "${stalled.text}"`` of a package that set result to a list
    of names; the list has no field 'text', so the write failed and nothing was written."""
    plan = {"nodes": [{"id": "stalled", "package": {"goal": "stalled", "code": "result = ['a', 'b']"}},
                      {"id": "d", "tool": "deploy", "args": {"target": "${stalled.text}"}},
                      {"id": "n", "tool": "deploy", "args": {"target": "${stalled.count}"}}]}
    async with harness(MEMORY, [plan, finish("deployed")]) as h:
        h.packages.outputs["stalled"] = lambda inputs: ["email-dispatch", "audit-sink"]
        await h.engine.ask("t1", "find the stalled ones, then deploy them", requested_by="U1")
        asked = await h.next_event(AwaitingApproval)
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        state = await h.engine.state("t1")
    assert h.log.args_of("deploy") == [{"target": "email-dispatch\naudit-sink", "note": ""}]
    assert state["results"]["n"]["status"] == "failed"  # a field a list has not: not the list
    assert "has no 'count'" in state["results"]["n"]["error"]


def test_a_lists_body_name_is_the_list_and_what_follows_it_still_indexes_it() -> None:
    from agent.plan.references import resolve, text_form

    outputs = {"names": ["email-dispatch", "audit-sink"], "page": {"items": [1, 2]}, "rows": [{"a": 1}]}
    assert resolve("${names.text}", outputs) == ["email-dispatch", "audit-sink"]
    assert resolve("${names.items.1}", outputs) == "audit-sink"
    assert resolve("${page.items.1}", outputs) == 2  # a field of that name is the field
    assert resolve("${names.rows}", outputs) == ["email-dispatch", "audit-sink"]  # console full-disks-to-file
    assert text_form(["email-dispatch", "audit-sink"]) == "email-dispatch\naudit-sink"
    assert text_form([{"a": 1}]) == '[\n  {\n    "a": 1\n  }\n]'  # not plain values: JSON
    assert text_form(["two\nlines", "x"]) == '[\n  "two\\nlines",\n  "x"\n]'  # lines would mix them up
