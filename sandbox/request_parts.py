"""The part of a request that asks about one file, when the request asks about several.

"How much RAM does db-01 have (metrics/db-01.prom), and which relay host does postfix send
through (mail/main.cf)?" holds two questions, each on its own file. A query over the metrics'
table was shown the whole request and wrote ``SUM(metrics/db-01.prom) AS total, mail/main.cf AS
relay_host`` four times (evening memory-and-relay): told in a sentence that the other file was
not its own, the 1.5B model still answered both questions in one SELECT. Shown only the part
that names its file ("How much RAM does db-01 have (metrics/db-01.prom)"), the query has one
question to answer. The other file's part is its read's to answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_QUESTION_WORDS = (r"(?:how|what|what's|which|who|who's|whom|whose|where|when|is|are|was|were|does|do|did|"
                   r"can|could|tell|give|show|list|count|find)\b")
_BOUNDARY = re.compile(
    rf"(?<=[?!;])\s+|(?<=\.)\s+(?=[A-Z])|,?\s+\band\s+(?={_QUESTION_WORDS})|,\s+(?={_QUESTION_WORDS})",
    re.IGNORECASE)
"""Where one question of a request ends and the next begins: after a question mark (or a full
stop before a capital), or at an "and" or a comma that a question word follows."""


def part_about(request: str, path: str, others: Sequence[str]) -> str | None:
    """The questions of ``request`` about ``path`` alone: those that name it and none of
    ``others`` (the paths of other files the step read), with the questions after them that name
    no file (they go on about it); None when no question names ``path`` alone, or every
    question is about it (nothing to leave out)."""
    if not path or not others:
        return None
    cuts = [0, *(i for m in _BOUNDARY.finditer(request) for i in (m.start(), m.end())), len(request)]
    spans = [(start, end) for start, end in zip(cuts[::2], cuts[1::2], strict=True)
             if request[start:end].strip()]
    owners: list[str | None] = []
    for start, end in spans:
        named = [p for p in (path, *others) if _names(request[start:end], p)]
        owners.append(named[0] if len(named) == 1 else (None if not named else "*"))
    kept: list[int] = []
    owner = None
    for index, said in enumerate(owners):
        owner = said if said is not None else owner
        if owner == path:
            kept.append(index)
    if not kept or len(kept) == len(spans) or "*" in owners:
        return None
    runs: list[list[int]] = []
    for index in kept:  # (a run of questions keeps the words between them: "In x.csv, what…")
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return " ".join(request[spans[run[0]][0]:spans[run[-1]][1]].strip() for run in runs)


def _names(text: str, path: str) -> bool:
    """Whether ``text`` names ``path``: whole, or by its file's name when that is distinctive
    (``db-01.prom``, not ``data``)."""
    lowered, name = text.lower(), path.lower()
    if name in lowered:
        return True
    base = name.rsplit("/", 1)[-1]
    return "." in base and re.search(rf"(?<![\w./-]){re.escape(base)}(?![\w-])", lowered) is not None
