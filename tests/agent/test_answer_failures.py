"""A step that failed is never left out of the answer: what failed, and why (agent/answer/failures.py)."""

from __future__ import annotations

from typing import Any

from agent.answer.failures import NOTE, dropped_failures, with_failures_told
from agent.tools.file_syntax import syntax_note

PLAN = {"nodes": [{"id": "postmortem", "tool": "read_file", "args": {"path": "notes/postmortem.md"}},
                  {"id": "copy", "tool": "write_file", "args": {"path": "reports/postmortem.md"}},
                  {"id": "top", "package": {"goal": "the consumer with the highest lag", "code": "..."}}]}
MISSING = "there is no file 'notes/postmortem.md' in the workspace; list_files shows what exists"
RESULTS = {"postmortem": {"status": "failed", "error": MISSING},
           "copy": {"status": "skipped", "error": "skipped: 'postmortem' was failed"}}


def test_a_failure_the_answer_does_not_explain_is_added_under_it() -> None:
    """dev-missing-copy: the answer said the copy was skipped and that 'postmortem' failed, not why."""
    answer = "- copy: write_file skipped — skipped: 'postmortem' was failed"
    noted = with_failures_told(answer, PLAN, RESULTS)
    assert noted == (f"{answer}\n\n{NOTE}\n• `postmortem` (read_file notes/postmortem.md): failed "
                     f"({MISSING})")


def test_an_answer_that_says_why_is_left_as_it_is() -> None:
    told = "notes/postmortem.md is not in the workspace (there is no such file), so nothing was copied."
    assert with_failures_told(told, PLAN, RESULTS) == told
    done = {"postmortem": {"status": "done", "output": {"content": "x"}}}
    assert with_failures_told("Copied.", PLAN, done) == "Copied."  # nothing failed
    assert with_failures_told("", PLAN, RESULTS) == ""  # no answer: dagbot's own reply follows


def test_a_change_not_approved_that_the_answer_does_not_tell_is_added_under_it() -> None:
    """console rejected-not-running: the write was rejected, and the answer only listed the pods."""
    rejected = {"copy": {"status": "rejected", "error": "rejected by U0ALICE"}}
    answer = "The pods that aren't Running are: payments-x2v9d, ingest-worker-m5n2k."
    assert with_failures_told(answer, PLAN, rejected) == (
        f"{answer}\n\n{NOTE}\n• `copy` (write_file reports/postmortem.md): did not run: not approved "
        "(rejected by U0ALICE)")
    told = "U0ALICE rejected the copy, so reports/postmortem.md was not written."
    assert with_failures_told(told, PLAN, rejected) == told
    # said not made, naming the change (its step, or its target): told
    for told in ("No copy was made this time.", "reports/postmortem.md was not written."):
        assert with_failures_told(told, PLAN, rejected) == told


def test_an_answer_that_states_what_a_failed_step_was_to_compute_gets_the_failure() -> None:
    """dev-follow-up-laggard: the package failed and the answer named the file's first consumer."""
    failed = {"top": {"status": "failed", "error": "package 'top' failed after 3 attempts (limit 3):\n"
                                                   "  attempt 1/3: TypeError: list indices must be integers"}}
    noted = with_failures_told("The consumer with the highest lag is billing-events.", PLAN, failed)
    assert noted.endswith("• `top` (package: the consumer with the highest lag): failed (package 'top' failed "
                          "after 3 attempts (limit 3):\n  attempt 1/3: TypeError: list indices must be integers)")
    said = "I could not find it: the package failed after 3 attempts."
    assert with_failures_told(said, PLAN, failed) == said


FAILED_PACKAGE: dict[str, Any] = {"status": "failed", "error": "package 'top' failed after 3 attempts (limit 3):\n  "
                  "attempt 1/3: KeyError: 'last_seen'",
                  "attempt_log": [{"attempt": 1, "code": "result = max(rows, key=...)", "error": "KeyError"}]}
