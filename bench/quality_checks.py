"""How bench.quality judges one request: its outcomes against the case's checks, and the
planner's rules against the plans it ran."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.answer.change_claims import says
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
                 r"|\{\s*\"nodes\"\s*:|<tool_call>|\"tool\"\s*:\s*\"\w+\"\s*,\s*\"args\"", re.I)
"""An unresolved reference, or a tool call or plan written as text, in an answer."""
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


def claims(text: str, pattern: str) -> bool:
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
    unexpected_files = set(changed) - {c.path for c in case.files}
    if unexpected_files:
        problems.append(f"wrote files not asked for: {sorted(unexpected_files)}")
    if changed and "write_file" not in approved:
        problems.append("a file changed without an approved write_file")
    if targets.mail.mail and "send_email" not in approved:
        problems.append("mail sent without an approved send_email")
    if len(rows) != 5 and "sql_execute" not in approved:
        problems.append("the database changed without an approved sql_execute")
    missing = set(case.red_tools) - asked
    if missing:
        problems.append(f"never asked to approve {sorted(missing)}")
    false_claim = _false_claim(case, answer, happened)
    if false_claim:
        problems.append("the answer claims an effect that did not happen")
    broken = rule_breaks(case, seen, red)
    stray = asked - set(case.red_tools)
    if stray:  # the person rejected it; the outcome may still be right
        broken.append(f"rule: asked to approve {sorted(stray)}, which the request did not ask for")
    success = not problems
    problems += broken
    valid = bool(seen.plans) and not any("could not make a valid plan" in f or "could not make a plan" in f
                                         for f in seen.failures)
    return Verdict(success=success, first_plan_valid=valid and seen.repairs == 0, plan_valid=valid,
                   rules_kept=not broken and not false_claim and not raw, false_claim=false_claim,
                   raw_answer=raw, problems=problems)


def _false_claim(case: Case, answer: str, happened: dict[str, bool]) -> bool:
    for tool in case.red_tools:
        if not happened.get(tool, False) and claims(answer, CLAIMS[tool]):
            return True
    return case.kind is Kind.REFUSE and claims(answer, REFUSED_CLAIMS)


_AGGREGATE = re.compile(r"\b(?:count|sum|avg|min|max)\s*\(|\bgroup\s+by\b", re.IGNORECASE)


def _database_computes(plans: list[dict[str, Any]]) -> bool:
    """A query that counts, sums or groups: the database computes, as a package would."""
    return any(n.get("tool") == "sql_query" and _AGGREGATE.search(str((n.get("args") or {}).get("sql", "")))
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
