"""A change whose content the plan's own packages failed to compute: fed by dagbot's package.

Asked to "write the keys of the escalated tickets in data/tickets.json to reports/escalated.txt",
a small model planned the read, two packages (``inputs['tickets']['json']['data']``, then
``inputs['extract']['data']``) and a ``write_file`` of ``${filter.text}``. The first package
failed on every attempt, so the second and the write were skipped: nobody was asked to approve
anything, and the answer could only list what failed (broad rejected-escalated). What the write
was to hold is what dagbot's computing package computes from the read
(:mod:`agent.engine.computed_values`: a query written for the request when the read is a table).

So when a red node was skipped because packages it takes its content from failed (and nothing
else it waits on did), or failed before it ran because a package it refers to finished with
nothing its reference could take (no ``result``, or not the field it names), and the reads those
packages were to work from finished, the failed and skipped packages give way to that one
package, and the change is planned again under a new id, its references to them now to the
package's value. The scheduler runs the package, and the change asks its approver as any other:
the approver sees the content before anything is written. Once a request, like any computing
dagbot adds; never after a rejection.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import partial
from typing import Any

from agent.engine.computed_values import COMPUTED_ID, WHY, computing_goal
from agent.errors import PlanProblem
from agent.plan.format import PackageSpec, Plan, PlanNode, free_id
from agent.plan.references import REFERENCE, mapped_strings, referenced_ids, unfilled_ids
from agent.ports.stores import NodeStatus

_DONE, _FAILED, _SKIPPED = NodeStatus.DONE.value, NodeStatus.FAILED.value, NodeStatus.SKIPPED.value


def refed_plan(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]], request: str,
               red_tools: Collection[str], follows: str | None = None) -> tuple[dict[str, Any], str] | None:
    """``plan`` with the packages that failed to compute a skipped change's content replaced by
    one that computes ``request`` from the nodes that finished, and that change planned again
    from its value; with the package's id. None when no change was skipped so."""
    nodes = [dict(node) for node in plan.get("nodes") or [] if isinstance(node, Mapping)]
    by_id = {str(node.get("id")): node for node in nodes}

    def status(node_id: str) -> Any:
        return (results.get(node_id) or {}).get("status")

    changes: dict[str, set[str]] = {}
    for node in nodes:
        node_id = str(node.get("id"))
        if node.get("tool") in red_tools and status(node_id) == _FAILED and "each" not in node:
            if unfed := _unfed_by(node, by_id, results):
                changes[node_id] = unfed
            continue
        if node.get("tool") not in red_tools or status(node_id) != _SKIPPED:
            continue
        waited = _upstream(node_id, by_id)
        unfinished = {dep for dep in waited if status(dep) != _DONE}
        if not unfinished or any("package" not in by_id[dep] or status(dep) not in (_FAILED, _SKIPPED)
                                 for dep in unfinished):
            return None  # (a read that failed: no package can stand in for what it read)
        if not any(status(dep) == _FAILED for dep in unfinished) or "each" in node:
            return None
        if not referenced_ids(node.get("args")) & unfinished:
            return None  # its content was not theirs: what it lacks is no computed value
        changes[node_id] = unfinished
    if not changes:
        return None
    dropped = set(changes).union(*changes.values())
    kept = [node for node in nodes if str(node.get("id")) not in dropped]
    if any(_inputs(node) & dropped for node in kept):
        return None  # another step goes on from them: its input would be gone
    done = [str(node["id"]) for node in kept if status(str(node["id"])) == _DONE
            and node.get("tool") not in red_tools]
    if not done:
        return None
    ids = set(by_id)
    computed = free_id(COMPUTED_ID, ids)
    package = {"id": computed, "package": {"goal": computing_goal(request, follows), "code": ""},
               "depends_on": done, "why": WHY}
    ids.add(computed)
    again = []
    for node_id, unfinished in changes.items():
        node = by_id[node_id]
        new_id = free_id(node_id, ids)
        ids.add(new_id)
        args = mapped_strings(node.get("args"), partial(_fed, gone=unfinished, computed=computed))
        waits = [dep for dep in node.get("depends_on") or [] if dep not in dropped]
        again.append({**node, "id": new_id, "args": args, "depends_on": [*waits, computed]})
    rest = {key: value for key, value in plan.items() if key not in ("nodes", "answer")}
    return {**rest, "nodes": [*kept, package, *again]}, computed


