"""What a change does is the request's to say: a red node whose tool does none of what the
request asks for is a plan problem, not an approval (:mod:`agent.tools.effects`).

"Delete logs/app.log" planned as a ``write_file`` of an empty string, "restart the checkout
service" as an ``http_post`` to a host named nowhere: an approver would be asked for a change
nobody asked for, and the answer would call it done. When some red tool does what the request
asks, the repair round is told to use it; when none does, the node is left out at once and, if
nothing else is left to do, the reply is a plain "I can't", with what dagbot can change instead.
Tools that declare no effects (registered without them) are never judged so.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from agent.errors import PlanProblem
from agent.plan.format import Plan, PlanNode, free_id, read_id
from agent.plan.named_files import READ_FILE
from agent.tools.effects import EFFECT_NAMES, asked_effects
from agent.tools.registry import Risk, ToolRegistry


def unasked_changes(plan: Plan, registry: ToolRegistry, request: str) -> list[PlanProblem]:
    """A problem for each red node whose tool does none of the effects ``request`` asks for."""
    asked = asked_effects(request)
    if not asked:
        return []
    return [PlanProblem(node.id, "tool", _why(node, registry, asked))
            for node in plan.nodes if _unasked(node, registry, asked)]


def done_by_no_tool(request: str, registry: ToolRegistry) -> frozenset[str]:
    """The effects ``request`` asks for that no red tool of ``registry`` declares."""
    return asked_effects(request) - red_effects(registry)


def red_effects(registry: ToolRegistry) -> frozenset[str]:
    """What the red tools of ``registry`` change, together (``send``, ``write``…)."""
    red = registry.names(Risk.RED)
    return frozenset(effect for name in red for effect in registry.effects_of(name) or ())


def cannot_do_reply(effects: frozenset[str], registry: ToolRegistry) -> str:
    """The plain "I can't" for a request asking for ``effects`` that no tool does."""
    named = " or ".join(sorted(EFFECT_NAMES[effect] for effect in effects))
    red = registry.names(Risk.RED)
    can = (f"What I can change: {', '.join(f'`{t}`' for t in red)}, each after an approval."
           if red else "My tools here only read.")
    return f"I can't do that: none of my tools can {named}. {can}"


def _unasked(node: PlanNode, registry: ToolRegistry, asked: frozenset[str]) -> bool:
    if node.tool is None or node.tool not in registry or registry.risk_of(node.tool) is not Risk.RED:
        return False
    effects = registry.effects_of(node.tool)
    return effects is not None and not effects & asked


def _why(node: PlanNode, registry: ToolRegistry, asked: frozenset[str]) -> str:
    assert node.tool is not None
    does = ", ".join(sorted(registry.effects_of(node.tool) or ()))
    wanted = " or ".join(sorted(EFFECT_NAMES[effect] for effect in asked))
    return (f"'{node.tool}' does not do what the request asks ({wanted}); it can only {does}: use a "
            "tool that does what is asked, or leave this change out if no tool does")


_CANNOT = re.compile(r"\bI (?:can't|cannot|can not|am (?:not able|unable))\b|\bnone of my tools\b", re.I)
_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:which|what|who|whom|whose|where|when|how|is|are|does|do|did|was|were)\b", re.I)


def unwarranted_refusal(plan: Plan, request: str, registry: ToolRegistry, files: Sequence[str],
                        named_here: bool = True) -> list[PlanProblem]:
    """A problem when ``plan`` runs nothing and answers "I can't" to a question that asks for
    no change, while the thread names ``files`` a read could answer it from: asked "Which node is
    it on?" after the pod with the most restarts had been found in ops/pods-wide.txt, a small
    planner answered "I can't do that: none of my tools can tell you which node is on" (console
    follow-up-restarts-node), and "Show me … ops/docker-ps.txt" with "none of my tools can list
    Docker processes" (console show-docker). An "I can't" is for an effect no tool has
    (:func:`done_by_no_tool`). ``named_here``: ``files`` are the request's own (else the thread's
    request before named them, and only a question leans on them)."""
    if plan.nodes or not _CANNOT.search(plan.answer or "") or asked_effects(request) or not files:
        return []
    if READ_FILE not in registry or not (named_here or _QUESTION.search(request.strip())):
        return []
    reads = ", ".join(f'{{"id": "{read_id(path)}", "read_file": {{"path": "{path}"}}}}' for path in files)
    return [PlanProblem(None, "answer", (
        "the plan answers that it can't, but the request asks for no change: an \"I can't\" is "
        f"only for a change no tool makes. Read what answers it ({reads}) and answer from what the read "
        "gives, in a package or the answer's ${…}"))]


def reads_of(files: Sequence[str], taken: Collection[str] = ()) -> list[PlanNode]:
    """A ``read_file`` node for each of ``files``, each id its file's stem (numbered past
    ``taken`` and each other)."""
    nodes: list[PlanNode] = []
    for path in files:
        node_id = free_id(read_id(path), {*taken, *(node.id for node in nodes)})
        nodes.append(PlanNode(id=node_id, tool=READ_FILE, args={"path": path}))
    return nodes


def with_reads_of(plan: Plan, files: Sequence[str]) -> Plan:
    """``plan`` with a read of each of ``files`` added beside its nodes: the request names them,
    and a repaired plan that still only searched one ("non-critical search alerts" in
    alerting/routes.yaml found nothing, and the answer said what it would do next: morning
    channel-and-invoice) leaves the joiner without what the request points at."""
    added = reads_of(files, {node.id for node in plan.nodes})
    return plan.model_copy(update={"nodes": [*plan.nodes, *added]})


_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")


def changes_in_a_question(plan: Plan, registry: ToolRegistry, request: str) -> list[PlanProblem]:
    """A problem for each red node of a plan for a request that is one question and asks for no
    change: "Which certificates in pki/certificates.json expire before 2027-01-01?" was planned
    with a ``write_file`` of them to a report nobody named, and its approver was asked for it
    (morning follow-up-mail-cert-owners). A request with a command besides its question ("Who is
    on call? Page them.") or any verb of a change is left to its plan."""
    text = request.strip()
    if not text.endswith("?") or len(_SENTENCE_END.findall(text)) != 1 or asked_effects(request):
        return []
    return [PlanProblem(node.id, "tool", (
        f"'{node.tool}' changes something, and the request is a question that asks for no change: "
        "leave this node out and answer the question"))
        for node in plan.nodes
        if node.tool is not None and node.tool in registry and registry.risk_of(node.tool) is Risk.RED]
