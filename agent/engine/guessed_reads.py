"""A file the plan guessed, and that is not there, is looked for before anything is answered.

"Somewhere in the workspace a config sets statement_timeout_ms. Find it and tell me the value."
was planned as one ``read_file`` of ``config.yaml``, a path neither the request nor the thread
names; no such file exists, and the answer was that failure (bench nightly
find-statement-timeout): the joiner's model did not ask for the replan it was offered. A read
of a path nobody named that failed for want of the file is a guess that missed, not a finding:
when the request names no file of its own that way either, and a search tool is there, the
joiner plans again first, told that the path was a guess and to search for what the request
names. A read of a file the request (or the thread) names that is not there is the answer ("it
does not exist"), and is left alone. When the plan's own search found lines in a few files
nothing read (evening find-size-limit: a search for "mail" found mail/main.cf while the read
guessed config.yaml, and the replan searched for "biggest"), the replan is told to read those;
when another of its reads (a page, a query) found something, the joiner answers from that
(tuning follow-up-read: beside releases.json's GET, a guessed changes.json sent the run to
search for "changed", and the answer was the turn before's). A listing of a guessed folder that
matched no file is such a guess too ("Somewhere in the workspace a change moves the sessions cache
to another node type" was planned as ``list_files`` of ``sessions/cache/*``, and the answer made
up a file and two types: monday find-sessions-type).
Only while replans are left, and never when a human rejected something of this plan: the replan
is the joiner's, bounded as its own are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.engine.unread_finds import read_nodes, unread_found_files
from agent.plan.named_files import READ_FILE, SEARCH_FILES, named_files

LIST_FILES = "list_files"
_FINDERS = frozenset({SEARCH_FILES, LIST_FILES})
"""Tools that find where things are, not what they hold: a listing beside the guess found nothing."""
_GUESSED_FOLDER = re.compile(r"[\w.-]+/")
"""A listing's pattern that starts with a folder's name (``sessions/cache/*``), not with a
wildcard (``*.md``: every such file, none of them guessed)."""
_NO_FILE = "there is no file '"
"""How read_file says a path holds no file (agent/tools/files.py)."""


def guessed_reads(request: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                  earlier: Iterable[Any] = (), tools: Iterable[str] = ()) -> str | None:
    """The replan's feedback when reads of paths nobody named found no file there (``results``:
    this request's, ``earlier``: the thread's runs and requests); else None."""
    if SEARCH_FILES not in set(tools) or named_files(request):
        return None
    held = json.dumps(list(earlier), default=str)
    missed = []
    which_file = _WHICH_FILE.search(request) is not None
    for node in plan.get("nodes") or []:
        result = results.get(node.get("id")) or {}
        path = (node.get("args") or {}).get("path")
        unnamed = isinstance(path, str) and path not in request and path not in held
        if node.get("tool") == READ_FILE and result.get("status") == "failed" and unnamed \
                and str(result.get("error") or "").startswith(_NO_FILE):
            missed.append((path, str(result["error"])))
        elif node.get("tool") == READ_FILE and result.get("status") == "done" and unnamed and which_file \
                and _search_word(request) not in json.dumps(result.get("output"), default=str).lower():
            return (f"The plan read '{path}', a path nobody named, as if it were the file the request asks "
                    f"to find, and it does not say '{_search_word(request)}'. Find the file first: plan a "
                    f"{SEARCH_FILES} node for a word the request names, {search_example(request)}, then "
                    "read the files it finds.")
        pattern = (node.get("args") or {}).get("pattern")
        output = result.get("output")
        if node.get("tool") == LIST_FILES and result.get("status") == "done" and isinstance(pattern, str) \
                and _GUESSED_FOLDER.match(pattern) and isinstance(output, Mapping) \
                and output.get("files") == [] and pattern not in request and pattern not in held:
            missed.append((pattern, "no file matches it"))
    if not missed:
        return None
    told = "; ".join(f"'{path}' ({error})" for path, error in missed)
    if found := unread_found_files(plan, results, earlier):  # (the plan's own search found where it is)
        return (f"No file is at the path the plan guessed: {told}. The plan's search found lines in "
                f"{', '.join(found)}, which nothing read: plan the node {read_nodes(found)} and answer from "
                "its content.")
    if any(node.get("tool") and node.get("tool") not in _FINDERS and (results.get(node.get("id")) or {}).get(
            "status") == "done" for node in plan.get("nodes") or []):
        return None  # (another read found something: the joiner answers from it, and tells the miss)
    return (f"No file is at the path the plan guessed: {told}. The request names no file, so find "
            f"what it asks about first: plan a {SEARCH_FILES} node for a word the request names, "
            f"{search_example(request)}, or read a file the error suggests if it is plainly the one meant.")


_WHICH_FILE = re.compile(
    r"(?i)\b(?:which|what) (?:file|config)\b|\bone of the (?:workspace(?:'s)? )?files\b|\bsomewhere in the "
    r"workspace\b|\bfind (?:it|the file|where)\b")
"""A request that asks to find the file that holds something: a read of a path it does not give is
a guess ("One of the workspace files says which Kafka consumer group the worker deployment reads
with. Find it…" was planned as a read of ``inventory/buckets.json``, and answered with its
buckets: tuesday find-worker-group-lag), where the file read does not say the word a search would
be for (``kafka``)."""


_MISSING_TARGET = re.compile(
    r"there is no file '(?P<file>[^']+)'|has no table '(?P<table>[^']+)'|no such table: (?P<bare>[\w.]+)")
"""How read_file and sql_query say that what they were pointed at is not there."""


def missing_named(request: str, results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The files and tables the request names that a step of the plan found missing, where every
    step that failed failed so: that is the answer, and no replan should look elsewhere. "In the
    SQL database, how many rows of the dag_runs table have state 'failed'?" failed with "the
    database has no table 'dag_runs'"; the joiner's model planned again, read a
    ``data/dag_runs.csv`` nobody named, searched for it, and answered that no row had failed
    (tuesday missing-dag-runs-table). [] when a step failed otherwise, or none did."""
    failed = [str(result.get("error") or "") for result in results.values()
              if result.get("status") == "failed"]
    found = [match for error in failed if (match := _MISSING_TARGET.search(error)) is not None]
    if not failed or len(found) != len(failed):
        return []
    said = [match.group("file") or str(match.group("table") or match.group("bare")).split(".")[-1]
            for match in found]  # (a table's schema aside)
    named = [name for name in said
             if re.search(rf"(?<![\w/.-]){re.escape(name)}(?![\w-]|\.\w)", request, re.I)]
    return named if len(named) == len(found) else []


def missing_reply(results: Mapping[str, Mapping[str, Any]]) -> str:
    """dagbot's own answer when each step failed for what the request names being missing
    (:func:`missing_named`) and none did anything else: what each step's tool said is missing, in
    its own words (a database's, up to the advice it gives the planner: "…; a workspace file is
    read with read_file"; a file's with the names most like it: "did you mean …?")."""
    errors = [str(result.get("error") or "").strip() for result in results.values()
              if result.get("status") == "failed"]
    said = dict.fromkeys(error.split(";")[0].rstrip(".") + "." if "has no table" in error else error
                         for error in errors)
    return "\n".join(f"{text[:1].upper()}{text[1:]}" for text in said if text)


def search_example(request: str) -> str:
    """A ``search_files`` node to copy, for the word of ``request`` most likely written in the file
    that holds what it asks (a name with an underscore or a digit first, ``statement_timeout_ms``;
    else its first word that is no question's or request's word, ``cache``), all in lower case so
    that it matches any case. Told "(pattern '**/*')", the 1.5B model searched for ``**/*`` as
    text (morning find-cache-ttl); a node to copy it follows."""
    return json.dumps({"id": "find", SEARCH_FILES: {"query": _search_word(request)}})


def _search_word(request: str) -> str:
    """The word of ``request`` :func:`search_example` searches for."""
    words = [w.lower().strip("-_.") for w in _WORD.findall(request)]
    named = [w for w in words if ("_" in w or any(c.isdigit() for c in w)) and w not in _COMMON]
    plain = [w for w in words if w not in _COMMON and len(w) > 3]
    return (named or plain or ["error"])[0]


_WORD = re.compile(r"[A-Za-z][\w.-]*[A-Za-z0-9]")
_COMMON = frozenset({
    "about", "after", "again", "also", "another", "anything", "are", "been", "before", "being", "between",
    "both", "but", "can", "could", "did", "does", "done", "each", "either", "else", "every", "find",
    "from", "have", "here", "how", "into", "its", "just", "know", "last", "long", "many", "more", "most",
    "much", "must", "need", "once", "only", "other", "over", "please", "really", "same", "see", "set",
    "sets", "setting", "settings", "should", "show", "some", "somewhere", "still", "such", "tell", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "value",
    "values", "very", "want", "was", "well", "were", "what", "when", "where", "which", "while", "who",
    "whom", "whose", "why", "will", "with", "would", "you", "your", "configs", "config", "file", "files",
    "folder", "workspace", "something", "things", "thing", "one", "ones", "list", "check", "give", "count",
    "times", "print", "total", "average", "number", "look", "search", "read", "write", "send", "email",
    "mail", "get", "sum", "keep", "kept", "take", "takes", "make", "makes", "use", "used", "uses", "run",
    "runs", "say", "says", "said", "mention", "mentions", "change", "changes", "move", "moves", "biggest",
    "largest", "smallest", "longest", "shortest"
})
"""Words of a question or a request (its verbs too: list, check, count), not of what it asks about."""
