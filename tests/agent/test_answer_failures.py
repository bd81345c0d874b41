"""A step that failed is never left out of the answer: what failed, and why (agent/answer/failures.py)."""

from __future__ import annotations

from agent.answer.failures import NOTE, with_failures_told

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


def test_an_answer_that_states_what_a_failed_step_was_to_compute_gets_the_failure() -> None:
    """dev-follow-up-laggard: the package failed and the answer named the file's first consumer."""
    failed = {"top": {"status": "failed", "error": "package 'top' failed after 3 attempts (limit 3):\n"
                                                   "  attempt 1/3: TypeError: list indices must be integers"}}
    noted = with_failures_told("The consumer with the highest lag is billing-events.", PLAN, failed)
    assert noted.endswith("• `top` (package: the consumer with the highest lag): failed (package 'top' failed "
                          "after 3 attempts (limit 3):\n  attempt 1/3: TypeError: list indices must be integers)")
    said = "I could not find it: the package failed after 3 attempts."
    assert with_failures_told(said, PLAN, failed) == said
