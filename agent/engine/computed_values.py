"""A value the answer needs that no result holds, computed in the sandbox before anything is posted.

A small model left a sum, a share or a count for the joiner to work out in its head (the plan
only read the data, :mod:`agent.plan.uncomputed`), or the joiner's draft stated a number no
result holds (:func:`agent.answer.grounded.false_statements`,
:func:`agent.answer.template.invented_values`). Planning the whole request again asked the same
model for the same plan. Instead, once per request, dagbot adds one package node to the plan
that ran: its goal is the request, its inputs every node of the plan that finished, and its
code empty, which the package runner reads as "write it" (the sandbox's writer sees the
inputs' outline, as reflexion does, and reflexion heals what fails). The scheduler runs it like
any other node; the joiner then answers with its result, and a value it states is one a
program computed from the results. The node is dagbot's, not the model's plan: it is shown,
audited and stored like the rest.

A package of the plan that failed is not redone before the joiner writes: tried, it turned a
failure that was the finding (a file that does not parse) into a computation that failed again
or answered something else (bench.quality holdout parse-broken-json; the suite's package that
keeps failing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.plan.format import PackageSpec, PlanNode, free_id, read_id
from agent.plan.named_files import READ_FILE
from agent.plan.uncomputed import COMPUTING_GOAL, FOLLOWS, is_computing, untabled_reads
from agent.ports.stores import NodeStatus

COMPUTED_ID = "computed"
GOAL = COMPUTING_GOAL + " {request}"
WHY = "the values the answer needs, computed by a program from the results (not by the model in its head)"


def computing_goal(request: str, follows: str | None = None) -> str:
    """The goal of the package dagbot adds to compute ``request`` (``follows``: the request
    before it, for a follow-up)."""
    return GOAL.format(request=request.strip()) + (FOLLOWS.format(request=follows.strip()) if follows else "")


def computed_from(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The nodes a finished package dagbot added (:func:`is_computing`) computed the request's
    values from, each with that package's id. A read of a file that holds no table (a YAML
    manifest) beside reads of data files is not one: the package's query is over the table
    (sandbox/table_query.py), and what the request asks of the manifest is the read's to show
    (aimed memory-and-mail-host: the joiner, shown the manifest's read as computed, stated the
    inventory's 16 GB as the memory the manifest allows)."""
    nodes = {str(node.get("id")): node for node in plan.get("nodes") or []}
    found: dict[str, str] = {}
    for node_id, node in nodes.items():
        if is_computing(node) and (results.get(node_id) or {}).get("status") == NodeStatus.DONE.value:
            deps = [str(dep) for dep in node.get("depends_on") or []]
            shown = untabled_reads(nodes, deps)
            found.update((dep, node_id) for dep in deps if dep not in shown)
    return found


def computing_plan(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                   request: str, follows: str | None = None,
                   reads: Sequence[str] = ()) -> dict[str, Any] | None:
    """``plan`` with a package node that computes what ``request`` asks for from every node of
    it that finished; None when no node finished. (Its answer sentence stays: once the node is
    done the joiner writes the answer with the computed values, and until then a sentence
    filled from nowhere is still found.) ``follows``: the thread's request before
    this one, which a follow-up's few words lean on ("and the overdue ones?"). ``reads``: data
    files a search of the plan matched nothing in (:func:`agent.plan.uncomputed.searched_data_files`),
    each read whole by a ``read_file`` node dagbot adds, for the package to compute from."""
    nodes = list(plan.get("nodes") or [])
    ids = {str(node.get("id")) for node in nodes}
    done = [str(node["id"]) for node in nodes
            if (results.get(str(node.get("id"))) or {}).get("status") == NodeStatus.DONE.value]
    if not done:
        return None
    added: list[PlanNode] = []
    for path in reads:
        node_id = free_id(read_id(path), ids | {node.id for node in added})
        added.append(PlanNode(id=node_id, tool=READ_FILE, args={"path": path}, why=READ_WHY))
    goal = computing_goal(request, follows)
    node = PlanNode(id=free_id(COMPUTED_ID, ids | {node.id for node in added}),
                    package=PackageSpec(goal=goal, code=""), depends_on=[*done, *(n.id for n in added)],
                    why=WHY)
    return {**plan, "nodes": [*nodes, *(n.model_dump(exclude_none=True, exclude_defaults=True)
                                        for n in [*added, node])]}


READ_WHY = "a search matches text, not values: the file read whole, for the values to be computed from it"


