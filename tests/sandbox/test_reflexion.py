"""The Package-Skill subgraph: failed attempts are healed by the reflexion LLM, bounded."""

from __future__ import annotations

import json
from typing import Any

from agent.events import PackageAttempt, RunEvent
from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import PackageAttemptRecord, PackageJob, Sandbox, SandboxLimits, SandboxResult
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.backends.unavailable import UnavailableSandbox
from sandbox.reflexion import (
    NO_INPUT_READ,
    NO_TOOLS,
    ReflexionPackageRunner,
    extract_code,
    goal_text,
    parsing,
)

BROKEN = "rows = inputs['rows']\ntotal = sum(r['n'] for r in rows)\nresult = total / 0\n"
FIXED = "rows = inputs['rows']\nresult = {'total': sum(r['n'] for r in rows)}\n"


def job(code: str = BROKEN, inputs: dict[str, Any] | None = None) -> PackageJob:
    return PackageJob(thread_id="T1", run_id="R1", node_id="digest",
                      goal="add up the n of every row", code=code,
                      inputs={"rows": [{"n": 1}, {"n": 2}, {"n": 39}]} if inputs is None else inputs)


class Events:
    def __init__(self) -> None:
        self.seen: list[RunEvent] = []

    async def __call__(self, event: RunEvent) -> None:
        self.seen.append(event)

    def attempts(self) -> list[tuple[int, int, str | None]]:
        return [(e.attempt, e.max_attempts, e.error_gist) for e in self.seen
                if isinstance(e, PackageAttempt)]


async def test_a_failing_script_is_fixed_on_the_second_attempt(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[f"Here is the fix:\n```python\n{FIXED}```\n"])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3)
    events = Events()
    outcome = await runner.run(job(), gateway, events)

    assert outcome.ok, outcome
    assert outcome.output == {"total": 42}
    assert outcome.attempts == [
        PackageAttemptRecord(attempt=1, code=BROKEN, error="ZeroDivisionError: division by zero "
                                                            "(line 3)"),
        PackageAttemptRecord(attempt=2, code=FIXED.rstrip("\n"), error=None),
    ]
    assert events.attempts() == [
        (1, 3, None), (1, 3, "ZeroDivisionError: division by zero (line 3)"), (2, 3, None),
    ]
    assert all(e.node_id == "digest" and e.thread_id == "T1" for e in events.seen)
    prompt = str(llm.calls[0][-1].content)
    assert "add up the n of every row" in prompt  # the goal
    assert "result = total / 0" in prompt  # the previous code
    assert "ZeroDivisionError" in prompt and 'File "<package>", line 3' in prompt  # the error
    assert "inputs['rows']: list of 3" in prompt  # the input summary
    assert "tools.http_get(url)" in prompt and "send_email" not in prompt  # green tools only
    assert "answers the request" not in prompt  # a job with no request: its goal alone


def test_the_rewrite_reads_the_request_a_final_package_answers_beside_its_goal() -> None:
    """fresh-rollout: the planner's goal was "read"; the rewrite took the flag's ``enabled``
    where the request named its ``rollout``."""
    asked = "What rollout does config/flags.yaml set for new-checkout?"
    vague = PackageJob(thread_id="T1", run_id="R1", node_id="rollout", goal="read", code="",
                       inputs={}, request=asked)
    assert goal_text(vague) == f"read\n(Its result answers the request: {asked})"
    follow_up = PackageJob(thread_id="T1", run_id="R1", node_id="admins", goal="filter the admins", code="",
                           inputs={}, request="Which of them have MFA off?",
                           follows="How many admins are listed in access/users.json?")
    assert goal_text(follow_up).endswith(
        "Which of them have MFA off? (a follow-up to: How many admins are listed in access/users.json?))")
    feeding = PackageJob(thread_id="T1", run_id="R1", node_id="rows", goal="parse the CSV rows", code="",
                         inputs={}, request=asked, final=False)
    assert goal_text(feeding) == "parse the CSV rows"  # another package goes on from it
    assert goal_text(PackageJob(thread_id="T1", run_id="R1", node_id="r", goal=f"answer: {asked}", code="",
                                inputs={}, request=asked)) == f"answer: {asked}"  # said already


