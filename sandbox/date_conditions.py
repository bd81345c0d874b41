"""A date the request bounds ("before 2026-11-20", "past due on 2026-11-24", "since 2026-11-22")
compared in the query as the request bounds it: a mend in place, from the request's words alone.

The 1.5B query writer copies the request's date into the query as an equality: "everything
unpaid and already past due on 2026-11-24" was written ``WHERE due = '2026-11-24'`` (morning
overdue-to-file), which keeps the invoices due that very day (none) instead of those due before
it. The words before the date say which side of it the request means; the query's comparison of
a column with that same date is given that operator (``due < '2026-11-24'``). A date the request
names with no such word ("the backups on 2026-11-22") is left as the query has it.
"""

from __future__ import annotations

import datetime
import re

_ISO_DATE = r"\d{4}-\d\d-\d\d"
_BOUNDS: tuple[tuple[str, str], ...] = (
    (r"on\s+or\s+before|no\s+later\s+than|up\s+to(?:\s+and\s+including)?|until|till|through", "<="),
    (r"on\s+or\s+after|since|starting(?:\s+from)?", ">="),  # ("from" alone: "the logs from" a day)
    (r"before|prior\s+to|earlier\s+than|older\s+than|(?:past|over)\s*due\s+(?:on|as\s+of|by)"
     r"|overdue\s+(?:on|as\s+of|by)", "<"),
    (r"after|later\s+than|newer\s+than|beyond", ">"),
)
"""The words that bound a date, each with the operator a column is compared with it by."""
_BOUNDED = re.compile(rf"\b(?P<words>{'|'.join(f'(?:{w})' for w, _ in _BOUNDS)})\s+(?:the\s+)?"
                      rf"(?P<date>{_ISO_DATE})\b", re.IGNORECASE)
_COMPARED = re.compile(rf"""(?P<column>(?<![\w.])(?:"[^"]+"|`[^`]+`|[A-Za-z_]\w*))\s*"""
                       rf"""(?P<op>==?|!=|<>|<=|>=|<|>|\bLIKE\b)\s*'(?P<date>{_ISO_DATE})(?P<rest>[^']*)'""",
                       re.IGNORECASE)


def bounded_dates(request: str) -> dict[str, str]:
    """Each ISO date the request bounds, with the operator it bounds it by ("before 2026-11-20":
    ``<``); a date bounded two ways is left out."""
    found: dict[str, set[str]] = {}
    for match in _BOUNDED.finditer(request):
        words = re.sub(r"\s+", " ", match["words"].lower())
        op = next(op for pattern, op in _BOUNDS if re.fullmatch(pattern, words, re.IGNORECASE))
        found.setdefault(match["date"], set()).add(op)
    return {date: next(iter(ops)) for date, ops in found.items() if len(ops) == 1}


def dates_as_bounded(request: str, sql: str) -> str | None:
    """``sql`` with each comparison of a column with a date the request bounds given the
    request's operator (``due = '2026-11-24'`` → ``due < '2026-11-24'`` for "past due on
    2026-11-24"; ``ts LIKE '2026-11-22%'`` → ``ts >= '2026-11-22'`` for "since 2026-11-22"); a
    time of day the query adds after the date is kept. None when it compares none otherwise."""
    bounds = bounded_dates(request)
    if not bounds:
        return None

    def bounded(match: re.Match[str]) -> str:
        wanted = bounds.get(match["date"])
        rest = match["rest"]
        if wanted is None or (match["op"] == wanted and not rest.startswith("%")):
            return match[0]
        if rest.strip("%") or match["op"].upper() not in ("=", "==", "LIKE", "<", ">", "<=", ">="):
            return match[0]  # (a time of day, or a negation: not a bound the query got wrong)
        date, op = match["date"], wanted
        if op in ("<=", ">"):  # (a timestamp on that day is within "until" and not "after" it)
            date, op = _next_day(date), "<" if op == "<=" else ">="
        return f"{match['column']} {op} '{date}'"

    mended = _COMPARED.sub(bounded, sql)
    return mended if mended != sql else None


def _next_day(date: str) -> str:
    return (datetime.date.fromisoformat(date) + datetime.timedelta(days=1)).isoformat()
