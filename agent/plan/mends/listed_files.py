"""A file listed by its own path, for a package to compute from, is read.

"How much did the successful backups on 2026-11-22 add up to, going by backups/nightly.log?" was
planned as ``list_files`` with the pattern ``backups/nightly.log`` and a package summing
``inputs['nightly'][0]['content']``: a listing holds each file's path and size, no content, so the
package failed three times over and the answer gave the file's size in bytes as the sum (bench
nightly size-on-22nd). A listing whose pattern is one file's path (no wildcard: it lists that
file alone) and whose result a package computes from wanted the file's content: the node reads
it. ``read_file`` returns the path and size as well, so nothing the listing gave is lost; a
listing no package reads (does it exist? how big is it?) is left as it is.
"""

from __future__ import annotations

from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.named_files import READ_FILE

LIST_FILES = "list_files"
_WILDCARDS = frozenset("*?[")


def read_listed_files(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each one-file listing a package depends on reading that file instead."""
    if READ_FILE not in context.registry:
        return draft
    computed_from = {dependency for node in draft.nodes if node.package is not None
                     for dependency in dependencies(node)}
    return draft.with_nodes(_read(node) if node.id in computed_from and _one_file(node) else node
                            for node in draft.nodes)


def _one_file(node: PlanNode) -> bool:
    pattern = node.args.get("pattern")
    return (node.tool == LIST_FILES and node.each is None and isinstance(pattern, str)
            and set(node.args) == {"pattern"} and "." in pattern.rpartition("/")[2]
            and not _WILDCARDS & set(pattern) and "${" not in pattern)


def _read(node: PlanNode) -> PlanNode:
    return node.model_copy(update={"tool": READ_FILE, "args": {"path": node.args["pattern"]}})


LISTED_FILES = Mend(
    name="listed-files", fix=read_listed_files,
    slip="a file a step computes from was listed, which gives its size but not its content; it is read")
