"""A query's ``LIKE`` pattern that matches no row of the table, made the pattern it meant.

Asked "how many failed SSH password attempts came from each address in logs/lb-02.syslog?",
the model wrote ``message LIKE 'Failed password for invalid user admin'``: one row's message
copied up to its address, with no ``%``. A ``LIKE`` without a wildcard is an equality, and no
message is that text alone, so the query found nothing; told so, it wrote the same condition
again, and the answer said there had been no failed attempts (bench.quality weekend
failed-ssh-per-source). What such a pattern meant is certain only where the table says so:

- when the pattern matches no value of its column, and its words run two or more together that
  the request says ("Failed password") beside words it does not ("invalid user admin"; linking
  words such as "for" or "is" aside), the pattern is ``%`` those words ``%``;
- else, when it holds no wildcard, the pattern is ``%`` itself ``%`` (contained, not equal).

Either only when the new pattern matches some value. A pattern that matches a row is left as
written: the rows it picks are the model's choice to make.
"""

from __future__ import annotations

import re

from sandbox.query_checks import like_conditions, like_pattern
from sandbox.table_query import Table

_WORD = re.compile(r"[A-Za-z0-9]+")
_FEWEST_SAID = 2
_LINKING = frozenset({"a", "an", "the", "is", "are", "was", "were", "be", "of", "for", "to", "in", "on", "at",
                      "by", "with", "from", "and", "or", "as"})
"""Words a pattern may hold and a request not say, that pick nothing: they neither start nor end
a run of the request's words, and are no sign of a copied row."""


def likes_as_meant(table: Table, asked: str, sql: str) -> str | None:
    """``sql`` with each ``LIKE`` pattern on a text column that matches no value the pattern it
    meant (above); None when there is none to change."""
    named = asked.lower()
    changed = sql
    for condition, column, pattern in like_conditions(sql):
        if table.types.get(column) != "TEXT":
            continue
        values = [str(row[column]) for row in table.rows if row.get(column) is not None]
        if any(like_pattern(pattern).fullmatch(v) for v in values):
            continue
        meant = next((p for p in _meanings(pattern, named)
                      if any(like_pattern(p).fullmatch(v) for v in values)), None)
        if meant is not None:
            written = condition[:condition.index("'")] + "'" + meant.replace("'", "''") + "'"
            changed = changed.replace(condition, written, 1)
    return changed if changed != sql else None


def _meanings(pattern: str, named: str) -> list[str]:
    """The patterns ``pattern`` may have meant, the likelier first."""
    words = list(_WORD.finditer(pattern))
    said: list[bool | None] = [None if w.group(0).lower() in _LINKING else _says(named, w.group(0).lower())
                               for w in words]
    found = []
    if False in said:  # (a word the request never says: a row's own, copied)
        best: list[int] = []
        run: list[int] = []
        for i, one in enumerate([*said, False]):
            if one is False:
                while run and said[run[-1]] is None:
                    run.pop()
                if sum(1 for j in run if said[j]) > sum(1 for j in best if said[j]):
                    best = run
                run = []
            elif run or one:  # (a run starts with a word the request says)
                run.append(i)
        if sum(1 for j in best if said[j]) >= _FEWEST_SAID:
            found.append(f"%{pattern[words[best[0]].start():words[best[-1]].end()]}%")
    if "%" not in pattern and "_" not in pattern:
        found.append(f"%{pattern}%")
    return found


def _says(named: str, word: str) -> bool:
    """Whether the request says ``word``: as a word, or, three letters or more, as a word's
    start ("attempt" in "attempts"; "s" is no word of "ssh")."""
    end = r"\b" if len(word) < 3 else ""
    return re.search(rf"\b{re.escape(word)}{end}", named) is not None
