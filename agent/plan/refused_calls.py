"""A call the plan would make that its tool would refuse, to a target nobody named.

A replan copied the planner example's ``https://api.example.com/…`` addresses; the deployment's
HTTP allow list let the tool reach 127.0.0.1 only, so the call was refused when it ran and the
run ended on a failure it had made itself. A tool may declare a plan-time check of its
arguments against its configuration (:attr:`agent.tools.registry.ToolSpec.plan_check`: the HTTP
tools check a literal address's host against the allow and deny lists); a call it refuses, in a
node or with literal arguments in a package's code, is a problem of the draft, repaired before
anything runs.

A target the request or the thread names is left alone: the person asked for it, a repair round
cannot change that, and the call's own refusal says why in the answer. As with files the request
names (:mod:`agent.plan.named_files`), a repaired plan that still makes such a call runs as it is,
but for two cases: a read that nothing takes from is left out, and a read standing in for the
one file the request names and no node reads becomes the read of that file.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from agent.errors import PlanError, PlanProblem
from agent.plan.edges import call_args
from agent.plan.format import Plan, PlanNode
from agent.plan.grounding import without_nodes
from agent.plan.limits import PlanLimits
from agent.plan.named_files import READ_FILE, named_files
from agent.plan.package_code import parse_python
from agent.plan.parsing import parse_plan
from agent.plan.references import referenced_ids
from agent.tools.registry import Risk, ToolRegistry


def refused_calls(plan: Plan, request: str, registry: ToolRegistry,
                  known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for the calls of ``plan`` that their tools' plan checks refuse, to targets that
    neither ``request`` nor ``known`` (the thread's earlier runs, the plans this one replaces)
    names."""
    return _refused(plan.nodes, request, registry, known)


def refused_in_draft(draft: Any, request: str, registry: ToolRegistry, limits: PlanLimits,
                     known: Iterable[Any] = ()) -> list[PlanProblem]:
    """The same problems for the nodes of a draft that is not a valid plan, told with its other
    faults in the same repair round: data follow-up-team-share's draft read ``FROM
    finance.costs`` (the workspace file finance/costs.csv, a table the database lacks) in two
    queries beside a package with undefined names; told only of the names, the repair kept both
    queries, which failed when they ran. [] for a draft that is no plan at all."""
    try:
        nodes = parse_plan(draft, registry, limits).draft.nodes
    except PlanError:
        return []
    return _refused(nodes, request, registry, known)


def _refused(nodes: Iterable[PlanNode], request: str, registry: ToolRegistry,
             known: Iterable[Any]) -> list[PlanProblem]:
    held = _STEP_NAMES.sub(" ", (request + json.dumps(list(known), default=str)).lower())
    problems = []
    for node in nodes:
        for tool, args in _calls(node):
            check = registry.get(tool).plan_check if tool in registry else None
            refusal = check(args) if check is not None else None
            if refusal is not None and (not _named(refusal.target.lower(), held)
                                        or _of_a_named_file(refusal.target, request)):
                problems.append(PlanProblem(node.id, "args" if node.tool else "package.code", (
                    f"{tool} would be refused when it ran: {refusal.why}. Nobody named "
                    f"{refusal.target}: use only what the request, the thread or a result names")))
    return problems


_STEP_NAMES = re.compile(r'"id":\s*"[^"]*"|\$\{[^}]*\}')
"""A step's name in an earlier plan (its ``id``, a ``${reference}`` to it) is the model's, not a
name anybody gave: monday follow-up-deploy-failer's follow-up queried ``FROM deploy_status``, the
id of the earlier run's query, and the check let it pass as a name the thread held."""


