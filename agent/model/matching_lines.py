"""The lines a read holds that match the request: shown to the joiner beside the results, and
dagbot's reply when the model's answers said nothing the read holds.

"why won't the new search pod get scheduled? it's in k8s/events-shop-prod.txt" was answered "The
new search pod is not scheduled because it is in the `k8s/events-shop-prod.txt` file." twice,
the second time told that it said nothing (monday search-unscheduled); the file's line that says
why (``FailedScheduling pod/search-… 0/6 nodes are available: 2 Insufficient memory, …``) was
in the results all along. "what size did the catalog autoscaler go to according to
k8s/events-shop-prod.txt?", asked of that file alone, was answered from its first line ("to 1",
a replica set's) where ``horizontalpodautoscaler/catalog New size: 5`` stood further down
(monday rollback-time-and-catalog-size). The lines of each text read that share the most of the
request's own words (a word's stem found in the line: ``schedul`` in ``FailedScheduling``) are
those lines, as the file wrote them: at least two of the request's words (a name joined by
underscores counts as two: "Who is looking after the billing_export failures, per
notes/handover….md?" was answered with the handover's first three people, not the owner on the
issue's own line; tuesday follow-up-mail-dana), and a few lines at most, or none (a request
whose words every line shares is no question of one line; a CSV's header is no line). The
joiner's prompt shows them under their own heading (:func:`matching_lines_section`, for a read
of more lines than the few it shows); dagbot's reply is them when the answers said nothing
(:func:`matching_lines_reply`), or only pasted other lines of the read (:func:`pasted_other_lines`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.model.untrusted import wrapped
from agent.plan.named_files import named_files

_MOST_LINES = 5
_FEWEST_WORDS = 2
_WORD = re.compile(r"[a-z][a-z0-9_-]*[a-z0-9]")
_PLAIN_TEXT = """
about after again also any are been before being both but can could did does doing done each either every
for from get gets got had has have having here how into its just more most much need not now off once only
other our out over same should some still such than that the their them then there these they this those
through too very was were what when where which while who whom whose why will with would you your won
file files line lines tell show give find look read says said it's
"""
_PLAIN = frozenset(_PLAIN_TEXT.split())
"""Words of a question, not of what it asks about."""
_COLUMN_HEADER = re.compile(r"[A-Z][A-Z0-9_%/().-]*(?:\s+[A-Z][A-Z0-9_%/().-]*){2,}")
"""A command's column header (``GROUP  TOPIC  PARTITION  …  HOST``, ``NAME READY STATUS``): it names
columns and holds no value asked for (tuesday ledger-total-lag was shown three such lines)."""


def matching_lines(request: str, results: Mapping[str, Mapping[str, Any]]
                   ) -> list[tuple[str, list[str], Mapping[str, Any]]]:
    """Each text read (a done result's ``content``) with the lines of it that share the most of
    ``request``'s words, and its result, in the results' order; reads with no such lines left out."""
    stems = _stems(request)
    if len(stems) < _FEWEST_WORDS:
        return []
    found = []
    for result in results.values():
        output = result.get("output") if result.get("status") == "done" else None
        if not isinstance(output, Mapping) or not isinstance(content := output.get("content"), str):
            continue
        lines = [line.rstrip() for line in content.splitlines() if line.strip()]
        if str(output.get("path") or "").lower().endswith((".csv", ".tsv")):
            lines = lines[1:]  # a table's header names its columns: it holds no value asked for
        lines = [line for line in lines if not _COLUMN_HEADER.fullmatch(line.strip())]
        logged = _LOG.search(str(output.get("path") or "")) is not None
        weights = {stem: _weight(stem, lines if logged else []) for stem in stems}
        scores = [sum(weights[stem] for stem in stems if stem in line.lower()) for line in lines]
        best = max(scores, default=0)
        picked = [line for line, score in zip(lines, scores, strict=True) if score == best]
        if best >= _FEWEST_WORDS and len(picked) <= _MOST_LINES and len(picked) < len(lines):
            found.append((str(output.get("path") or "the file read"), picked, result))
    return found


def matching_lines_reply(request: str, results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """dagbot's reply with the lines of each text read that share the most of ``request``'s
    words, or None when no read has such lines."""
    shown = [f"The lines of `{path}` that match the request:\n```\n{_fenced(lines)}\n```"
             for path, lines, _ in matching_lines(request, results)]
    if not shown:
        return None
    return ("I could not word an answer from what was read, so here is what it says.\n\n"
            + "\n\n".join(shown))


def pasted_other_lines(answer: str, request: str, results: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether ``answer`` is only lines copied from a read (two or more, each as the read writes
    it), none of them a line that matches ``request`` where some line of that read does: "Who
    is looking after the billing_export failures, per notes/handover….md?" was answered with the
    handover's first three lines, its From, To and Secondary, where the issue's own line named
    its owner (tuesday follow-up-mail-dana); "send her …" then mailed those three."""
    written = [line.strip().strip("*").strip() for line in answer.splitlines() if line.strip()]
    if len(written) < _FEWEST_WORDS:
        return False
    for _, picked, result in matching_lines(request, results):
        content = str((result.get("output") or {}).get("content") or "")
        held = {line.strip() for line in content.splitlines() if line.strip()}
        if all(any(line in read for read in held) for line in written) \
                and not any(line in chosen for line in written for chosen in picked):
            return True
    return False


_FEWEST_SHOWN = 8
"""A read of fewer lines is short enough to read whole: no section picks from it."""


def matching_lines_section(request: str, results: Mapping[str, Mapping[str, Any]]) -> str:
    """The joiner's prompt section with the lines of each longer read (:data:`_FEWEST_SHOWN`
    lines or more) that share the most of ``request``'s words, each read's marked as data where
    its result is (:mod:`agent.model.untrusted`); "" when there are none."""
    shown = []
    for path, lines, result in matching_lines(request, results):
        content = str((result.get("output") or {}).get("content") or "")
        if len([line for line in content.splitlines() if line.strip()]) < _FEWEST_SHOWN:
            continue
        block = "\n".join(lines)
        source = result.get("untrusted")
        shown.append(f"{path}:\n{wrapped(block, str(source)) if source else block}")
    if not shown:
        return ""
    return "## Lines of the files read that share the most words with the request\n" + "\n".join(shown)


def _fenced(lines: list[str]) -> str:
    return "\n".join(lines).replace("```", "'''")


def _stems(request: str) -> set[str]:
    """The request's own words (paths aside), each as a stem: ``scheduled`` as ``schedul``."""
    text = request.lower()
    for path in named_files(request):
        text = text.replace(path.lower(), " ")
    words = {word for word in _WORD.findall(text) if len(word) >= 3 and word not in _PLAIN}
    return {_stem(word) for word in words}


_SUFFIX = re.compile(r"(?:ures?|ing|ed|es|s)$")
_SHORTEST_STEM = 4


def _stem(word: str) -> str:
    """``scheduled`` as ``schedul``, ``failures`` as ``fail``; a short word, or one whose stem would
    be shorter than :data:`_SHORTEST_STEM` letters (``secure``), as written."""
    stem = _SUFFIX.sub("", word) if len(word) > 5 else word
    return stem if len(stem) >= _SHORTEST_STEM else word


def _weight(stem: str, events: list[str]) -> int:
    """A name joined by underscores (``billing_export``, ``orders_daily_etl``) names one thing (a
    job, a table, a column), and so does a longer word that few lines of a longer log hold
    (``checkpoint`` in two lines of a PostgreSQL log: "how long did the checkpoint … take all
    told?" was answered from the log's first line; tuesday checkpoint-and-handover-author): a line
    that holds it is about it as much as one that shares two plain words. ``events``: the lines of
    a log, one event each (empty for other reads: a word few lines of a JSON or YAML file hold
    heads its structure, ``"consumers": [``). Hyphenated words are not names (``shop-prod``
    heads half of a file's lines)."""
    if "_" in stem.strip("_"):
        return _FEWEST_WORDS
    if len(stem) >= _RARE_LETTERS and len(events) >= _FEWEST_SHOWN \
            and sum(stem in line.lower() for line in events) <= _RARE_LINES:
        return _FEWEST_WORDS
    return 1


_RARE_LETTERS = 6
_RARE_LINES = 2
_LOG = re.compile(r"\.(?:log|err|out)$|(?:^|/)logs?/", re.IGNORECASE)
"""A log's path: its lines are events, each of its own."""
