"""Where a change goes is the request's to say: a red node's literal target (a path, an address,
a URL) must be one the request names, or one the thread already holds.

A model may put the right change in the wrong place: asked to "write 'checked' to done.txt",
a small model wrote ``checked.txt``. The approver would see it, but the run would then end with
nothing done. So when the request names targets of its own (tokens such as ``done.txt``,
``reports/x.md``, ``ops@example.com``, a URL) and not all of them are what the plan reads (one
is left that a change could be meant for), each target-like argument of a red node must be
found in the request, in the thread's earlier requests and answers, or in results already held;
otherwise it is a plan problem for the repair round.
A request that names no target leaves the choice to the plan (and to its approver), but for a
mail address: one named nowhere in the request, the thread or its results is always a problem
(a plan never makes up whom to mail; the tool's configured default is the deployment's). If the
repaired plan still aims a change elsewhere, that node is left out (when nothing depends on
it) and the rest of the plan runs: a change nobody asked for is not worth failing the request.

Two slips are mended before that check, as their fix is plain and an approver still sees the
call before it runs (:func:`mended_changes`):

- *the change aimed elsewhere*: a red node's target the thread names nowhere, when the request
  names exactly one target of that kind (a file, an address, a URL) that nothing in the plan
  reads or changes yet, is aimed at that one (``checked.txt`` becomes ``done.txt``);
- *the reply written as a node*: when the request names no target but what the plan reads, a
  red node with a reply's id (``answer``, ``reply``…) and a literal target, that nothing needs,
  is the model's reply mistaken for a change ("count the ERROR lines in logs/app.log" planned a
  ``write_file`` of the count to logs/app.log, id ``answer``): it is left out; what it would
  have written becomes the plan's ``answer`` when the plan has none and it is made of results.

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
from agent.plan.edges import dependencies
from agent.plan.format import Plan, PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.mends.replies import REPLY_IDS
from agent.plan.references import referenced_ids
from agent.tools.registry import Risk, ToolRegistry

_TARGET = re.compile(r"^[^\s${}]*[./@][^\s${}]*$")
"""One token with a dot, a slash or an at sign in it (and no reference)."""
_NAMED = re.compile(r"[\w.+-]*[\w+-][./@][\w./@:%+~#=?&-]*\w")
"""Target-like tokens in free text: file names, paths, addresses, host names, URLs."""
_LONGEST_TARGET = 300


ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
"""A mail address."""

def named_targets(text: str) -> set[str]:
    """The target-like tokens a text names (``done.txt``, ``logs/app.log``, ``a@b.org``…)."""
    return {match.group().rstrip(".") for match in _NAMED.finditer(text)}


def ungrounded_changes(plan: Plan, registry: ToolRegistry, request: str,
                       known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for each red node's literal target that neither the request nor anything
    ``known`` (earlier requests, answers, results) names; none when the request names no
    target that the plan's other nodes do not already read (then the request named what to
    read, not where a change goes: "save the incidents of x.example/incidents.json to a file"),
    but for a mail address, which a plan never makes up: "email them api-3's address" was
    planned as a mail to api-3@example.net, and sent (weekend follow-up-mail-assignee). An
    address the tool fills in itself (its configured default) is the deployment's."""
    named = named_targets(request)
    red = [node for node in plan.nodes if node.tool and registry.risk_of(node.tool) is Risk.RED]
    red_ids = {node.id for node in red}
    used = json.dumps([node.model_dump(include={"args", "each", "package"}) for node in plan.nodes
                      if node.id not in red_ids])
    haystack = _haystack(request, known)
    lowered = haystack.lower()
    invented = [(node, field, value) for node in red for field, value in target_args(node.args)
                if _kind(value) == "address" and value.lower() not in lowered
                and not any(value.lower() == name.lower() for name in named)
                and value.lower() not in _addresses(registry.fill_ins_of(node.tool or ""))]
    problems = [PlanProblem(node.id, f"args.{field}", (
        f"{value!r} is an address named nowhere in the request, the thread or a result: send only to "
        "an address one of them names (from a result: ${node.field}), or leave this node out if none "
        "does")) for node, field, value in invented]
    if not red or all(name in used for name in named):
        return problems  # every target the request names is what the plan reads: none left for a change
    left = ", ".join(repr(name) for name in sorted(named) if name not in used)
    problems = []
    for node in red:
        for field, value in target_args(node.args):  # red nodes have no `each` (validation)
            if not _grounded(value, haystack, named):
                problems.append(PlanProblem(node.id, f"args.{field}", (
                    f"{value!r} is named nowhere in the request or the thread: make a change only "
                    f"where the request asks for one, to the target it names ({left}), keeping "
                    "the node; leave this node out only if the request asks for no change")))
    return problems


