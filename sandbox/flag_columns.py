"""Yes/no columns in a query: which value of one the request asks for, and the query's slips
with it mended in place (:mod:`sandbox.query_checks` tells the rest).

A yes/no column is one whose every value is true or false: JSON's, or a CSV's ``yes`` and ``no``
(:func:`sandbox.table_rows.table_rows` reads those as true and false). The request asks for its
false rows by "without MFA", "MFA turned off", "unpaid", "haven't paid", and for its true rows
by "with MFA", "MFA on" (:func:`asked_truth`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sandbox.table_query import Table
from sandbox.table_rows import FLAG_WORDS


def yes_no(table: Table, column: str) -> bool:
    """Whether every value ``column`` holds is true or false (JSON's, or a CSV's yes and no)."""
    values = [row.get(column) for row in table.rows if row.get(column) is not None]
    return bool(values) and all(isinstance(v, bool) for v in values)


def _quoted_column(column: str) -> str:
    return rf"(?<![\w.])[\"`]?{re.escape(column)}[\"`]?"


def _truth_compared(column: str) -> re.Pattern[str]:
    """``column`` compared with a truth value (``mfa = 1``, ``mfa IS NOT false``): the operator
    and the value are its groups."""
    return re.compile(_quoted_column(column)
                      + r"\s*(==?|!=|<>|\bIS\s+NOT\b|\bIS\b)\s*('?(?:1|0|true|false)'?)(?!\w)", re.I)


def _negated(column: str) -> re.Pattern[str]:
    """``NOT column`` standing for the column's truth (not ``NOT column IN …``)."""
    return re.compile(r"\bNOT\s+" + _quoted_column(column)
                      + r"(?!\s*(?:=|!|<|>|\bIS\b|\bIN\b|\bLIKE\b))", re.I)


_NEGATED = (r"(?:without|no|not|n't|lacks?|lacking|missing|non)\s+(?:yet\s+|been\s+)*(?:an?\s+|any\s+)?{c}\b",
            r"\bun-?{c}\b",
            r"\b{c}(?:\s+(?:is|was|are|were|turned|switched|set|been|has been|have been))*\s+"
            r"(?:off|disabled|false|not\s+(?:on|enabled|set|turned on))\b",
            r"\b{c}-?less\b", r"\bno[- ]{c}\b")
_AFFIRMED = (r"\bwith\s+(?:an?\s+)?{c}\b(?!\s+(?:turned\s+|switched\s+|set\s+)?(?:off|disabled|false))",
             r"\b{c}(?:\s+(?:is|was|are|were|turned|switched|set))*\s+(?:on|enabled|true)\b")
_TRUTH = {"1": True, "true": True, "'true'": True, "0": False, "false": False, "'false'": False}


def _name(column: str) -> str:
    """A pattern for ``column`` as a request writes it (``mfa_enabled``: "mfa enabled" too)."""
    return re.escape(column.lower()).replace("_", "[_ ]")


