"""A plan whose reads were sound and whose packages stayed broken after the repair round: its
reads run, and one package computes what the request asks for from them. And a change whose
content was wired to nothing: it takes that package's value.

A small model planned "what share of the runs in logs/cron.log failed?" as a read and four
packages written in JavaScript (``.filter(line => …)``), one reading ``inputs['logs']`` of a
node it had called ``read_logs``; its repair round sent the same draft back, and the run ended
with a list of the packages' faults. What the request needs was one package over the read. So
when every problem left after the repair round is a package's, and no tool node goes on from a
package, the packages are replaced by the one package :mod:`agent.engine.computed_values`
would add (its goal the request, its code empty: the sandbox's runner writes it, with a query
when the read is a table, sandbox/table_query.py), and the draft's answer sentence, which named
the packages, is dropped: the joiner answers from the results. A change in such a draft for a
request that asks for none is left out first (:func:`without_changes`).

The same model planned "write the domains of the certificates in tls/certs.json that expire in
December 2026 to reports/renew.txt" as a read, a ``search_files`` and a ``write_file`` of
``${filter.text}``, a field ``search_files`` never returns, twice: what the write was to hold
was wired to nothing. When every problem left is such a reference in a red node's arguments,
the same package is added over the plan's other tool nodes and the reference is that package's
value; the approver sees the content before anything is written (:func:`salvaged_change`).

And asked "and how much of that is the search team's?" after a total over finance/costs.csv,
with a database configured, it queried the file as the database's table (``SELECT SUM(cost_usd)
FROM finance/costs.csv``) in four nodes, twice, though told to read the file. A query over a
file is what a package over its read does (its query written for the request,
sandbox/table_query.py): when every problem left is a read-only node naming a workspace file
where its tool takes a table, each such node reads that file instead, and one package computes
the request from those reads (:func:`salvaged_file_queries`).

And asked "how long was the longest db-backup run in logs/cron.log?", it wrote the read, then a
package whose regular expression went ``\\b\\b\\b…`` until it was stopped for repeating
itself, and its repair round wrote the same draft to the same point. The nodes it completed
before the loop were sound: its reads run, and one package computes the request from them
(:func:`salvaged_repetition`). A draft whose faults are of more than one of the kinds above is
salvaged for all of them at once (:func:`salvaged_together`).

And asked "On what day was invoice F-2026-0415 paid (billing/invoices.json), and is Kenji
primary or secondary this week per team/db-oncall.yaml?", it looped before its first node was
whole, twice, and the run ended with "I could not make a plan". A question about files it names
needs no plan of the model's to be answered from them: when nothing above salvages the draft,
the request asks for no change and names workspace files, those files are read and one package
computes the request from them (:func:`salvaged_question`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from agent.engine.computed_values import COMPUTED_ID, WHY, computing_goal
from agent.errors import PlanProblem
from agent.execution.early_start import read_draft
from agent.model.reply_marks import REPEATING, was_repeating
from agent.plan.asked_changes import reads_of
from agent.plan.format import canonical_node, free_id
from agent.plan.named_files import FILE_EXTENSIONS, READ_FILE, SEARCH_FILES, named_files
from agent.plan.references import mapped_strings, referenced_ids

NAME = "packages-salvaged"
CHANGE_FED = "change-content-computed"
FILES_READ = "file-queries-read"
REPEATED = "repetition-left-out"
MIXED = "faults-salvaged-together"
UNASKED = "unasked-change-left-out"
QUESTION_READ = "question-files-read"
_WIRING = ("reads inputs[", "refers to unknown node")
"""Problems of a package's wiring: it reads, or depends on, a node the plan does not have."""
_ONE_FILE = re.compile(r"[\w.\-/]+\.(?:" + "|".join(sorted(FILE_EXTENSIONS)) + ")", re.I)
"""A search's pattern that is one file (no wildcard): a data file, notes, a config."""


def _broken_package(problem: PlanProblem, packages: set[str]) -> bool:
    """A package's code that cannot work, or its wiring: not what it is for (a program it runs,
    a red tool it calls: those are the plan's to answer, "I can't" among them)."""
    return problem.node in packages and (problem.code_fault or problem.message.startswith(_WIRING))


def _takes_from(node: dict[str, Any]) -> set[str]:
    """The nodes ``node`` goes on from: those it refers to and those it depends on."""
    return referenced_ids(node) | set(map(str, node.get("depends_on") or []))


