"""A change that takes nothing from what its plan reads.

A plan is written before anything runs, so the planner knows no value a read will find. "Email
a one-line summary of status.json to team@example.com" was planned as a fetch of the page, a
package over it, and a ``send_email`` whose body was the model's own sentence ("One-line
summary of …/status.json"): the mail would have said nothing the page holds. When a red node's
words name what the plan reads (a file's name or path, a page's address ending in one: not a
host) and it takes nothing from
any node (no ``${…}`` in its arguments), it describes a result it never got: the repair round is
told to refer to a result. A change whose words are its own ("mail ops that the deploy is
done", beside a check of web) is left alone, as is a text the request quotes ("write 'ok' to
seen.txt") or one the thread holds (a name an earlier answer gave). A repaired plan that still
does it runs as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from agent.errors import PlanProblem
from agent.plan.edges import call_args
from agent.plan.format import Plan
from agent.plan.grounding import named_targets
from agent.plan.named_files import FILE_EXTENSIONS
from agent.plan.references import referenced_ids, strings
from agent.tools.registry import Risk, ToolRegistry

_QUOTED = re.compile(r"'([^'\n]+)'|\"([^\"\n]+)\"|`([^`\n]+)`")


def unfed_changes(plan: Plan, registry: ToolRegistry, request: str,
                  known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for red nodes whose words name what the plan reads but take nothing from it;
    ``known``: the thread's earlier runs and this request's results so far."""
    reads = [node for node in plan.nodes if not _red(registry, node.tool)]
    targets = {t for node in reads for t in named_targets(" ".join(strings(call_args(node))))}
    read_names = {name.lower() for target in targets for name in (target, target.rpartition("/")[2])
                  if name.rpartition(".")[2].lower() in FILE_EXTENSIONS}  # a file's (a page's), not a host's
    if not read_names:
        return []
    quoted = [next(filter(None, m.groups())).strip().lower() for m in _QUOTED.finditer(request)]
    held = json.dumps(list(known), default=str, ensure_ascii=False).lower()
    problems = []
    for node in plan.nodes:
        if not _red(registry, node.tool):
            continue
        calls = call_args(node)
        texts = [t.strip().lower() for t in strings(calls) if len(t.split()) > 1]  # not a target
        if referenced_ids(calls) or not any(name in t for t in texts for name in read_names) \
                or any(t in quoted or t in held for t in texts):
            continue
        shown = ", ".join(f"'{r.id}'" for r in reads[:3])
        source = reads[-1].id  # (the last read: a package over the others, as often as not)
        problems.append(PlanProblem(node.id, "args", (
            f"takes nothing from what the plan reads ({shown}): a plan is written before anything "
            f"is read, so what it sends or writes must refer to a result (${{{source}}}, "
            f"${{{source}.FIELD}}) or to a package that writes the text from inputs['{source}']")))
    return problems


_STATED = re.compile(r"(?<![\w.:/@-])(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\d+(?:[.,]\d+)+|\d{2,})"
                     r"(?!\w|[.:/@-]\w)")
"""A value a text states: an IPv4 address (and port), a number with decimals or thousands, a
number of two digits or more; not a part of a path, an address, a date or a version."""


def stated_values(plan: Plan, registry: ToolRegistry, request: str,
                  known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for red nodes that take nothing from any node and whose text states a value
    neither the request nor the thread holds, in a plan that reads something: a plan is written
    before anything is read, so such a value is the model's. "Email them api-3's address from
    edge/haproxy.cfg" was planned as the file's read and a mail saying "The IP address of api-3
    is 10.0.0.1." (the file says 10.0.3.23), approved and sent (weekend follow-up-mail-assignee);
    the text named no file, so :func:`unfed_changes` let it pass."""
    reads = [node for node in plan.nodes if node.tool is not None and not _red(registry, node.tool)]
    if not reads:
        return []
    held = " ".join([request, json.dumps(list(known), default=str, ensure_ascii=False)])
    source = reads[-1].id
    problems = []
    for node in plan.nodes:
        if not _red(registry, node.tool) or referenced_ids(call_args(node)):
            continue
        assert node.tool is not None
        effects = registry.effects_of(node.tool)
        if not effects or not effects <= _STATEMENTS:
            continue  # (a statement's text, not a query's or an unknown tool's: SQL has its own check)
        for arg in sorted(registry.text_args(node.tool) - registry.secret_args(node.tool)):
            value = node.args.get(arg)
            stated = [m.group(0) for m in _STATED.finditer(value)] if isinstance(value, str) else []
            invented = [text for text in stated if not _held(text, held)]
            if invented:
                problems.append(PlanProblem(node.id, f"args.{arg}", (
                    f"states {invented[0]!r}, which neither the request nor the thread holds: a plan is "
                    f"written before anything is read, so a value it sends or writes must come from a "
                    f"result: refer to it (${{{source}.FIELD}}) or to a package that computes it from "
                    f"inputs['{source}']")))
    return problems


def _red(registry: ToolRegistry, tool: str | None) -> bool:
    """Whether ``tool`` is a red tool of ``registry``."""
    return tool is not None and tool in registry and registry.risk_of(tool) is Risk.RED


_STATEMENTS = frozenset({"send", "write", "post"})
"""What a tool whose text is a statement changes: a message sent or posted, a file written."""


def _held(text: str, held: str) -> bool:
    """Whether ``held`` holds ``text`` as a value of its own (not inside a longer number)."""
    return re.search(rf"(?<![\d.]){re.escape(text)}(?![\d]|\.\d)", held) is not None


def computable_statements(plan: Plan, stated: list[PlanProblem], registry: ToolRegistry) -> list[PlanProblem]:
    """Those of ``stated`` (:func:`stated_values`) whose text is a statement dagbot's computed value
    can stand in for: a message's (a tool that only sends), or one line of text; not a file's
    whole content ("set replicas to 3 in deploy.yaml" written out whole, its ports guessed: a
    computed value would be no file), which runs as the repaired plan wrote it, for its approver
    to judge."""
    by_id = {node.id: node for node in plan.nodes}
    kept = []
    for problem in stated:
        node = by_id.get(problem.node or "")
        if node is None or node.tool is None:
            continue
        text = node.args.get((problem.field or "").removeprefix("args."))
        one_line = isinstance(text, str) and "\n" not in text.strip()
        if registry.effects_of(node.tool) == frozenset({"send"}) or one_line:
            kept.append(problem)
    return kept
