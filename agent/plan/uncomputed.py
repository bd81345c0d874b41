"""A sum, a count, an average, a share or a maximum over a data file is computed by a program,
not by the model that writes the answer.

The planner's rules say so ("counting, sums, filtering over a read's lines or rows: a package
over its output, never guessed"), and a small model still planned "what is the total of the
amount column in X.csv" as a lone ``read_file``: the joiner's model then added up the rows in
its head. Sending such a plan back to the repair round asked the same model for the same plan
(tried: no better). So when the request asks for such a value (its words: "how many", "total",
"sum", "add up", "average", "mean", "median", "percentage", "share", "ratio", "success rate",
"highest", "longest", "most"…), the plan reads a data file whole (a CSV, TSV, JSON, JSON Lines
or log file, by path or URL, with a tool that returns its text) and no node computes anything
(no package, no SQL query, no search: a search's matches are a count already), dagbot computes
the values before the joiner writes (:mod:`agent.engine.computed_values`). A value a file
states ("how many replicas does deploy.yaml ask for?") is no such ask: YAML, TOML and other
settings files are not data files here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from typing import Any

from agent.plan.edges import call_args
from agent.plan.format import Plan, PlanNode
from agent.plan.named_files import READ_FILE, SEARCH_FILES
from agent.plan.references import REFERENCE, strings
from agent.tools.registry import Risk, ToolRegistry

_ASKS = (
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b", re.I)),
    ("sum", re.compile(r"\b(?:sum|total|add(?:s|ing)? up|added up|spend|spending|outlay)\b|"
                       r"\bhow much (?:was|were|did|has|have|had)\b", re.I)),
    ("average", re.compile(r"\b(?:average|mean|median)\b", re.I)),
    ("share", re.compile(r"\b(?:percent(?:age)?|share|proportion|ratio|fraction)\b|%|"
                         r"\b(?:success|failure|error|pass|hit|miss) rate\b", re.I)),
    ("maximum or minimum", re.compile(
        r"\b(?:highest|lowest|largest|smallest|biggest|longest|shortest|slowest|fastest|maximum|minimum|"
        r"newest|oldest|latest|earliest|top \d+)\b|(?<!\bat )\b(?:most|least)\b", re.I)),
    ("per group", re.compile(r"\bbreak(?:s|ing)?\b(?:[^.?!\n]|\.(?=\S)){0,60}?\bdown\b|\bbroken down\b|"
                             r"\bper\b(?!\s+(?:the\b|[\w.-]*/|[\w-]+\.[a-z]{2,5}\b))"  # (not "per the retro")
                             r"|\b(?:for each|grouped by|group by)\b", re.I)),
    ("filter", re.compile(r"\bwhich (?:of (?:them|these|those)\b|ones\b|(?!\w+(?:ss|us)\b)[a-z]\w{2,}s\b|"
                          r"(?:[a-z]\w+ ){1,2}(?!\w+(?:ss|us)\b)[a-z]\w{2,}s "
                          r"(?:are|were|have|had|in|of|on|from|that|still)\b|"
                          r"[a-z]\w+(?:'s [a-z]\w+)? (?:failed|succeeded|passed|errored|crashed|timed out|"
                          r"stalled|broke)\b)", re.I)),
)
"""What the request asks to be computed, by its words. "How much was invoiced…", "how much did
Acme pay…", "what is our annual vendor spend…" ask a sum (wide vendor-total: the joiner's model
gave the first row's 18000); "break billing/x.csv down by project" asks per group (a path's dots
are no sentence's end); "how much memory does…" asks what a file states (aimed day-and-acme: the
invoices of a day added up by the joiner's model). A filter is "which" of several ("which
users…", "which of them…", "which action items are…", "which volume's snapshot failed?"): only
a plan that reads nothing but data files is computed for it (one that also reads notes may be
answered from them: "who is on call, and which incidents…")."""
_ASKS_ONE_VALUE = re.compile(r"\b(?:which|what|who|whom|whose|where|when)\b[^?.!\n]*\?", re.I)
"""A question for a value ("From which IP did it come?", "Who owns it?"), not a yes or no."""
_DATA_FILE = re.compile(r"[\w.\-/]+\.(?:csv|tsv|json|jsonl|ndjson|log|syslog|txt|out|prom)\b|"
                        r"(?<![\w.\-])(?:[\w.\-/]+/)?logs?/[\w.\-]+\.\w+\b", re.I)
"""A file whose text may be a table: ``.txt`` and ``.out`` hold a command's saved output (``kubectl get
pods``, ``df -h``: sandbox/table_rows.py reads its aligned columns), ``.prom`` metrics scraped to a
file (a row per sample), a syslog, and any file in a ``log`` or ``logs`` folder (``logs/lb-02.err``)."""
_NOTES = re.compile(r"[\w.\-/]+\.(?:md|markdown)\b", re.I)
"""Markdown notes: their list items are a table's rows (sandbox/table_rows.py), so a request that
asks which items, how many… of notes read alone is computed like one over a data file (aimed
open-items: "Which action items in notes/standup-….md are still open?" was answered from the
file by the joiner's model, every item marked done)."""
_WHOLE_TEXT = frozenset({"content", "text", "json"})
"""Output keys that hold what was read whole (read_file's ``content``, http_get's ``text``)."""
_COMPUTING = frozenset({"matches"})
"""Output keys of tools whose result is computed already (search_files' matches)."""
COMPUTING_GOAL = "Compute from the inputs every value this request asks for:"
"""How the goal of a package dagbot adds to compute the request begins
(:data:`agent.engine.computed_values.GOAL`)."""
FOLLOWS = " (a follow-up to: {request})"
"""What a computing goal adds for a follow-up: the request before it, which says what "that one"
is."""
_MATCHES_ANSWER = frozenset({"count", "filter"})
"""What a search's matches compute: how many lines, which ones; not a sum, an average, a share or
a maximum (aimed day-and-acme: "how much was invoiced on 2026-11-05" searched the day's lines,
and the joiner's model added up their amounts)."""
_STATEMENT = re.compile(r"^\s*(?:select|with)\b", re.I)


def is_computing(node: Mapping[str, Any]) -> bool:
    """Whether ``node`` is a package dagbot added to compute the request (its goal begins as
    :data:`COMPUTING_GOAL`: :mod:`agent.engine.computed_values`'s, or a salvaged plan's)."""
    return str((node.get("package") or {}).get("goal") or "").startswith(COMPUTING_GOAL)


def is_data_file(path: str) -> bool:
    """Whether ``path`` (or a URL) names a file whose content is a table: a CSV, TSV, JSON, JSON
    Lines or log file, or Markdown notes (their items are rows)."""
    return bool(_DATA_FILE.fullmatch(path) or _NOTES.fullmatch(path) or
                _DATA_FILE.fullmatch(path.rsplit("/", 1)[-1]))


def untabled_reads(nodes: Mapping[str, Mapping[str, Any]], inputs: Collection[str]) -> set[str]:
    """The ``inputs`` of a package (node ids; ``nodes`` by id) that read a file holding no table
    (a YAML manifest) when others read data files: a query over the package's one table
    (sandbox/table_query.py) computed nothing from them, so what the request asks of them is
    their reads' to show (aimed memory-and-mail-host: the manifest's read, shown as computed,
    hid its 3Gi, and the answer gave the inventory's 16 as the memory)."""
    paths = {node_id: _read_path(nodes.get(node_id) or {}) for node_id in inputs}
    if not any(path and is_data_file(path) for path in paths.values()):
        return set()
    return {node_id for node_id, path in paths.items() if path and not is_data_file(path)}


def _read_path(node: Mapping[str, Any]) -> str:
    """The path or URL a tool node reads ("" for anything else)."""
    args = node.get("args") or {}
    return str(args.get("path") or args.get("url") or "") if node.get("tool") else ""


def asked_values(request: str) -> list[str]:
    """The kinds of computed value ``request`` asks for: "count", "sum", "average", "share",
    "maximum or minimum", "per group" ("break the depth down by consumer"), "filter"."""
    return [kind for kind, words in _ASKS if words.search(request)]


def uncomputed_reads(plan: Plan, registry: ToolRegistry, request: str,
                     results: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """The nodes of ``plan`` that read a data file whole, when ``request`` asks for a computed
    value and no node of ``plan`` computes one. With the plan's ``results``, a search that matched
    nothing computed nothing ("which of them have MFA off?" searched a JSON file for ``mfa:
    false`` and the joiner picked a name from the file by itself)."""
    asked = asked_values(request)
    nodes = [node for node in plan.nodes
             if not _found_nothing((results or {}).get(node.id)) and not _unasked_query(node, request)
             and not _failed_call(node, results or {})]
    read_whole = {path for node in nodes if (path := _table_read(node, registry, results or {}))}
    if not asked or any(_computes(node, registry, asked, request) and not _searches_one_of(node, read_whole)
                        for node in nodes):
        return []
    reads = [node.id for node in nodes if _table_read(node, registry, results or {})]
    if not reads and nodes and all(_data_file_read(node, registry, _NOTES) for node in nodes):
        reads = [node.id for node in nodes]  # (Markdown notes read alone: their items are rows)
    searches = [node for node in nodes if node.tool == SEARCH_FILES
                and _DATA_FILE.fullmatch(str(node.args.get("pattern") or ""))]
    if asked == ["filter"] and len(reads) + len(searches) < len(nodes):
        return []  # (a search of a data file beside its read is no other source: broad escalated)
    return reads


def _searches_one_of(node: PlanNode, paths: Collection[str]) -> bool:
    """Whether ``node`` searches one of the data files in ``paths``, which the plan also reads
    whole: its matches are lines the joiner's model would pick from ("Which backup runs in
    backups/nightly.log failed?" searched for "failed" beside the read, and the answer named one
    of the two failed runs: nightly failed-runs), where a query over the file's rows is exact."""
    return node.tool == SEARCH_FILES and str(node.args.get("pattern") or "") in paths


_UNFINISHED = ("failed", "skipped")


def computed_nothing(plan: Plan, registry: ToolRegistry, request: str,
                     results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The packages of ``plan`` that no node goes on from and that gave nothing (finished with
    None, an empty list, object or text; or failed, or were skipped for a step that failed),
    when ``request`` asks for a computed value, the plan reads a data file whole and changes
    nothing, and each such package gave nothing: the planner's own code found nothing where a
    query over the file would ("which users have MFA turned off?" compared ``mfa == 'off'`` over
    a file of ``false``), or could not run at all (data manual-certs: a ``filter`` package read
    ``auto_renew`` at the JSON's top, three times, and its ``output`` package was skipped; one
    such package is enough, whatever the others gave), or
    gave a value rewritten from a goal alone (:func:`rewritten_values`) or computed from a package
    that gave nothing (:func:`_fed_nothing`), so dagbot computes the request from the reads before
    the joiner answers from nothing."""
    if not asked_values(request) or not (any(_table_read(node, registry, results) for node in plan.nodes)
                                         or _notes_only(plan, registry)):
        return []
    if _changes(plan, registry):
        return []
    read_by = {dep for node in plan.nodes for dep in node.depends_on}
    finals = [node for node in plan.nodes if node.package is not None and node.id not in read_by]
    blind = rewritten_values(plan.model_dump(), results) | _fed_nothing(plan, results)
    gave_nothing = [node.id for node in finals
                    if _gave_nothing(results.get(node.id) or {}) or node.id in blind]
    # (one that did not run to the end leaves its part of the answer to the joiner's guess:
    # monday top-error-client's "top" failed, and the answer gave another client, and the
    # count of every line another package gave, as the top client's)
    unfinished = [node.id for node in finals if (results.get(node.id) or {}).get("status") in _UNFINISHED]
    return gave_nothing if finals and (len(gave_nothing) == len(finals) or unfinished) else []


def _notes_only(plan: Plan, registry: ToolRegistry) -> bool:
    """Whether every call of ``plan`` reads Markdown notes whole or searches them, and one reads
    them: their items are a table's rows (monday due-before-dec-3: "which open action items in
    retros/….md are due before 2026-12-03?" read the retro and searched it, its packages failed,
    and the answer listed every item of the file)."""
    calls = [node for node in plan.nodes if node.tool is not None]
    reads = [node for node in calls if _data_file_read(node, registry, _NOTES)]
    searches = [node for node in calls if node.tool == SEARCH_FILES
                and _NOTES.fullmatch(str(node.args.get("pattern") or ""))]
    return bool(reads) and len(reads) + len(searches) == len(calls)


def _fed_nothing(plan: Plan, results: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The packages of ``plan`` that go on, at any remove, from a package that finished with
    nothing: a total of an empty list is 0, a value computed from nothing (weekend
    cost-per-project: "break … down by project" filtered ``project == 'your_project'``, a value
    no row holds, and the sum of nothing answered 0 where dagbot's query gives each project's)."""
    packages = {node.id: node.depends_on for node in plan.nodes
                if node.package is not None and not is_computing(node.model_dump())}
    found = {node_id for node_id in packages
             if (result := results.get(node_id) or {}).get("status") == "done" and _gave_nothing(result)}
    return _going_on_from(packages, found) - found


def rewritten_values(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The packages of ``plan`` whose value came from code the reflexion model wrote after the
    planner's failed, from the package's goal alone (its last attempt neither a table query nor
    a runtime mend), or that go on from such a package. A planner's goal is often a word ("sum"):
    aimed day-and-acme's packages read fixed rows of a read that has none, and their rewrites,
    written from "sum", gave the total of every invoice for "how much was invoiced on
    2026-11-05" and for "how much did Acme pay". Its value is no better than none: dagbot's query,
    written for the request, computes it (packages dagbot added for that are never such)."""
    nodes = [node for node in plan.get("nodes") or []
             if isinstance(node, Mapping) and "package" in node and not is_computing(node)]
    found = {str(node.get("id")) for node in nodes
             if _rewritten(node, results.get(str(node.get("id"))) or {})}
    return _going_on_from({str(node.get("id")): [str(dep) for dep in node.get("depends_on") or []]
                           for node in nodes}, found)


def _going_on_from(packages: Mapping[str, Collection[str]], found: set[str]) -> set[str]:
    """``found`` and every package of ``packages`` (id → the nodes it depends on) that goes on
    from one of them, at any remove (a package that reads one that reads one)."""
    reached = set(found)
    for _ in packages:  # (until nothing changes)
        more = {node_id for node_id, deps in packages.items() if set(deps) & reached} - reached
        if not more:
            break
        reached |= more
    return reached


def _rewritten(node: Mapping[str, Any], result: Mapping[str, Any]) -> bool:
    """Whether the code that gave ``node``'s value is the reflexion model's: not the plan's
    (which may run last, after table queries that failed), a runtime mend's or a query."""
    log = [entry for entry in result.get("attempt_log") or [] if isinstance(entry, Mapping)]
    if result.get("status") != "done" or len(log) < 2:
        return False
    last, planned = log[-1], str((node.get("package") or {}).get("code") or "")
    return not last.get("mended_by") and not last.get("query") and str(last.get("code")) != planned


def _gave_nothing(result: Mapping[str, Any]) -> bool:
    status = result.get("status")
    if status == "done":
        return result.get("output") in (None, [], {}, "")
    return status in ("failed", "skipped")


def searched_data_files(plan: Plan, registry: ToolRegistry, request: str,
                        results: Mapping[str, Mapping[str, Any]], before: str = "") -> list[str]:
    """The data files a ``search_files`` of ``plan`` looked through and matched nothing in (or
    any line of a JSON or YAML file), that no node reads whole, when ``request`` asks for a
    computed value and no other node computes one: fresh follow-up-admins asked "which of them
    have MFA off?", searched access/users.json for ``mfa: false`` (the file holds ``"mfa":
    false``) and the joiner picked a name from the earlier turn's read by itself. A search
    matches text, not values: the file is read whole and the request computed from it (dagbot
    adds both nodes). So is a JSON or YAML file a search found lines in: its records take several
    lines, and a matching line is no record (broad escalated). A search of many files (``**/*``)
    looked through the one data file the request names, or else the one the thread's request
    ``before`` it named, when its pattern takes that file in or took in no file at all (aimed
    follow-up-failed-volume: "Which volume's snapshot failed?" after "Show me logs/snapshots.log"
    searched every file for ``snapshot result=failed``). A question for one value ("from which
    IP did it come?") is computed so too: a search for a column's name matches no line of a
    table's values (wide follow-up-login-ip searched the access log for ``ip``)."""
    asked = asked_values(request) or (["lookup"] if _ASKS_ONE_VALUE.search(request) else [])
    if not asked or READ_FILE not in registry:
        return []
    if _changes(plan, registry):
        return []
    nodes = [node for node in plan.nodes if not _found_nothing(results.get(node.id))]
    if any(_computes(node, registry, asked, request) for node in nodes):
        return []
    read = {_data_file_read(node, registry) for node in nodes}
    found: list[str] = []
    for node in plan.nodes:
        pattern = str(node.args.get("pattern") or "")
        if node.tool != SEARCH_FILES or not (_found_nothing(results.get(node.id))
                                             or _RECORDS_SPAN_LINES.search(pattern)):
            continue
        if REFERENCE.search(pattern):
            continue
        output = (results.get(node.id) or {}).get("output") or {}
        nowhere = output.get("files_searched") == 0  # (a pattern that took in no file: "snapshot")
        looked = [pattern] if _DATA_FILE.fullmatch(pattern) else _named_data_file(
            request, before, "*" if nowhere else pattern)
        found += [path for path in looked if path not in read and path not in found]
    return found


def _named_data_file(request: str, before: str, pattern: str) -> list[str]:
    """The one data file ``request`` names (else the one ``before`` names) that a search pattern
    of many files takes in; [] when none or several are named."""
    for text in (request, before):
        named = list(dict.fromkeys(m.group(0) for m in _DATA_FILE.finditer(text)))
        if named:
            return named if len(named) == 1 and fnmatch.fnmatchcase(named[0], pattern or "*") else []
    return []


def _changes(plan: Plan, registry: ToolRegistry) -> bool:
    """Whether a node of ``plan`` calls a red tool."""
    return any(node.tool and node.tool in registry and registry.risk_of(node.tool) is Risk.RED
               for node in plan.nodes)


def _failed_call(node: PlanNode, results: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether ``node`` is a tool's call that failed: a query of a table the database lacks
    computed nothing (monday backup-total-and-largest: ``FROM backups``, and the joiner guessed
    the total)."""
    return node.tool is not None and (results.get(node.id) or {}).get("status") == "failed"


def _found_nothing(result: Mapping[str, Any] | None) -> bool:
    output = (result or {}).get("output")
    return isinstance(output, Mapping) and output.get("matches") == []


def _data_file_read(node: PlanNode, registry: ToolRegistry,
                    files: re.Pattern[str] = _DATA_FILE) -> str | None:
    """The data file (path or URL; ``files``: of Markdown notes) ``node`` reads whole, or None."""
    if node.tool is None or node.tool not in registry or registry.risk_of(node.tool) is not Risk.GREEN:
        return None
    if not (registry.returns_of(node.tool) or frozenset()) & _WHOLE_TEXT:
        return None
    for text in strings(call_args(node)):
        if not REFERENCE.search(text) and (found := files.search(text)):
            return found.group(0)
    return None


def _table_read(node: PlanNode, registry: ToolRegistry,
                results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The data file ``node`` reads whole (:func:`_data_file_read`), or the XML file it read
    whole that turned out a test report (JUnit's: a row per test case, sandbox/table_rows.py):
    "Which test in ci/smoke-2026-11-28.xml ran the longest?" read it and searched it for
    "longest", and the joiner's model gave a suite's time for a test's (weekend slowest-test).
    Other XML (a Maven POM, a server's settings) is no table: what it states is the read's."""
    if (path := _data_file_read(node, registry)) is not None:
        return path
    if (path := _data_file_read(node, registry, _XML)) is None:
        return None
    output = (results.get(node.id) or {}).get("output")
    content = next((output[key] for key in _WHOLE_TEXT if isinstance(output.get(key), str)), None) \
        if isinstance(output, Mapping) else None
    return path if isinstance(content, str) and is_test_report(content) else None


def is_test_report(content: str) -> bool:
    """Whether a file's ``content`` is a JUnit XML report (a row per test case: a table)."""
    return _TEST_REPORT.match(content[:_REPORT_HEAD]) is not None


_XML = re.compile(r"[\w.\-/]+\.xml\b", re.I)
_TEST_REPORT = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*<testsuites?[\s>/]", re.S)
"""A JUnit XML report's start: its declaration and comments, then ``<testsuites`` or ``<testsuite``
(a comment ends at its first ``-->``: one that ran on to a later one made many comments slow)."""
_REPORT_HEAD = 4096
"""How much of a file's start is looked at for a report's root."""


def _computes(node: PlanNode, registry: ToolRegistry, asked: list[str], request: str) -> bool:
    """Whether ``node`` computes what is ``asked`` (a search's matches: only a count or a filter;
    a query: of a table the request names)."""
    if node.package is not None:
        return True
    if node.tool is None or node.tool not in registry:
        return False
    if _unasked_query(node, request):
        return False
    returns = registry.returns_of(node.tool)
    if returns is None and registry.risk_of(node.tool) is Risk.GREEN:
        return True  # a tool of unknown output (an MCP server's query, say) may compute it
    if (returns or frozenset()) & _COMPUTING:
        in_records = _RECORDS_SPAN_LINES.search(str(node.args.get("pattern") or ""))
        return set(asked) <= _MATCHES_ANSWER and not in_records
    return any(_STATEMENT.match(text) for text in strings(call_args(node)))


def _unasked_query(node: PlanNode, request: str) -> bool:
    """Whether ``node`` queries a database (no file) only in tables ``request`` names no word of."""
    statements = [text for text in strings(call_args(node)) if _STATEMENT.match(text)]
    return bool(statements) and not _read_path(node.model_dump()) \
        and all(_unnamed_tables(statement, request) for statement in statements)


_FROM_TABLE = re.compile(r"\b(?:from|join)\s+[\"`\[]?([a-z_]\w*)", re.I)
_PREFIX = 5
"""How much of a table's name a word of the request shares to name it ("deployments": deploys)."""


def _unnamed_tables(statement: str, request: str) -> bool:
    """Whether each table ``statement`` selects from is one ``request`` names no word of: a query
    of a database's ``deploys`` for "Which resources will terraform/plan.txt destroy?" (monday
    destroyed-resources) computes nothing the request asks, and the file's read was left to the
    joiner's model, which listed a created bucket among what will be destroyed."""
    tables = {table.lower() for table in _FROM_TABLE.findall(statement)}
    words = {word.lower() for word in re.findall(r"[a-z_]\w*", request, re.I)}
    return bool(tables) and not any(word == table or (len(word) >= _PREFIX and len(table) >= _PREFIX
                                                      and word[:_PREFIX] == table[:_PREFIX])
                                    for table in tables for word in words)


_RECORDS_SPAN_LINES = re.compile(r"\.(?:json|ya?ml|toml)$", re.I)
"""A file whose records take several lines: a search's matching line is no record (broad
escalated: a search of data/tickets.json for "escalated" matched ``"escalated": true,
"assignee": "Mateo"},``, lines without the tickets' keys, and the joiner could only guess them)."""
