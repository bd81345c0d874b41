"""When a replan is worth asking for.

The joiner may ask for a new plan while replans are left (``DAGBOT_MAX_REPLANS``). A replan
whose plan found nothing the plan before it had not is no reason for another: the same plan
would come back (a small model asked for a replan with every fact in hand, got the same reads,
and asked again). :func:`nothing_new` tells that case, and the joiner then answers.

A replan's plan may have no node and only a sentence of the model's: a claim about what the plans
before it found, written without them in view of the joiner's checks. :func:`answered_without_steps`
tells that case, and the joiner answers from those results instead, vetted as every answer is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.plan.references import REFERENCE
from agent.state import AgentState


def nothing_new(state: AgentState) -> bool:
    """This plan is a replan that found nothing the plan before it had not: each of its results
    is one that plan already had. Planning again would only repeat it (bench.quality
    oncall-and-incidents: the joiner asked for a replan with every fact in hand, the planner
    made the same reads again, and the joiner asked again), so the joiner answers."""
    earlier = state.get("earlier_results") or []
    results = state.get("results") or {}
    if not earlier or not results:
        return False
    before = [outcome(r) for r in earlier[-1].values()]
    return all(outcome(r) in before for r in results.values())


def outcome(result: dict[str, Any]) -> str:
    shown = result.get("output", result.get("preview"))
    return json.dumps([result.get("status"), shown, result.get("error")], sort_keys=True, default=str)


def answered_without_steps(state: AgentState) -> bool:
    """This plan is a replan with no node whose answer is a sentence the model wrote itself (no
    ``${…}``, and the draft's own, not one dagbot put there: an "I can't" for what no tool does),
    after plans of this request that ran (tuning find-runbook: the joiner, shown the runbook read
    whole, asked for a replan saying "The runbook does not contain any steps."; the replan had no
    node and that sentence, and it was posted as it was)."""
    plan, draft = state.get("plan") or {}, state.get("draft")
    answer = plan.get("answer")
    return (not plan.get("nodes") and bool(state.get("earlier_results")) and isinstance(answer, str)
            and bool(answer.strip()) and REFERENCE.search(answer) is None
            and isinstance(draft, Mapping) and draft.get("answer") == answer)
