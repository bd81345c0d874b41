"""The values in a plan's SQL are the request's.

A plan is written before anything is read, so the only values its SQL can know are those the
request (or the thread) gives. "Record in the deploys table that search 1.8.1 was deployed on
2026-11-23 with status ok" was planned as ``INSERT … VALUES ('database', '1.8.1', …)``: a
service nobody named, recorded after an approval; "how many deploys are in the deploys table?"
as ``SELECT count(*) FROM deploys WHERE status = 'ok'``: a filter nobody asked for, and a wrong
count. So each quoted value in a literal SQL statement (an argument that starts as one:
SELECT … FROM, WITH x AS (, INSERT INTO, UPDATE x SET, DELETE FROM), in any node, must be
found in the request or the thread (as text, or as the same words: 'failed' for "failed",
``'%checkout%'`` for "checkout"); otherwise the repair round is told which value and why. A repaired plan that
still uses it runs as it is (the value may be how the database spells what was asked), but for
a read-only query's filter on such a value (``WHERE status = 'ok'``, kept by the repair round for
"how many deploys are in the deploys table?"): a guess at what nobody asked, which is left out
(:func:`without_unnamed_filters`); a change's values are the approver's to see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from agent.errors import PlanProblem
from agent.plan.edges import call_args
from agent.plan.format import Plan
from agent.tools.registry import Risk, ToolRegistry

_STATEMENT = re.compile(r"^\s*(?:select\b.*\bfrom\b|with\s+\w+\s+as\s*\(|insert\s+into\b|"
                        r"update\s+\S+\s+set\b|delete\s+from\b|replace\s+into\b)", re.I | re.S)
"""A statement, not a sentence that starts with its verb ("select the best one")."""
_QUOTED_VALUE = re.compile(r"'((?:[^']|'')*)'")
_LIKE_WILDCARDS = re.compile(r"[%_]+")
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def unnamed_sql_values(plan: Plan, registry: ToolRegistry, request: str,
                       known: Iterable[Any] = ()) -> list[PlanProblem]:
    """Problems for quoted values in nodes' literal SQL that neither the request nor
    ``known`` (the thread's earlier runs, this request's results) names."""
    return [PlanProblem(node_id, f"args.{arg}", (
        f"uses the value '{value}', which neither the request nor the thread names: a plan is written "
        "before anything is read, so its SQL may use only the values the request gives (leave out a "
        "filter it does not ask for)")) for node_id, arg, value in _unnamed(plan, registry, request, known)]


def _unnamed(plan: Plan, registry: ToolRegistry, request: str,
             known: Iterable[Any]) -> list[tuple[str, str, str]]:
    """Each quoted value nobody named, with its node and argument."""
    said = f"{request}\n{json.dumps(list(known), default=str, ensure_ascii=False)}".lower()
    said_words = set(_words(said))
    found = []
    for node in plan.nodes:
        if node.tool is None or node.tool not in registry:
            continue
        text_args = registry.text_args(node.tool)
        for arg, value in sorted({(a, v) for call in call_args(node) for a, v in call.items()
                                  if a in text_args and isinstance(v, str) and _STATEMENT.match(v)}):
            for literal in sorted(set(_QUOTED_VALUE.findall(value))):
                meant = _LIKE_WILDCARDS.sub(" ", literal.replace("''", "'")).strip()
                if meant and "${" not in meant and not _named(meant, said, said_words):
                    found.append((node.id, arg, meant))
    return found


def _named(value: str, said: str, said_words: set[str]) -> bool:
    terms = _words(value)
    return value.lower() in said or (bool(terms) and all(term in said_words for term in terms))


_READING = re.compile(r"^\s*(?:select|with)\b", re.I)
_CLAUSE_END = r"(?=\s*(?:\bGROUP\s+BY\b|\bORDER\s+BY\b|\bHAVING\b|\bLIMIT\b|;|\)|$))"


def without_unnamed_filters(plan: Plan, registry: ToolRegistry, request: str,
                            known: Iterable[Any] = ()) -> Plan:
    """``plan`` with each condition of a read-only query that compares a column with a value
    nobody named (:func:`unnamed_sql_values`) left out of its WHERE clause (``AND`` one of
    several, or the clause it stands alone in; one inside an ``OR`` stays)."""
    nodes = {node.id: node for node in plan.nodes}
    for node_id, arg, value in _unnamed(plan, registry, request, known):
        node = nodes[node_id]
        sql = node.args.get(arg) if node.each is None else None
        if isinstance(sql, str) and _READING.match(sql) and registry.risk_of(node.tool or "") is Risk.GREEN:
            unfiltered = _without_condition(sql, value)
            nodes[node_id] = node.model_copy(update={"args": {**node.args, arg: unfiltered}})
    mended = [nodes[node.id] for node in plan.nodes]
    return plan if mended == plan.nodes else plan.model_copy(update={"nodes": mended})


def _without_condition(sql: str, value: str) -> str:
    quoted = re.escape(value.replace("'", "''"))
    condition = (r"""(?:"[^"]+"|`[^`]+`|[A-Za-z_][\w.]*)\s*(?:==?|!=|<>|(?:NOT\s+)?LIKE)\s*"""
                 rf"""'[%_]*{quoted}[%_]*'""")
    for pattern in (rf"\s+AND\s+{condition}(?!\s+OR\b)", rf"(?<=WHERE\s){condition}\s+AND\s+(?!.*?\bOR\b)",
                    rf"\s*\bWHERE\s+{condition}{_CLAUSE_END}"):
        changed, count = re.subn(pattern, "", sql, count=1, flags=re.I | re.S)
        if count:
            return changed
    return sql
