"""The reply to a request that needs what no tool does (running programs, deleting or moving
files, restarting a service): "I can't", said plainly with what the tools can change, instead of
a plan's faults or an approval for a change nobody asked for."""

from __future__ import annotations

import re
from typing import Any

import structlog

from agent.errors import PlanError, PlanProblem
from agent.plan.asked_changes import cannot_do_reply, done_by_no_tool
from agent.plan.format import Plan, canonical_node
from agent.plan.grounding import without_nodes
from agent.plan.named_files import named_files
from agent.plan.package_code import acts_only_beyond_tools
from agent.tools.effects import EFFECT_WORDS, asked_effects, commanded_effects, without_courtesy
from agent.tools.registry import Risk, ToolRegistry

log = structlog.get_logger(__name__)


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


def without_unasked_changes(plan: Plan, unasked: list[PlanProblem], request: str, registry: ToolRegistry,
                             last_round: bool) -> Plan:
    """``plan`` without its red nodes that do none of what the request asks
    (:mod:`agent.plan.asked_changes`): for the repair round while a tool does what is asked;
    left out at once when none does, and the reply is "I can't" when that was all it asked."""
    missing = done_by_no_tool(request, registry)
    kept = without_nodes(plan, unasked)
    if kept is None or (not missing and not last_round):
        raise PlanError(unasked)
    log.info("left out changes the request did not ask for", problems=[str(p) for p in unasked])
    asked_only_the_impossible = asked_effects(request) <= missing
    if missing and asked_only_the_impossible and not any(
            node.tool and registry.risk_of(node.tool) is Risk.RED for node in kept.nodes):
        return Plan(nodes=[], answer=cannot_do_reply(missing, registry))
    return kept


def only_for_the_impossible(draft: Any, problems: list[PlanProblem], request: str,
                            registry: ToolRegistry) -> str | None:
    """The plain "I can't" for a draft refused when the request asks only for what no tool does
    (every red tool declaring what it does) and the draft has a red node standing in for the
    missing tool (one whose tool does none of it): no repair of such a draft can give what was
    asked, and the plan's faults would be no answer (bench.quality delete-log: "Delete
    logs/app.log" drafted as a ``write_file`` with no content, twice). A draft with no such node
    goes to its repair round as any other: the verbs a request is read by are words ("which image
    does billing.yaml deploy?" asks to deploy nothing), so they alone never end a run."""
    if any(registry.effects_of(name) is None for name in registry.names(Risk.RED)):
        return None  # a red tool that declares nothing might do it: not certain
    missing = done_by_no_tool(request, registry)
    if not missing or not asked_effects(request) <= missing or not _stand_ins(draft, registry, missing):
        return None
    log.info("the request asks only for what no tool does, and the draft stood in for it",
             problems=[str(p) for p in problems])
    return cannot_do_reply(missing, registry)


def impossible_after_repair(request: str, registry: ToolRegistry) -> str | None:
    """The plain "I can't" for a request whose plan stayed invalid after its repair round, when
    the request asks only for what no tool does (every red tool declaring what it does) and names
    no workspace file (a file named is likely what to read: "which image does billing.yaml
    deploy?"). No plan could have done it, so the plan's faults are no answer (bench.quality
    restart-service: "Restart the checkout service" drafted a reply that repeated itself, twice,
    and ended with "I could not make a plan")."""
    if any(registry.effects_of(name) is None for name in registry.names(Risk.RED)):
        return None
    missing = done_by_no_tool(request, registry)
    if not missing or not asked_effects(request) <= missing or named_files(request):
        return None
    log.info("the request asks only for what no tool does, and no valid plan came")
    return cannot_do_reply(missing, registry)


_COMMANDS = frozenset(word for words in EFFECT_WORDS.values() for word in words if " " not in word)
"""The verbs a command opens with, bare ("restart", not "restarts" or "restarted")."""
_PHRASES = frozenset(word for words in EFFECT_WORDS.values() for word in words if " " in word)
"""The commands of two words ("kick off", "roll back", "shut down")."""


def commanded_impossible(plan: Plan, request: str, registry: ToolRegistry) -> str | None:
    """The plain "I can't" for a request that opens with a command no tool can carry out
    ("Purge the CDN cache for static.example.com", "Restart billing"), asks for nothing else a
    tool does, and whose plan changes nothing: its reads cannot do what was commanded (the
    purge was planned as an ``http_get`` of the host, and the answer was the GET's refusal).
    Only a request that starts with the bare verb counts, names no workspace file, is no
    question and whose plan computes nothing (a package: "scale the count" is arithmetic):
    "which image does billing.yaml deploy?", "Restarts of billing today?", "Remove the
    duplicates from data/users.csv and list them" or a command further on are left to their plans.
    A file the command itself acts on ("Delete logs/app.log") is no file to read: tuning
    delete-log was planned as a read of it and an ``http_get`` of a made-up delete address."""
    if any(node.package is not None or (node.tool and node.tool in registry
                                        and registry.risk_of(node.tool) is Risk.RED) for node in plan.nodes):
        return None  # a change, or a computation: "scale the count", "remove the duplicates" are about data
    if any(registry.effects_of(name) is None for name in registry.names(Risk.RED)):
        return None
    missing = done_by_no_tool(request, registry)
    words = without_courtesy(request).lower().split()
    # (a verb of its own before "and" and a command, "Forget and prune the snapshots…": evening
    # prune-snapshots; restic's "forget" is no verb a tool is asked by)
    verb = words[2] if len(words) > 2 and words[1] == "and" and words[2] in _COMMANDS else " ".join(words[:1])
    if " ".join(words[:2]) in _PHRASES:  # ("kick off a fresh … run": tuesday trigger-clickstream-run)
        verb = " ".join(words[:2])
    # (the changes it commands, not every verb: "Prune the backups … from the backup store" asks to
    # "store" nothing; nightly prune-backups)
    if not missing or not commanded_effects(request) <= missing or verb not in _COMMANDS | _PHRASES \
            or request.rstrip().endswith("?") or named_files(request) - _commanded_on(request):
        return None
    log.info("the request commands what no tool does, and its plan changes nothing")
    return cannot_do_reply(missing, registry)


_OBJECT_FILE = re.compile(r"^\s*\S+\s+(?:(?:the|this|that|our|my)\s+)?(?:(?:log|config|data)\s+)?"
                          r"(?:files?\s+)?[`'\"]?(?P<path>[\w./-]+?)[`'\"]?(?:\s+(?:to|into|as)\s+[`'\"]?(?P<to>[\w./-]+?)[`'\"]?)?"
                          r"[.!]?\s*(?:$|,|\band\b|\bthen\b)",
                          re.I)


def _commanded_on(request: str) -> set[str]:
    """The files a command acts on as its object, named right after its verb ("Delete
    logs/app.log", "Move notes.md to old/notes.md"; not "Remove the duplicates from x.csv")."""
    found = _OBJECT_FILE.match(without_courtesy(request))
    return named_files(f"{found['path']} {found['to'] or ''}") if found else set()


def _stand_ins(draft: Any, registry: ToolRegistry, missing: frozenset[str]) -> bool:
    """Whether the draft calls a red tool that does none of ``missing``."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    for node in map(canonical_node, nodes if isinstance(nodes, list) else []):
        tool = node.get("tool") if isinstance(node, dict) else None
        if isinstance(tool, str) and tool in registry and registry.risk_of(tool) is Risk.RED \
                and not (registry.effects_of(tool) or frozenset()) & missing:
            return True
    return False
