"""Plan validation: parse → mends → checks, all pure.

:mod:`agent.plan.parsing` reads the model's output into a draft, naming every problem of shape;
:mod:`agent.plan.mends` fixes the slips that have one plain fix, in one ordered list, and says
which fired; :mod:`agent.plan.checks` names every problem left. A draft with problems raises
:class:`~agent.errors.PlanError`; otherwise it is the plan, every edge in ``depends_on``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.errors import PlanError
from agent.plan.checks import plan_problems
from agent.plan.edges import dependencies
from agent.plan.format import Plan
from agent.plan.limits import PlanLimits
from agent.plan.mends.contract import MendContext
from agent.plan.mends.pipeline import mend_plan
from agent.plan.parsing import parse_plan
from agent.tools.registry import ToolRegistry


@dataclass(frozen=True)
class Validated:
    plan: Plan
    mends: tuple[str, ...]
    """The mends that changed the model's draft, by name, in the order they ran."""


def validated_plan(raw: Any, registry: ToolRegistry, limits: PlanLimits | None = None,
                   refused: Mapping[str, str] | None = None, *,
                   code_faults_to_sandbox: bool = False, partial: bool = False,
                   earlier_calls: Mapping[str, Mapping[str, Any]] | None = None,
                   request: str | None = None, known: Sequence[Any] = ()) -> Validated:
    """The plan and the mends that made it, or :class:`PlanError` listing every problem found.

    ``refused``: tools the requester may not use here (the access policy), with why.
    Package code that fails where it stands (it does not parse, or sets no ``result``) is no
    problem of the plan on its own: the sandbox's reflexion mends it when it runs, with Python's
    error and the package's inputs in view, while the rest of the plan runs (a repair round
    rewrites the whole plan, and cannot see the inputs). With other problems it goes to the
    repair round with them.
    ``code_faults_to_sandbox``: package code that does not parse, or cannot work (a name it
    never defines, no ``result``, a workspace file opened: :mod:`agent.plan.package_code`), is
    no problem of the plan; it fails when it runs, with Python's own error, and the sandbox's
    reflexion rewrites it, as it does any failing package (the tools it calls are checked by
    the gateway when it calls them, as they always are). For the last round, when a plan's
    repair left such code as it was.
    ``partial``: ``raw`` is the part of a plan streamed so far; mends that need the whole plan
    are skipped (:mod:`agent.plan.mends.contract`).
    ``earlier_calls``: the nodes of the thread's earlier runs, by id. A plan reading one that it
    does not have (``inputs['log']`` in a follow-up) gets it back, when it is a package or its
    tool is green.
    ``request`` and ``known`` (what the thread already holds): where a change may go
    (:mod:`agent.plan.grounding`); without a request, changes are not re-aimed."""
    limits = limits or PlanLimits()
    parsed = parse_plan(raw, registry, limits)
    context = MendContext(registry, partial=partial, earlier_calls=earlier_calls or {},
                          request=request, known=known)
    mended = mend_plan(parsed.draft, context)
    problems = plan_problems(mended.draft, registry, limits, refused or {},
                             code_faults_to_sandbox=code_faults_to_sandbox, found=parsed.problems)
    if not all(p.local for p in problems):  # local faults alone: the sandbox's reflexion mends them
        raise PlanError(problems)
    # The validated plan lists every edge in depends_on, references included.
    nodes = [n.model_copy(update={"depends_on": sorted(dependencies(n))}) for n in mended.draft.nodes]
    plan = Plan(thought=parsed.thought, nodes=nodes, answer=mended.draft.answer or None)
    return Validated(plan, mended.fired)


def validate_plan(raw: Any, registry: ToolRegistry, limits: PlanLimits | None = None,
                  refused: Mapping[str, str] | None = None, **options: Any) -> Plan:
    """The plan alone (:func:`validated_plan`)."""
    return validated_plan(raw, registry, limits, refused, **options).plan
