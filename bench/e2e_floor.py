"""Lower bounds for ``bench.e2e``: how fast a request could possibly be answered on the
latency model, so that a goal can be told apart from what the model and the tools allow.

``any_system_floor_s`` bounds every agent whatever its engine or plan format (a planner,
ReAct, an oracle that knows the calls): no tool starts before the model has written at least
the values of its arguments, a tool that needs another's result starts after it, and when the
reply has to read the results in prose (no fixed sentence can hold it), one more model call
follows the last tool. Prompt processing, the JSON around the values, the engine and the
network are counted as free, so each real system takes longer.

``first_tool_floor`` is the least fraction "first tool start / whole plan written" that
dagbot's own plan text allows on the served prompt: the first tool cannot start before its
call is complete in the stream, and the fraction falls only as the plan gets longer.
"""

from __future__ import annotations

import json
from typing import Any

from agent.plan.format import canonical_node
from bench.e2e_shapes import CALCULATE_S, SEARCH_S, Call, Shape
from infra.emulators.model_latency import LatencyModel, tokens

TOOL_S = {"search": SEARCH_S, "calculate": CALCULATE_S}
PLAN_TOOL = "plan"
"""The function dagbot's planner calls; its name is streamed before the arguments."""


def reply_reads_results(shape: Shape) -> bool:
    """Whether the reply needs a model to read the results: the plan carries no fixed
    sentence (``answer``) that the results fill in."""
    return "answer" not in shape.plan


def _values_text(call: Call) -> str:
    return "".join(str(value) for value in call[1].values())


def any_system_floor_s(shape: Shape, latency: LatencyModel) -> float:
    """The least time any system can answer ``shape`` in (see the module docstring)."""
    first_wave, *later = shape.waves
    written = latency.ttft_s + tokens("".join(_values_text(c) for c in first_wave)) / latency.tokens_per_s
    slowest = max(TOOL_S[name] for name, _ in first_wave)
    # the last call written starts last; the slowest call of the wave starts at the earliest
    # after the model's first token
    done = max(written + min(TOOL_S[name] for name, _ in first_wave), latency.ttft_s + slowest)
    done += sum(max(TOOL_S[name] for name, _ in wave) for wave in later)
    if reply_reads_results(shape):
        done += latency.ttft_s + tokens(shape.answer) / latency.tokens_per_s
    return done


def first_dispatch_chars(plan: dict[str, Any]) -> int:
    """How many characters of dagbot's plan arguments (as the scripted model writes them) must
    have arrived before its first call can start: the first node's arguments, or the first item
    of a fan-out, complete."""
    text = json.dumps(plan, ensure_ascii=False)
    first = canonical_node(plan["nodes"][0])
    unit = first["each"][0] if "each" in first else first.get("args", first)
    needle = json.dumps(unit, ensure_ascii=False)
    return text.index(needle) + len(needle)


def first_tool_floor(shape: Shape, latency: LatencyModel, prompt_tokens: int) -> float:
    """The least first-tool fraction dagbot's plan for ``shape`` allows, its planner prompt
    being ``prompt_tokens`` long (the latency server's pacing: a delta leaves when its last
    token is written, the first at the first token)."""
    start = latency.first_token_s(prompt_tokens)
    name = tokens(PLAN_TOOL)
    per_token = 1 / latency.tokens_per_s
    first = start + (name + tokens("x" * first_dispatch_chars(shape.plan)) - 1) * per_token
    whole = start + (name + tokens(json.dumps(shape.plan, ensure_ascii=False)) - 1) * per_token
    return first / whole
