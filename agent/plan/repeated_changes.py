"""A change a replan would make again, that an earlier plan of the same request already made.

The joiner may ask for a replan after a change ran; the replan's model, shown the request again,
planned the change again: a second mail to the same owners, with an empty body this time
(bench.quality aimed mail-open-owners, first run). The approver would see it, but approving
twice what was asked once is no safeguard worth the name, and rejecting it made the answer say
the change was rejected. A change is the same change when its tool is the same and so is where it goes
(its arguments that name a place, :func:`agent.plan.grounding.target_args`: a mail's recipients, a
file's path, a URL; not the text it carries): a replan's node that repeats one is left out, and a
replan that would only repeat changes is no plan at all. A change that names no place is never
taken for another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from agent.errors import PlanProblem
from agent.plan.format import Plan
from agent.plan.grounding import target_args
from agent.ports.stores import NodeStatus
from agent.tools.registry import Risk, ToolRegistry


def made_changes(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                 registry: ToolRegistry) -> list[dict[str, Any]]:
    """The changes ``plan`` made (its red nodes that ran to their end), each as its tool and the
    arguments that say where it went (secret ones masked)."""
    made = []
    for node in plan.get("nodes") or []:
        tool = node.get("tool")
        if not isinstance(tool, str) or tool not in registry or registry.risk_of(tool) is not Risk.RED:
            continue
        done = (results.get(str(node.get("id"))) or {}).get("status") == NodeStatus.DONE.value
        if done and (where := _where(tool, node.get("args") or {}, registry)):
            made.append({"tool": tool, "where": where})
    return made


def repeated_changes(plan: Plan, made: Sequence[Mapping[str, Any]],
                     registry: ToolRegistry) -> list[PlanProblem]:
    """The nodes of ``plan`` that would make a change of ``made`` again."""
    done = {_key(change["tool"], change["where"]) for change in made}
    return [PlanProblem(node.id, "args", f"{node.tool} to the same place ran already for this request: it is "
                                         "done, and is not made twice")
            for node in plan.nodes
            if node.tool and node.tool in registry and registry.risk_of(node.tool) is Risk.RED
            and _key(node.tool, _where(node.tool, node.args, registry)) in done]


def _where(tool: str, args: Mapping[str, Any], registry: ToolRegistry) -> dict[str, Any]:
    """Where a call of ``tool`` goes (secret arguments masked); {} when it names no place."""
    where: dict[str, list[str]] = {}
    for field, target in target_args(args):
        where.setdefault(field, []).append(target)
    return registry.masked(tool, {field: sorted(targets) if len(targets) > 1 else targets[0]
                                  for field, targets in where.items()})


def _key(tool: str, where: Mapping[str, Any]) -> str:
    return json.dumps([tool, where], sort_keys=True, default=str)
