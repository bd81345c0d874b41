"""A change sent to "them" goes to whom the answer before named.

"Who is the secondary in team/db-oncall.yaml?" was answered with priya.raman@example.org; then
"email them how many deadlocks logs/postgresql-2026-11-26.log has" was planned as a mail to
ops-manager@example.org, an address the file also held, so the check that a change's target is
named in the thread let it pass (evening follow-up-mail-secondary). A follow-up that sends to
"them", "him" or "her" and names no address of its own means the addresses the answer before it
named: a mail to another is a plan problem, and after the repair round, when that answer named
exactly one address, the mail goes to it (its approver sees where before anything is sent).
"""

from __future__ import annotations

import re

from agent.errors import PlanProblem
from agent.plan.format import Plan
from agent.plan.grounding import ADDRESS, target_args
from agent.tools.registry import Risk, ToolRegistry

_SENT_TO_THEM = re.compile(r"\b(?:e-?mail|mail|send|forward|notify|ping|message|tell)\w*\b[^.?!\n]{0,40}?"
                           r"\b(?:them|him|her|that person|those people)\b", re.I)


def sends_to_them(request: str) -> bool:
    """Whether ``request`` sends to "them", "him" or "her" and names no address of its own."""
    return not ADDRESS.search(request) and bool(_SENT_TO_THEM.search(request))


def pointed_addresses(request: str, answer_before: str) -> list[str]:
    """The addresses a follow-up sending to "them" means: those the answer before named; none
    when the request names an address or sends to no one by a pronoun."""
    if not answer_before or not sends_to_them(request):
        return []
    return list(dict.fromkeys(address.lower() for address in ADDRESS.findall(answer_before)))


def misdirected(plan: Plan, registry: ToolRegistry, pointed: list[str]) -> list[PlanProblem]:
    """Problems for each red node's address that is none of ``pointed``."""
    problems = []
    for node in plan.nodes:
        if not pointed or node.tool is None or node.tool not in registry \
                or registry.risk_of(node.tool) is not Risk.RED:
            continue
        for field, value in target_args(node.args):
            if "@" in value and value.lower() not in pointed:
                problems.append(PlanProblem(node.id, f"args.{field}", (
                    f"{value!r} is not whom the request means by them: the answer before named "
                    f"{', '.join(pointed)}; send it there")))
    return problems


def redirected(plan: Plan, problems: list[PlanProblem], pointed: list[str]) -> Plan | None:
    """``plan`` with each misdirected address (:func:`misdirected`) the one the answer before
    named; None unless it named exactly one."""
    if len(pointed) != 1 or not problems:
        return None
    wrong = {(p.node, (p.field or "").removeprefix("args.")) for p in problems}
    nodes = []
    for node in plan.nodes:
        args = dict(node.args)
        for node_id, field in wrong:
            if node_id == node.id and field in args:
                value = args[field]
                args[field] = [pointed[0]] if isinstance(value, list) else pointed[0]
        nodes.append(node.model_copy(update={"args": args}) if args != node.args else node)
    return plan.model_copy(update={"nodes": nodes})