async def test_the_reflexion_prompt_shows_the_request_beside_the_goal(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[f"```python\n{FIXED}```\n"])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3)
    asked = PackageJob(thread_id="T1", run_id="R1", node_id="digest", goal="add", code=BROKEN,
                       inputs={"rows": [{"n": 1}, {"n": 2}, {"n": 39}]}, request="What is the total n?")
    outcome = await runner.run(asked, gateway, Events())
    assert outcome.ok and outcome.output == {"total": 42}
    assert "add\n(Its result answers the request: What is the total n?)" in str(llm.calls[0][-1].content)


async def test_a_script_that_keeps_failing_stops_at_the_limit(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    still_broken, broken_again = "result = inputs['rows'][7]\n", "result = int('seven' * len(inputs['rows']))\n"
    llm = ScriptedChatModel(replies=[still_broken, broken_again], repeat_last=True)
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3)
    events = Events()
    outcome = await runner.run(job(), gateway, events)

    assert not outcome.ok
    assert len(llm.calls) == 2
    assert [r.attempt for r in outcome.attempts] == [1, 2, 3]
    assert outcome.attempts[1].error == "IndexError: list index out of range (line 1)"
    assert outcome.error == (
        "package 'digest' failed after 3 attempts (limit 3):\n"
        "  attempt 1/3: ZeroDivisionError: division by zero (line 3)\n"
        "  attempt 2/3: IndexError: list index out of range (line 1)\n"
        "  attempt 3/3: ValueError: invalid literal for int() with base 10: 'sevensevenseven' (line 1)"
    )
    assert [a for a, _, gist in events.attempts() if gist] == [1, 2, 3]


class FailingSandbox:
    """A sandbox where every script fails the same way; it keeps the scripts it ran."""

    name = "failing-fake"

    def __init__(self) -> None:
        self.ran: list[str] = []

    async def run(self, code: str, inputs: dict[str, Any], tools: Any, limits: SandboxLimits
                  ) -> SandboxResult:
        self.ran.append(code)
        # (an error no mend without the model fits: sandbox/key_mends.py, loop_mends.py)
        return SandboxResult(ok=False, error_type="TypeError", error="unsupported operand type(s) for +",
                             traceback='File "<package>", line 2, in <module>\n')


class NoTools:
    async def call(self, name: str, args: dict[str, Any]) -> Any:
        raise AssertionError("the script calls no tool")


async def test_the_code_that_just_failed_is_not_run_again() -> None:
    # the same script, in a fence with prose around it, trailing spaces and a blank line added
    same = f"Here is the fixed script:\n```python\n{BROKEN.replace(chr(10), '  ' + chr(10), 1)}\n```\nDone."
    llm = ScriptedChatModel(replies=[same], repeat_last=True)
    sandbox = FailingSandbox()
    runner = ReflexionPackageRunner(sandbox, llm, max_attempts=5)
    events = Events()
    outcome = await runner.run(job(), NoTools(), events)
    assert not outcome.ok
    # told once that it was the same code, with the line that raised; the same again: stopped
    assert sandbox.ran == [BROKEN] and len(llm.calls) == 2
    told = str(llm.calls[1][-1].content)
    assert "same code that failed" in told and "Line 2 raised it:\ntotal = sum(r['n'] for r in rows)" in told
    assert [r.attempt for r in outcome.attempts] == [1]
    assert outcome.error == (
        "package 'digest' failed after 1 attempt (limit 5):\n"
        "  attempt 1/5: TypeError: unsupported operand type(s) for + (line 2)\n"
        "  stopped: the reflexion model returned the same code that failed in attempt 1: not run again"
    )


