"""The reply to a request that needs what no tool does (running programs, deleting or moving
files): "I can't", said plainly with what the tools can change, instead of a plan's faults."""

from __future__ import annotations

from typing import Any

from agent.errors import PlanProblem
from agent.plan.package_code import acts_only_beyond_tools


def cannot_reply(problems: list[PlanProblem], red_tools: list[str]) -> str | None:
    """The reply to a plan refused (after its repair round, or at once: :func:`only_beyond_tools`)
    only for packages that do what no tool does (run programs, delete or move files), besides
    faults reflexion would mend and faults of those packages themselves (which cannot run
    anyway): the request needs what no tool does, so it is "I can't", not a list of a plan's
    faults (bench.quality restart-service: "Restart the checkout service" packaged ``systemctl
    restart`` twice; delete-log: ``os.remove``, twice with a dependency on a node it never
    planned)."""
    beyond = {p.node for p in problems if p.beyond_tools}
    if not beyond or not all(p.local or p.node in beyond for p in problems):
        return None
    tried = ", ".join(sorted(f"'{node}'" for node in beyond))
    needs = " and ".join(sorted({p.beyond_tools for p in problems if p.beyond_tools}, reverse=True))
    can = (f"What I can change: {', '.join(f'`{t}`' for t in red_tools)}, each after an approval."
           if red_tools else "My tools here only read.")
    return (f"I can't do that: it needs {needs}, and none of my tools does that (the plan "
            f"tried it in package code: {tried}). {can}")


def only_beyond_tools(draft: Any) -> bool:
    """Whether every node of the planner's draft is a package there only for what no tool does
    (:func:`agent.plan.package_code.acts_only_beyond_tools`): the request is for that, and the
    reply is "I can't" at once. A draft with any other node (a read, a package that computes)
    goes to the repair round, which can keep what can be done."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list) or not nodes:
        return False
    for node in nodes:
        package = node.get("package") if isinstance(node, dict) else None
        code = package.get("code") if isinstance(package, dict) else None
        if not (isinstance(code, str) and acts_only_beyond_tools(code)):
            return False
    return True
