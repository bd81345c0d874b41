"""An answer holds to the results: what it states that no result holds is found before it is final.

The model decides what to say; the values it says come from a recorded result, the request or
the thread. Four kinds of statement are checked, each from facts that are certain:

- *a node's status*: a line that names a node (or a tool) and says it is done, failed, rejected
  or skipped, in the shape of dagbot's own result lines (``- admins: done → …``), must say what
  the node's result says, and name a node that ran (a small model wrote "``read_file``: done"
  for a read that failed, and "``admins``: done" for a package that crashed);
- *quoted content*: a ``"content": "…"`` (or ``"text"``, ``"body"``) written out must be text a
  result holds (``"config content here"`` for a file no step read);
- *files*: a file the answer names that a read found missing and no step read or listed must
  be said to be missing ("The search cache is set in the 'config.yaml' file, and it is set to 8
  seconds", after the read of config.yaml failed: there is none, morning find-cache-ttl);
- *values*: a number of two or more digits, a decimal or a percentage must be one a result, the
  request or the thread holds, as written or rounded, or a count of what a result lists (its
  items, its lines). Single digits are not checked ("1 of 2 steps") unless a size or a time's
  unit follows ("8 GiB" of RAM the joiner's model made of 8148324 kB: weekend ram-and-timeout),
  nor code in a fenced block
  (an example the model writes, not a value it states);
- *names*: a name, path or key written as code (`` `cache.r7g.large` ``), one word, must be one a
  result, the request or the thread holds (any case), a node's id or a tool's name: a small
  model answered "the new type is `another_node_type`" from a search that found no type
  (monday find-sessions-type).

:func:`false_statements` lists what it found; the joiner then plans again to compute a value
(a package that computes it), or the reply is dagbot's own (:mod:`agent.answer.facts`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

_STATUS_WORDS = {"done": "done", "succeeded": "done", "completed": "done", "failed": "failed",
                 "rejected": "rejected", "skipped": "skipped"}
_STATUS_LINE = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?`?(?P<name>[A-Za-z][A-Za-z0-9_]{0,31})`?(?:[ \t]*\([^)\n]{0,80}\))?"
    r"[ \t]*(?::|—|–|->|→)[ \t]*(?:(?P=name)[ \t]+)?"
    r"(?P<status>done|succeeded|completed|failed|rejected|skipped)\b"
    r"(?P<rest>[^\n]*)", re.M | re.I)
_QUOTED_BODY = re.compile(r'"(?:content|text|body)"\s*:\s*"((?:[^"\\]|\\.){8,})"')
_NUMBER = re.compile(r"(?<![\w./:#-])(?<!\d,)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)(?![\w/:-]|\.\d)")
_SPACES = re.compile(r"\s+")
_FENCED = re.compile(r"```.*?(?:```|$)", re.S)

_MISSING_FILE = re.compile(r"there is no file '([^'\n]{1,300})'")
"""How a read of a file that is not there fails (:meth:`agent.tools.files.Workspace.existing_file`)."""
_SAID_ABSENT = re.compile(
    r"\b(?:no|not|never|none|nothing|nowhere|missing|absent|without|unable|cannot|fail\w*|create|add|make)\b"
    r"|n't\b", re.I)
"""A sentence that says, or may say, that a file is not there ("There is no config.yaml", "I
didn't find config.yaml", "create config.yaml with…"): any negation will do, the check is for a
sentence that states the file as there, and says nothing else of it."""
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=\w))+")
"""A sentence, or a line: up to a full stop that no word follows (``config.yaml`` is one word)."""

Kind = Literal["status", "content", "file", "value"]


@dataclass(frozen=True)
class FalseStatement:
    kind: Kind
    why: str
    """What the answer states and why it is not so, in a sentence a person reads."""


def false_statements(answer: str, results: Mapping[str, Mapping[str, Any]], *, known: Collection[Any] = (),
                     tools: Collection[str] = ()) -> list[FalseStatement]:
    """What ``answer`` states that ``results`` (this request's, by node id), the request and
    the thread (``known``) do not hold. ``tools``: the registry's tool names."""
    found = _wrong_statuses(answer, results, tools)
    texts = list(_strings([known, [result.get(key) for result in results.values()
                                   for key in ("output", "preview", "error")]]))
    found += _unread_content(answer, texts)
    prose = _FENCED.sub(" ", answer)  # code the model writes is an example, not a value it states
    found += _absent_files(prose, results, known)
    found += _invented_values(prose, texts, _counts([result.get("output") for result in results.values()]))
    named = {key.split(" (plan ")[0].lower() for key in results} | {tool.lower() for tool in tools}
    found += _invented_names(prose, texts, named)
    return found


_CODE_SPAN = re.compile(r"(?<!`)`([^`\s]{2,80})`(?!`)")
"""A word written as code: one backticked token (a phrase in backticks is prose, not checked)."""
_NO_NAME = re.compile(r"[\d.,:%+\-/]+|(?i:none|null|nil|true|false|yes|no|n/a)|\$\{.*|[A-Z][A-Z0-9_]*")
"""What is no name the answer could have made up: a number or a time (the values' own check),
a literal every language has, a reference left unfilled, a setting's name in capitals (advice:
"set `OPENAI_API_KEY`", not a value of the run)."""


def code_words(answer: str) -> list[str]:
    """The words ``answer`` writes as code outside fenced blocks that could be a made-up name
    (one backticked token, its edge punctuation off; not a number, a time, a literal, a
    reference or a setting's name in capitals), in order, repeats kept."""
    spans = _CODE_SPAN.finditer(_FENCED.sub(" ", answer))
    words = (match.group(1).strip(".,;:!?()[]{}'\"") for match in spans)
    return [word for word in words if len(word) >= 2 and not _NO_NAME.fullmatch(word)]


_FILE_EXTENSIONS = ("txt|log|csv|tsv|json|jsonl|ya?ml|md|toml|ini|conf|cfg|env|py|sh|sql|xml|html|tf|tfvars"
                    "|properties|lock|out|err|pem|crt|prom|gz|zip|tar")
_BARE_FILE = re.compile(
    rf"(?<![\w./@:$%-])((?:[\w-]+/)*[A-Za-z0-9][\w-]*\.(?:{_FILE_EXTENSIONS}))(?![\w@/-]|\.\w)")


def bare_files(answer: str) -> list[str]:
    """The files ``answer`` names bare (not as code, outside fenced blocks), with an extension
    files have: "file: sessions_cache.txt", after a search that matched nothing (monday
    find-sessions-type). Counted by the bench as values from nowhere when nothing holds them; not
    one of the answer's checks here, as a reply that suggests files to ask about (a list of
    example requests) names files no step read."""
    prose = _CODE_SPAN.sub(" ", _FENCED.sub(" ", answer))
    return [match.group(1) for match in _BARE_FILE.finditer(prose)]


def _invented_names(answer: str, texts: list[str], named: set[str]) -> list[FalseStatement]:
    """The words written as code that no text holds and that name no node or tool."""
    haystack = "\n".join(texts).lower()
    found, seen = [], set()
    for word in code_words(answer):
        lowered = word.lower()
        if (lowered in seen or lowered in named or lowered in haystack
                or lowered.rsplit("/", 1)[-1] in haystack):  # (a path a result holds the file of)
            continue
        seen.add(lowered)
        found.append(FalseStatement("value", f"it names `{word}`, which no result, the request or the thread "
                                             "holds"))
    return found


def _wrong_statuses(answer: str, results: Mapping[str, Mapping[str, Any]],
                    tools: Collection[str]) -> list[FalseStatement]:
    statuses: dict[str, set[str]] = {}  # an earlier plan's node is "id (plan N)" in the results
    for key, result in results.items():
        statuses.setdefault(key.split(" (plan ")[0], set()).add(str(result.get("status")))
    found = []
    for match in _STATUS_LINE.finditer(answer):
        name, said = match.group("name"), _STATUS_WORDS[match.group("status").lower()]
        real = statuses.get(name)
        if real is None:
            # a tool's name, or a line in the shape of dagbot's result lines ("x: done → …")
            if name in tools or match.group("rest").lstrip().startswith(("→", "->")):
                found.append(FalseStatement("status", f"it says {said} for `{name}`, a step that never "
                                                      "ran"))
            continue
        if said not in real:
            # (said with the status before the name: dagbot's own reply quotes this, and must not
            # read as a status claim of its own)
            found.append(FalseStatement("status", f"it says {said} for `{name}`, whose result is "
                                                  f"{' and '.join(sorted(real))}"))
    return found


def _unread_content(answer: str, texts: list[str]) -> list[FalseStatement]:
    haystack = _SPACES.sub(" ", "\n".join(texts))
    found = []
    for match in _QUOTED_BODY.finditer(answer):
        try:
            quoted = json.loads(f'"{match.group(1)}"')
        except ValueError:
            quoted = match.group(1)
        shown = _SPACES.sub(" ", quoted).strip()[:200]
        if shown and shown not in haystack:
            found.append(FalseStatement("content", f"it shows content no step read ({_clip(shown)!r})"))
    return found


def _absent_files(answer: str, results: Mapping[str, Mapping[str, Any]],
                  known: Collection[Any]) -> list[FalseStatement]:
    """A file a read found missing, named in a sentence of ``answer`` that does not say so, when
    no step's output holds its name (no other read or listing found it) and neither the request
    nor the thread names it (a path the model guessed: a name the request gives may be a
    table's, its rows queried from the database, after all)."""
    missing = {match.group(1) for result in results.values() if result.get("status") == "failed"
               for match in _MISSING_FILE.finditer(str(result.get("error") or ""))}
    if not missing:
        return []
    outputs = json.dumps([[result.get("output") for result in results.values()], _without_errors(known)],
                         ensure_ascii=False, default=str)
    found = []
    for path in sorted(missing):
        named = re.compile(rf"(?<![\w/.-]){re.escape(path)}(?![\w/-]|\.\w)")
        if named.search(outputs):
            continue
        said = [sentence.group() for sentence in _SENTENCE.finditer(answer) if named.search(sentence.group())]
        if any(not _SAID_ABSENT.search(sentence) for sentence in said):
            found.append(FalseStatement("file", f"it names {path} as if it were there, and there is no such "
                                                "file (its read found none)"))
    return found


def _without_errors(value: Any) -> Any:
    """``value`` with every result's ``error`` left out: a failed read's error names the path it
    did not find, which names no file that is there."""
    if isinstance(value, Mapping):
        return {key: _without_errors(item) for key, item in value.items() if key != "error"}
    if isinstance(value, list | tuple):
        return [_without_errors(item) for item in value]
    return value


def _invented_values(answer: str, texts: list[str], counts: set[float]) -> list[FalseStatement]:
    held = _numbers("\n".join(texts)) | counts
    plain = _SCIENTIFIC.sub(" ", "\n".join(texts))  # (2.68435456 is no value 2.68435456e+11 states)
    found, seen = [], set()
    for scientific in _SCIENTIFIC.finditer(answer):  # (written so: held as the value it is)
        if not _held(float(scientific.group()), 0, held):
            found.append(FalseStatement("value", f"it states {scientific.group()}, which no result, the "
                                                 "request or the thread holds"))
    answer_plain = _SCIENTIFIC.sub(" ", answer)
    for match in _NUMBER.finditer(answer_plain):
        whole, fraction, percent = match.group(1), match.group(2) or "", match.group(3)
        written = match.group(0)
        if (len(whole.replace(",", "")) < 2 and not fraction and not percent
                and not _MEASURED.match(answer_plain, match.end())) or written in seen:
            continue
        seen.add(written)
        value = float(whole.replace(",", "") + fraction)
        if _written_in(written, plain) or _written_in(whole + fraction, plain) or _held(
                value, len(fraction) - 1, held):
            continue
        if percent and (_held(value / 100, len(fraction) + 1, held) or _held(value, len(fraction) - 1, held)):
            continue
        found.append(FalseStatement("value", f"it states {written}, which no result, the request or the "
                                             "thread holds"))
    return found


def _written_in(number: str, text: str) -> bool:
    """``number`` written in ``text`` as a number of its own (``12`` is not in ``1200``)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", text) is not None


def _held(value: float, decimals: int, held: set[float]) -> bool:
    """``value`` is one of ``held``, or one of them rounded to the decimals it is written with."""
    places = max(decimals, 0)
    return any(abs(number - value) < 1e-9 or round(number, places) == value for number in held)


_MEASURED = re.compile(r"\s?(?:[KMGTP]i?B|[kKMGT]B|bytes?|ms|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?)"
                       r"\b")
"""A size's or a time's unit after a number: a single digit with one is a value stated."""
_SCIENTIFIC = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])")
"""A number in scientific notation (a metrics file's ``2.68435456e+11``): its mantissa alone is no
value it holds (evening pgdata-free answered "2.68435456 GiB" free, of 250 GiB)."""


def _numbers(text: str) -> set[float]:
    scientific = {float(m.group()) for m in _SCIENTIFIC.finditer(text)}
    text = _SCIENTIFIC.sub(" ", text)
    written = {float(m.group(1).replace(",", "") + (m.group(2) or "")) for m in _NUMBER.finditer(text)}
    return scientific | written | {float(m.group()) for m in re.finditer(r"-?\d+(?:\.\d+)?", text)}


def _counts(values: list[Any]) -> set[float]:
    """What a person reads off a result by counting: a list's items, a text's lines."""
    counts: set[float] = set()
    for value in _walk(values):
        if isinstance(value, list):
            counts.add(float(len(value)))
        elif isinstance(value, str) and "\n" in value:
            counts.add(float(len(value.strip().splitlines())))
    return counts


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def _strings(value: Any) -> Iterator[str]:
    """Every text a value holds, and numbers as they are written."""
    for item in _walk(value):
        if isinstance(item, str):
            yield item
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield json.dumps(item)
        elif isinstance(item, Mapping):
            yield from (str(key) for key in item)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
