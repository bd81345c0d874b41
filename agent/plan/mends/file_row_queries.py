"""A query of ``data``, the name dagbot gives a file's rows, is dagbot's computation over that file.

dagbot computes over a data file by one SQL query of its rows, which its package calls the
table ``data`` (sandbox/table_query.py); the answer shows that query. A follow-up ("Which job took
the longest in backups/nightly.log?", then "how big was that backup?") was planned as
``sql_query`` of ``SELECT SUM(size) FROM data``: the database has no such table, and the one
data file the thread had read was never read again (bench nightly follow-up-longest-size). A
``sql_query`` whose every table is ``data`` where the database has none (its plan check refuses
the name), or the file itself (``FROM backups/nightly_log``, as the same follow-up was planned
once ``data`` was taken care of), in a thread or plan that read exactly one data file, is that
computation: the file is read and dagbot's computing package (empty code, which the sandbox
writes from the request) computes from it, as it would have had the plan only read the file.
So is a follow-up's search of that file (``pattern`` its path), with the packages that go on
from it: a search finds lines, where the question is about the file's rows; and a follow-up that
points back at the file's rows ("which of them…") planned as a query of a table nobody named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from agent.plan.format import PackageSpec, PlanNode, free_id, read_id
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.named_files import READ_FILE, SEARCH_FILES, named_files
from agent.plan.references import referenced_ids
from agent.plan.uncomputed import COMPUTING_GOAL, is_data_file, is_test_report
from agent.tools.registry import ToolRegistry

FILE_TABLE = "data"
SQL_QUERY = "sql_query"


def computed_file_rows(draft: Draft, context: MendContext) -> Draft:
    """``draft`` with each ``sql_query`` of ``data`` (a table the database lacks) replaced by a
    read of the one data file read before and dagbot's computing package over it; failing that,
    a follow-up's searches of that file (:func:`_computed_file_searches`)."""
    if context.request is None or READ_FILE not in context.registry:
        return draft
    earlier = _read_paths(context.earlier_calls.values()) | _read_reports(context)
    paths = {*earlier, *_read_paths(node.model_dump() for node in draft.nodes)}
    if len(paths) != 1:
        return draft
    [path] = paths
    queries = [node for node in draft.nodes if SQL_QUERY in context.registry
               and _queries_file_rows(node, context.registry, _names(path))]
    if not queries and path in earlier:
        searches = {node.id for node in draft.nodes if node.tool == SEARCH_FILES and node.each is None
                    and node.args.get("pattern") == path}
        asked_elsewhere = _queried_elsewhere(draft, context, path)
        return _computed_from_file(draft, context.request, path, searches or asked_elsewhere)
    if not queries:
        return draft
    taken = {node.id for node in draft.nodes} | set(context.earlier_calls)
    nodes: list[PlanNode] = []
    for node in draft.nodes:
        if node not in queries:
            nodes.append(node)
            continue
        read = next((n for n in nodes if n.tool == READ_FILE and n.args.get("path") == path), None)
        if read is None:
            read = PlanNode(id=free_id(read_id(path), taken), tool=READ_FILE, args={"path": path})
            taken.add(read.id)
            nodes.append(read)
        goal = f"{COMPUTING_GOAL} {context.request.strip()}"
        nodes.append(PlanNode(id=node.id, package=PackageSpec(goal=goal, code=""), depends_on=[read.id],
                              why=node.why))
    return draft.with_nodes(nodes)


def _queried_elsewhere(draft: Draft, context: MendContext, path: str) -> set[str]:
    """The ``sql_query`` nodes of a follow-up that points back ("which of them…") at the one
    data file the thread read, when the plan reads nothing of that file and each query reads
    tables the request does not name and the thread never queried: "show me
    k8s/deployments-prod.json", then "which of them aren't running all the replicas they asked
    for?" was planned as a query of the database's ``deploys`` table, and the thread's
    deployments were never looked at again (morning follow-up-not-ready)."""
    request = context.request or ""
    if not _POINTS_BACK.search(request) or named_files(request) or SQL_QUERY not in context.registry \
            or any(path in json.dumps(node.args, default=str) for node in draft.nodes):
        return set()
    queried_before = " ".join(json.dumps(call.get("args"), default=str).lower()
                              for call in context.earlier_calls.values() if call.get("tool") == SQL_QUERY)
    found = set()
    for node in draft.nodes:
        sql = node.args.get("sql") if node.tool == SQL_QUERY and node.each is None else None
        tables = [_name(t) for t in _TABLES.findall(sql)] if isinstance(sql, str) else []
        if not tables or any(_names_table(request.lower().replace("-", "_"), t)
                             or _names_table(queried_before, t) for t in tables):
            continue
        found.add(node.id)
    return found


def _names_table(text: str, table: str) -> bool:
    """Whether ``text`` names ``table``, in the singular or the plural (``incident`` for
    ``incidents``)."""
    stem = re.sub(r"(?:ies|es|s)$", "", table) if len(table) > 3 else table
    return re.search(rf"\b{re.escape(stem)}(?:s|es|ies|y)?\b", text) is not None


_POINTS_BACK = re.compile(
    r"\b(?:which|what|how many|any|all|none|each|who|whose)\s+of\s+(?:them|those|these)\b"
    r"|\b(?:those|these)\b", re.IGNORECASE)
"""The words by which a follow-up means the things the turn before it was about ("which of
them…", "those"): "do they have an open incident?" may ask the database."""


