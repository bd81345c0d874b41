"""The joiner's answer is published as it grows (AnswerDelta), through the real
langchain-openai client talking to a local server that streams the reply in pieces."""

from __future__ import annotations

from agent.answer_stream import answer_so_far
from agent.events import AnswerDelta, AnswerReady, Replanning
from tests.agent.harness import finish, harness
from tests.agent.test_planner_streaming import over_http
from tests.fakes.openai_server import FakeOpenAI

ONE = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}
LONG = "The value of **a** is 'value of a'.\n\n```\ncode stays whole\n```\nThat is all."


def test_the_answer_is_read_from_partial_arguments_once_the_action_is_finish() -> None:
    assert answer_so_far('{"action": "finish", "answer": "The va') == "The va"
    assert answer_so_far('{"action": "finish", "answer": "a\\nb') == "a\nb"
    assert answer_so_far('{"action": "replan", "feedback": "no') is None
    assert answer_so_far('{"answer": "before the action') is None  # it may still be a replan
    assert answer_so_far('{"action": "fin') is None
    assert answer_so_far("not json") is None


async def test_the_answer_streams_in_growing_deltas_before_it_is_ready(sqlite_url: str) -> None:
    with FakeOpenAI([ONE, finish(LONG)], piece=9) as fake:
        async with over_http(sqlite_url, fake) as h:
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


async def test_a_replan_shows_no_answer_text(sqlite_url: str) -> None:
    replan = {"action": "replan", "feedback": "look up a again, differently"}
    with FakeOpenAI([ONE, replan, ONE, finish("second time lucky")]) as fake:
        async with over_http(sqlite_url, fake) as h:
            await h.engine.ask("t2", "look up a")
            await h.next_event(AnswerReady)
            events = h.drain()
            replanned = next(i for i, e in enumerate(events) if isinstance(e, Replanning))
            assert not any(isinstance(e, AnswerDelta) for e in events[:replanned])
            assert [e.text for e in events if isinstance(e, AnswerDelta)][-1] == "second time lucky"


async def test_a_model_that_cannot_stream_answers_whole(sqlite_url: str) -> None:
    async with harness(sqlite_url, [ONE, finish("whole")]) as h:
        await h.engine.ask("t3", "look up a")
        assert (await h.next_event(AnswerReady)).answer == "whole"
        assert "AnswerDelta" not in h.kinds()
