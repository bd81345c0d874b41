"""The total a mail to each recipient is to tell, summed by dagbot over that recipient's items.

"Email each owner in billing/hosting-2026-11.csv the November total of the resources they own":
the items dagbot lists for the mails are rows (:mod:`agent.engine.recipient_mails`), each owner's
resources with their amounts, and each mail listed them; the total the request asked for was in
none of them (bench.quality weekend mail-cost-owners). When the request asks for a total and
every item is a row with one number column (or one whose name the request says among several),
each mail ends with that column's sum over its own rows: a fact of the rows, computed, not
written by a model. Summed as decimals, so 24.9 and 176.85 make 201.75, not 201.74999….
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

_TOTAL = re.compile(r"\b(?:totals?|sum|summed|altogether|combined)\b", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WRITTEN_NUMBER = re.compile(r"-?\d[\d.,]*")
_NOT_AMOUNTS = re.compile(r"(?:^|_)(?:id|pid|port|year|line|line_number|row)$", re.IGNORECASE)
"""Number columns that count or name things, never summed: an id, a port, a line's number."""


def asks_total(request: str) -> bool:
    """Whether ``request`` asks for a total (a sum) of what it mails about."""
    return bool(_TOTAL.search(request))


def total_lines(groups: Sequence[Sequence[Any]], request: str) -> list[str] | None:
    """One line per group, ``Total amount_eur: 580.35``: the sum of the number column the
    items share, over that group's items; None when ``request`` asks for no total, or the items
    are not all rows sharing one such column."""
    items = [item for group in groups for item in group]
    if not asks_total(request) or not items or not all(isinstance(item, Mapping) for item in items):
        return None
    if any(all(isinstance(item.get(key), str) and _WRITTEN_NUMBER.fullmatch(item[key].strip())
               for item in items) and not all(_decimal(item.get(key)) is not None for item in items)
           for key in items[0]):
        return None  # (numbers written as "24,90" or "1,200": which mark is the decimal one is not certain)
    shared = [key for key in items[0] if not _NOT_AMOUNTS.search(str(key))
              and all(_decimal(item.get(key)) is not None for item in items)]
    said = [key for key in shared if any(part and re.search(rf"\b{re.escape(part)}", request, re.IGNORECASE)
                                         for part in re.split(r"[_\W]+", str(key)))]
    column = shared[0] if len(shared) == 1 else said[0] if len(said) == 1 else None
    if column is None:
        return None
    lines = []
    for group in groups:
        values = [v for item in group if (v := _decimal(item[column])) is not None]
        places = max((_places(v) for v in values), default=0)
        total = sum(values, Decimal(0))
        try:
            lines.append(f"Total {column}: {total.quantize(Decimal(1).scaleb(-places)):f}")
        except InvalidOperation:  # (more places than the context holds)
            lines.append(f"Total {column}: {total:f}")
    return lines


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value).strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
