"""A file listed by its own path, for a package to compute from, is read.

"How much did the successful backups on 2026-11-22 add up to, going by backups/nightly.log?" was
planned as ``list_files`` with the pattern ``backups/nightly.log`` and a package summing
``inputs['nightly'][0]['content']``: a listing holds each file's path and size, no content, so the
package failed three times over and the answer gave the file's size in bytes as the sum (bench
nightly size-on-22nd). A listing whose pattern is one file's path (no wildcard: it lists that
file alone) and whose result a package computes from wanted the file's content: the node reads
it. ``read_file`` returns the path and size as well, so nothing the listing gave is lost; a
listing no package reads (does it exist? how big is it?) is left as it is. A step's argument that
is such a listing's one file (``${backup_list.files[0]}``) is that file's path.
"""

from __future__ import annotations

import re

from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.named_files import READ_FILE

LIST_FILES = "list_files"
_WILDCARDS = frozenset("*?[")


def read_listed_files(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each one-file listing a package depends on reading that file instead, and
    each argument that is that listing's one file (``${backups.files[0]}``, an object where a
    path goes) the file's path."""
    if READ_FILE not in context.registry:
        return draft
    computed_from = {dependency for node in draft.nodes if node.package is not None
                     for dependency in dependencies(node)}
    listed = {node.id: str(node.args["pattern"]) for node in draft.nodes if _one_file(node)}
    return draft.with_nodes(_read(node) if node.id in computed_from and node.id in listed
                            else _by_path(node, listed) for node in draft.nodes)


_LISTED_FILE = re.compile(r"^\$\{(?P<id>[a-z][a-z0-9_]*)\.files(?:\[0\]|\.0)(?:\.path)?\}$")
"""A whole argument that is a listing's first file, or its path."""


def _by_path(node: PlanNode, listed: dict[str, str]) -> PlanNode:
    """``node`` with each argument that is the one file of a listing in ``listed`` that file's
    path: "which backup in backups/nightly.log ran the longest?" was planned as ``list_files``
    of that path and ``read_file`` of ``${backup_list.files[0]}``, the listing's object where a
    path goes, and the read failed when it ran (nightly longest-run, as run on the twenty-fifth's
    code); its path is known when the plan is written."""
    if node.each is not None or node.tool is None:
        return node
    args = {key: listed[found["id"]] if isinstance(value, str) and (found := _LISTED_FILE.match(value))
            and found["id"] in listed else value for key, value in node.args.items()}
    if args == node.args:
        return node
    depends_on = [d for d in node.depends_on if d not in listed or any(
        f"${{{d}" in str(v) for v in args.values())]
    return node.model_copy(update={"args": args, "depends_on": depends_on})


def _one_file(node: PlanNode) -> bool:
    pattern = node.args.get("pattern")
    return (node.tool == LIST_FILES and node.each is None and isinstance(pattern, str)
            and set(node.args) == {"pattern"} and "." in pattern.rpartition("/")[2]
            and not _WILDCARDS & set(pattern) and "${" not in pattern)


def _read(node: PlanNode) -> PlanNode:
    return node.model_copy(update={"tool": READ_FILE, "args": {"path": node.args["pattern"]}})


LISTED_FILES = Mend(
    name="listed-files", fix=read_listed_files,
    slip="a file a step reads or computes from was listed, which gives its path and size but not its "
         "content; it is read by its path")