def without_refused_reads(plan: Plan, refused: list[PlanProblem], registry: ToolRegistry) -> Plan | None:
    """``plan`` without the green nodes ``refused`` names, when the repair round wrote them
    again: each would only fail. A tool node that only waits for one (``depends_on``, taking
    nothing it returned) waits no more: aimed health-and-db-ram's read of the servers waited
    for a GET of an address nobody named, and was skipped when the GET was refused. None when
    a refused node is red (a change is the request's to give up, not dagbot's), another node
    takes from one, or no node would be left; an answer sentence that takes from one is left
    out with it."""
    named = {problem.node for problem in refused}
    nodes = [node for node in plan.nodes if node.id in named]
    if any(node.tool is None or node.tool not in registry or registry.risk_of(node.tool) is not Risk.GREEN
           for node in nodes):
        return None

    def unwaited(node: PlanNode) -> PlanNode:
        if node.tool is None or not named & set(node.depends_on):
            return node
        taken = referenced_ids(node.args) | referenced_ids(node.each or [])
        waits = [d for d in node.depends_on if d not in named or d in taken]
        return node.model_copy(update={"depends_on": waits})
    # (an answer sentence that takes from one goes too: the joiner answers from what ran; evening
    # load15's sentence named two refused GETs of a Prometheus nobody named, and the read of the
    # metrics file it asked about stood beside them)
    answer = None if plan.answer is not None and referenced_ids(plan.answer) & named else plan.answer
    kept = without_nodes(plan.model_copy(update={"nodes": [unwaited(node) for node in plan.nodes],
                                                 "answer": answer}), refused)
    return kept if kept is not None and kept.nodes else None


def reads_of_the_named_file(plan: Plan, refused: list[PlanProblem], unread: list[str],
                            registry: ToolRegistry) -> Plan | None:
    """``plan`` with its one refused read made a ``read_file`` of the one file the request names
    that no node of the plan reads (``unread``; an earlier plan's read of it aside: a replan
    fetched the same address again), under the same id, when the repair round wrote that read
    again: broad rejected-escalated ("Write the keys of the escalated tickets in
    data/tickets.json to reports/escalated.txt") fetched ``https://ops.example.com/tickets.json``,
    a host nobody named, twice, and every step after it was skipped. The read nobody asked for
    stood in for the file the request named. None when more than one read was refused, or more
    or fewer than one named file is unread, or the refused node is no single green call."""
    named = {problem.node for problem in refused}
    if len(unread) != 1 or len(named) != 1 or READ_FILE not in registry:
        return None
    node = next((n for n in plan.nodes if n.id in named), None)
    if node is None or node.tool is None or node.tool == READ_FILE or node.each is not None \
            or node.tool not in registry or registry.risk_of(node.tool) is not Risk.GREEN:
        return None
    read = node.model_copy(update={"tool": READ_FILE, "args": {"path": unread[0]}})
    return plan.model_copy(update={"nodes": [read if n.id == node.id else n for n in plan.nodes]})


def _named(target: str, held: str) -> bool:
    """Whether ``held`` names ``target`` as a name of its own: not inside a longer word, and not
    as the first part of a path or a file's name (``logs/scheduler.log`` names no table ``logs``,
    ``deploy.yaml`` no ``deploy``; unseen follow-up-lock-timeout planned ``FROM logs``, and the
    thread's path let it pass). A host in a URL (``https://example.org/page``) is named."""
    for match in re.finditer(rf"(?<![\w-]){re.escape(target)}(?![\w-])", held):
        starts_a_path = re.match(r"[/.]\w", held[match.end():match.end() + 2]) is not None
        if not starts_a_path or held[match.start() - 1:match.start()] == "/":
            return True
    return False


def _of_a_named_file(target: str, request: str) -> bool:
    """Whether ``target`` is a folder or the name of a file the request names: "How much did last
    night's backups write altogether …? backups/report-2026-11-29.txt" says "backups" of the
    report, and was queried ``FROM backups``, a table the database lacks, let pass as named (monday
    backup-total-and-largest); the queries failed and the answer's total was the joiner's guess."""
    word = target.lower()
    return any(word in re.split(r"[/.]", path.lower()) for path in named_files(request))


def _calls(node: PlanNode) -> Iterator[tuple[str, dict[str, Any]]]:
    """The node's calls whose arguments are known: a tool node's, and a package's literal ones."""
    if node.tool is not None:
        for args in call_args(node):
            yield node.tool, args
    elif node.package is not None:
        try:
            tree = parse_python(node.package.code)
        except SyntaxError:
            return
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name) and call.func.value.id == "tools"):
                yield call.func.attr, {str(k.arg): k.value.value for k in call.keywords
                                       if k.arg and isinstance(k.value, ast.Constant)}
