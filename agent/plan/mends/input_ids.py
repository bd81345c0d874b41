"""A package reading its one dependency under another id reads it under its own.

A small model named a read ``read_consumers``, made the package depend on it, and wrote
``inputs['consumers']`` in its code: no node has that id, and the plan was refused twice over
it. When a package lists exactly one dependency, reads none of its inputs under that id, and
reads exactly one id no node has (nor an earlier run's: those are recalled first), the read is
meant for the dependency: it is renamed. Anything less plain stays a problem to repair.
"""

from __future__ import annotations

import re

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.package_code import package_input_ids


def misnamed_inputs(draft: Draft, context: MendContext) -> Draft:
    ids = {node.id for node in draft.nodes}
    return draft.with_nodes(_renamed(node, ids) for node in draft.nodes)


def _renamed(node: PlanNode, ids: set[str]) -> PlanNode:
    if node.package is None or len(node.depends_on) != 1:
        return node
    [dependency] = node.depends_on
    read = package_input_ids(node.package.code)
    unknown = read - ids
    if dependency not in ids or dependency in read or len(unknown) != 1:
        return node
    [misnamed] = unknown
    code = re.sub(r"""(\binputs\s*(?:\[|\.get\(\s*))(['"])""" + re.escape(misnamed) + r"\2",
                  lambda m: f"{m.group(1)}{m.group(2)}{dependency}{m.group(2)}", node.package.code)
    return node.model_copy(update={"package": node.package.model_copy(update={"code": code})})


MISNAMED_INPUTS = Mend(
    name="misnamed-inputs", fix=misnamed_inputs, partial_safe=False,  # the node it reads may come later
    slip="a step read the step it depends on under another name; it reads it under its own")
