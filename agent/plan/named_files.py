"""A file the request names is a file the plan reads.

"How many builds in ci/builds.csv failed?" was planned as an SQL query of a table ``ci.builds``;
with a file-query tool, "what does notes/x.md say" became a search and a CSV question a query of
a file named after a database table. Each time the file the request named was never read, and
the answer came from something else. So when the request names workspace files (a path or a
name with a file's extension: ``ci/builds.csv``, ``deploy.yaml``), each must be an argument of
some node (read, listed, written to; not inside an address:
``https://ops.example.com/ci/builds.csv`` is not the file; not only searched: a search of
notes/oncall.md for "oncall" found nothing and the answer said the file does not say), unless
the thread already holds it (an earlier run read it, or a plan this one replaces) or the
request names it as where something goes. Addresses are not judged here: a deployment's HTTP
allow list says which hosts a plan may use, and the hosts it allows need not be named in the
request.

A plan with no nodes (an "I can't", a reply from the thread) reads nothing and is left alone.
The repair round is told what to read; if the repaired plan still does otherwise, it runs as it
is (a plan that reads something else may still be right: the file may be a table's name after
all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from agent.errors import PlanProblem
from agent.plan.format import Plan, canonical_node
from agent.plan.grounding import named_targets
from agent.plan.references import strings
from agent.tools.registry import ToolRegistry

READ_FILE = "read_file"
SEARCH_FILES = "search_files"
LIST_FILES = "list_files"
FILE_EXTENSIONS = frozenset({
    "csv", "tsv", "json", "jsonl", "ndjson", "log", "txt", "md", "markdown", "yaml", "yml", "toml", "ini",
    "conf", "cfg", "env", "xml", "html", "sql", "py", "sh", "properties", "cf", "cnf", "prom", "tf", "tfvars",
    "hcl", "rules"})
"""What a name ends with when it is a file's (``static.example.com`` is a host, not a file)."""
_FOLDERED_FILE = re.compile(r"[\w-]+(?:/[\w.-]+)*/[\w.-]*[\w-]\.[A-Za-z][A-Za-z0-9]{0,9}")
"""A path whose first folder is no host's name and whose file has an extension of any kind
(``metrics/db-01.prom``: evening memory-and-relay's was read by no node, its extension unknown)."""
_FILES_IN_FOLDERS = frozenset({"out", "service", "timer", "socket"})
"""What a name ends with when it is a file's in a folder (``deploy/systemd/worker.service``): a
command's saved output, systemd's units; alone, ``nginx.service`` is the unit, no file."""
_NAMED_FILES = frozenset({
    "crontab", "hosts", "fstab", "dockerfile", "containerfile", "makefile", "jenkinsfile", "procfile",
    "caddyfile",
    "vagrantfile", "known_hosts", "authorized_keys", "codeowners"})
"""Files known by a name with no extension, in a folder (``ops/crontab``, ``config/hosts``): a
request asking how often a job "gets run by ops/crontab" was planned as a read of the job's
script and a search of the crontab, which no step then read (console sync-dns-runs)."""
_REFERENCE = re.compile(r"\$\{[^}]*\}")
"""``${notes/x.md}`` in an argument is not a read of notes/x.md (no node has such an id)."""
_ADDRESS = re.compile(r"^https?://", re.I)


def named_files(request: str) -> set[str]:
    """The workspace files ``request`` names: relative paths with a file's extension (not an
    address, a URL, an absolute or home path: those no file tool reads)."""
    return {name for name in named_targets(request)
            if (name.rpartition(".")[2].lower() in FILE_EXTENSIONS or _FOLDERED_FILE.fullmatch(name)
                or (name.rpartition(".")[2].lower() in _FILES_IN_FOLDERS and "/" in name)
                or (name.rpartition("/")[2].lower() in _NAMED_FILES and "/" in name))
            and "@" not in name and ":" not in name and not name.startswith(("/", "~", "."))}


