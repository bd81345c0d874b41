"""A thread's checkpoints and state stay bounded however long its conversation goes on: each
run keeps only the thread's latest checkpoint (and its writes), and the state keeps the last
RUNS_KEPT runs; a parked run still resumes, and follow-ups still see the earlier runs."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.events import AnswerReady, AwaitingApproval
from agent.state import RUNS_KEPT
from tests.agent.harness import Harness, finish, harness

LOOKUP = {"nodes": [{"id": "a", "tool": "lookup", "args": {"key": "a"}}]}


async def checkpoints(h: Harness, thread_id: str) -> int:
    saver = h.engine.graph.checkpointer
    assert isinstance(saver, BaseCheckpointSaver)
    return len([c async for c in saver.alist(h.engine.config(thread_id))])


@pytest.mark.slow
async def test_a_long_conversation_keeps_one_checkpoint_and_its_last_runs(database_url: str) -> None:
    async with harness(database_url, []) as h:
        for n in range(RUNS_KEPT + 2):
            h.llm.replies.extend([LOOKUP, finish(f"done {n}")])
            await h.engine.ask("long", f"request {n}")
            await h.engine.idle()
            assert await checkpoints(h, "long") == 1
        state = await h.engine.state("long")
        assert [run["request"] for run in state["history"]] == [f"request {n}" for n in range(2, RUNS_KEPT + 2)]
        assert len(state["messages"]) == 2 * RUNS_KEPT
        assert state["messages"][-1].content == f"done {RUNS_KEPT + 1}"
        h.llm.replies.extend([LOOKUP, finish("again")])
        await h.engine.ask("long", "and again")  # a follow-up still sees the latest runs
        planner_prompt = "\n".join(str(m.content) for m in h.llm.calls[-2])
        assert f"request {RUNS_KEPT + 1}" in planner_prompt and "done 11" in planner_prompt


async def test_a_parked_run_pruned_to_its_latest_checkpoint_resumes_once_decided(database_url: str) -> None:
    plan = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                      {"id": "b", "tool": "lookup", "args": {"key": "b"}}]}
    async with harness(database_url, [LOOKUP, finish("looked"), plan, finish("deployed")]) as h:
        await h.engine.ask("parked", "look a up")
        await h.engine.ask("parked", "deploy prod and look b up")
        await h.engine.idle()
        assert await checkpoints(h, "parked") == 1  # parked in `wait`: its interrupt is kept
        asked = next(e for e in h.drain() if isinstance(e, AwaitingApproval))
        await h.engine.decide(asked.approval_id, approved=True, by="U1")
        await h.engine.idle()
        assert h.log.count("deploy") == 1 and h.log.count("lookup") == 2
        assert [e.answer for e in h.drain() if isinstance(e, AnswerReady)] == ["looked", "deployed"]
        assert await checkpoints(h, "parked") == 1