def _computed_from_file(draft: Draft, request: str, path: str, searches: set[str]) -> Draft:
    """``draft`` with its searches of the data file the thread read (``pattern`` its path), or
    the queries elsewhere a follow-up about that file made (:func:`_queried_elsewhere`), and
    the packages that go on from them, replaced by a read of it and dagbot's computing package,
    where nothing else goes on from them. "which customer has the single biggest unpaid
    invoice…", then "how much was it, and when is it due?" was planned as three searches of
    finance/receivables.csv for its column names (each found the header line) and three
    packages that failed on them; the answer took the invoice's issue date for its due date
    (morning follow-up-biggest-unpaid)."""
    if not searches:
        return draft
    gone = set(searches)
    grew = True
    while grew:
        after = {node.id for node in draft.nodes if node.id not in gone
                 and ({*node.depends_on, *referenced_ids(node.args)} & gone)}
        grew = bool(after)
        gone |= after
    if any(node.package is None for node in draft.nodes if node.id in gone - searches):
        return draft  # (a tool goes on from them: what it takes would be gone)
    kept = [node for node in draft.nodes if node.id not in gone]
    taken = {node.id for node in draft.nodes}
    read = next((n for n in kept if n.tool == READ_FILE and n.args.get("path") == path), None)
    added = []
    if read is None:
        read = PlanNode(id=free_id(read_id(path), taken), tool=READ_FILE, args={"path": path})
        added.append(read)
    computed = next(node.id for node in draft.nodes if node.id in searches)  # (the first, in plan order)
    goal = f"{COMPUTING_GOAL} {request.strip()}"
    added.append(PlanNode(id=computed, package=PackageSpec(goal=goal, code=""), depends_on=[read.id]))
    answer = draft.answer if draft.answer is None or not referenced_ids(draft.answer) & (gone - {computed}) \
        else None  # (its sentence was for values the dropped steps were to give)
    return draft.with_nodes([*kept, *added]).with_answer(answer)


def _queries_file_rows(node: PlanNode, registry: ToolRegistry, names: set[str]) -> bool:
    """Whether ``node`` is a literal ``sql_query`` that the tool's plan check refuses for
    naming ``data``, or the file read (``names``), as a table the database does not have, or
    for a table it does not have where it quotes that file's path or name."""
    sql = node.args.get("sql")
    check = registry.get(SQL_QUERY).plan_check
    if node.tool != SQL_QUERY or node.each is not None or not isinstance(sql, str) or check is None:
        return False
    tables = _TABLES.findall(sql)
    return check(node.args) is not None and bool(tables) \
        and (all(_name(table) in {FILE_TABLE, *names} for table in tables)
             or any(_name(text) in names for text in _QUOTED.findall(sql)))


_QUOTED = re.compile(r"'([^']*[/.][^']*)'")
"""A path or a file's name quoted in a query (``WHERE path = 'logs/postgresql-2026-11-26.log'``:
evening follow-up-last-deadlock queried a table ``logs`` for the thread's log by its path)."""


_TABLES = re.compile(r"""\b(?:from|join)\s+[`"\[]?([\w.~/-]+)""", re.IGNORECASE)
"""The tables a query reads, a path's slashes and dots kept (``FROM backups/nightly_log``)."""


def _names(path: str) -> set[str]:
    """The names a query may give the file at ``path`` as a table: its path or its file's name,
    with or without the extension, however it is punctuated (``FROM backups/nightly_log`` for
    backups/nightly.log: nightly follow-up-longest-size, as run)."""
    folder, _, name = path.rpartition("/")
    stem = name.rpartition(".")[0] or name
    return {_name(n) for n in (path, f"{folder}/{stem}" if folder else stem, name, stem)}


def _name(text: str) -> str:
    return re.sub(r"\W+", "_", text.lower()).strip("_")


def _read_paths(nodes: Any) -> set[str]:
    """The data files the ``read_file`` calls among ``nodes`` (each a tool call's mapping) read."""
    found = set()
    for node in nodes:
        if isinstance(node, Mapping) and node.get("tool") == READ_FILE:
            path = (node.get("args") or {}).get("path")
            if isinstance(path, str) and "${" not in path and is_data_file(path):
                found.add(path)
    return found


def _read_reports(context: MendContext) -> set[str]:
    """The XML files the thread's earlier runs read that turned out test reports (JUnit's: a
    row per test case): "Which smoke tests did not pass in ci/smoke-2026-11-28.xml?", then "of
    those, which one ran longest?" was planned as a query of ``data`` alone (weekend
    follow-up-failed-tests)."""
    outputs: dict[str, Any] = {}
    for entry in context.known:
        given = entry[-1] if isinstance(entry, list | tuple) and entry else None
        if isinstance(given, Mapping):
            outputs.update({node_id: (result or {}).get("output") for node_id, result in given.items()
                            if isinstance(result, Mapping)})
    found = set()
    for node_id, call in context.earlier_calls.items():
        path = (call.get("args") or {}).get("path") if call.get("tool") == READ_FILE else None
        output = outputs.get(node_id)
        content = output.get("content") if isinstance(output, Mapping) else None
        if isinstance(path, str) and isinstance(content, str) and is_test_report(content):
            found.add(path)
    return found


FILE_ROW_QUERIES = Mend(
    name="file-row-queries", fix=computed_file_rows, partial_safe=False,  # the request, the thread
    slip="a query read a file's rows (`data`, dagbot's name for them, or the file's own) from a database "
         "that has no such table, or a follow-up searched the data file the thread read, or asked about its "
         "rows and queried a table nobody named; dagbot computes it from that file")
