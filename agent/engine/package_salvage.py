"""A plan whose reads were sound and whose packages stayed broken after the repair round: its
reads run, and one package computes what the request asks for from them.

A small model planned "what share of the runs in logs/cron.log failed?" as a read and four
packages written in JavaScript (``.filter(line => …)``), one reading ``inputs['logs']`` of a
node it had called ``read_logs``; its repair round sent the same draft back, and the run ended
with a list of the packages' faults. What the request needs was one package over the read. So
when every problem left after the repair round is a package's, and no tool node goes on from a
package, the packages are replaced by the one package :mod:`agent.engine.computed_values`
would add (its goal the request, its code empty: the sandbox's runner writes it, with a query
when the read is a table, sandbox/table_query.py), and the draft's answer sentence, which named
the packages, is dropped: the joiner answers from the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.engine.computed_values import COMPUTED_ID, FOLLOWS, GOAL, WHY
from agent.errors import PlanProblem
from agent.plan.format import free_id
from agent.plan.references import referenced_ids

NAME = "packages-salvaged"
_WIRING = ("reads inputs[", "refers to unknown node")
"""Problems of a package's wiring: it reads, or depends on, a node the plan does not have."""


def _broken_package(problem: PlanProblem, packages: set[str]) -> bool:
    """A package's code that cannot work, or its wiring: not what it is for (a program it runs,
    a red tool it calls: those are the plan's to answer, "I can't" among them)."""
    return problem.node in packages and (problem.code_fault or problem.message.startswith(_WIRING))


def salvaged_draft(draft: Any, problems: Sequence[PlanProblem], request: str,
                   follows: str | None = None) -> dict[str, Any] | None:
    """``draft`` with its packages replaced by one that computes ``request`` from its tool
    nodes; None unless every problem is a package's broken code or wiring, and no tool node goes
    on from a package."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and n.get("id") for n in nodes):
        return None
    packages = {str(n["id"]) for n in nodes if "package" in n}
    tools = [n for n in nodes if "package" not in n]
    if not packages or not tools or not problems or not all(_broken_package(p, packages) for p in problems):
        return None
    for node in tools:
        if (referenced_ids(node) | set(map(str, node.get("depends_on") or []))) & packages:
            return None  # a tool node goes on from a package: its input would be gone
    ids = [str(n["id"]) for n in tools]
    goal = GOAL.format(request=request.strip()) + (FOLLOWS.format(request=follows.strip()) if follows else "")
    computed = {"id": free_id(COMPUTED_ID, set(ids) | packages), "package": {"goal": goal, "code": ""},
                "depends_on": ids, "why": WHY}
    return {"nodes": [*tools, computed]}