async def test_a_failure_over_a_file_that_does_not_parse_says_so_plainly_first() -> None:
    """wide broken-ingress: three ``ParserError`` attempts were all a person was told; dagbot
    parses the YAML itself and says the file is not valid YAML, and where."""
    ingress = "kind: Ingress\nmetadata:\n  name: shop\n spec:\n  rules: []\n"
    llm = ScriptedChatModel(replies=[FIXED], repeat_last=True)
    loads = PackageJob(thread_id="T1", run_id="R1", node_id="parse", goal="parse the YAML", code=BROKEN,
                       inputs={"config": {"path": "config/ingress.yaml", "content": ingress},
                               "fine": {"path": "config/ok.yaml", "content": "a: 1\n"}})
    outcome = await ReflexionPackageRunner(FailingSandbox(), llm, max_attempts=2).run(loads, NoTools(), Events())
    assert not outcome.ok and outcome.error is not None
    first, second = outcome.error.splitlines()[:2]
    assert first == ("config/ingress.yaml is not valid YAML: expected <block end>, but found "
                     "'<block mapping start>' (line 4, column 2).")
    assert second == "package 'parse' failed after 2 attempts (limit 2):"
    assert "config/ok.yaml" not in outcome.error


async def test_reindented_code_is_new_code() -> None:
    moved = BROKEN.replace("result = total / 0", "    result = total / 0")  # indentation counts
    llm = ScriptedChatModel(replies=[moved, FIXED], repeat_last=True)
    sandbox = FailingSandbox()
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(
        job(), NoTools(), Events())
    assert sandbox.ran == [BROKEN, moved.rstrip("\n")] and len(outcome.attempts) == 2


async def test_no_reflexion_when_the_sandbox_itself_is_missing(
    gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=[])
    runner = ReflexionPackageRunner(UnavailableSandbox(["docker: none"]), llm, limits)
    outcome = await runner.run(job(FIXED), gateway, Events())
    assert not outcome.ok
    assert llm.calls == []
    assert "no sandbox is available" in (outcome.error or "")
    assert "apt-get install bubblewrap" in (outcome.error or "")


class AuthenticationError(Exception):
    status_code = 401


