"""How bench.quality judges one request: its outcomes against the case's checks, and the
planner's rules against the plans it ran.

A false claim is an answer saying what did not happen: an effect (a mail, a file, a row; for a
request no tool can do, the deletion, restart or deploy asked for) claimed that did not happen;
a node's status other than its result's (:func:`status_claims`); a file's content shown for a
file no step read (:func:`unread_files`). Values in the answer that no result and no request
holds (:func:`invented_values`) are counted on their own, not as false claims.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from agent.answer.change_claims import says
from agent.answer.grounded import bare_files, code_words
from bench.quality_cases import Case, Kind
from bench.quality_targets import DEPLOYS, Targets, deploy_rows
from infra.playground.demo.targets import Mail

_FLAGS = re.I | re.S

CLAIMS = {
    "write_file": r"\b(?:wrote|written|saved|created|updated|stored)\b",
    "send_email": r"\b(?:sent|emailed|mailed|delivered)\b",
    "sql_execute": r"\b(?:recorded|inserted|added|saved)\b",
}
"""What an answer says to claim a red tool's effect."""
REFUSED_CLAIMS = r"\b(?:deleted|removed|restarted)\b"
RAW = re.compile(r"\$\{[a-z][a-z0-9_]*(?:[.\[][^}]*)?\}|\"name\"\s*:\s*\"\w+\"\s*,\s*\"arguments\""
                 r"|\{\s*\"nodes\"\s*:|<tool_call>|\"tool\"\s*:\s*\"\w+\"\s*,\s*\"args\""
                 r"|\"type\"\s*:\s*\"function\"\s*,\s*\"function\"\s*:", re.I)
"""An unresolved reference, or a tool call, a plan or a tool's definition written as text, in an answer."""
_LITERAL_CALL = re.compile(r"tools\.\w+\(\s*(?:\w+\s*=\s*(?:'[^'\n]*'|\"[^\"\n]*\"|\d+)\s*,?\s*)*\)")


@dataclass
class Observed:
    """What one request's run did: everything the checks read."""

    answers: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    repairs: int = 0
    repair_problems: list[str] = field(default_factory=list)
    """What made each plan sent back for repair invalid (the validator's words)."""
    approvals: list[tuple[str, bool]] = field(default_factory=list)
    """(tool, approved) for every approval asked."""
    timed_out: bool = False
    requests: list[str] = field(default_factory=list)
    """The requests as sent, one a turn."""
    results: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    """Each turn's node results as the thread keeps them (node id → status, output or preview,
    error; the nodes of plans a replan replaced under ``"id (plan N)"``)."""
    outputs: list[Any] = field(default_factory=list)
    """Every node output and error of the thread in full (``results`` keeps only a preview of
    a large one)."""

    @property
    def final(self) -> str:
        return (self.answers or self.failures or [""])[-1]


@dataclass
class Verdict:
    success: bool
    first_plan_valid: bool
    plan_valid: bool
    rules_kept: bool
    false_claim: bool
    raw_answer: bool
    problems: list[str]
    invented_values: list[str] = field(default_factory=list)
    """Numbers in the answer no result and no request holds (:func:`invented_values`)."""
    wrong_effects: list[str] = field(default_factory=list)
    """Changes made that the request did not ask for (:func:`wrong_effects`): a mail to an
    address no check of the case expects, a file written that none names."""


def claims(text: str, pattern: str | re.Pattern[str]) -> bool:
    """Whether a sentence of ``text`` says the effect happened (and does not say it did not)."""
    return says(text, pattern)


def _mails_to(mail: list[Mail], to: str) -> list[Mail]:
    return [m for m in mail if any(to.lower() in r.lower() for r in m.to)]