def _said(column: str, request: str, patterns: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where ``request`` says ``column`` one of ``patterns``' ways (:data:`_NEGATED`, :data:`_AFFIRMED`)."""
    name = _name(column)
    return [m.span() for pattern in patterns for m in re.finditer(pattern.format(c=name), request, re.I)]


def asked_truth(column: str, request: str) -> bool | None:
    """The value of the yes/no ``column`` the request asks for ("without MFA", "unpaid": false;
    "with MFA", "MFA on": true); None when it asks for neither, or for both."""
    negated, affirmed = bool(_said(column, request, _NEGATED)), bool(_said(column, request, _AFFIRMED))
    return None if negated == affirmed else affirmed


FROM_DATA = re.compile(r"\bFROM\s+data\b(?!\s*\.)(?:\s+(?:AS\s+)?(?!(?:WHERE|GROUP|ORDER|LIMIT|JOIN|LEFT|"
                        r"INNER|CROSS|HAVING|UNION|ON|WINDOW)\b)(?P<alias>[A-Za-z_]\w*))?(?P<where>\s+WHERE\b)?",
                        re.IGNORECASE)
"""A query's ``FROM data`` (its alias, and the ``WHERE`` after it when one is): where a condition
on every row it reads is added."""


def kept_flags(table: Table, request: str, sql: str) -> str | None:
    """``sql`` reading only the rows of each yes/no column the request asks for one value of by
    that column's own words alone ("the biggest unpaid invoice": ``paid`` false) where the query
    never uses the column: each ``FROM data`` keeps its rows (``WHERE paid = 0``), its
    subqueries' too (``amount = (SELECT MAX(amount) FROM data)`` was the largest invoice of
    all, paid or not: morning follow-up-biggest-unpaid). None when there is none so."""
    kept = []
    written = sql.lower()
    for column in (c for c in table.columns if yes_no(table, c)):
        used = re.search(rf"\b{re.escape(column.lower())}\b", written)
        if used or (wanted := asked_truth(column, request)) is None:
            continue
        said = _said(column, request, (*_NEGATED, *_AFFIRMED))
        bare = [m.start() for m in re.finditer(rf"(?<![\w-]){_name(column)}\b", request, re.I)]
        if all(any(start <= at < end for start, end in said) for at in bare):  # ("paid vs unpaid": not one)
            kept.append(f'"{column}" = {int(wanted)}')
    if not kept or re.search(r"\bOR\b", sql, re.IGNORECASE):  # (AND would bind to one side of an OR)
        return None
    return kept_everywhere(sql, " AND ".join(kept))


def kept_everywhere(sql: str, condition: str) -> str | None:
    """``sql`` with ``condition`` on the rows of every ``FROM data`` it has, its subqueries' too
    (``WHERE condition``, or ``WHERE condition AND`` before a ``WHERE`` of its own); None when it
    reads no ``data``."""

    def filtered(m: re.Match[str]) -> str:
        read = m[0][:m.start("where") - m.start()] if m["where"] else m[0]
        return f"{read} WHERE {condition}" + (" AND" if m["where"] else "")

    mended = FROM_DATA.sub(filtered, sql)
    return mended if mended != sql else None


def flag_polarity(table: Table, request: str, sql: str) -> list[tuple[str, bool]]:
    """Each yes/no column the request asks about one way ("without MFA", "MFA turned off": false;
    "with MFA", "MFA on": true) that the query keeps the other way (``WHERE mfa = 1`` for "the
    users … without MFA": fresh no-mfa-to-file wrote the users who have it), with the value the
    request asks for. Only a comparison with 1, 0, true or false (``=``, ``!=``, ``<>``, ``IS``,
    ``IS NOT``) or ``NOT column`` counts; a query that compares the column both ways is left alone."""
    found = []
    for column in (c for c in table.columns if len(c) >= 2 and yes_no(table, c)):
        if (affirmed := asked_truth(column, request)) is None:
            continue
        kept = set()
        for op, value in _truth_compared(column).findall(sql):
            truth = _TRUTH[value.lower()]
            kept.add(truth if op.strip().upper() in ("=", "==", "IS") else not truth)
        if _negated(column).search(sql):
            kept.add(False)
        wanted = affirmed
        if len(kept) == 1 and kept != {wanted}:
            found.append((column, wanted))
    return found


_FLAG_WORD = {word: int(truth) for words in FLAG_WORDS for word, truth in words.items()} | {"y": 1, "n": 0}
"""The words a query may compare a yes/no column with, each with its number."""


def flag_words_as_numbers(table: Table, sql: str) -> str | None:
    """``sql`` with each yes/no column compared with a quoted word for a truth (``paid = 'no'``,
    the CSV's own word, which the table holds as 0) compared with its number instead
    (``paid = 0``); None when it compares none so. The word matched no row: the unpaid total
    was empty."""
    mended = sql
    for column in (c for c in table.columns if yes_no(table, c)):
        compared = re.compile(_quoted_column(column) + rf"\s*(==?|!=|<>)\s*'({'|'.join(_FLAG_WORD)})'", re.I)
        mended = compared.sub(_as_number(column), mended)
    return mended if mended != sql else None


def _as_number(column: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"{column} {m[1]} {_FLAG_WORD[m[2].lower()]}"


def flipped_flags(table: Table, request: str, sql: str) -> str | None:
    """``sql`` with each yes/no column it keeps the other way than the request asks
    (:func:`flag_polarity`) compared with the value asked for (``mfa = 1`` → ``mfa = 0`` for
    "without MFA"), or None when there is none: the value is certain, so no model is asked (the
    rewrite that fixed it had dropped the query's other condition)."""
    flips = flag_polarity(table, request, sql)
    for column, wanted in flips:
        sql = _truth_compared(column).sub(f"{column} = {int(wanted)}", sql)
        sql = _negated(column).sub(f"{column} = {int(wanted)}", sql)
    return sql if flips else None
