"""A workspace file fetched as if it were a web address is read.

"mail her how many e2e-nightly runs failed in ci/workflow-runs.json" was planned as
``http_get`` of ``ci/workflow-runs.json``; "Write each upstream address that timed out in
logs/nginx-error.log to …" as ``http_get`` of ``logs/nginx-error.log`` (monday
follow-up-mail-julia and timeouts-to-file). The HTTP tools take http and https addresses only,
so the call failed when it ran, every time, and the answer was computed from nothing. A
relative path with a file's extension is a workspace file, and ``read_file`` of it is the one
reading under which the node works; the reads of its output (``${runs.text}``,
``inputs['runs']['text']``) are held to ``read_file``'s keys by the mends that run after this one
(:mod:`agent.plan.input_fields`, :mod:`agent.plan.reference_fields`).
"""

from __future__ import annotations

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise
from agent.plan.named_files import READ_FILE, named_files

HTTP_READS = frozenset({"http_get"})
"""The tools that fetch an address and return its body."""


def fetched_file_read(node: PlanNode, context: MendContext) -> PlanNode:
    """``node`` reading the workspace file it fetched as an address; as it was otherwise."""
    if node.tool not in HTTP_READS or READ_FILE not in context.registry:
        return node
    if node.each is not None:  # (``"http_get": ["ci/workflow-runs.json"]``: a fan-out of one, or more)
        paths = [_workspace_file(item.get("url")) for item in node.each]
        if "url" in node.args or not paths or any(path is None or len(item) != 1
                                                  for path, item in zip(paths, node.each, strict=True)):
            return node
        return node.model_copy(update={"tool": READ_FILE, "args": {}, "each": [{"path": p} for p in paths]})
    path = _workspace_file(node.args.get("url"))
    return node if path is None else node.model_copy(update={"tool": READ_FILE, "args": {"path": path}})


def _workspace_file(url: object) -> str | None:
    """The workspace file ``url`` names (a relative path with a file's extension), or None."""
    if not isinstance(url, str) or "${" in url or named_files(url) != {url.strip()}:
        return None
    return url.strip()


FETCHED_FILES = Mend(
    name="fetched-files", fix=node_wise(fetched_file_read),
    slip="a workspace file was fetched as if it were a web address; it is read with read_file")