async def test_a_model_failure_ends_the_loop_with_a_readable_error_without_the_servers_words(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    def boom(_: Any) -> str:  # a server echoing the request's key, as some proxies do
        raise AuthenticationError("invalid credentials (Authorization: Bearer sk-TOPSECRET-42)")

    runner = ReflexionPackageRunner(sandbox, ScriptedChatModel(replies=[boom]), limits)
    outcome = await runner.run(job(), gateway, Events())
    assert not outcome.ok
    assert len(outcome.attempts) == 1
    assert ("stopped: the reflexion model failed: AuthenticationError, HTTP 401: the key was refused"
            in (outcome.error or ""))
    assert "sk-TOPSECRET-42" not in (outcome.error or "")


async def test_a_failing_progress_sink_does_not_break_the_run(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    async def broken_sink(event: RunEvent) -> None:
        raise ConnectionError("slack is down")

    runner = ReflexionPackageRunner(sandbox, ScriptedChatModel(replies=[]), limits)
    outcome = await runner.run(job(FIXED), gateway, broken_sink)
    assert outcome.ok and outcome.output == {"total": 42}


def test_code_is_parsed_from_fenced_or_raw_replies() -> None:
    assert extract_code("```python\nresult = 1\n```") == "result = 1"
    assert extract_code("Sure!\n```py\nresult = 2\n```\nDone.") == "result = 2"
    assert extract_code("```\nresult = 3\n```") == "result = 3"
    assert extract_code("text\n```json\n{}\n```\n```python\nresult = 4\n```") == "result = 4"
    assert extract_code("result = 5\n") == "result = 5"
    assert extract_code("```python\nresult = 6\n") == "result = 6"
    assert extract_code("   ") == ""


async def test_told_it_returned_the_same_code_the_model_may_still_fix_it() -> None:
    llm = ScriptedChatModel(replies=[f"```python\n{BROKEN}```", f"```python\n{FIXED}```"])
    sandbox = FailingSandbox()
    runner = ReflexionPackageRunner(sandbox, llm, max_attempts=2)
    outcome = await runner.run(job(), NoTools(), Events())
    assert sandbox.ran == [BROKEN, FIXED.rstrip("\n")]  # the fix ran (and failed here: a fake)
    assert [r.attempt for r in outcome.attempts] == [1, 2]


async def test_a_key_the_inputs_hold_spelt_another_way_is_mended_without_the_model(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    # bench.quality slow-services: the planner guessed 'p99' for the status page's 'p99_ms'
    services = [{"name": "api", "p99_ms": 120}, {"name": "checkout", "p99_ms": 870},
                {"name": "payments", "p99_ms": 210}]
    guessed = "slow = [s['name'] for s in inputs['status']['json']['services'] if s['p99'] > 200]\nresult = len(slow)"
    llm = ScriptedChatModel(replies=[])  # called, it would have no reply: the run would fail
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3)
    outcome = await runner.run(PackageJob(
        thread_id="T1", run_id="R1", node_id="slow", goal="count services with p99 above 200 ms",
        code=guessed, inputs={"status": {"status": 200, "json": {"services": services}}}), gateway, Events())
    assert outcome.ok and outcome.output == 2, outcome
    # (seen before it ran: no input has 'p99'; the sandbox ran only the mended code)
    assert [(r.attempt, r.error) for r in outcome.attempts] == [
        (1, "KeyError: 'p99' (line 1) (found before it ran: no input has that key)"), (2, None)]
    assert outcome.attempts[1].code == guessed.replace("s['p99']", "s['p99_ms']")
    assert llm.calls == []


async def test_a_loop_over_a_json_object_goes_over_its_one_list_then_its_key_is_mended_without_the_model(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    # bench.quality slow-services, as the 1.5B model wrote it: it reads 'p99' for 'p99_ms' (found
    # before it runs), and the loop goes over the body's keys (TypeError: string indices…)
    body = {"updated": "2026-11-22T09:55:00Z", "services": [
        {"name": "api", "p99_ms": 120}, {"name": "checkout", "p99_ms": 870}, {"name": "payments", "p99_ms": 210}]}
    guessed = ("import json\nstatus_data = json.loads(inputs['status']['text'])\n"
               "slow = [service for service in status_data if service['p99'] > 200]\nresult = len(slow)")
    llm = ScriptedChatModel(replies=[])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3)
    outcome = await runner.run(PackageJob(
        thread_id="T1", run_id="R1", node_id="slow", goal="count services with p99 above 200 ms",
        code=guessed, inputs={"status": {"status": 200, "text": json.dumps(body)}}), gateway, Events())
    assert outcome.ok and outcome.output == 2, outcome
    assert [r.error for r in outcome.attempts] == [
        "KeyError: 'p99' (line 3) (found before it ran: no input has that key)",
        "TypeError: string indices must be integers, not 'str' (line 3)", None]
    assert "for service in rows_of(status_data) if service['p99_ms'] > 200" in outcome.attempts[2].code
    assert llm.calls == []


MADE_UP = ("def total(inputs):\n    return sum(r['n'] for r in inputs['rows'])\n\n"
           "inputs = {'rows': [{'n': 40}]}  # example usage\nresult = total(inputs)\n")
NEVER_SETS = "def total():\n    result = sum(r['n'] for r in inputs['rows'])\n    print(result)\n"
"""(a function that returned it would be called: agent/plan/uncalled_function.py)"""
NUMPY = "import numpy\nresult = float(numpy.sum([r['n'] for r in inputs['rows']]))\n"


async def test_code_that_cannot_work_as_written_is_sent_back_before_it_runs() -> None:
    """bench.quality status-and-incidents: reflexion wrote a function it never called, then code
    the sandbox cannot run; told why, it may fix it."""
    llm = ScriptedChatModel(replies=[NEVER_SETS, NUMPY, FIXED])
    sandbox = FailingSandbox()
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(), NoTools(), Events())
    told = str(llm.calls[1][-1].content)
    assert told.startswith("That code cannot work as written: never sets `result`")
    # told twice, neither ran: stopped
    assert sandbox.ran == [BROKEN] and len(llm.calls) == 2 and not outcome.ok
    assert outcome.error is not None and outcome.error.endswith(
        "stopped: the reflexion model's code cannot work as written: imports numpy, which the sandbox does "
        "not have: only Python's standard library is there (statistics.mean, json, csv, re, "
        "collections.Counter…) and the parsers bs4, lxml, yaml, dateutil")


async def test_told_why_its_code_cannot_work_the_model_may_fix_it() -> None:
    llm = ScriptedChatModel(replies=[NUMPY, FIXED])
    sandbox = FailingSandbox()
    await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(), NoTools(), Events())
    assert "imports numpy, which the sandbox does not have" in str(llm.calls[1][-1].content)
    assert sandbox.ran == [BROKEN, FIXED.rstrip("\n")]