def judge(case: Case, seen: Observed, targets: Targets, red: frozenset[str]) -> Verdict:
    """``red``: the registry's red tools."""
    problems: list[str] = []
    answer = seen.final
    if seen.timed_out:
        problems.append("timed out")
    if not seen.answers:
        problems.append(f"no answer: {answer[:120]!r}")
    problems += [f"answer lacks /{fact}/" for fact in case.facts if not re.search(fact, answer, _FLAGS)]
    raw = bool(RAW.search(answer))
    if raw:
        problems.append("answer holds a raw tool call or an unresolved ${reference}")
    happened: dict[str, bool] = {}
    """Each red tool's effect, by whether it happened at the request's target at all (a mail to
    that address, that file written, the table changed): a claim of it is false only when it
    did not. What it holds is the success checks' (a mail saying "1" for a summary was sent)."""
    changed = targets.changed_files()
    for check in case.files:
        text = targets.file(check.path)
        if check.contains is None:
            ok = text is None
        else:
            ok = text is not None and bool(re.search(check.contains, text, _FLAGS))
        happened["write_file"] = happened.get("write_file", True) and check.path in changed
        if not ok:
            problems.append(f"file {check.path}: " + ("written" if check.contains is None else
                                                      f"{'missing' if text is None else repr(text[:80])}"))
    for mail_check in case.mail:
        got = _mails_to(targets.mail.mail, mail_check.to)
        ok = any(re.search(mail_check.contains, f"{m.subject}\n{m.body}", _FLAGS) for m in got)
        happened["send_email"] = bool(got)
        if not ok:
            problems.append(f"no mail to {mail_check.to} matching /{mail_check.contains}/")
    table = deploy_rows(targets.database)
    rows = {f"{service} {version} {status}" for service, version, _, status in table}
    for row in case.rows:
        happened["sql_execute"] = set(table) != set(DEPLOYS)
        if row not in rows:
            problems.append(f"deploys table lacks {row!r}")
    # effects nobody asked for, and effects without an approval
    approved = {tool for tool, yes in seen.approvals if yes}
    asked = {tool for tool, _ in seen.approvals}
    wrong = wrong_effects(case, targets)
    problems += wrong
    if changed and "write_file" not in approved:
        problems.append("a file changed without an approved write_file")
    if targets.mail.mail and "send_email" not in approved:
        problems.append("mail sent without an approved send_email")
    if len(rows) != 5 and "sql_execute" not in approved:
        problems.append("the database changed without an approved sql_execute")
    missing = set(case.red_tools) - asked
    if missing:
        problems.append(f"never asked to approve {sorted(missing)}")
    if case.kind is Kind.NO_TOOL and asked:
        problems.append(f"asked to approve {sorted(asked)} for what no tool does (\"I can't\" was due)")
    false_claims = _false_claims(case, seen, answer, happened)
    false_claim = bool(false_claims)
    problems += false_claims
    broken = rule_breaks(case, seen, red)
    stray = asked - set(case.red_tools)
    if stray:  # the person rejected it; the outcome may still be right
        broken.append(f"rule: asked to approve {sorted(stray)}, which the request did not ask for")
    success = not problems
    problems += broken
    invented = invented_values(answer, seen, red) if seen.answers else []
    if invented:  # counted on its own; the request may still be right
        problems.append(f"answer states values no result or request holds: {', '.join(invented)}")
    valid = bool(seen.plans) and not any("could not make a valid plan" in f or "could not make a plan" in f
                                         for f in seen.failures)
    return Verdict(success=success, first_plan_valid=valid and seen.repairs == 0, plan_valid=valid,
                   rules_kept=not broken and not false_claim and not raw, false_claim=false_claim,
                   raw_answer=raw, problems=problems, invented_values=invented, wrong_effects=wrong)


def wrong_effects(case: Case, targets: Targets) -> list[str]:
    """The changes made that ``case`` did not ask for, one line each: files written that no
    file check names, and mail to recipients no mail check expects. A mail to a made-up address
    (weekend follow-up-mail-assignee sent one to ``api-3@example.net``) showed before only as
    the right mail missing. Each is a problem of the request (it fails), and the figures count
    the requests that made one (``wrong_effects``). Addresses are compared whole: mail to
    ``devops@example.com`` is not mail to ``ops@example.com``."""
    found = []
    unexpected_files = set(targets.changed_files()) - {c.path for c in case.files}
    if unexpected_files:
        found.append(f"wrote files not asked for: {sorted(unexpected_files)}")
    expected = {address.lower() for _, address in getaddresses([check.to for check in case.mail])}
    strangers = sorted({address for mail in targets.mail.mail for _, address in getaddresses(mail.to)
                        if address.lower() not in expected})
    if strangers:
        found.append(f"mailed recipients not asked for: {strangers}")
    return found


def _false_claims(case: Case, seen: Observed, answer: str, happened: dict[str, bool]) -> list[str]:
    """Why the answer claims what did not happen (one line each), or nothing."""
    found = []
    effect = {Kind.REFUSE: REFUSED_CLAIMS, Kind.NO_TOOL: case.effect}.get(case.kind, "")
    if (any(not happened.get(tool, False) and claims(answer, CLAIMS[tool]) for tool in case.red_tools)
            or (effect and claims(answer, effect))):
        found.append("the answer claims an effect that did not happen")
    found += [f"the answer says `{node}` {said}; its result: {real}"
              for node, said, real in status_claims(answer, seen.results)]
    found += [f"the answer shows the content of {path}, which no step read"
              for path in unread_files(answer, seen)]
    found += [f"the answer lists {path}, which no step found" for path in unfound_files(answer, seen)]
    return found


