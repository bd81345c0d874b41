"""A step that failed is never left out of the answer.

The joiner's model decides what to say, and a small one skipped what failed: "the consumer with
the highest lag is billing-events" (the first item of the file) after the package that was to
find it had failed, and "copy: skipped" for a copy whose source did not exist, without why. An
answer must say what failed and why, so each step of the plan that failed is checked against
it: the answer tells the failure when it holds at least half of the words of the error's first
line (its node's id aside: "'postmortem' was failed" says nothing of why). Each failure it does
not tell is added under it, in dagbot's own words (:mod:`agent.answer.facts`).

A replan may drop the failed step instead: in dev follow-up-laggard the package failed, the
replan only read the file again, and the joiner named the file's first consumer as the one
with the highest lag, a value the file holds but no step computed. So a package that failed in
a plan a replan replaced is told too (:func:`dropped_failures`), unless the final plan has a
package that finished or a step of the same id.

When the package dagbot added to compute the request's values failed, the joiner's model answered
from the reads alone, and a small one gave a row's value for the sum it could not compute ("the
lag … of the billing-ledger group is 1200", the file's first row; tuesday ledger-total-lag): an
answer that does not say so is told that its figures were not computed
(:func:`with_uncomputed_told`).

A file read whole that does not parse as its name says (read_file's note) is told the same way
when the answer does not say so: the read was done, and what it found is not what a program
could load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from agent.answer.facts import failure_line
from agent.execution.package_nodes import PACKAGE_TIMED_OUT
from agent.tools.file_syntax import unparsed

_WORD = re.compile(r"[A-Za-z][\w./-]*[A-Za-z0-9]")
_COMMON = frozenset({
    "the", "and", "for", "with", "was", "were", "has", "had", "have", "not", "this", "that", "from", "into",
    "its", "but", "are", "did", "does", "any", "there", "what", "which", "use", "see", "you", "your"})
NOTE = "Not done, and why:"
_UNAPPROVED = re.compile(r"\b(?:reject|declin|not approved|expired|withdrawn|approv\w* (?:was )?not given)",
                         re.IGNORECASE)
"""An answer's words for a change nobody approved."""
_NOT_MADE = re.compile(r"\b(?:not|no|never|nothing)\b|n't\b", re.IGNORECASE)


