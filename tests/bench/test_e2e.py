"""bench.e2e on a small scale: with an instant model, every system answers every shape with
the same tool calls (``measure`` checks both), and the figures come out. Timings are the
benchmark's business (``python -m bench.e2e``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.model import prompting
from bench.e2e import SYSTEMS, figures, run_suite
from bench.e2e_floor import any_system_floor_s, first_dispatch_chars, first_tool_floor, reply_reads_results
from bench.e2e_shapes import ScriptedModel, shapes
from infra.emulators.model_latency import LatencyModel, PrefixCache, prompt_text, prompt_tokens, tokens
from infra.emulators.openai_wire import ModelReply, WireRequest

pytestmark = pytest.mark.timeout(240)


FAST = LatencyModel(ttft_s=0.05, tokens_per_s=4000, prompt_s_per_token=0.00001)
"""A model fast enough for a test, slow enough that its latency counts."""


@pytest.mark.slow
async def test_every_system_does_the_same_work_on_every_shape(tmp_path: Path) -> None:
    runs, notes = await run_suite(f"sqlite:///{tmp_path}/e2e.sqlite", 1, FAST, side_by_side=True)
    assert {(r.system, r.shape) for r in runs} == {(s, shape.name) for s in SYSTEMS for shape in shapes()}
    calls = {(r.system, r.shape): r.llm_calls for r in runs}
    # a planner and a joiner call, except where the plan carries the reply (`answer`)
    assert {shape.name: calls[("dagbot", shape.name)] for shape in shapes()} == {
        shape.name: 1 if "answer" in shape.plan else 2 for shape in shapes()}
    assert calls[("dagbot", "parallelqa: 2+2+1 deps")] == 1
    assert calls[("react", "parallelqa: 2+2+1 deps")] == 4  # three waves, then the answer
    assert calls[("sequential", "movie: 8 parallel")] == 9  # one lookup per turn
    result = figures(runs, FAST)
    for key in ("e2e_ratio_vs_react", "tokens_ratio_vs_react", "first_tool_fraction",
                "e2e_ratio_floor_any_system", "first_tool_fraction_floor"):
        assert result[key] > 0
    # the floor is a lower bound: no system, dagbot included, answers faster
    floors = {shape.name: any_system_floor_s(shape, FAST) for shape in shapes()}
    assert all(run.seconds >= floors[run.shape] for run in runs), [
        (r.system, r.shape, r.seconds, floors[r.shape]) for r in runs if r.seconds < floors[r.shape]]
    assert set(result["llm_calls_per_request"]) == set(SYSTEMS)
    assert notes["package"]


def test_the_scripted_model_answers_each_system_with_its_own_calls() -> None:
    model = ScriptedModel(shapes())
    qa = shapes()[2]
    ask = {"role": "user", "content": qa.request}
    react = model(WireRequest({"model": "react", "messages": [ask]}))
    assert [c.name for c in react.calls] == ["search", "search"]
    sequential = model(WireRequest({"model": "sequential", "messages": [ask]}))
    assert len(sequential.calls) == 1
    plan_request = WireRequest({"model": "dagbot", "messages": [ask],
                                "tool_choice": {"type": "function", "function": {"name": "plan"}}},
                               role="planner")
    plan = model(plan_request)
    assert plan.calls[0].name == "plan"
    # dagbot's joiner, known by the role its request says (X-Dagbot-Call), with or without `replan`
    system = {"role": "system", "content": prompting.fill(prompting.prompt_text("joiner.md"), replan_note="")}
    replan_tool = {"type": "function", "function": {"name": "replan", "parameters": {}}}
    for body in ({"model": "dagbot", "messages": [system, ask], "tools": [replan_tool], "tool_choice": "auto"},
                 {"model": "dagbot", "messages": [system, ask]}):
        joiner = WireRequest(body, role="joiner")
        assert model.role_of(joiner) == "joiner" and model(joiner) == ModelReply(text=qa.answer)
    react_request = WireRequest({"model": "react", "messages": [ask]})
    assert model.role_of(plan_request) == "planner" and model.role_of(react_request) == "agent"
    done = model(WireRequest({"model": "react", "messages": [ask] + [
        {"role": "assistant", "tool_calls": [{}]}] * 3}))
    assert done == ModelReply(text=qa.answer)


def test_a_prompt_prefix_served_before_is_not_processed_again() -> None:
    system = {"role": "system", "content": "s" * 400}  # 100 tokens, the same for every request
    first = {"messages": [system, {"role": "user", "content": "first request"}]}
    second = {"messages": [system, {"role": "user", "content": "second request"}]}
    follow_up = {"messages": [*first["messages"], {"role": "assistant", "content": "calls"}]}
    cache = PrefixCache()
    assert cache.cached_tokens(prompt_text(first), "first") == 0
    shared = len(prompt_text(first)) - len("first request")
    assert cache.cached_tokens(prompt_text(second), "second") == shared // 4  # the system prompt
    assert cache.cached_tokens(prompt_text(follow_up), "first") == len(prompt_text(first)) // 4
    cache.forget("first")  # asked again, the first request shares only the system prompt
    assert cache.cached_tokens(prompt_text(first), "first") == shared // 4
    model = LatencyModel(ttft_s=0.5, prompt_s_per_token=0.001)
    assert model.first_token_s(300, cached=100) == pytest.approx(0.7)


def test_tokens_are_counted_alike_for_every_request() -> None:
    assert tokens("") == 0 and tokens("abcd") == 1 and tokens("abcde") == 2
    body = {"messages": [{"role": "user", "content": "abcd"}], "tools": []}
    assert prompt_tokens(body) == 4 + 1


def test_the_floor_counts_the_model_only_where_a_system_needs_it() -> None:
    latency = LatencyModel(ttft_s=1.0, tokens_per_s=10, prompt_s_per_token=0)
    hotpot, _, qa, chain = shapes()
    # two lookups written (6 tokens of values), run side by side, then a reply that reads them
    assert any_system_floor_s(hotpot, latency) == pytest.approx(
        1.0 + tokens("Scott DerricksonEd Wood") / 10 + 0.5 + 1.0 + tokens(hotpot.answer) / 10)
    # three waves of tools, and the plan's fixed sentence needs no second model call
    assert not reply_reads_results(qa)
    assert any_system_floor_s(qa, latency) == pytest.approx(
        1.0 + tokens("Eiffel TowerStatue of Liberty") / 10 + 0.5 + 0.5 + 0.05)
    assert any_system_floor_s(chain, latency) > 1.0 + 3 * 0.5 + 1.0  # three hops in a row


def test_the_first_tool_floor_is_where_the_first_call_is_complete_in_the_plan() -> None:
    hotpot, movies, _, chain = shapes()
    def written(plan: dict[str, object]) -> str:
        return json.dumps(plan, ensure_ascii=False)[:first_dispatch_chars(plan)]

    assert written(movies.plan).endswith('{"search": ["Star Wars"')
    assert written(chain.plan).endswith('"search": {"query": "Attention Is All You Need"}')
    latency = LatencyModel()
    # the longer the plan after its first call, the lower the fraction; a longer prompt raises it
    assert first_tool_floor(movies, latency, 800) < first_tool_floor(hotpot, latency, 800) < 1
    assert first_tool_floor(hotpot, latency, 800) < first_tool_floor(hotpot, latency, 4000)
