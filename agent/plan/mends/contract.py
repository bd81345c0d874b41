"""What a mend is, and the one loop that applies an ordered list of them.

A mend fixes one slip a model makes when writing a plan, where the fix is plain (one reading
under which the plan works) and an approver still sees any change before it runs. Each is a
:class:`Mend`: a name (kebab-case, stable: it is logged, counted in ``/metrics`` and stored
with the plan in the audit trail), the slip it fixes in a sentence a user reads ("dagbot
corrected the model's plan: …"), whether it is safe on a partial plan, and a function from
draft to draft. :func:`apply_mends` runs a list in order and says which fired.

*Partial*: while the plan streams, each complete node is validated with the nodes before it
(:mod:`agent.execution.early_start`), and a green one may start. A mend that asks who reads a
node sees only the nodes before it then. That is safe where a fix the whole plan does not share
costs only the early start: a node started early is kept only when the whole plan has it
unchanged, and a node renamed or left out is not started. A mend that needs what the stream
does not have (the request, the thread) is marked ``partial_safe=False`` and skipped there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.plan.format import PlanNode
from agent.tools.registry import ToolRegistry


@dataclass(frozen=True)
class Draft:
    """A plan between parsing and checking: its nodes (parsed, not yet checked) and reply."""

    nodes: tuple[PlanNode, ...]
    answer: str | None = None
    """The reply template (``${id}`` references), if the model wrote one."""
    unparsed: frozenset[str] = frozenset()
    """Labels of nodes the parse could not read (their problems are already listed)."""

    def with_nodes(self, nodes: Iterable[PlanNode]) -> Draft:
        return replace(self, nodes=tuple(nodes))

    def with_answer(self, answer: str | None) -> Draft:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class MendContext:
    """What a mend may look at besides the draft."""

    registry: ToolRegistry
    partial: bool = False
    """The draft is the part of a plan streamed so far: mends not ``partial_safe`` are skipped."""
    earlier_calls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The tool and package nodes of the thread's earlier runs, by id."""
    request: str | None = None
    """The request the plan answers; None where it is not known (mends that need it do nothing)."""
    known: Sequence[Any] = ()
    """What the thread already holds: earlier requests, answers and results."""


@dataclass(frozen=True)
class Mend:
    name: str
    """Stable kebab-case name: logs, ``/metrics`` and the audit trail use it."""
    slip: str
    """The slip it fixes, as a person reads it after "dagbot corrected the model's plan:"."""
    fix: Callable[[Draft, MendContext], Draft]
    """The draft with the slip fixed, or the same draft (equal) when there is nothing to fix."""
    partial_safe: bool = True
    """Its result on the nodes of a prefix of the plan is its result on the whole plan."""


@dataclass(frozen=True)
class Mended:
    draft: Draft
    fired: tuple[str, ...]
    """Names of the mends that changed the draft, in the order they ran."""


def apply_mends(draft: Draft, context: MendContext, mends: Sequence[Mend]) -> Mended:
    """``draft`` through each mend of ``mends`` in order (on a partial draft, the safe ones)."""
    fired = []
    for mend in mends:
        if context.partial and not mend.partial_safe:
            continue
        after = mend.fix(draft, context)
        if after != draft:
            fired.append(mend.name)
            draft = after
    return Mended(draft, tuple(fired))


def node_wise(mend: Callable[[PlanNode, MendContext], PlanNode]) -> Callable[[Draft, MendContext], Draft]:
    """A draft-wide fix from a fix of one node at a time."""
    def fix(draft: Draft, context: MendContext) -> Draft:
        return draft.with_nodes(mend(node, context) for node in draft.nodes)
    return fix


def with_args(node: PlanNode, fix: Callable[[dict[str, Any]], dict[str, Any]]) -> PlanNode:
    """``node`` with ``fix`` applied to its arguments and to each fan-out item's; ``node`` itself
    (equal, so no mend is said to fire) when nothing changed."""
    each = None if node.each is None else [fix(item) for item in node.each]
    mended = node.model_copy(update={"args": fix(node.args), "each": each})
    return node if mended == node else mended