async def test_an_example_usage_with_inputs_of_its_own_is_run_on_the_real_ones() -> None:
    """The rewrite's "example usage" set ``inputs`` to values it made up: that line goes, and
    the code runs on the real inputs, with no model call to say so (sandbox/written_mends.py)."""
    llm = ScriptedChatModel(replies=[MADE_UP])
    sandbox = FailingSandbox()
    await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(), NoTools(), Events())
    assert len(sandbox.ran) == 2 and "inputs = {" not in sandbox.ran[1] and len(llm.calls) == 1
    assert sandbox.ran[1].rstrip().endswith("result = total(inputs)")


ASSUMED = ("import json\ninputs = {'monitoring': {'matches': []}}  # given inputs\n"
           "result = {'depth': None}\n# let's assume the depth is 5\nresult['depth'] = 5\n")


async def test_code_that_reads_no_input_of_a_package_with_inputs_is_sent_back() -> None:
    """console backlog-and-concurrency: shown a search that found nothing, the model wrote
    ``inputs = {…}`` of its own (mended away) and ``result['depth'] = 5  # let's assume``; the
    answer stated 5 as computed. Code that never reads its inputs computes nothing."""
    llm = ScriptedChatModel(replies=[ASSUMED, ASSUMED.replace("5", "7")])
    sandbox = FailingSandbox()
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(), NoTools(), Events())
    assert NO_INPUT_READ in str(llm.calls[1][-1].content)
    assert sandbox.ran == [BROKEN] and not outcome.ok  # neither ran
    assert outcome.error is not None and outcome.error.endswith(NO_INPUT_READ)
    # the same code for a package with no inputs (a date computed from nothing) is no fault
    llm = ScriptedChatModel(replies=["result = 5\n"])
    sandbox = FailingSandbox()
    await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(code="result = 1 / 0", inputs={}), NoTools(),
                                                                   Events())
    assert sandbox.ran == ["result = 1 / 0", "result = 5"] and len(llm.calls) == 1


async def test_a_key_no_input_has_is_not_run_and_reflexion_is_shown_the_csv_columns() -> None:
    """dev percent-passed: a package read an example's column names with .get and answered 0%
    passed; the read is found before the code runs, and the rewrite is shown the real columns."""
    csv_text = "build,pipeline,result\nb-1,api,passed\nb-2,web,failed\n"
    guessed = ("import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['builds']['content'])))\n"
               "result = sum(r.get('outcome') == 'success' for r in rows)")
    rewrite = guessed.replace("r.get('outcome') == 'success'", "r['result'] == 'passed'")
    llm = ScriptedChatModel(replies=[rewrite])
    sandbox = FailingSandbox()
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(PackageJob(
        thread_id="T1", run_id="R1", node_id="passed", goal="count the good builds", code=guessed,
        inputs={"builds": {"path": "ci/builds.csv", "content": csv_text}}), NoTools(), Events())
    assert sandbox.ran == [rewrite]  # the guess never ran
    assert outcome.attempts[0].error == "KeyError: 'outcome' (line 3) (found before it ran: no input has that key)"
    prompt = str(llm.calls[0][-1].content)
    assert "none of the inputs has the key 'outcome'" in prompt
    assert "columns ['build', 'pipeline', 'result']" in prompt