def _tool_nodes(draft: Any) -> list[dict[str, Any]] | None:
    """The draft's nodes in the plan format's fields when each is a tool call with an id; None
    otherwise (a package, or a node validation must judge as it is)."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list):
        return None
    nodes = [canonical_node(node) for node in nodes]
    return nodes if all(isinstance(n, dict) and n.get("id") and n.get("tool") for n in nodes) else None


def _computing(request: str, follows: str | None, ids: set[str], reads: list[str]) -> dict[str, Any]:
    """The package that computes ``request`` from ``reads``, with an id none of ``ids`` has."""
    package = {"goal": computing_goal(request, follows), "code": ""}
    return {"id": free_id(COMPUTED_ID, ids), "package": package, "depends_on": reads, "why": WHY}


def without_changes(draft: Any, problems: Sequence[PlanProblem], red_tools: Collection[str]
                    ) -> tuple[Any, list[PlanProblem]] | None:
    """``draft`` without its red nodes, and ``problems`` without theirs, for a request that asks
    for no change: "break down the queue depth by consumer in ops/queues.csv" was drafted with
    three broken packages and a ``write_file`` of ``${result}`` to a report nobody named, and the
    write's wiring kept the packages from being salvaged (unseen depth-by-consumer). None when the
    draft has no red node, or something else goes on from one."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list):
        return None
    canonical = [canonical_node(n) for n in nodes]
    red = {str(n.get("id")) for n in canonical if isinstance(n, dict) and n.get("tool") in red_tools}
    kept = [n for n in nodes if not (isinstance(n, dict) and str(n.get("id")) in red)]
    if not red or any(isinstance(n, dict) and _takes_from(canonical_node(n)) & red for n in kept):
        return None
    return {**draft, "nodes": kept}, [p for p in problems if p.node not in red]