def with_failures_told(answer: str, plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str:
    """``answer``, with a line for each step of ``plan`` that failed, or was not approved, or (a
    targeted tool step, with no failure told to explain it) did not run, and that it does not
    tell (console rejected-not-running: the write was rejected, and the answer only listed pods,
    as if the report had been written)."""
    if not answer:
        return answer
    nodes = {node.get("id"): node for node in plan.get("nodes") or []}
    said = {word.lower() for word in _WORD.findall(answer)}
    explained = any(result.get("status") in ("failed", "rejected") for result in results.values())
    untold = [failure_line(node_id, nodes.get(node_id) or {}, result) for node_id, result in results.items()
              if (result.get("status") == "failed"
                  and not _told(said, node_id, str(result.get("error") or "")))
              or (result.get("status") == "rejected" and not _told_unapproved(answer, said, node_id,
                                                                              nodes.get(node_id) or {}))
              or (result.get("status") == "skipped" and not explained
                  and not _told_skipped(answer, said, node_id, nodes.get(node_id) or {}))]
    told = f"{answer}\n\n{NOTE}\n" + "\n".join(untold) if untold else answer
    unparsed = [] if _NOT_PARSED.search(answer) else unparsed_reads(results)
    return f"{told}\n\n" + "\n".join(unparsed) if unparsed else told


UNCOMPUTED_NOTE = ("_dagbot's own computation of this failed ({why}), so the figures above were read from "
                   "the results by the model, not computed: check them._")
_SAYS_UNCOMPUTED = re.compile(r"\b(?:could(?:n't| not)|can(?:no|')t|unable to|failed|not (?:be )?(?:computed|"
                              r"calculated|determined))\b", re.IGNORECASE)
_FIGURE = re.compile(r"\d")


def with_uncomputed_told(answer: str, computing: Mapping[str, Any] | None) -> str:
    """``answer``, with :data:`UNCOMPUTED_NOTE` when ``computing`` (the result of the package
    dagbot added to compute the request) failed and the answer states a figure without saying
    that something could not be computed or failed."""
    if not answer or not computing or computing.get("status") != "failed" or not _FIGURE.search(answer) \
            or _SAYS_UNCOMPUTED.search(answer):
        return answer
    error = str(computing.get("error") or "").strip()
    why = re.sub(r"^attempt \d+/\d+:\s*", "", error.splitlines()[-1].strip() if error else "") or "it failed"
    return f"{answer}\n\n{UNCOMPUTED_NOTE.format(why=why[:160].strip().rstrip('.'))}"


_NOT_PARSED = re.compile(r"\b(?:not (?:a )?valid|invalid|malformed|broken|corrupt\w*|does(?:n't| not) parse"
                         r"|(?:parse|parsing|syntax) error|(?:could(?:n't| not)|can(?:no|')t|failed to"
                         r"|unable to) (?:be )?(?:parse|load|decode)d?)", re.IGNORECASE)
"""An answer's words for a file that does not parse."""


def unparsed_reads(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A line for each file a step read that does not parse as its name says (read_file's
    note: :mod:`agent.tools.file_syntax`): "Load alerting/silences.json as JSON and tell me
    when…" was answered from its text, with no word that it is not valid JSON (morning
    broken-silences)."""
    lines = []
    for result in results.values():
        output = result.get("output")
        if not isinstance(output, Mapping):
            continue
        if result.get("status") == "done" and (wrong := unparsed(str(output.get("note") or ""))):
            lines.append(f"Note: `{output.get('path')}` is {wrong}.")
    return list(dict.fromkeys(lines))


def _told_skipped(answer: str, said: set[str], node_id: str, node: Mapping[str, Any]) -> bool:
    """Whether ``answer`` tells of a tool step aimed at a target (a path, an address, a URL) that
    did not run, when no failure or refusal among the results is told to explain it (dagbot's
    own computing package's is not): it names the step or its target. A write skipped after
    dagbot's package failed went untold, and the answer listed the tests as if the report had
    been written (weekend failing-tests-to-file). Packages and untargeted steps are left out."""
    targets = _targets(node)
    if not node.get("tool") or not targets:
        return True
    return (len(node_id) >= 3 and node_id.lower() in said) or any(target in answer for target in targets)


def _targets(node: Mapping[str, Any]) -> list[str]:
    args = node.get("args")
    aimed = [args.get(key) for key in ("path", "to", "url")] if isinstance(args, Mapping) else []
    return [t for v in aimed for t in (v if isinstance(v, list) else [v]) if isinstance(t, str) and t]


def _told_unapproved(answer: str, said: set[str], node_id: str, node: Mapping[str, Any]) -> bool:
    """Whether ``answer`` tells that a change was not approved: it says so in words, or it says
    the change was not made and names it (its step, ``page`` in "not paged again", or its target)."""
    if _UNAPPROVED.search(answer):
        return True
    if not _NOT_MADE.search(answer):
        return False
    return (len(node_id) >= 3 and any(word.startswith(node_id.lower()) for word in said)) \
        or any(target in answer for target in _targets(node))


def _told(said: set[str], node_id: str, error: str) -> bool:
    first = error.strip().splitlines()[0] if error.strip() else ""
    words = {w.lower().strip("./-") for w in _WORD.findall(first)} - _COMMON - {node_id.lower()}
    words.discard("")
    return not words or 2 * len(words & said) >= len(words)


def dropped_failures(earlier: Sequence[Mapping[str, Mapping[str, Any]]], plan: Mapping[str, Any],
                     results: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The packages that failed in the plans ``earlier`` (their results, oldest first) and that
    the final ``plan`` (with its ``results``) did not make good: it has no finished package and
    no step of the same id."""
    packages = {node.get("id") for node in plan.get("nodes") or [] if node.get("package")}
    if any((results.get(str(node_id)) or {}).get("status") == "done" for node_id in packages):
        return {}
    return {node_id: result for plan_results in earlier for node_id, result in plan_results.items()
            if result.get("status") == "failed" and _of_a_package(result) and node_id not in results}


def _of_a_package(result: Mapping[str, Any]) -> bool:
    """Whether a failed result is a package's: its attempts ran code, or it ran out of time
    (:mod:`agent.execution.package_nodes`); a failed tool call has neither."""
    attempts = result.get("attempt_log") or ()
    return any(isinstance(attempt, Mapping) and "code" in attempt for attempt in attempts) \
        or str(result.get("error") or "").startswith(PACKAGE_TIMED_OUT)