async def test_a_compared_value_no_input_holds_is_the_one_the_goal_names_before_the_code_runs(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """dev percent-passed: the percentage example's column and value copied; reflexion, told that
    no input has 'outcome', wrote the same comparison three times."""
    csv_text = "build,pipeline,result\nb-1,api,passed\nb-2,web,failed\nb-3,web,passed\nb-4,api,timed_out\n"
    copied = ("import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['builds']['content'])))\n"
              "result = round(100 * sum(r['outcome'] == 'success' for r in rows) / len(rows), 1)")
    llm = ScriptedChatModel(replies=[])  # called, it would have no reply: the run would fail
    events = Events()
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3).run(PackageJob(
        thread_id="T1", run_id="R1", node_id="share", goal="percentage of builds that passed", code=copied,
        inputs={"builds": {"path": "ci/builds.csv", "content": csv_text}}), gateway, events)
    assert outcome.ok and outcome.output == 50.0, outcome
    assert outcome.attempts == [PackageAttemptRecord(
        attempt=1, code=copied.replace("r['outcome'] == 'success'", "r['result'] == 'passed'"), error=None,
        mended_by="goal-values")]
    assert [e.mended_by for e in events.seen if isinstance(e, PackageAttempt)] == ["goal-values"]
    assert llm.calls == []


async def test_a_job_with_no_code_is_written_from_its_goal_and_inputs_then_run(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    """agent/engine/computed_values.py: a package dagbot added to compute an answer's values
    comes with no code; the model writes it, shown what reflexion is shown but no failure."""
    llm = ScriptedChatModel(replies=[f"```python\n{FIXED}```"])
    events = Events()
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, max_attempts=2).run(job(code=""), gateway, events)
    assert outcome.ok and outcome.output == {"total": 42}, outcome
    assert outcome.attempts == [PackageAttemptRecord(attempt=1, code=FIXED.rstrip("\n"), error=None)]
    assert events.attempts() == [(1, 2, None)]  # writing it is no attempt
    prompt = str(llm.calls[0][-1].content)
    assert prompt.startswith("You are writing a short Python 3.11 script")
    assert "How package code runs:" in prompt and "$" not in prompt  # the rules, every slot filled
    assert "add up the n of every row" in prompt and "inputs['rows']: list of 3" in prompt
    assert "ran this code" not in prompt and "failed with" not in prompt
    assert NO_TOOLS in prompt and "tools.http_get" not in prompt  # its inputs are the results: nothing to fetch


async def test_written_code_that_fails_is_healed_and_no_code_at_all_ends_plainly() -> None:
    llm = ScriptedChatModel(replies=[f"```python\n{BROKEN}```", f"```python\n{FIXED}```"])
    sandbox = FailingSandbox()
    await ReflexionPackageRunner(sandbox, llm, max_attempts=2).run(job(code=""), NoTools(), Events())
    assert sandbox.ran == [BROKEN.rstrip("\n"), FIXED.rstrip("\n")]
    assert str(llm.calls[1][-1].content).startswith("You are fixing")  # the rewrite is reflexion's
    silent = ScriptedChatModel(replies=["```python\n```"])
    outcome = await ReflexionPackageRunner(FailingSandbox(), silent, max_attempts=2).run(
        job(code=""), NoTools(), Events())
    assert not outcome.ok and outcome.attempts == []
    assert outcome.error is not None and "failed after 0 attempts" in outcome.error


async def test_the_reflexion_prompt_holds_the_rules_too() -> None:
    llm = ScriptedChatModel(replies=[FIXED])
    await ReflexionPackageRunner(FailingSandbox(), llm, max_attempts=2).run(job(), NoTools(), Events())
    prompt = str(llm.calls[0][-1].content)
    assert "How package code runs:" in prompt and "$rules" not in prompt


async def test_written_code_whose_function_is_never_called_runs_with_the_call_added() -> None:
    """tuning average-p99: the writer defined ``compute(inputs)`` and never called it; told so,
    it wrote the same again. The call is added instead, with no model call."""
    written = "def compute(inputs):\n    return {'total': sum(r['n'] for r in inputs['rows'])}\n"
    llm = ScriptedChatModel(replies=[f"```python\n{written}```"])
    sandbox = FailingSandbox()
    await ReflexionPackageRunner(sandbox, llm, max_attempts=1).run(job(code=""), NoTools(), Events())
    assert sandbox.ran == [written.rstrip() + "\n\nresult = compute(inputs)\n"] and len(llm.calls) == 1