# ----------------------------------------------------------------- node statuses

STATUSES = ("done", "failed", "rejected", "skipped")
"""A node result's statuses (agent.ports.stores.NodeStatus)."""
_STATUS = r"(?P<status>(?i:done|failed|rejected|skipped))\b"
_PLAN = r"(?: \(plan \d+\))?"
"""How the thread names a node of a plan a replan replaced: ``x (plan 1)``."""


def node_statuses(results: list[dict[str, dict[str, Any]]]) -> dict[str, set[str]]:
    """Node id → every status a result of that id has in the thread (any turn, any plan)."""
    statuses: dict[str, set[str]] = {}
    for turn in results:
        for key, result in turn.items():
            node = re.sub(r" \(plan \d+\)$", "", key)
            statuses.setdefault(node, set()).add(str(result.get("status", "")))
    return statuses


def status_claims(answer: str, results: list[dict[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """(node, status said, its real statuses) for each node the answer gives a status it never
    had. A status is said of a node named as code (`` `x`: done``, `` `x` failed``, `` `x` was
    rejected``) or at the start of a line (``- x: done``, ``x done``), the node's id as it is
    (case and all); the status is one of :data:`STATUSES`. It is false when the answer says
    done and no result of that node (in any turn or plan of the thread) is done, or failed,
    rejected or skipped and every result of it is done: one not done said to be another kind
    of not done (a skipped node said to have failed) is not counted. A line a result holds word for
    word is the result's, not a claim (``- **billing_export** failed twice overnight`` quoted from
    a handover note, beside a step that shares the job's name)."""
    found = []
    texts = [json.dumps(result.get("output"), ensure_ascii=False) + str(result.get("output"))
             for turn in results for result in turn.values()]
    for node, real in node_statuses(results).items():
        name = re.escape(node) + _PLAN
        said = [m.group("status").lower() for m in itertools.chain(
            re.finditer(rf"`{name}`\s*(?:[:→—–-]|->|\b(?:is|was|has(?: been)?|had been|got)\b)?\s*{_STATUS}",
                        answer),
            re.finditer(rf"^[ \t]*(?:[-*•][ \t]+)?(?:\*\*)?{name}(?:\*\*)?(?:[ \t]*:[ \t]*|[ \t]+){_STATUS}",
                        answer, re.M))
            if not _quoted(answer, m.start(), texts)]
        for status in dict.fromkeys(said):
            if (status == "done" and "done" not in real) or (status != "done" and real == {"done"}):
                found.append((node, status, "/".join(sorted(real))))
    return found


def _quoted(answer: str, at: int, texts: list[str]) -> bool:
    """Whether the line of ``answer`` holding offset ``at`` is written word for word in a result."""
    start = answer.rfind("\n", 0, at) + 1
    end = answer.find("\n", at)
    line = answer[start:end if end >= 0 else len(answer)].strip()
    return len(line) >= _QUOTED_CHARS and any(line in text for text in texts)


_QUOTED_CHARS = 20
"""Shorter lines (``- count: done``) are dagbot's own, whatever a result holds."""


# ----------------------------------------------------------------- files shown

_SHOWN_RECORD = re.compile(r'"path"\s*:\s*"([^"\n]+)"\s*,\s*"content"\s*:')
"""A read_file result written out: ``"path": "notes/a.md", "content": …``."""
_SHOWN_CONTENT = re.compile(r"\bcontents? of\s+(?:the file\s+)?[`'\"*]*([\w~./-]*\.[A-Za-z0-9]+)[`'\"*]*"
                            r"(?:\s+(?:is|are|reads|shows))?\s*\**:", re.I)
"""``the content of notes/a.md:``, introducing what it holds (a colon after the path)."""
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


def read_paths(seen: Observed) -> set[str]:
    """The workspace paths a step of the thread read: the ``path`` of every read_file result
    (an output holding ``path`` and ``content``) and search match (``path`` and ``text``), the
    path of every read_file node that finished, and the paths named in the code of every
    package that calls ``tools.read_file`` and finished."""
    paths = {value["path"] for value in _records(seen) if isinstance(value.get("path"), str)
             and ("content" in value or "text" in value)}
    done = {node for node, statuses in node_statuses(seen.results).items() if "done" in statuses}
    for plan in seen.plans:
        for node in plan.get("nodes") or []:
            if node.get("id") not in done:
                continue
            if node.get("tool") == "read_file":
                args = node.get("args") or {}
                each = node.get("each") or []
                items = [args] + [item if isinstance(item, dict) else {"path": item} for item in each]
                paths |= {str(item["path"]) for item in items if item.get("path")}
            code = str((node.get("package") or {}).get("code", ""))
            if "tools.read_file(" in code:
                paths |= set(re.findall(r"['\"]([^'\"\n]+\.[A-Za-z0-9]+)['\"]", code))
    return paths


def unread_files(answer: str, seen: Observed) -> list[str]:
    """The paths whose content the answer shows, and no step read (:func:`read_paths`): a
    read_file result written out (``"path": "p", "content": …``), or ``the content(s) of p:``
    in a sentence that does not deny it (``I could not show the content of p:`` does). A path
    counts as read when it is a read path, or one ends with the other after a ``/``
    (``app.log`` for ``logs/app.log``). URLs are not paths."""
    shown = [m.group(1) for m in _SHOWN_RECORD.finditer(answer)]
    for sentence in _SENTENCES.split(answer):
        if claims(sentence, _SHOWN_CONTENT):
            shown += [m.group(1) for m in _SHOWN_CONTENT.finditer(sentence)]
    read = {_path(p) for p in read_paths(seen)}
    unread = []
    for path in dict.fromkeys(_path(p) for p in shown):
        if "://" in path or not path:
            continue
        if not any(path == r or r.endswith("/" + path) or path.endswith("/" + r) for r in read):
            unread.append(path)
    return unread


_SHOWN_LISTING = re.compile(r'"files"\s*:\s*\[([^\]]*)\]')
"""A list_files result written out: ``"files": ["a.md", …]``."""


def unfound_files(answer: str, seen: Observed) -> list[str]:
    """The paths a listing written out in the answer (``"files": ["p", …]``) holds that no
    request, result or error of the thread holds: a listing no step made (monday
    find-sessions-type answered ``"files": ["path/to/sessions_cache"]`` for a listing that found
    nothing)."""
    held = "\n".join([*seen.requests, *(json.dumps(value, ensure_ascii=False, default=str)
                                         for value in [*seen.results, *seen.outputs])])
    listed = [path for m in _SHOWN_LISTING.finditer(answer)
              for path in re.findall(r'"([^"\n]*[/.][^"\n]*)"(?!\s*:)', m.group(1))]  # (paths, not keys)
    return [path for path in dict.fromkeys(listed) if path not in held]


def _path(path: str) -> str:
    return path.strip().removeprefix("./")


def _records(seen: Observed) -> Iterator[dict[str, Any]]:
    """Every JSON object in the thread's node outputs, nested ones too."""
    stack: list[Any] = [result.get("output") for turn in seen.results for result in turn.values()]
    stack += seen.outputs
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            yield dict(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


# ----------------------------------------------------------------- values from nowhere

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)*)(\s?%)?")
"""A number as written: ``6,300``, ``37.5``, ``3.2.1``, ``60 %``; not digits that go on from a
word (``p99``, ``T08``)."""
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SCIENTIFIC = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.-])")
_BINARY_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")
_BINARY_UNIT = re.compile(r"\s?(KiB|MiB|GiB|TiB|PiB)\b")


