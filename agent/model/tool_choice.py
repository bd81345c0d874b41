"""Which tools the planner is shown in full when a deployment has many (a few MCP servers
connected make dozens).

Up to :data:`CHOOSE_ABOVE` tools whose descriptions fit a quarter of the prompt's budget, the
planner is shown every tool, as it always was. Past that it is shown, in full, the tools that
matter for the request, and the others' names on one line (``Also available (ask by name):
…``): a plan may still call any of them, and is validated against the whole registry, each
call's arguments against its tool's full schema. Always shown:

- the tools the thread called before (a follow-up goes on with them), and this request's plan's
  (a replan, a repair round: the draft's tools, so their arguments can be fixed);
- a tool the request, the replan's feedback or the draft's problems name (``git__git_log``, or
  ``git_log`` for an MCP tool).

The rest are ranked by BM25 (Okapi, Lucene's idf) of the request against each tool's name,
description and argument names, and shown best first while they score, up to :data:`SHOWN`
tools and the quarter of the budget. ``bench.tool_selection`` measures how often the tool a
request needs is shown.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.state import AgentState
from agent.tools.registry import ToolRegistry, ToolSpec

CHOOSE_ABOVE = 20
"""Tools shown all, as they are, up to this many (and while they fit :data:`TOOLS_SHARE`)."""
TOOLS_SHARE = 4
"""The tools' descriptions take at most 1/TOOLS_SHARE of the prompt's budget once chosen."""
SHOWN = 12
"""Tools shown in full at most, besides those always shown."""
K1, B = 1.2, 0.75
"""BM25's term-frequency saturation and length normalisation (the usual values)."""

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP_WORDS = ("a an the and or of to in on for from with by at as is are be it its this that these "
               "those what which who how me my our your we i you please can could would should do "
               "does did all any some there then than into out about")
_STOP = frozenset(_STOP_WORDS.split())
_SUFFIXES = ("ing", "ies", "es", "ed", "s")


@dataclass(frozen=True)
class ToolChoice:
    shown: tuple[str, ...]
    """The tools described in full, in the registry's order."""
    also: tuple[str, ...] = ()
    """The others, by name only (empty: every tool is shown)."""


def words(text: str) -> list[str]:
    """``text`` as BM25's terms: lower case, split at non-letters and camelCase, stop words
    left out, a plural's or a verb's ending cut (``pods`` and ``pod``, ``staged`` and ``stage``
    are one term)."""
    found = []
    for word in _WORD.findall(_CAMEL.sub(" ", text).lower()):
        if word in _STOP:
            continue
        for suffix in _SUFFIXES:
            if len(word) > len(suffix) + 2 and word.endswith(suffix):
                word = word[:-len(suffix)] + ("y" if suffix == "ies" else "")
                break
        if len(word) > 3 and word.endswith("e"):  # stage, staged, staging: one term
            word = word[:-1]
        found.append(word)
    return found


def bm25(query: Sequence[str], documents: Sequence[Sequence[str]]) -> list[float]:
    """Each document's BM25 score for ``query`` (terms, as :func:`words` makes them)."""
    if not documents:
        return []
    count = len(documents)
    average = sum(map(len, documents)) / count or 1.0
    frequency = Counter(term for document in documents for term in set(document))
    idf = {term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in frequency.items()}
    scores = []
    for document in documents:
        tf = Counter(document)
        norm = K1 * (1 - B + B * len(document) / average)
        scores.append(sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in query if t in tf))
    return scores


def tool_terms(spec: ToolSpec) -> list[str]:
    """What a tool is found by: its name (twice: the name says most), its description and its
    arguments' names."""
    schema = spec.json_schema()
    arguments = " ".join(schema.get("properties") or {})
    return words(spec.name.replace("_", " ")) * 2 + words(f"{spec.description} {arguments}")


def choose_tools(registry: ToolRegistry, query: str, keep: Iterable[str] = (), *,
                 size: Callable[[ToolSpec], int], budget: int, shown: int = SHOWN) -> ToolChoice:
    """The tools to describe for a request (``query``: its text and what else it is planned
    from), ``keep`` shown whatever their score; ``size``: a tool's description's characters in
    the prompt; ``budget``: the characters the descriptions may take. See the module."""
    specs = list(registry)
    if len(specs) <= CHOOSE_ABOVE and sum(map(size, specs)) <= budget:
        return ToolChoice(tuple(s.name for s in specs))
    chosen = {name for name in keep if name in registry} | named_in(query, registry.names())
    room = budget - sum(size(registry.get(name)) for name in chosen)
    ranked = sorted(zip(bm25(words(query), [tool_terms(s) for s in specs]), specs, strict=True),
                    key=lambda pair: -pair[0])
    picked = 0
    for score, spec in ranked:
        if score <= 0 or picked >= shown:
            break
        if spec.name in chosen or size(spec) > room:
            continue
        chosen.add(spec.name)
        room -= size(spec)
        picked += 1
    return ToolChoice(tuple(s.name for s in specs if s.name in chosen),
                      tuple(s.name for s in specs if s.name not in chosen))


def named_in(text: str, names: Collection[str]) -> set[str]:
    """The tools ``text`` names: whole names, or an MCP tool's name on its server (the part
    after ``__``) when it is a name of two words or more (``git_log``, not ``log``)."""
    found = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return {name for name in names
            if name in found or ("__" in name and "_" in (short := name.split("__", 1)[1])
                                 and short in found)}


def planned_tools(state: AgentState) -> set[str]:
    """The tools the thread called before, and this request's plan's and draft's."""
    names = {str(call.get("tool")) for run in state.get("history", [])
             for call in (run.get("calls") or {}).values()}
    names |= {str(node.get("tool")) for node in (state.get("plan") or {}).get("nodes") or []}
    return (names | _draft_tools(state.get("draft"))) if state.get("plan_problems") else names


def _draft_tools(draft: Any) -> set[str]:
    """The keys and ``tool`` values of a draft's nodes (any shape: it may be invalid)."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    found: set[str] = set()
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict):
            found |= {str(key) for key in node} | {str(node.get("tool"))}
    return found


def planner_query(state: AgentState) -> str:
    """What the tools are chosen for: the request, a replan's feedback, a draft's problems."""
    return "\n".join([state["request"], state.get("feedback") or "", *(state.get("plan_problems") or [])])