async def test_two_attempts_reading_the_same_missing_key_are_followed_by_a_script_written_afresh() -> None:
    """dev follow-up-laggard: ``KeyError: 'last_seen'`` at line 4, then at line 6; shown its own
    code, the model kept the key. The last attempt is written from the goal and the inputs (the
    writer's prompt), told what the two failed with, not shown the code it kept copying."""
    first = "rows = inputs['rows']\nresult = sum(r['weight'] for r in rows)\n"
    second = "rows = inputs['rows']\ntotal = 0\nfor r in rows:\n    total += r['weight']\nresult = total\n"
    llm = ScriptedChatModel(replies=[second, f"```python\n{FIXED}```"])
    sandbox = FailingSandbox()  # runs only the last: the first two read a key no input has
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=3).run(job(code=first), NoTools(), Events())
    assert sandbox.ran == [FIXED.rstrip("\n")]
    assert [r.error for r in outcome.attempts][:2] == [
        "KeyError: 'weight' (line 2) (found before it ran: no input has that key)",
        "KeyError: 'weight' (line 4) (found before it ran: no input has that key)"]
    rewrite, afresh = (str(calls[-1].content) for calls in llm.calls)
    assert rewrite.startswith("You are fixing") and first.strip() in rewrite
    assert afresh.startswith("You are writing a short Python 3.11 script") and "$" not in afresh
    assert ("failed twice the same way (KeyError: 'weight' (found before it ran: no input has that key))"
            in afresh)
    assert "total += r['weight']" not in afresh and "sum(r['weight']" not in afresh
    assert "add up the n of every row" in afresh and "inputs['rows']: list of 3" in afresh


async def test_a_failure_the_data_causes_twice_stays_with_reflexion() -> None:
    """dev broken-targets: a JSON text that does not parse fails every script the same way, and
    is the finding; written afresh, a script read it as CSV and "counted" its lines."""
    llm = ScriptedChatModel(replies=["result = len(inputs['rows']) + 'a'\n", "result = 'a' + len(inputs['rows'])\n"])
    await ReflexionPackageRunner(FailingSandbox(), llm, max_attempts=3).run(job(), NoTools(), Events())
    assert [str(calls[-1].content).startswith("You are fixing") for calls in llm.calls] == [True, True]


async def test_attempts_failing_in_different_ways_stay_with_reflexion(
    sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits
) -> None:
    llm = ScriptedChatModel(replies=["result = inputs['rows'][7]\n", "result = int('seven' * len(inputs['rows']))\n"])
    await ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3).run(job(), gateway, Events())
    assert [str(calls[-1].content).startswith("You are fixing") for calls in llm.calls] == [True, True]
    assert "failed twice" not in str(llm.calls[1][-1].content)


def test_the_writer_is_told_how_to_parse_the_kinds_of_file_its_inputs_hold() -> None:
    """fresh follow-up-owner: told "parse CSV text with csv.DictReader", the writer parsed a
    Markdown file as CSV and read a column ``Name`` it does not have."""
    notes = parsing({"owner": {"path": "notes/standup.md", "content": "# Standup"}})
    assert "plain text" in notes and "not CSV" in notes and "DictReader" not in notes
    # its sections and items, not "names, emails or numbers", which the writer of unseen
    # mail-follow-up-owners pulled out of the whole file, the follow-ups' owners lost
    assert "section" in notes and "before the colon" in notes and "emails" not in notes
    both = parsing({"a": {"path": "slo/latency.csv", "content": "x"}, "b": {"url": "http://h/x.json", "text": "{}"}})
    assert "DictReader" in both and "json.loads" in both and "plain text" not in both
    assert "safe_load" in parsing({"f": {"path": "config/flags.yaml", "content": "a: 1"}})
    unknown = parsing({"rows": [{"n": 1}]})  # no file: every way
    assert "DictReader" in unknown and "json.loads" in unknown and "line by line" in unknown
