"""When a replan is worth asking for.

The joiner may ask for a new plan while replans are left (``DAGBOT_MAX_REPLANS``). A replan
whose plan found nothing the plan before it had not is no reason for another: the same plan
would come back (a small model asked for a replan with every fact in hand, got the same reads,
and asked again). :func:`nothing_new` tells that case, and the joiner then answers.
"""

from __future__ import annotations

import json
from typing import Any

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
