"""A file the request names is a file the plan reads.

"How many builds in ci/builds.csv failed?" was planned as an SQL query of a table ``ci.builds``;
with a file-query tool, "what does notes/x.md say" became a search and a CSV question a query
of a file named after a database table. Each time the file the request named was never read,
and the answer came from something else. So when the request names workspace files (a path or
a name with a file's extension: ``ci/builds.csv``, ``deploy.yaml``), each must be in some
node's arguments (read, listed, searched, written to), unless the thread already holds it (an
earlier run read it, or a plan this one replaces). A plan with no nodes (an "I can't", a reply
from the thread) reads nothing and is left alone.

The repair round is told which file to read; if the repaired plan still does not read it, the
plan runs as it is (a plan that reads something else may still be right: the file may be a
table's name after all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from agent.errors import PlanProblem
from agent.plan.format import Plan
from agent.plan.grounding import named_targets
from agent.tools.registry import ToolRegistry

READ_FILE = "read_file"
_REFERENCE = re.compile(r"\$\{[^}]*\}")
"""``${notes/x.md}`` in an argument is not a read of notes/x.md (no node has such an id)."""

FILE_EXTENSIONS = frozenset({
    "csv", "tsv", "json", "jsonl", "ndjson", "log", "txt", "md", "markdown", "yaml", "yml", "toml", "ini",
    "conf", "cfg", "env", "xml", "html", "sql", "py", "sh", "properties"})
"""What a name ends with when it is a file's (``static.example.com`` is a host, not a file)."""


def named_files(request: str) -> set[str]:
    """The workspace files ``request`` names: relative paths with a file's extension (not an
    address, a URL, an absolute or home path: those no file tool reads)."""
    return {name for name in named_targets(request)
            if name.rpartition(".")[2].lower() in FILE_EXTENSIONS
            and "@" not in name and ":" not in name and not name.startswith(("/", "~", "."))}


def unread_named_files(plan: Plan, request: str, registry: ToolRegistry,
                       known: Iterable[Any] = ()) -> list[PlanProblem]:
    """A problem for each file the request names that no node of ``plan`` uses and nothing
    ``known`` (the thread's earlier runs, the plans this one replaces) holds; none where no
    tool reads files (``read_file``)."""
    if not plan.nodes or READ_FILE not in registry:
        return []
    used = _REFERENCE.sub("", json.dumps([node.model_dump(include={"args", "each"}) for node in plan.nodes]))
    held = json.dumps(list(known), default=str)
    return [PlanProblem(None, None, _read_it(name))
            for name in sorted(named_files(request)) if name not in used and name not in held]


def _read_it(name: str) -> str:
    """What to do, as a node to copy: a small model follows a fragment better than a rule."""
    stem = re.sub(r"[^a-z0-9_]", "_", name.rpartition("/")[2].rpartition(".")[0].lower()).strip("_")
    node_id = stem if re.fullmatch(r"[a-z][a-z0-9_]*", stem) else "file"
    node = json.dumps({"id": node_id, READ_FILE: {"path": name}})
    return (f"the request names the file {name}, but no node reads it: add the node {node} and compute "
            f"from inputs['{node_id}']['content'] in a package; a database's tables are not workspace files")
