"""The joiner answers in text and replans through its `replan` tool; its text is published as
it grows (AnswerDelta), through the real langchain-openai client talking to a local server
that streams the reply in pieces, or with the scripted chat model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from agent.answer.facts import INTRO as FACTS_INTRO
from agent.answer.stream import without_thinking
from agent.events import AnswerDelta, AnswerReady, Planning, Replanning
from agent.execution.context import EngineSettings
from infra.emulators.openai_wire import ModelReply, ToolCall, forced_tool
from tests.agent.harness import MEMORY, finish, harness, replan
from tests.agent.test_planner_cut_off import Ended
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI

ONE = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
LONG = ('The value of **a** is "value of a".\n\n```python\nprint("code stays whole")\n```\n'
        "- one\n- two\n\nThat is all.")


def replan_call(feedback: str) -> ToolCall:
    return ModelReply.call("replan", {"feedback": feedback}).calls[0]


def joiner_requests(fake: FakeOpenAI) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in fake.requests if forced_tool(r) != "plan"]


# ------------------------------------------------------------ the contract


async def test_the_answer_is_the_models_text_with_replan_offered() -> None:
    async with harness(MEMORY, [ONE, finish(f"\n  {LONG}\n\n")]) as h:
        await h.engine.ask("j1", "look up a")
        assert (await h.next_event(AnswerReady)).answer == LONG  # as written, stripped: no JSON
        assert h.llm.offered == [["plan"], ["replan"]]
        assert "You may replan 2 more time(s)." in h.llm.calls[1][0].content


async def test_calling_replan_makes_a_new_plan_with_the_feedback() -> None:
    async with harness(MEMORY, [ONE, replan("look up b instead"), ONE, finish("b it is")]) as h:
        await h.engine.ask("j2", "look up a")
        assert (await h.next_event(AnswerReady)).answer == "b it is"
        [replanned] = [e for e in h.drain() if isinstance(e, Replanning)]
        assert (replanned.feedback, replanned.replan) == ("look up b instead", 1)
        assert "What to change: look up b instead" in h.llm.calls[2][-1].content
        state = await h.engine.state("j2")
        assert state["replans"] == 1 and state["tokens"] == 4 * 15  # every call counted


async def test_text_and_a_replan_call_together_replan() -> None:
    both = AIMessage("Let me try that differently.", tool_calls=[
        {"name": "replan", "args": {"feedback": "use key b"}, "id": "call_1"}])
    async with harness(MEMORY, [ONE, both, ONE, finish("done differently")]) as h:
        await h.engine.ask("j3", "look up a")
        assert (await h.next_event(AnswerReady)).answer == "done differently"
        assert [e.feedback for e in h.drain() if isinstance(e, Replanning)] == ["use key b"]


async def test_with_no_replans_left_no_tool_is_offered_and_the_text_answers() -> None:
    both = AIMessage("Here is what I found.", tool_calls=[
        {"name": "replan", "args": {"feedback": "again"}, "id": "call_1"}])
    async with harness(MEMORY, [ONE, both], settings=EngineSettings(max_replans=0)) as h:
        await h.engine.ask("j4", "look up a")
        assert (await h.next_event(AnswerReady)).answer == "Here is what I found."
        assert "Replanning" not in h.kinds()
        assert h.llm.offered == [["plan"], []]  # a plain completion
        assert "No replans are left" in h.llm.calls[1][0].content


async def test_an_empty_reply_falls_back_to_the_results() -> None:
    async with harness(MEMORY, [ONE, "  \n"]) as h:
        await h.engine.ask("j5", "look up a")
        answer = (await h.next_event(AnswerReady)).answer
        assert answer.startswith(FACTS_INTRO) and "value of a" in answer


async def test_the_results_pasted_as_the_prompt_lists_them_are_said_by_dagbot_instead() -> None:
    pasted = '- a: done → {"key": "a", "value": "value of a"}'  # a small model's "answer"
    async with harness(MEMORY, [ONE, finish(pasted)]) as h:
        await h.engine.ask("j6", "look up a")
        answer = (await h.next_event(AnswerReady)).answer
        assert answer.startswith(FACTS_INTRO) and "value of a" in answer
        assert "→ {" not in answer  # never the raw JSON


# --------------------------------------------------------------- over HTTP


async def test_the_answer_streams_in_growing_deltas_before_it_is_ready() -> None:
    with FakeOpenAI([ONE, finish(LONG + "\n")], piece=9) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("t1", "look up a")
            ready = await h.next_event(AnswerReady)
            deltas = [e.text for e in h.drain() if isinstance(e, AnswerDelta)]
            assert ready.answer == LONG
            assert len(deltas) > 3, deltas
            assert all(LONG.startswith(text) for text in deltas)
            assert [len(t) for t in deltas] == sorted({len(t) for t in deltas})  # each one grew
            assert deltas[-1] == LONG
            kinds = h.kinds()
            assert kinds.index("AnswerDelta") < kinds.index("AnswerReady")
            [joiner] = joiner_requests(fake)
            assert joiner["stream"] and joiner["tool_choice"] == "auto"
            assert [t["function"]["name"] for t in joiner["tools"]] == ["replan"]
            assert joiner["tools"][0]["function"]["parameters"]["required"] == ["feedback"]
            state = await h.engine.state("t1")
            assert ready.tokens == state["tokens"] == 2 * 120  # the streamed reply's usage counts


async def test_text_streamed_before_a_replan_call_is_followed_by_replanning() -> None:
    draft = ModelReply(text="A draft answer that will not count.", calls=(replan_call("look up a again"),))
    with FakeOpenAI([ONE, draft, ONE, finish("second time lucky")], piece=6) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("t2", "look up a")
            assert (await h.next_event(AnswerReady)).answer == "second time lucky"
            events = h.drain()
            replanned = next(i for i, e in enumerate(events) if isinstance(e, Replanning))
            assert events[replanned].feedback == "look up a again"
            before = [e.text for e in events[:replanned] if isinstance(e, AnswerDelta)]
            assert before and before[-1] == "A draft answer that will not count."
            after = [e for e in events[replanned:] if isinstance(e, AnswerDelta | Planning)]
            assert isinstance(after[0], Planning)  # the new plan comes before the new answer
            assert [e.text for e in after if isinstance(e, AnswerDelta)][-1] == "second time lucky"


async def test_no_replans_left_sends_no_tools() -> None:
    with FakeOpenAI([ONE, finish("plainly")]) as fake:
        async with over_http(MEMORY, fake, max_replans=0) as h:
            await h.engine.ask("t3", "look up a")
            assert (await h.next_event(AnswerReady)).answer == "plainly"
            [joiner] = joiner_requests(fake)
            assert "tools" not in joiner and "tool_choice" not in joiner
            assert "No replans are left" in joiner["messages"][0]["content"]


async def test_a_joiner_that_refuses_to_stream_is_asked_again_whole() -> None:
    # the planner does not stream here, so the joiner's request is the first streamed one
    with FakeOpenAI([ONE, finish("one"), ONE, finish("two")], stream="refuse") as fake:
        async with over_http(MEMORY, fake, stream=False) as h:
            await h.engine.ask("t4", "look up a")
            assert (await h.next_event(AnswerReady)).answer == "one"
            assert h.services.engine.ctx.state.stream_refused
            await h.engine.ask("t5", "again")
            assert (await h.next_event(AnswerReady)).answer == "two"
            assert [bool(r.get("stream")) for r in joiner_requests(fake)] == [True, False, False]
            assert "AnswerDelta" not in h.kinds()


async def test_a_model_that_cannot_stream_answers_whole() -> None:
    async with harness(MEMORY, [ONE, finish("whole")]) as h:
        await h.engine.ask("t6", "look up a")
        assert (await h.next_event(AnswerReady)).answer == "whole"
        assert "AnswerDelta" not in h.kinds()


async def test_a_stream_that_fails_midway_falls_back_to_the_results() -> None:
    with FakeOpenAI([ONE, finish("A streamed draft that will not count.")], piece=5,
                    break_at="will not") as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("t7", "look up a")
            answer = (await h.next_event(AnswerReady)).answer
            assert answer.startswith(FACTS_INTRO) and "value of a" in answer
            assert any(isinstance(e, AnswerDelta) and "draft" in e.text for e in h.drain())
            assert len(joiner_requests(fake)) == 1  # failed midway: not asked again


# ------------------------------------------------------- cut off, thinking


@pytest.mark.parametrize("mode", ["pieces", "refuse"])  # streamed, or asked whole
async def test_an_answer_cut_off_by_the_output_limit_says_so(mode: str) -> None:
    cut = Ended(text="The value of a is", reason="length")
    with FakeOpenAI([ONE, cut], stream=mode) as fake:  # type: ignore[arg-type]
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("t8", "look up a")
            assert (await h.next_event(AnswerReady)).answer == (
                "The value of a is\n\n_This answer was cut off: it reached the model's output limit._")


async def test_a_leading_think_block_is_neither_streamed_nor_the_answer() -> None:
    thinking = "<think>The user wants a. Internal note: keep it short.</think>\n\nThe value of a."
    with FakeOpenAI([ONE, finish(thinking)], piece=4) as fake:
        async with over_http(MEMORY, fake) as h:
            await h.engine.ask("t9", "look up a")
            assert (await h.next_event(AnswerReady)).answer == "The value of a."
            deltas = [e.text for e in h.drain() if isinstance(e, AnswerDelta)]
            assert deltas and deltas[-1] == "The value of a."
            assert not any("think" in text or "Internal" in text for text in deltas)


def test_thinking_is_cut_from_the_start_of_the_text_only() -> None:
    assert without_thinking("\n<think>hm</think>\n\nyes") == "\n\nyes"
    assert without_thinking("<think>still thinking") == ""  # nothing shown until it closes
    assert without_thinking("<think") == "<think"
    assert without_thinking("An answer about <think>tags</think>.") == "An answer about <think>tags</think>."
