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

_WH = (r"(?i:how|what|what's|which|who|who's|whom|whose|where|when)\b"
       r"(?!\s+(?i:is|are|was|were|has|have|had)\b)")
"""A question word that opens a question of its own (not "which are listed…", a relative clause)."""
_ASKING = re.compile(r"\?|\b(?i:how|what|what's|which|who|who's|whom|whose|where|when|is|are|does|do|did|can|"
                     r"could|tell|give|show|list|count|find|sum|total)\b")
"""Words of a part that asks something (a part that only names a file, "(x.csv)" or "Use x.csv.",
asks nothing: it says where the question before it looks)."""
_BOUNDARY = re.compile(rf"(?<=[?!;])\s+|(?<=[a-z0-9)\]]\.)\s+(?=[A-Z])|(?<=\))\s+(?=[A-Z])|"
                       rf",?\s+(?i:and)\s+(?={_WH})|,\s+(?={_WH})")
"""Where one question of a request ends and the next begins: after a question mark (or a full
stop that ends a sentence, or a bracket, before a capital), or at an "and" or a comma that a
question word follows."""
_ABBREVIATION = re.compile(r"(?i)\b(?:e\.g|i\.e|vs|etc|cf|approx|incl)\.$")


def part_about(request: str, path: str, others: Sequence[str]) -> str | None:
    """The questions of ``request`` about ``path`` alone: those that name it and none of
    ``others`` (the paths of other files the step read), with a part that only names the file
    joined to the question before it ("How much RAM? (metrics/db-01.prom)") and the questions
    after that name no file (they go on about it); None when no question names ``path`` alone,
    every question is about it (nothing to leave out), or a question belongs to no file."""
    if not path or not others:
        return None
    spans = _spans(request)
    owners: list[str | None] = []
    for index, (start, end) in enumerate(spans):
        text = request[start:end]
        named = [p for p in (path, *others) if _names(text, p)]
        owner = named[0] if len(named) == 1 else (None if not named else "*")
        if owner not in (None, "*") and not _ASKING.search(_without(text, named)) and index \
                and owners[-1] is None:
            owners[-1] = owner  # ("… have? (metrics/db-01.prom)": the file of the question before)
        owners.append(owner)
    for index, owner in enumerate(owners):  # (a question naming none goes on about the one before)
        if owner is None and index:
            owners[index] = owners[index - 1]
    if "*" in owners or None in owners or path not in owners or all(o == path for o in owners):
        return None
    kept = [index for index, owner in enumerate(owners) if owner == path]
    runs: list[list[int]] = []
    for index in kept:  # (a run of questions keeps the words between them: "In x.csv, what…")
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return " ".join(request[spans[run[0]][0]:spans[run[-1]][1]].strip() for run in runs)


def _spans(request: str) -> list[tuple[int, int]]:
    """Where each part of ``request`` starts and ends (a full stop after an abbreviation, "e.g.",
    "vs.", ends no sentence)."""
    cuts = [0]
    for match in _BOUNDARY.finditer(request):
        if _ABBREVIATION.search(request[:match.start()]):
            continue
        cuts += [match.start(), match.end()]
    cuts.append(len(request))
    return [(start, end) for start, end in zip(cuts[::2], cuts[1::2], strict=True)
            if request[start:end].strip()]


def _without(text: str, paths: Sequence[str]) -> str:
    """``text`` without the paths it names (a path's words ask nothing)."""
    for path in paths:
        text = re.sub(re.escape(path), " ", text, flags=re.IGNORECASE)
        text = re.sub(re.escape(path.rsplit("/", 1)[-1]), " ", text, flags=re.IGNORECASE)
    return text


def _names(text: str, path: str) -> bool:
    """Whether ``text`` names ``path``: whole, or by its file's name when that is distinctive
    (``db-01.prom``, not ``data``)."""
    lowered, name = text.lower(), path.lower()
    if name in lowered:
        return True
    base = name.rsplit("/", 1)[-1]
    return "." in base and re.search(rf"(?<![\w./-]){re.escape(base)}(?![\w-])", lowered) is not None