READ_ONLY: dict[str, Any] = {"nodes": [{"id": "lag", "tool": "read_file", "args": {"path": "queue/consumers.json"}}]}
READ_DONE: dict[str, dict[str, Any]] = {"lag": {"status": "done", "output": {"content": "{}"}}}


def test_a_package_an_earlier_plan_failed_and_the_replan_dropped_is_told() -> None:
    """dev follow-up-laggard: the replan only read the file again, and the joiner named its first consumer."""
    earlier = [{"lag": READ_DONE["lag"], "top": FAILED_PACKAGE}]
    assert dropped_failures(earlier, READ_ONLY, READ_DONE) == {"top": FAILED_PACKAGE}
    timed_out = {"status": "failed", "error": "the package did not finish within 150 s (its wall-time limit…)"}
    assert dropped_failures([{"top": timed_out}], READ_ONLY, READ_DONE) == {"top": timed_out}


def test_a_failure_the_final_plan_made_good_or_a_failed_call_is_not_told_again() -> None:
    earlier = [{"top": FAILED_PACKAGE}]
    computed = {"nodes": [*READ_ONLY["nodes"], {"id": "highest", "package": {"goal": "g", "code": "result = 1"}}]}
    assert dropped_failures(earlier, computed, {**READ_DONE, "highest": {"status": "done", "output": 1}}) == {}
    assert dropped_failures(earlier, READ_ONLY, {"top": {"status": "done", "output": "x"}}) == {}  # same id
    failed_read = {"status": "failed", "error": "there is no file 'queue/old.json' in the workspace"}
    assert dropped_failures([{"old": failed_read}], READ_ONLY, READ_DONE) == {}  # a tool's, not a package's
    retried = {"status": "done", "output": 1, "attempt_log": [{"attempt": 1, "code": "x", "error": "E"}]}
    assert dropped_failures([{"top": retried}], READ_ONLY, READ_DONE) == {}  # it finished


def test_a_file_read_that_does_not_parse_is_told_unless_the_answer_says_so() -> None:
    """morning broken-silences: "Load alerting/silences.json as JSON and tell me when the
    os-data-2 silence ends" was answered from the file's text, not a word of its trailing comma."""
    text = '[{"id": "sil-5512", "ends_at": "2026-11-25T08:00:00Z"},\n]\n'
    read = {"path": "alerting/silences.json", "content": text, "size": len(text), "truncated": False,
            "note": syntax_note("alerting/silences.json", text)}
    results = {"silences": {"status": "done", "output": read}}
    plan = {"nodes": [{"id": "silences", "tool": "read_file", "args": {"path": "alerting/silences.json"}}]}
    answer = "The silence ends at 2026-11-25T08:00:00Z."
    assert with_failures_told(answer, plan, results) == (
        f"{answer}\n\nNote: `alerting/silences.json` is not valid JSON: Expecting value: line 2 column 1 (char 56).")
    said = "alerting/silences.json is not valid JSON (a trailing comma), so it cannot be loaded."
    assert with_failures_told(said, plan, results) == said
    parsed = {"silences": {"status": "done", "output": {**read, "content": "[]"} | {"note": None}}}
    assert with_failures_told(answer, plan, parsed) == answer


def test_a_change_that_did_not_run_with_no_failure_told_to_explain_it_is_told() -> None:
    """weekend failing-tests-to-file: dagbot's own package failed (its failure is not the plan's
    to tell), the write after it was skipped, and the answer listed tests as if written."""
    skipped = {"postmortem": {"status": "done", "output": {"content": "x"}},
               "copy": {"status": "skipped", "error": "skipped: 'computed' was failed"}}
    answer = "- checkout.apply_voucher\n- search.facet_filters"
    assert with_failures_told(answer, PLAN, skipped) == (
        f"{answer}\n\n{NOTE}\n• `copy` (write_file reports/postmortem.md): did not run "
        "(skipped: 'computed' was failed)")
    for told in ("reports/postmortem.md was not written.", "The copy step did not run."):
        assert with_failures_told(told, PLAN, skipped) == told
