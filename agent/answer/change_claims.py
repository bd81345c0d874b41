"""Answers that claim a change no step made.

Only red nodes change anything. A model that was asked to write or send something, and whose
plan did not, may still answer "Done: written to report.md" (a small model often does, having
bundled the write into a package that cannot make it). The joiner's prompt lists the changes
made; when none was made and the answer still says one was, the answer gets a note saying so,
so nobody in the thread takes the claim for a fact.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from agent.plan.references import strings

_CLAIM = re.compile(r"\b(?:wrote|written|saved|stored|sent|emailed|mailed|created|updated|deleted|removed|"
                    r"restarted|deployed|recorded|inserted|posted|appended)\b", re.I)
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|unable|failed|rejected|declined|without|nothing)\b|n't\b",
                       re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

ASK_AGAIN_NOTE = "_Ask again to have it done; it will ask for approval first._"
NO_CHANGE_NOTE = ("_Nothing was changed: no step of this request wrote, sent or changed anything. "
                  f"{ASK_AGAIN_NOTE.strip('_')}_")


def says(text: str, claim: str | re.Pattern[str]) -> bool:
    """Whether a sentence of ``text`` matches ``claim`` (any case) and does not deny it."""
    pattern = re.compile(claim, re.I) if isinstance(claim, str) else claim
    return any(pattern.search(s) and not _NEGATION.search(s) for s in _SENTENCE.split(text))


def claims_a_change(answer: str) -> bool:
    """Whether a sentence of ``answer`` says something was written, sent or changed (and does
    not say it was not)."""
    return says(answer, _CLAIM)


def changes_made(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                 red_tools: Collection[str]) -> int:
    """How many red nodes of ``plan`` ran to their end."""
    return sum(1 for node in plan.get("nodes") or []
               if node.get("tool") in red_tools and results.get(node.get("id"), {}).get("status") == "done")


def with_no_change_note(answer: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                        red_tools: Collection[str]) -> str:
    """``answer``, with :data:`NO_CHANGE_NOTE` when it claims a change and no red node ran."""
    if changes_made(plan, results, red_tools) or not claims_a_change(answer):
        return answer
    return f"{answer}\n\n{NO_CHANGE_NOTE}"


_SAYS_NO_ROWS = re.compile(r"\b(?:no|0|zero|none of the) (?:rows?|records?|entries)\b|\bmatched no\b|"
                           r"\bchanged nothing\b|\bnothing was changed\b", re.I)
_ROW_CHANGE = re.compile(r"^\s*(?:UPDATE|DELETE)\b", re.I)
"""A statement that changes rows a ``WHERE`` picks (not DDL, whose ``rowcount`` says nothing)."""


def with_no_rows_note(answer: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]],
                      red_tools: Collection[str]) -> str:
    """``answer``, with a note naming each red node that ran and changed no row (its result's
    ``rowcount`` 0: an ``UPDATE`` or ``DELETE`` whose ``WHERE`` matched none), unless the answer
    says so itself. "Record in the deploys table that search 1.8.1 was deployed…" was planned as
    an ``UPDATE`` of rows that did not exist, and the answer said "update: sql_execute done"
    (tuning record-deploy, behind an external server): done, and nothing recorded."""
    idle = [str(node.get("id")) for node in plan.get("nodes") or []
            if node.get("tool") in red_tools and (result := results.get(str(node.get("id"))) or {}).get(
                "status") == "done" and isinstance(result.get("output"), Mapping)
            and result["output"].get("rowcount") == 0
            and any(_ROW_CHANGE.match(text) for text in strings(node.get("args")))]
    if not answer or not idle or _SAYS_NO_ROWS.search(answer):
        return answer
    named = ", ".join(f"`{node_id}`" for node_id in idle)
    which = "its statement" if len(idle) == 1 else "their statements"
    return f"{answer}\n\n_{named} ran and changed no row: {which} matched none._"