def unread_named_files(plan: Plan, request: str, registry: ToolRegistry,
                       known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for the files ``request`` names that no node reads; ``known``: the thread's
    earlier runs and the plans this one replaces. None where no tool reads files."""
    if not plan.nodes or READ_FILE not in registry:
        return []
    searches = set(strings([[node.args, node.each or []]
                            for node in plan.nodes if node.tool == SEARCH_FILES]))
    return [PlanProblem(None, None, _read_it(name, any(name in value for value in searches)))
            for name in unread_file_names(plan, request, registry, known)]


def unread_file_names(plan: Plan, request: str, registry: ToolRegistry,
                      known: Iterable[Any] = ()) -> list[str]:
    """The files ``request`` names that no node of ``plan`` reads (:func:`unread_named_files`)."""
    if not plan.nodes or READ_FILE not in registry:
        return []
    args = [[_beyond_looking(node.tool, node.args), [_beyond_looking(node.tool, a) for a in node.each or []]]
            for node in plan.nodes]
    return _unread_names(strings(args), request, known)


def unread_in_draft(draft: Any, request: str, registry: ToolRegistry,
                    known: Iterable[Any] = ()) -> list[PlanProblem]:
    """The same problems for a draft that is not a valid plan (a node referring to one it does
    not have, say), told with its other faults in the same repair round: "Copy notes/x.md to
    reports/x.md" was drafted as a write of ``${notes.x}``, and the repair round, told only that
    no node is called ``notes``, wrote the same draft again. A draft that reads the file under
    any node, or has no nodes, has none."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list) or not nodes or READ_FILE not in registry:
        return []
    # (a search of a file is no read of it here either: wide mail-follow-up-owners)
    nodes = [canonical_node(node) if isinstance(node, dict) else node for node in nodes]
    searched = [node for node in nodes if isinstance(node, dict) and node.get("tool") == SEARCH_FILES
                and isinstance(node.get("args"), dict)]
    listed = [node for node in nodes if isinstance(node, dict) and node.get("tool") == LIST_FILES
              and isinstance(node.get("args"), dict)]
    looked = searched + listed
    beyond = [{**node, "args": _beyond_looking(str(node.get("tool")), node["args"])} if node in looked
              else {k: v for k, v in node.items() if k != "package"} if isinstance(node, dict) else node
              for node in nodes]  # (nor is a package's code that names it: it sees only its inputs)
    patterns = [str(node["args"].get("pattern") or "") for node in searched]
    return [PlanProblem(None, None, _read_it(name, any(name in pattern for pattern in patterns)))
            for name in _unread_names(strings(beyond), request, known)]


def _unread_names(values: Iterable[str], request: str, known: Iterable[Any]) -> list[str]:
    """The files ``request`` names that none of ``values`` (a plan's arguments, ``${…}`` and
    addresses aside) names, nor ``known`` holds, nor the request writes to."""
    held = json.dumps(list(known), default=str)
    local = [value for value in (_REFERENCE.sub("", v) for v in values) if not _ADDRESS.match(value)]
    return [name for name in sorted(named_files(request))
            if not any(name in value for value in local) and name not in held
            and not is_destination(name, request)]


def _beyond_looking(tool: str | None, args: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments, less the files a search looks in or for: a search of a file is no
    read of it (only the lines that match come back; "who is on call? see notes/oncall.md"
    searched for "oncall" there, found nothing, and answered that the file does not say), nor is
    a search for its path as text (console backlog-and-concurrency searched every file for
    ``monitoring/alert-rules.yml``), nor a listing of it (it says the file is there, not what
    it holds: "did a deploy-prod run fail in ci/workflow-runs.json?" was a ``list_files`` of
    that path, and no step read the runs: monday follow-up-deploy-failer)."""
    if tool == SEARCH_FILES:
        return {k: v for k, v in args.items() if k not in ("pattern", "query")}
    return {k: v for k, v in args.items() if k != "pattern"} if tool == LIST_FILES else args


def is_destination(name: str, request: str) -> bool:
    """Whether ``request`` names the file as where something goes ("write the count to x.txt",
    "copy a.md into b.md", "save it as c.md"): a change's target, not a file to read."""
    return re.search(r"(?<!according )\b(?:to|into|as)\s+`?" + re.escape(name), request, re.I) is not None


def read_node_id(path: str) -> str:
    """The id of a node that reads ``path``: its file's stem (``ci/builds.csv``: ``builds``)."""
    stem = re.sub(r"[^a-z0-9_]", "_", path.rpartition("/")[2].rpartition(".")[0].lower()).strip("_")
    return stem if re.fullmatch(r"[a-z][a-z0-9_]*", stem) else "file"


def _read_it(name: str, searched: bool) -> str:
    """What to do, as a node to copy: a small model follows a fragment better than a rule."""
    node_id = read_node_id(name)
    node = json.dumps({"id": node_id, READ_FILE: {"path": name}})
    if searched:
        return (f"the request names the file {name}, but the plan only searches it ({SEARCH_FILES} returns "
                f"only the lines that match, and the answer needs the file): add the node {node}")
    return (f"the request names the file {name}, but no node reads it: add the node {node} and compute "
            f"from inputs['{node_id}']['content'] in a package; a database's tables are not workspace files")
