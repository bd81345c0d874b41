"""bench.e2e on a small scale: with an instant model, every system answers every shape with
the same tool calls (``measure`` checks both), and the figures come out. Timings are the
benchmark's business (``python -m bench.e2e``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.prompting import fill, prompt_text
from bench.e2e import INSTANT, SYSTEMS, figures, run_suite
from bench.e2e_model import prompt_tokens, tokens
from bench.e2e_shapes import ScriptedModel, shapes
from tests.fakes.openai_wire import ModelReply

pytestmark = pytest.mark.timeout(240)


async def test_every_system_does_the_same_work_on_every_shape(tmp_path: Path) -> None:
    runs, notes = await run_suite(f"sqlite:///{tmp_path}/e2e.sqlite", 1, INSTANT, side_by_side=True)
    assert {(r.system, r.shape) for r in runs} == {(s, shape.name) for s in SYSTEMS for shape in shapes()}
    calls = {(r.system, r.shape): r.llm_calls for r in runs}
    # a planner and a joiner call, except where the plan carries the reply (`answer`)
    assert {shape.name: calls[("dagbot", shape.name)] for shape in shapes()} == {
        shape.name: 1 if "answer" in shape.plan else 2 for shape in shapes()}
    assert calls[("dagbot", "parallelqa: 2+2+1 deps")] == 1
    assert calls[("react", "parallelqa: 2+2+1 deps")] == 4  # three waves, then the answer
    assert calls[("sequential", "movie: 8 parallel")] == 9  # one lookup per turn
    result = figures(runs)
    for key in ("e2e_ratio_vs_react", "tokens_ratio_vs_react", "first_tool_fraction"):
        assert result[key] > 0
    assert set(result["llm_calls_per_request"]) == set(SYSTEMS)
    assert notes["package"]


def test_the_scripted_model_answers_each_system_with_its_own_calls() -> None:
    model = ScriptedModel(shapes())
    qa = shapes()[2]
    ask = {"role": "user", "content": qa.request}
    react = model({"model": "react", "messages": [ask]})
    assert [c.name for c in react.calls] == ["search", "search"]
    sequential = model({"model": "sequential", "messages": [ask]})
    assert len(sequential.calls) == 1
    plan_body = {"model": "dagbot", "messages": [ask],
                 "tool_choice": {"type": "function", "function": {"name": "submit_plan"}}}
    plan = model(plan_body)
    assert plan.calls[0].name == "submit_plan"
    # dagbot's joiner, known by its prompt (and the `replan` tool while replans are left)
    system = {"role": "system", "content": fill(prompt_text("joiner.md"), replan_note="")}
    replan_tool = {"type": "function", "function": {"name": "replan", "parameters": {}}}
    for joiner in ({"model": "dagbot", "messages": [system, ask], "tools": [replan_tool], "tool_choice": "auto"},
                   {"model": "dagbot", "messages": [system, ask]}):
        assert model.role_of(joiner) == "joiner" and model(joiner) == ModelReply(text=qa.answer)
    assert model.role_of(plan_body) == "planner" and model.role_of({"model": "react", "messages": [ask]}) == "agent"
    done = model({"model": "react", "messages": [ask] + [
        {"role": "assistant", "tool_calls": [{}]}] * 3})
    assert done == ModelReply(text=qa.answer)


def test_tokens_are_counted_alike_for_every_request() -> None:
    assert tokens("") == 0 and tokens("abcd") == 1 and tokens("abcde") == 2
    body = {"messages": [{"role": "user", "content": "abcd"}], "tools": []}
    assert prompt_tokens(body) == 4 + 1
