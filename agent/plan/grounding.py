"""Where a change goes is the request's to say: a red node's literal target (a path, an address,
a URL) must be one the request names, or one the thread already holds.

A model may put the right change in the wrong place: asked to "write 'checked' to done.txt",
a small model wrote ``checked.txt``. The approver would see it, but the run would then end with
nothing done. So when the request names targets of its own (tokens such as ``done.txt``,
``reports/x.md``, ``ops@example.com``, a URL) and not all of them are what the plan reads (one
is left that a change could be meant for), each target-like argument of a red node must be
found in the request, in the thread's earlier requests and answers, or in results already held;
otherwise it is a plan problem for the repair round.
A request that names no target leaves the choice to the plan (and to its approver). If the
repaired plan still aims a change elsewhere, that node is left out (when nothing depends on
it) and the rest of the plan runs: a change nobody asked for is not worth failing the request.

Only literal, target-like arguments are checked: one token, no spaces, with a ``.``, ``/`` or
``@`` in it. Text arguments (a file's content, a mail's body, a SQL statement) and values taken
from results (``${x}``) are not targets the model invented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.errors import PlanProblem
from agent.plan.format import Plan
from agent.plan.references import referenced_ids
from agent.tools.registry import Risk, ToolRegistry

_TARGET = re.compile(r"^[^\s${}]*[./@][^\s${}]*$")
"""One token with a dot, a slash or an at sign in it (and no reference)."""
_NAMED = re.compile(r"[\w.+-]*[\w+-][./@][\w./@:%+~#=?&-]*\w")
"""Target-like tokens in free text: file names, paths, addresses, host names, URLs."""
_LONGEST_TARGET = 300


def named_targets(text: str) -> set[str]:
    """The target-like tokens a text names (``done.txt``, ``logs/app.log``, ``a@b.org``…)."""
    return {match.group().rstrip(".") for match in _NAMED.finditer(text)}


def ungrounded_changes(plan: Plan, registry: ToolRegistry, request: str,
                       known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for each red node's literal target that neither the request nor anything
    ``known`` (earlier requests, answers, results) names; none when the request names no
    target that the plan's other nodes do not already read (then the request named what to
    read, not where a change goes: "save the incidents of x.example/incidents.json to a file")."""
    named = named_targets(request)
    red = [node for node in plan.nodes if node.tool and registry.risk_of(node.tool) is Risk.RED]
    red_ids = {node.id for node in red}
    used = json.dumps([node.model_dump(include={"args", "each", "package"}) for node in plan.nodes
                       if node.id not in red_ids])
    if not red or all(name in used for name in named):
        return []  # every target the request names is what the plan reads: none left for a change
    haystack = "\n".join([request, *(item if isinstance(item, str) else json.dumps(item, default=str)
                                     for item in known)])
    left = ", ".join(repr(name) for name in sorted(named) if name not in used)
    problems = []
    for node in red:
        for field, value in _targets(node.args):  # red nodes have no `each` (validation)
            if value not in haystack and not any(value in name or name in value for name in named):
                problems.append(PlanProblem(node.id, f"args.{field}", (
                    f"{value!r} is named nowhere in the request or the thread: make a change only "
                    f"where the request asks for one, to the target it names ({left}), keeping "
                    "the node; leave this node out only if the request asks for no change")))
    return problems


def without_nodes(plan: Plan, problems: list[PlanProblem]) -> Plan | None:
    """``plan`` without the nodes ``problems`` name, or None if another node depends on one."""
    dropped = {problem.node for problem in problems}
    kept = [node for node in plan.nodes if node.id not in dropped]
    needed = {dep for node in kept for dep in node.depends_on} | referenced_ids(plan.answer or "")
    if dropped & needed:
        return None
    return plan.model_copy(update={"nodes": kept})


def _targets(args: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(field, value) for field, value in args.items()
            if isinstance(value, str) and len(value) <= _LONGEST_TARGET and _TARGET.match(value)]