def _unfed_by(node: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]],
              results: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The finished packages a failed change refers to that gave its reference nothing (a
    field their value does not have, or none): the change failed on them before it ran, no
    approval asked. Console full-disks-to-file: a package that set no ``result`` fed
    ``${filter.rows}`` to the ``write_file``, and nothing was written."""
    outputs = {dep: (results.get(dep) or {}).get("output") for dep in referenced_ids(node.get("args"))
               if "package" in (by_id.get(dep) or {}) and (results.get(dep) or {}).get("status") == _DONE
               and "preview" not in (results.get(dep) or {})}
    return unfilled_ids(node.get("args"), outputs) if outputs else set()


def _fed(text: str, gone: set[str], computed: str) -> str:
    """``text`` with each reference to a node of ``gone`` made a reference to ``computed``, once
    where several stood side by side: a row's fields one per line (``${invoices.rows[0].invoice}
    \n${invoices.rows[0].customer}…``: morning overdue-to-file) are the one value it computes,
    not that value six times over."""
    fed = REFERENCE.sub(lambda m: "${" + computed + "}" if m.group(1) in gone else m.group(0), text)
    one = re.escape("${" + computed + "}")
    return re.sub(rf"{one}(?:[\s,;|:-]*{one})+", "${" + computed + "}", fed)


def _inputs(node: Mapping[str, Any]) -> set[str]:
    """The nodes ``node`` waits on: its ``depends_on`` and every node it refers to."""
    refs = referenced_ids({key: node.get(key) for key in ("args", "each", "package")})
    return {str(dep) for dep in node.get("depends_on") or []} | refs


def _upstream(node_id: str, by_id: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every node ``node_id`` waits on, directly or through others."""
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        for dep in _inputs(by_id.get(todo.pop()) or {}):
            if dep in by_id and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen



_DUMP_ASKED = re.compile(r"\b(?:json|raw|as[- ]is|verbatim|whole|full|entire|everything|all of it|dump)\b",
                         re.I)
"""Words that ask for a result as it is ("save the search's results as JSON"): a dump is what was asked."""


def with_computed_content(plan: Plan, dumped: list[PlanProblem], request: str, follows: str | None = None
                          ) -> Plan | None:
    """``plan`` with each red node's text argument that is still a tool's whole result after the
    repair round (:func:`agent.plan.whole_results.whole_results_in_changes`) fed by dagbot's
    computing package over that result instead; None when the request asks for a result as it
    is. Tuning follow-up-write: "Write that number to reports/count.txt" was planned twice as a
    ``write_file`` of ``${count}``, a read's whole result, and the file got the log's read as
    JSON, approved as "the number"."""
    if not dumped or _DUMP_ASKED.search(request):
        return None
    by_id = {node.id: node for node in plan.nodes}
    fields = {(problem.node, (problem.field or "").removeprefix("args.")) for problem in dumped
              if problem.node in by_id}
    wholes = {m.group(1) for node_id, arg in fields
              for m in REFERENCE.finditer(str(by_id[node_id].args.get(arg)))
              if not m.group(2) and m.group(1) in by_id}
    if not wholes:
        return None
    computed = free_id(COMPUTED_ID, set(by_id))
    package = PlanNode(id=computed, package=PackageSpec(goal=computing_goal(request, follows), code=""),
                       depends_on=sorted(wholes), why=WHY)
    nodes = []
    for node in plan.nodes:
        args = {arg: _fed(value, wholes, computed) if (node.id, arg) in fields and isinstance(value, str)
                else value for arg, value in node.args.items()}
        if args != node.args:
            node = node.model_copy(update={"args": args, "depends_on": sorted({*node.depends_on, computed})})
        nodes.append(node)
    return plan.model_copy(update={"nodes": _placed_after(nodes, wholes, package)})


def with_computed_texts(plan: Plan, stated: list[PlanProblem], request: str, red_tools: Collection[str],
                        follows: str | None = None) -> Plan | None:
    """``plan`` with each red node's text that still states a value from nowhere after the repair
    round (:func:`agent.plan.unfed_changes.stated_values`) replaced by dagbot's computing package's
    value over the plan's reads: "email them api-3's address from edge/haproxy.cfg" was repaired
    into a mail saying the address was 10.0.0.1 (weekend follow-up-mail-assignee); the approver
    sees the computed text before anything is sent. None when the plan reads nothing."""
    by_id = {node.id: node for node in plan.nodes}
    fields = {(problem.node, (problem.field or "").removeprefix("args.")) for problem in stated
              if problem.node in by_id}
    changed = {node_id for node_id, _ in fields}
    dumped = {node.id: node.model_dump() for node in plan.nodes}
    # (the reads: read-only tool nodes that wait on no changed node, so the package never waits
    # on what waits on it)
    reads = [node.id for node in plan.nodes if node.tool is not None and node.tool not in red_tools
             and node.id not in changed and not _upstream(node.id, dumped) & changed]
    if not fields or not reads:
        return None
    computed = free_id(COMPUTED_ID, set(by_id))
    package = PlanNode(id=computed, package=PackageSpec(goal=computing_goal(request, follows), code=""),
                       depends_on=reads, why=WHY)
    nodes = []
    for node in plan.nodes:
        if node.id in changed:
            args = {arg: "${" + computed + "}" if (node.id, arg) in fields else value
                    for arg, value in node.args.items()}
            node = node.model_copy(update={"args": args, "depends_on": sorted({*node.depends_on, computed})})
        nodes.append(node)
    return plan.model_copy(update={"nodes": _placed_after(nodes, set(reads), package)})


def _placed_after(nodes: list[PlanNode], inputs: set[str], package: PlanNode) -> list[PlanNode]:
    """``nodes`` with ``package`` after the last of its ``inputs`` (after what it computes from)."""
    after = max(i for i, node in enumerate(nodes) if node.id in inputs) + 1
    return [*nodes[:after], package, *nodes[after:]]
