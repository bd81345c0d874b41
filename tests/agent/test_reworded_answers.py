"""A joiner that pasted the results list is asked once to word them (agent/answer/stream.py's
``reworded``); pasted again, dagbot's own account of the steps stands."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from agent.answer.stream import REWORD
from agent.events import AnswerReady
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.agent.test_named_rows import rotation_registry


async def test_a_joiner_that_pasted_the_results_list_is_asked_once_to_word_them() -> None:
    """wide find-wal: the joiner wrote ``- note_read: done → {…}``, and the person got dagbot's
    summary of every step instead of a sentence."""
    plan = {"nodes": [{"id": "rotation", "read_file": {"path": "ops/rotation.yaml"}}]}
    pasted = '- rotation: done → {"path": "ops/rotation.yaml", "content": "rotation: platform-primary"}'
    llm = ScriptedChatModel(replies=[plan, pasted, "The rotation is platform-primary."])
    events = await asked_once(llm, rotation_registry(), "worded", "Which rotation does ops/rotation.yaml hold?")
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["The rotation is platform-primary."]
    assert isinstance(llm.calls[-1][-2], AIMessage) and llm.calls[-1][-2].content == pasted
    assert llm.calls[-1][-1].content == REWORD
    # pasted again: dagbot's own account of the steps, as before
    llm = ScriptedChatModel(replies=[plan, pasted, pasted])
    events = await asked_once(llm, rotation_registry(), "worded", "Which rotation does ops/rotation.yaml hold?")
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert answer.startswith("Here is what the steps did") and "rotation: platform-primary" in answer
    assert len(llm.calls) == 3