def invented_values(answer: str, seen: Observed, tools: frozenset[str] = frozenset()) -> list[str]:
    """Numbers in ``answer`` from nowhere: a number of two digits or more, a decimal or a
    percentage that no request, no node result or error, no failure or repair problem of the
    thread holds, as written (thousands separators aside) or rounded (``323.7`` for
    ``323.6666``, ``37.5%`` for ``0.375``), and that is no count there is (nodes in a plan,
    results of a turn, items of a list or lines of a text in a result). One digit alone is
    never counted (dagbot's own ``1/2 nodes``, a list's ``3 customers``). A value the joiner
    computed itself, from values a result holds, counts: the computation belongs in a package."""
    texts = list(seen.requests) + list(seen.failures) + list(seen.repair_problems)
    texts += [json.dumps(turn, ensure_ascii=False, default=str) for turn in seen.results]
    texts += [json.dumps(output, ensure_ascii=False, default=str) for output in seen.outputs]
    corpus = "\n".join(texts)
    corpus += "\n" + _THOUSANDS.sub("", corpus)
    known = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", corpus)} | _counts(seen)
    known |= {float(n) for n in _SCIENTIFIC.findall(corpus)}  # (a metrics file's 6.8719476736e+10)
    invented = []
    for match in _NUMBER.finditer(answer):
        written, percent = match.group(1), bool(match.group(2))
        digits = written.replace(",", "")
        if not ("." in digits or percent or len(digits) >= 2):
            continue
        if re.search(rf"(?<!\d){re.escape(digits)}(?!\d)", corpus) or _rounds_to(digits, percent, known):
            continue
        unit = _BINARY_UNIT.match(answer, match.end())
        power = _BINARY_UNITS.index(unit.group(1)) if unit else 0
        # (a size held as bytes, or as kB: meminfo's)
        if power and _rounds_to(digits, False, {k / 1024 ** p for k in known for p in (power, power - 1)}):
            continue  # (a held size in a binary unit: dagbot's "… bytes (64 GiB)", "8148324 kB (7.77 GiB)")
        invented.append(match.group(0).strip())
    return list(dict.fromkeys(invented + invented_names(answer, corpus, seen, tools)))