def mended_changes(plan: Plan, registry: ToolRegistry, request: str, known: Iterable[Any] = ()) -> Plan:
    """``plan`` with a reply written as a red node left out and a change aimed elsewhere aimed at
    the one target the request names for it (see the module's docstring); as it was otherwise."""
    named = named_targets(request)
    red_ids = {node.id for node in plan.nodes  # (mends run before the checks: a tool may be unknown)
               if node.tool is not None and node.tool in registry and registry.risk_of(node.tool) is Risk.RED}
    read = json.dumps([node.model_dump(include={"args", "each", "package"}) for node in plan.nodes
                       if node.id not in red_ids])
    needed = {dep for node in plan.nodes for dep in dependencies(node)} | referenced_ids(plan.answer or "")
    unread = [name for name in sorted(named) if name not in read]  # where a change may be meant to go
    replies = set() if unread else {
        node.id for node in plan.nodes if node.id in red_ids and node.id.lower() in REPLY_IDS
        and node.id not in needed and target_args(node.args)}
    nodes = [node for node in plan.nodes if node.id not in replies]
    haystack = _haystack(request, known)
    aimed = {value for node in nodes if node.id in red_ids for _, value in target_args(node.args)}
    free = [name for name in unread if not _grounds(name, aimed)]
    strays = [(index, field, value) for index, node in enumerate(nodes) if node.id in red_ids
              for field, value in target_args(node.args) if not _grounded(value, haystack, named)
              and field in _single_targets(node.args)]
    for index, field, value in strays:
        kind = _kind(value)
        fits = [name for name in free if _kind(name) == kind]
        if len(fits) == 1 and sum(_kind(other) == kind for _, _, other in strays) == 1:
            node = nodes[index]
            nodes[index] = node.model_copy(update={"args": {**node.args, field: fits[0]}})
    if nodes == plan.nodes:
        return plan
    answer = plan.answer or _reply_text([node for node in plan.nodes if node.id in replies],
                                        {node.id for node in nodes})
    return plan.model_copy(update={"nodes": nodes, "answer": answer})


def _reply_text(replies: list[PlanNode], ids: set[str]) -> str | None:
    """The text a reply written as a node would have sent (its ``content``, ``body``…), when it
    is made of the remaining nodes' results: the reply the model meant, as the plan's ``answer``."""
    for node in replies:
        for value in node.args.values():
            if isinstance(value, str) and (used := referenced_ids(value)) and used <= ids:
                return value
    return None


def _addresses(value: Any) -> set[str]:
    """The mail addresses ``value`` holds anywhere, lowered (a tool's configured fill-ins)."""
    return {match.lower() for match in ADDRESS.findall(json.dumps(value, default=str))}


def _kind(target: str) -> str:
    if "://" in target:
        return "url"
    return "address" if "@" in target and "/" not in target else "path"


def _grounds(name: str, aimed: set[str]) -> bool:
    return any(name in value or value in name for value in aimed)


def _grounded(value: str, haystack: str, named: set[str]) -> bool:
    return value in haystack or any(value in name or name in value for name in named)


def _haystack(request: str, known: Iterable[Any]) -> str:
    return "\n".join([request, *(item if isinstance(item, str) else json.dumps(item, default=str)
                                 for item in known)])


def without_unnamed_options(plan: Plan, problems: list[PlanProblem], registry: ToolRegistry
                            ) -> tuple[Plan, list[PlanProblem]]:
    """``plan`` without each optional argument that ``problems`` find aimed nowhere the thread
    names (a ``cc`` to an address of the model's own), and the problems left: a required target
    stays the node's problem. The change the request asked for keeps its node, one recipient
    fewer, and its approver still sees the call (bench.quality data-follow-up-busiest: "mail it
    to oncall@example.com" planned with a ``cc`` named nowhere, twice, and the mail was left out)."""
    by_id = {node.id: node for node in plan.nodes}
    dropped: dict[str, set[str]] = {}
    left = []
    for problem in problems:
        node = by_id.get(problem.node or "")
        field = (problem.field or "").removeprefix("args.")
        if (node is None or node.tool is None or node.tool not in registry or field not in node.args
                or field in (registry.get(node.tool).json_schema().get("required") or ())):
            left.append(problem)
        else:
            dropped.setdefault(node.id, set()).add(field)
    if not dropped:
        return plan, problems
    nodes = [node.model_copy(update={"args": {key: value for key, value in node.args.items()
                                              if key not in dropped[node.id]}})
             if node.id in dropped else node for node in plan.nodes]
    return plan.model_copy(update={"nodes": nodes}), left


def without_nodes(plan: Plan, problems: list[PlanProblem]) -> Plan | None:
    """``plan`` without the nodes ``problems`` name, or None if another node depends on one."""
    dropped = {problem.node for problem in problems}
    kept = [node for node in plan.nodes if node.id not in dropped]
    needed = {dep for node in kept for dep in node.depends_on} | referenced_ids(plan.answer or "")
    if dropped & needed:
        return None
    return plan.model_copy(update={"nodes": kept})


def target_args(args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The arguments that say where a call goes: one token with a dot, a slash or an at sign
    (a path, an address, a URL), each with its field; a list of them, or several in one text
    (``"cc": "hannah@example.com, luis@example.com"``: broad mail-owners' replan copied four
    addresses there, one of them named nowhere), each one of its own."""
    found = []
    for field, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) <= _LONGEST_TARGET * 8:
                parts = [part for part in _TARGET_LIST.split(item.strip()) if part]
                if parts and all(len(part) <= _LONGEST_TARGET and _TARGET.match(part) for part in parts):
                    found += [(field, part) for part in parts]
    return found


_TARGET_LIST = re.compile(r"\s*[,;]\s*|\s+")
"""What separates the targets of a list written in one text."""


def _single_targets(args: Mapping[str, Any]) -> set[str]:
    """The fields of ``args`` that hold one target, no more (a field of several is re-aimed by no one)."""
    fields = [field for field, _ in target_args(args)]
    return {field for field in fields if fields.count(field) == 1}


def _mended_changes(draft: Draft, context: MendContext) -> Draft:
    if context.request is None or not draft.nodes:
        return draft
    plan = Plan(nodes=list(draft.nodes), answer=draft.answer)
    mended = mended_changes(plan, context.registry, context.request, context.known)
    return draft if mended is plan else draft.with_nodes(mended.nodes).with_answer(mended.answer)


CHANGE_TARGETS = Mend(
    name="change-targets", fix=_mended_changes, partial_safe=False,  # the whole plan's reads and changes
    slip="a change went somewhere the request does not name; it goes where the request says, or "
         "the reply written as a change was left out")
