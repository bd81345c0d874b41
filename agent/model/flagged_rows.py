"""The rows a yes/no field the request names marks, shown to the joiner beside the results.

"…and which rules in grafana/alert-rules.yaml are paused?" was answered with every rule of the
file (monday nginx-kill-and-paused): five rules, each with ``isPaused: true`` or ``false`` a few
lines below its ``uid``, and a small joiner listed the uids. Which rows a yes/no field marks is
no judgement: when a request asks which or what, and a table a step read whole (a YAML or JSON
document's lists of objects, JSON Lines, CSV) has a field of true and false values whose words
the request says ("paused": ``isPaused``, ``paused``; "not paused" or "unpaused": the others),
the joiner is shown the rows it marks so, by their own fields, beside the results. Not when a
package of the plan finished: its values answer, and may keep fewer rows than the field alone
("the unpaid invoices over $2,000").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.model.named_rows import Results, cell_text, read_tables, reads
from agent.plan.uncomputed import asked_values

_ASKS_WHICH = re.compile(r"\b(?:which|what|list|show|name)\b", re.I)
_LEADS = frozenset({"is", "has", "was", "are", "enabled_if"})
"""Words a yes/no field's name begins with that say nothing of what it marks (``isPaused``)."""
_BOUNDED = re.compile(r"\b(?:over|under|above|below|before|after|since|until|more than|less than|at least|"
                      r"at most|between|than)\b", re.I)
"""A bound beside the field ("the unpaid invoices over $2,000", "renewed before 2026-11-20"): the rows
it marks are more than those asked, so none are shown."""
_PATHS = re.compile(r"\S+/\S+|\S+\.[a-z]{2,5}\b")
_TRUTHS = {"true": True, "yes": True, "false": False, "no": False}
_MOST_SHOWN = 12
_SHOWN_CELLS = 4


@dataclass(frozen=True)
class Flagged:
    """The rows of one table whose yes/no field ``column`` is ``marked``."""

    path: str
    table: str
    column: str
    marked: bool
    rows: tuple[Mapping[str, Any], ...]
    of: int

    def lines(self) -> list[str]:
        where = f"{self.path} ({self.table})" if self.table else self.path
        head = (f"- {where}: {self.column} is {str(self.marked).lower()} in {len(self.rows)} of its "
                f"{self.of} rows" + (":" if self.rows else "."))
        return [head, *(f"  - {_cells(row, self.column)}" for row in self.rows[:_MOST_SHOWN])]


def flagged_rows(request: str, plan: Mapping[str, Any], results: Results) -> list[Flagged]:
    """For each table the plan's steps read whole, the rows a yes/no field ``request`` names
    marks as it asks (true, or false when it says "not …" or "un…"); none unless it asks which."""
    if not _ASKS_WHICH.search(request) or _computed(plan, results) or _bounded(request):
        return []
    found: dict[tuple[str, str, str], Flagged] = {}
    for path, content in reads(plan, results):
        for table, rows in read_tables(path, content):
            for column in _flag_columns(rows):
                marked = _asked_truth(column, request)
                if marked is None:
                    continue
                kept: tuple[Mapping[str, Any], ...] = tuple(
                    row for row in rows if _truth(row.get(column)) is marked)
                # (the lists at one place of the file are one table: each group's rules)
                if (before := found.get((path, table, column))) is not None:
                    kept, of = before.rows + kept, before.of + len(rows)
                else:
                    of = len(rows)
                found[(path, table, column)] = Flagged(path, table, column, marked, kept, of)
    return list(found.values())


def flagged_rows_section(request: str, plan: Mapping[str, Any], results: Results) -> str:
    """The joiner's prompt section for :func:`flagged_rows` ("" when there are none)."""
    flagged = flagged_rows(request, plan, results)
    if not flagged:
        return ""
    lines = [line for each in flagged for line in each.lines()]
    return "## Rows of the results marked as the request asks (each as the file has it)\n" + "\n".join(lines)


def _bounded(request: str) -> bool:
    """Whether ``request`` asks more of the rows than the field: a bound ("over $2,000"), or a
    count, a sum, a share, the most or least of them (the biggest unpaid invoice)."""
    return bool(_BOUNDED.search(_PATHS.sub(" ", request)) or set(asked_values(request)) - {"filter"})


def _computed(plan: Mapping[str, Any], results: Results) -> bool:
    """Whether a package of the plan finished: its values, not the rows, are the answer's (they
    may keep fewer rows than the flag alone: "the unpaid invoices over $2,000")."""
    return any("package" in node and (results.get(str(node.get("id"))) or {}).get("status") == "done"
               for node in plan.get("nodes") or [] if isinstance(node, Mapping))


def _flag_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The columns whose every value is a truth (true/false, yes/no)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    flags = []
    for column in columns:
        truths = [_truth(row.get(column)) for row in rows]
        if truths and all(t is not None for t in truths):
            flags.append(column)
    return flags


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return _TRUTHS.get(value.strip().lower()) if isinstance(value, str) else None


def _asked_truth(column: str, request: str) -> bool | None:
    """True when ``request`` says the words of ``column`` (``isPaused``: "paused"), False when it
    says them negated ("not paused", "unpaused", "isn't paused"), None when it says none."""
    name = column.rpartition(".")[2]
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")
    words = [word for word in spaced.lower().split() if word not in _LEADS]
    if not words:
        return None
    said = r"\s+".join(re.escape(word) for word in words)
    lowered = request.lower()
    if re.search(rf"(?:\b(?:not|no|without|lacking)\s+|n't\s+|\bun)(?:\w+\s+)?{said}\b", lowered) or \
            re.search(rf"(?<![\w-]){said}\s+(?:\w+\s+)?(?:off|disabled|missing)\b", lowered):
        return False  # ("not patched", "haven't paid", "unpaid", "MFA turned off")
    return True if re.search(rf"(?<![\w-]){said}(?![\w-])", lowered) else None


def _cells(row: Mapping[str, Any], column: str) -> str:
    """The row by its first few fields (the flag itself left out)."""
    cells = [f"{key}: {cell_text(value)}" for key, value in row.items()
             if key != column and value not in (None, "") and not isinstance(value, bool)]
    return ", ".join(cells[:_SHOWN_CELLS])
