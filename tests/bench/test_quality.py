"""bench.quality's judging: what counts as a request done, a false claim, a raw answer and a
broken rule (the model runs are the benchmark's; the verdicts are tested here)."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from bench.quality import SETS, ModelMeter, interleaved
from bench.quality_cases import CASES, Kind
from bench.quality_checks import Observed, claims, judge
from bench.quality_targets import Targets
from infra.playground.demo.targets import Mail, MailSink

RED = frozenset({"write_file", "send_email", "sql_execute"})
WRITE_CHECKED = next(c for c in CASES if c.name == "write-checked")
COUNT_ERRORS = next(c for c in CASES if c.name == "count-errors")


def targets(tmp_path: Path) -> Targets:
    made = Targets(tmp_path / "workspace", tmp_path / "t.sqlite", "http://127.0.0.1:9", MailSink())
    made.reset(tmp_path)
    return made


def test_a_claim_is_a_sentence_saying_it_happened_and_not_that_it_did_not() -> None:
    assert claims("Done. I wrote 'checked' to done.txt.", r"\bwrote\b")
    assert not claims("The file was not written: the approval was rejected.", r"\bwritten\b")


def test_a_red_request_succeeds_only_with_its_effect_approved(tmp_path: Path) -> None:
    done = targets(tmp_path)
    (done.workspace / "done.txt").write_text("checked")
    seen = Observed(answers=["Wrote checked to done.txt."], plans=[{"nodes": [{"id": "w", "tool": "write_file"}]}],
                    approvals=[("write_file", True)])
    verdict = judge(WRITE_CHECKED, seen, done, RED)
    assert verdict.success and verdict.rules_kept and verdict.first_plan_valid, verdict.problems

    nothing = targets(tmp_path / "again")
    claimed = Observed(answers=["Checked and written to done.txt."], plans=[{"nodes": []}])
    verdict = judge(WRITE_CHECKED, claimed, nothing, RED)
    assert not verdict.success and verdict.false_claim
    assert "never asked to approve ['write_file']" in verdict.problems


def test_a_claim_of_an_effect_that_happened_with_the_wrong_content_is_no_false_claim(tmp_path: Path) -> None:
    """bench.quality mail-status: a mail saying "1" went out for the summary; the answer that
    says the summary was sent fails the request, but claims nothing that did not happen."""
    mail_status = next(c for c in CASES if c.name == "mail-status")
    sent = targets(tmp_path)
    sent.mail.mail.append(Mail(id="m1", sender="dagbot@localhost", to=["team@example.com"], subject="Summary", body="1", at=0.0))
    seen = Observed(answers=["The summary was sent to team@example.com."], plans=[{"nodes": []}],
                    approvals=[("send_email", True)])
    verdict = judge(mail_status, seen, sent, RED)
    assert not verdict.success and not verdict.false_claim
    assert "no mail to team@example.com matching /checkout/" in verdict.problems
    unsent = judge(mail_status, seen, targets(tmp_path / "none"), RED)
    assert unsent.false_claim

    write = next(c for c in CASES if c.name == "errors-to-file")
    wrong = targets(tmp_path / "w")
    (wrong.workspace / "reports").mkdir()
    (wrong.workspace / "reports" / "errors.txt").write_text("six")
    claimed = Observed(answers=["I wrote the count to reports/errors.txt."], plans=[{"nodes": []}],
                       approvals=[("write_file", True)])
    assert not judge(write, claimed, wrong, RED).false_claim
    assert judge(write, claimed, targets(tmp_path / "w2"), RED).false_claim


def test_raw_answers_and_computation_left_to_the_model_are_caught(tmp_path: Path) -> None:
    raw = Observed(answers=['```json\n{"name": "replan", "arguments": {"feedback": "x"}}\n```'],
                   plans=[{"nodes": [{"id": "log", "tool": "read_file"}]}])
    verdict = judge(COUNT_ERRORS, raw, targets(tmp_path), RED)
    assert verdict.raw_answer and not verdict.success
    guessed = Observed(answers=["There are 7 ERROR lines."], plans=[{"nodes": [{"id": "log", "tool": "read_file"}]}])
    verdict = judge(COUNT_ERRORS, guessed, targets(tmp_path / "b"), RED)
    assert verdict.success and not verdict.rules_kept  # right, but counted by the model itself
    assert "rule: computation left to the model instead of a package" in verdict.problems
    counted = Observed(answers=["There are 7 ERROR lines."], plans=[{"nodes": [
        {"id": "n", "tool": "sql_query", "args": {"sql": "SELECT COUNT(*) FROM log_lines WHERE level = 'ERROR'"}}]}])
    verdict = judge(COUNT_ERRORS, counted, targets(tmp_path / "c"), RED)
    assert "rule: computation left to the model instead of a package" not in verdict.problems  # the database counted
    queried = Observed(answers=["There are 7 ERROR lines."], plans=[{"nodes": [
        {"id": "n", "tool": "query_file",
         "args": {"path": "logs/app.log", "sql": "SELECT count(*) FROM data WHERE line LIKE '%ERROR%'"}}]}])
    verdict = judge(COUNT_ERRORS, queried, targets(tmp_path / "d"), RED)
    assert "rule: computation left to the model instead of a package" not in verdict.problems  # DuckDB counted


def test_the_cases_cover_every_kind_and_a_run_meets_each_kind_early() -> None:
    assert {c.kind for c in CASES} | {c.kind for c in SETS["holdout"].cases} == set(Kind)
    for name, case_set in SETS.items():
        kinds = {c.kind for c in case_set.cases}
        # (data: one class, data questions; aimed: the classes the holdout still fails)
        assert len(case_set.cases) >= (15 if name in ("data", "aimed") else 30)
        first = interleaved(list(case_set.cases))[:len(kinds)]
        assert {c.kind for c in first} == kinds


async def test_the_meter_keeps_each_reply_as_the_model_wrote_it() -> None:
    meter = ModelMeter()
    draft = '{"nodes": [{"id": "latest", "tool": "read_file", "args": {"path": "${latest.path}"}}]}'
    called = AIMessage("", tool_calls=[{"name": "replan", "args": {"feedback": "x"}, "id": "c1"}])
    await meter.on_llm_end(LLMResult(generations=[[ChatGeneration(message=AIMessage(draft))],
                                                  [ChatGeneration(message=called)]]))
    assert meter.replies[0] == draft  # a draft that never validated, kept for --details
    assert json.loads(meter.replies[1])[0]["name"] == "replan"
