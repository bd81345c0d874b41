"""A follow-up's package that computes the request is told the request it follows.

"what's the biggest bucket in inventory/buckets.json?", then "which team owns that one, and when
was it last modified?": the 1.5B model planned the follow-up as a package whose goal was dagbot's
own computing goal, copied from the thread's first run, with the follow-up alone after it (tuesday
follow-up-biggest-bucket). Such a package is written in the sandbox from its goal, and "that one"
said nothing there: it answered for another bucket. dagbot's own computing package says which
request a follow-up follows (:data:`agent.plan.uncomputed.FOLLOWS`); one the planner wrote the
same way, with its code left to the sandbox, is given the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise
from agent.plan.uncomputed import COMPUTING_GOAL, FOLLOWS


def request_before(known: Sequence[Any]) -> str | None:
    """The thread's request before this one, from the mends' ``known`` (each earlier run as
    ``[request, answer, results]``, then this run's results, a mapping); None in a thread's first
    run."""
    runs = [run for run in known if isinstance(run, list | tuple) and run and isinstance(run[0], str)]
    return runs[-1][0] if runs else None


def followed_goal(node: PlanNode, context: MendContext) -> PlanNode:
    """``node``, a package whose goal is the computing goal and whose code is left to the
    sandbox, with the request it follows added to its goal; ``node`` itself otherwise."""
    package = node.package
    before = request_before(context.known)
    if package is None or package.code.strip() or not package.goal.startswith(COMPUTING_GOAL) \
            or before is None or FOLLOWS.split("{")[0] in package.goal:
        return node
    goal = package.goal.rstrip() + FOLLOWS.format(request=before.strip())
    return node.model_copy(update={"package": package.model_copy(update={"goal": goal})})


FOLLOWED_GOALS = Mend(
    name="followed-goals", fix=node_wise(followed_goal), partial_safe=False,
    slip="a follow-up's package computing the request did not say which request it follows; it says so now")
