"""A ``${id}`` reference written in a package's code is that node's input.

``${id.field}`` is how a tool call's arguments take another node's output; package code takes
it from ``inputs``. "Parse team/oncall.yaml as YAML and tell me who is secondary" was planned as
a read and a package running ``yaml.safe_load(open('${oncall.path}'))``: the string is no path,
the package did not depend on the read, so it ran with no inputs, and reflexion, shown none,
never saw the text that does not parse (bench nightly broken-oncall). A quoted ``'${id}'`` or
``'${id.field}'`` in the code of a package, where ``id`` is a node of the plan, is
``inputs['id']['field']``: the package then waits for the node and reads its output (and a read's
path opened is its text, by the mend after this one).
"""

from __future__ import annotations

import re

from agent.plan.mends.contract import Draft, Mend, MendContext

_QUOTED_REFERENCE = re.compile(
    r"""(?P<q>['"])\$\{(?P<id>[a-z][a-z0-9_]{0,31})(?P<fields>(?:\.[A-Za-z_]\w*)*)\}(?P=q)""")


def code_references(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each quoted ``${id…}`` in package code, ``id`` a node of it, read from ``inputs``."""
    ids = {node.id for node in draft.nodes}

    def as_input(found: re.Match[str]) -> str:
        if found["id"] not in ids:
            return found[0]
        fields = "".join(f"[{field!r}]" for field in found["fields"].split(".")[1:])
        return f"inputs[{found['id']!r}]{fields}"

    nodes = []
    for node in draft.nodes:
        code = node.package.code if node.package else ""
        mended = _QUOTED_REFERENCE.sub(as_input, code) if "${" in code else code
        nodes.append(node if mended == code or node.package is None else node.model_copy(
            update={"package": node.package.model_copy(update={"code": mended})}))
    return draft.with_nodes(nodes)


CODE_REFERENCES = Mend(
    name="code-references", fix=code_references,
    slip="a step's code wrote another step's output as a ${…} reference, which code does not resolve; "
         "it reads it from its inputs")