def salvaged_draft(draft: Any, problems: Sequence[PlanProblem], request: str,
                   follows: str | None = None) -> dict[str, Any] | None:
    """``draft`` with its packages replaced by one that computes ``request`` from its tool
    nodes; None unless every problem is a package's broken code or wiring, and no tool node goes
    on from a package."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and n.get("id") for n in nodes):
        return None
    packages = {str(n["id"]) for n in nodes if "package" in n}
    tools = [n for n in nodes if "package" not in n]
    if not packages or not tools or not problems or not all(_broken_package(p, packages) for p in problems):
        return None
    if any(_takes_from(node) & packages for node in tools):
        return None  # a tool node goes on from a package: its input would be gone
    ids = [str(n["id"]) for n in tools]
    return {"nodes": [*tools, _computing(request, follows, set(ids) | packages, ids)]}


def salvaged_change(draft: Any, problems: Sequence[PlanProblem], request: str, red_tools: Collection[str],
                    follows: str | None = None) -> dict[str, Any] | None:
    """``draft`` with each red node's reference to a field its source never returns taken from
    one package that computes ``request`` from the draft's other tool nodes; None unless every
    problem is such a reference, the draft has no package, and a tool node is left to read."""
    nodes = _tool_nodes(draft)
    if nodes is None or not problems:
        return None
    red = {str(n["id"]) for n in nodes if n["tool"] in red_tools}
    if not all(p.unfed_reference and p.node in red for p in problems):
        return None
    references, fed_ids = {str(p.unfed_reference) for p in problems}, {str(p.node) for p in problems}
    reads = [str(n["id"]) for n in nodes if str(n["id"]) not in red and not _takes_from(n) & red]
    if not reads:
        return None
    ids = {str(n["id"]) for n in nodes}
    read_ids = _searched_only(nodes, ids | {COMPUTED_ID})
    computed = _computing(request, follows, ids, [*reads, *read_ids.values()])

    def taken(text: str) -> str:  # (a reference wired to nothing is so in every node that holds it)
        for reference in references:
            text = text.replace(reference, "${" + computed["id"] + "}")
        return text
    fed = [{**n, "args": mapped_strings(n.get("args"), taken)} if str(n["id"]) in fed_ids else n
           for n in nodes]
    return {"nodes": [*_reads(read_ids), computed, *fed]}


def _searched_only(nodes: Sequence[dict[str, Any]], taken: set[str]) -> dict[str, str]:
    """Each file a search of ``nodes`` looks in alone (its pattern one file's path) that no node
    reads: the id of a ``read_file`` of it to add. A search matches text and the package computes
    from values: wide mail-follow-up-owners searched the postmortem for "owners" (its table says
    ``owner``), found nothing, and the package computed the mail's body from that."""
    read_already = {str((n.get("args") or {}).get("path")) for n in nodes if n.get("tool") == READ_FILE}
    read_ids: dict[str, str] = {}
    for n in nodes:
        pattern = str((n.get("args") or {}).get("pattern") or "") if n.get("tool") == SEARCH_FILES else ""
        if _ONE_FILE.fullmatch(pattern) and pattern not in read_ids and pattern not in read_already:
            read_ids[pattern] = free_id(f"read_{str(n['id'])[:24]}", taken | set(read_ids.values()))
    return read_ids


def salvaged_file_queries(draft: Any, problems: Sequence[PlanProblem], request: str,
                          red_tools: Collection[str], follows: str | None = None) -> dict[str, Any] | None:
    """``draft`` with each read-only node that names a workspace file where its tool takes a
    table reading that file (``read_file``), and one package computing ``request`` from those
    reads in place of the draft's packages (which computed from the queries); None unless every
    problem is such a node's or a package's broken code or wiring, and no tool node goes on from
    those nodes or a package (its input would be gone). data-follow-up-team-share's draft had,
    beside its queries over ``finance/costs.csv``, a package that ``return``-ed their ratio."""
    parts = _parts(draft, problems, red_tools)
    if parts is None or not parts.files or not all(
            (p.reads_file and str(p.node) in parts.files) or _broken_package(p, parts.packages)
            for p in problems):
        return None
    gone = parts.files.keys() | parts.packages
    kept = [n for n in parts.nodes if str(n["id"]) not in gone]
    if any(_takes_from(node) & gone for node in kept):
        return None
    read_ids = parts.read_ids()
    kept = _without_needless_searches(kept, request, set(read_ids))
    computed = _computing(request, follows, parts.ids, list(read_ids.values()))
    return {"nodes": [*kept, *_reads(read_ids), computed]}


class _Parts(NamedTuple):
    """A draft's nodes (in the plan format's fields), as the salvages read them."""

    nodes: list[dict[str, Any]]
    packages: set[str]
    tools: dict[str, str]
    """Each tool node's id: its tool."""
    red: set[str]
    files: dict[str, str]
    """Each read-only node that queried a workspace file where a table goes: that file."""

    @property
    def ids(self) -> set[str]:
        return set(self.tools) | self.packages

    def read_ids(self) -> dict[str, str]:
        """Each file queried: the node that reads it instead (the first that queried it)."""
        read_ids: dict[str, str] = {}
        for node_id, path in self.files.items():
            read_ids.setdefault(path, node_id)
        return read_ids


def _parts(draft: Any, problems: Sequence[PlanProblem], red_tools: Collection[str]) -> _Parts | None:
    """``draft``'s parts; None when it has no problem, or a node that is neither a tool call nor a
    package with an id."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    if not isinstance(nodes, list) or not problems:
        return None
    nodes = [canonical_node(node) for node in nodes]
    if not all(isinstance(n, dict) and n.get("id") and (n.get("tool") or "package" in n) for n in nodes):
        return None
    tools = {str(n["id"]): n["tool"] for n in nodes if "package" not in n}
    red = {node_id for node_id, tool in tools.items() if tool in red_tools}
    files = {str(p.node): str(p.reads_file) for p in problems
             if p.reads_file and str(p.node) in tools.keys() - red}
    return _Parts(nodes, {str(n["id"]) for n in nodes if "package" in n}, tools, red, files)


def _without_needless_searches(nodes: list[dict[str, Any]], request: str,
                               read: Collection[str]) -> list[dict[str, Any]]:
    """``nodes`` without their searches that nothing takes, when every file the request names is
    read: the package computes from the reads, and a search's matches beside them only gave the
    joiner lines to answer from (weekend longest-incident: searches of the workspace for
    "pagerduty" and "resolved" beside the file's read, and the answer named "line 11", not the
    incident the query found)."""
    named = named_files(request)
    read = {*read, *(str((n.get("args") or {}).get("path")) for n in nodes if n.get("tool") == READ_FILE)}
    if not named or not named <= read:
        return nodes
    taken = {ref for node in nodes for ref in _takes_from(node)}
    asked = request.lower()
    return [n for n in nodes if n.get("tool") != SEARCH_FILES or str(n["id"]) in taken
            or _asked_for((n.get("args") or {}).get("query"), asked)]


def _asked_for(query: Any, request: str) -> bool:
    """Whether a search's query is words the (lowercased) request says: a search asked for itself."""
    words = str(query or "").strip().lower()
    return bool(words) and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", request) is not None


def _reads(read_ids: dict[str, str]) -> list[dict[str, Any]]:
    """A ``read_file`` node for each file, under its id."""
    return [{"id": node_id, "tool": READ_FILE, "args": {"path": path}} for path, node_id in read_ids.items()]


def salvaged_repetition(draft: Any, request: str, red_tools: Collection[str],
                        follows: str | None = None) -> dict[str, Any] | None:
    """The read-only tool nodes a draft stopped for repeating itself completed before it
    looped, and one package computing ``request`` from them (the packages, the node it looped
    in and the changes left out: a change the request commands is planned again once the reads
    ran, :mod:`agent.plan.unmade_changes`); None when the draft did not loop, or completed no
    such node."""
    if not was_repeating(draft):
        return None
    text = str(draft).removesuffix(REPEATING)
    if "{" not in text:
        return None
    nodes = [canonical_node(node) for node in read_draft(text[text.find("{"):]).complete]
    reads = [node for node in nodes if isinstance(node, dict) and node.get("id") and node.get("tool")
             and node["tool"] not in red_tools]
    ids = {str(node["id"]) for node in reads}
    reads = [node for node in reads if _takes_from(node) <= ids]
    if not reads:
        return None
    taken = {str(n.get("id")) for n in nodes if isinstance(n, dict)}
    return {"nodes": [*reads, _computing(request, follows, taken, [str(node["id"]) for node in reads])]}


def salvaged_together(draft: Any, problems: Sequence[PlanProblem], request: str, red_tools: Collection[str],
                      follows: str | None = None) -> dict[str, Any] | None:
    """The salvages above at once, for a draft whose problems are of more than one of their
    kinds (aimed memory-and-mail-host: a query over ``deploy/api.yaml`` as the database's table
    beside a mail of ``${hostname_least_free.text}``, a field its search never returns): each
    query over a file reads it, the packages are left out, one package computes the request from
    the read-only tool nodes, and each red node's reference wired to nothing takes its value.
    None unless every problem is a package's broken code or wiring, a read-only query naming a
    file, or a red node's unfed reference, and nothing else goes on from what is left out."""
    parts = _parts(draft, problems, red_tools)
    if parts is None:
        return None
    nodes, red = parts.nodes, parts.red
    unfed = {str(p.unfed_reference) for p in problems if p.unfed_reference and str(p.node) in red}
    if not all((p.reads_file and str(p.node) in parts.files) or (p.unfed_reference and str(p.node) in red)
               or _broken_package(p, parts.packages) for p in problems):
        return None
    read_ids = parts.read_ids()
    gone = parts.files.keys() | parts.packages
    computed_id = free_id(COMPUTED_ID, parts.ids)
    # a file only searched is read whole too: a search matches text, the package computes
    # from values (aimed memory-and-mail-host searched inventory/servers.json for "hostname")
    searched = _searched_only([n for n in nodes if str(n["id"]) not in gone],
                              parts.ids | set(read_ids.values()) | {computed_id})
    read_ids.update((path, node_id) for path, node_id in searched.items() if path not in read_ids)

    def taken(text: str) -> str:
        for reference in unfed:
            text = text.replace(reference, "${" + computed_id + "}")
        return text
    kept = [{**n, "args": mapped_strings(n.get("args"), taken)} if str(n["id"]) in red else n
            for n in nodes if str(n["id"]) not in gone]
    if any(_takes_from(node) & gone for node in kept):
        return None
    kept = _without_needless_searches(kept, request, set(read_ids))
    reads = [*(str(n["id"]) for n in kept if str(n["id"]) not in red and not _takes_from(n) & red),
             *read_ids.values()]
    if not reads:
        return None
    computed = _computing(request, follows, parts.ids, reads)  # (its id: computed_id)
    return {"nodes": [*[n for n in kept if str(n["id"]) not in red], *_reads(read_ids), computed,
                      *[n for n in kept if str(n["id"]) in red]]}


def salvaged_question(request: str, files: Sequence[str],
                      follows: str | None = None) -> dict[str, Any] | None:
    """A read of each of ``files`` (the workspace files the request names) and one package
    computing ``request`` from them; None when it names none. For a request that asks for no
    change (the caller's to judge), whose draft nothing else salvaged."""
    if not files:
        return None
    reads = [node.model_dump(exclude_none=True, exclude_defaults=True) for node in reads_of(files)]
    ids = [str(node["id"]) for node in reads]
    return {"nodes": [*reads, _computing(request, follows, set(ids), ids)]}