def invented_names(answer: str, corpus: str, seen: Observed,
                   tools: frozenset[str] = frozenset()) -> list[str]:
    """Words the answer writes as code (one backticked token: a name, a path, a key), or files
    it names bare (``sessions_cache.txt``), that no
    request, result or failure holds in any case, and that are no node's id or tool's name of
    a plan, nor a tool of ``tools`` (the registry's red ones, which dagbot's "I can't" lists):
    "the new type is `another_node_type`" from a search that found no type. Which words could be
    made-up names is the answer check's own rule (:func:`agent.answer.grounded.code_words`), and
    :func:`agent.answer.grounded.bare_files` the files named bare."""
    held = corpus.lower()
    steps = {str(node.get(key)).lower() for plan in seen.plans for node in plan.get("nodes") or []
             if isinstance(node, dict) for key in ("id", "tool")}
    known = steps | {tool.lower() for tool in tools}
    return [f"`{word}`" for word in [*code_words(answer), *bare_files(answer)] if word.lower() not in known
            and word.lower() not in held and word.lower().rsplit("/", 1)[-1] not in held]


def _rounds_to(digits: str, percent: bool, known: set[float]) -> bool:
    """Whether a known number, written to the answer's precision, is ``digits``."""
    if digits.count(".") > 1:
        return False  # a version: only as written
    value = float(digits)
    decimals = len(digits.partition(".")[2])
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    candidates = [(value, tolerance)] + ([(value / 100, tolerance / 100)] if percent else [])
    return any(abs(v - k) <= t for v, t in candidates for k in known)


def _counts(seen: Observed) -> set[float]:
    """Counts an answer may state without a result holding them: nodes in a plan, results of
    a turn, items of a list and lines of a text in a result."""
    counts = {float(len(plan.get("nodes") or [])) for plan in seen.plans}
    counts |= {float(len(turn)) for turn in seen.results}
    stack: list[Any] = [result.get("output") for turn in seen.results for result in turn.values()]
    stack += seen.outputs
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            counts.add(float(len(value)))
            stack.extend(value)
        elif isinstance(value, str) and "\n" in value:
            lines = value.splitlines()
            nonblank = [line for line in lines if line.strip()]
            counts |= {float(len(lines)), float(len(nonblank)), float(len(nonblank) - 1)}
    return counts


_AGGREGATE = re.compile(r"\b(?:count|sum|avg|min|max)\s*\(|\bgroup\s+by\b", re.IGNORECASE)


def _database_computes(plans: list[dict[str, Any]]) -> bool:
    """A query that counts, sums or groups (sql_query over the database, query_file over a
    file): the database computes, as a package would."""
    return any(n.get("tool") in {"sql_query", "query_file"}
               and _AGGREGATE.search(str((n.get("args") or {}).get("sql", "")))
               for plan in plans for n in plan.get("nodes", []))


def rule_breaks(case: Case, seen: Observed, red_tools: frozenset[str]) -> list[str]:
    """The planner's rules a plan of this request broke (docs/plan-format.md)."""
    broken = []
    packages = [n["package"] for plan in seen.plans for n in plan.get("nodes", []) if n.get("package")]
    for package in packages:
        code = str(package.get("code", ""))
        red = sorted(name for name in red_tools if f"tools.{name}(" in code)
        if red:
            broken.append(f"rule: red tool {red} inside a package")
        if len(_LITERAL_CALL.findall(code)) >= 2:
            broken.append("rule: independent reads hidden in one package (not parallel nodes)")
    if case.kind is Kind.COMPUTE and seen.plans and not packages and not _database_computes(seen.plans):
        broken.append("rule: computation left to the model instead of a package")
    return broken
