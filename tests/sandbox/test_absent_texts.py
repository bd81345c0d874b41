"""A package that found nothing because it looked for a text no input holds is sent back once
(sandbox/absent_texts.py, in the reflexion loop)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import PackageJob, Sandbox, SandboxLimits, SandboxResult
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.absent_texts import absent_texts, is_empty, looked_for_nothing
from sandbox.reflexion import ReflexionPackageRunner

GATEWAY_LOG = ("2026-11-24T10:00:01Z GET /api/orders 200 34ms\n"
               "2026-11-24T10:00:02Z POST /api/checkout 502 1203ms\n"
               "2026-11-24T10:00:05Z GET /api/orders 503 88ms\n"
               "2026-11-24T10:00:11Z GET /api/search 500 56ms\n")
INPUTS = {"log": {"path": "logs/gateway.log", "content": GATEWAY_LOG}}
GUESSED = "lines = inputs['log']['content'].splitlines()\nresult = sum(1 for l in lines if ' 5xx ' in l)"
COUNTED = ("lines = inputs['log']['content'].splitlines()\n"
           "result = sum(1 for l in lines if l.split()[3].startswith('5'))")


def test_the_texts_code_looks_for_that_no_input_holds_in_any_letter_case() -> None:
    assert absent_texts(GUESSED, INPUTS) == [" 5xx "]
    code = ("n = sum(1 for l in lines if 'post' in l.lower() or l.startswith('FATAL'))\n"
            "m = [r for r in rows if r['state'] in ('stalled', 'paused') and r['method'] == 'GET']\n"
            "k = text.count('ERROR') + text.split(',').count('x')")
    assert absent_texts(code, INPUTS) == ["FATAL", "stalled", "paused", "ERROR"]  # POST, GET: held
    assert absent_texts("result = 'orders' in inputs['log']['content']", INPUTS) == []
    assert absent_texts("result = (", INPUTS) == []  # code that does not parse: Python's error


def test_an_empty_result_is_suspect_only_when_its_code_looked_for_an_absent_text() -> None:
    values: list[Any] = [0, 0.0, None, "", [], {}, {"a": 0, "b": []}, 3, "x", {"a": 1}, False]
    assert [is_empty(v) for v in values] == [
        True, True, True, True, True, True, True, False, False, False, False]
    why = looked_for_nothing(GUESSED, INPUTS, 0)
    assert why is not None and "' 5xx '" in why and "none of the inputs holds" in why
    assert looked_for_nothing(GUESSED, INPUTS, 2) is None  # it found something
    assert looked_for_nothing(COUNTED, INPUTS, 0) is None  # '5' is held: a true zero


def test_a_result_of_nothing_at_all_is_suspect_though_every_text_looked_for_is_there() -> None:
    """fresh rollout: ``yaml.safe_load(…).get('new-checkout')`` of a YAML file whose flags are
    under ``flags`` answered None, and the reply had no rollout in it."""
    read = "import yaml\nresult = yaml.safe_load(inputs['log']['content']).get('orders')"
    for result in (None, {"rollout": None}):
        why = looked_for_nothing(read, INPUTS, result)
        assert why is not None and why.startswith(f"the result is {result!r}: the code found no value"), why
    for result in (0, [], "", {"rollout": None, "enabled": True}):
        assert looked_for_nothing(read, INPUTS, result) is None, result  # a value: a zero, none found
    assert looked_for_nothing("tools.write_file(path='x', content='y')", INPUTS, None) is None  # it acted


class ScriptedSandbox:
    """Runs nothing: the result for each script is looked up by its text."""

    name = "scripted-fake"

    def __init__(self, results: dict[str, Any]) -> None:
        self.results, self.ran = results, []  # type: ignore[var-annotated]

    async def run(self, code: str, inputs: dict[str, Any], tools: Any, limits: SandboxLimits) -> SandboxResult:
        self.ran.append(code)
        return SandboxResult(ok=True, result=self.results[code])


def job(code: str) -> PackageJob:
    return PackageJob(thread_id="T1", run_id="R1", node_id="count", goal="count 5xx responses", code=code,
                      inputs=INPUTS)


async def test_a_zero_from_an_absent_text_is_rewritten_once_and_shown_why(
        sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits) -> None:
    """dev gateway-5xx: ``' 5xx ' in l`` over a log of 502, 503, 500 answered "0 5xx responses"."""
    llm = ScriptedChatModel(replies=[f"```python\n{COUNTED}\n```"])
    outcome = await ReflexionPackageRunner(sandbox, llm, limits, max_attempts=3).run(job(GUESSED), gateway, _none)
    assert outcome.ok and outcome.output == 3, outcome
    assert [r.error is None for r in outcome.attempts] == [False, True]
    assert (outcome.attempts[0].error or "").startswith("NothingFound: the result is 0: the code looks for ' 5xx '")
    prompt = str(llm.calls[0][-1].content)
    assert prompt.startswith("You are fixing") and "which none of the inputs holds" in prompt


@pytest.mark.parametrize("again", ["same code", "nothing again", "a crash"])
async def test_when_no_rewrite_does_better_the_first_result_stands(again: str) -> None:
    """The data may truly hold none: sent back once, never lost."""
    other = GUESSED.replace(" 5xx ", "HTTP 5")
    crash = "result = 1 / 0"
    reply = {"same code": GUESSED, "nothing again": other, "a crash": crash}[again]
    llm = ScriptedChatModel(replies=[f"```python\n{reply}\n```"], repeat_last=True)

    class Crashing(ScriptedSandbox):
        async def run(self, code: str, inputs: dict[str, Any], tools: Any, limits: SandboxLimits) -> SandboxResult:
            if code == crash:
                self.ran.append(code)
                return SandboxResult(ok=False, error_type="ZeroDivisionError", error="division by zero")
            return await super().run(code, inputs, tools, limits)

    sandbox = Crashing({GUESSED: 0, other: 0})
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=3).run(job(GUESSED), _NoTools(), _none)
    assert outcome.ok and outcome.output == 0, outcome
    assert (outcome.attempts[0].error or "").startswith("NothingFound")
    assert sum((r.error or "").startswith("NothingFound") for r in outcome.attempts) == 1  # once only


async def test_a_one_attempt_package_is_not_sent_back() -> None:
    sandbox = ScriptedSandbox({GUESSED: 0})
    outcome = await ReflexionPackageRunner(sandbox, ScriptedChatModel(replies=[]), max_attempts=1).run(
        job(GUESSED), _NoTools(), _none)
    assert outcome.ok and outcome.output == 0 and sandbox.ran == [GUESSED]


class _NoTools:
    async def call(self, name: str, args: dict[str, Any]) -> Any:
        raise AssertionError("the script calls no tool")


async def _none(event: Any) -> None:
    return None


async def test_a_rewrite_that_looks_for_the_same_absent_text_again_is_sent_back_before_it_runs() -> None:
    """dev gateway-5xx, after the change: the rewrite was the same ``' 5xx ' in l`` with comments."""
    commented = "# count them\n" + GUESSED.replace("result =", "# the 5xx lines\nresult =")
    llm = ScriptedChatModel(replies=[f"```python\n{commented}\n```", f"```python\n{COUNTED}\n```"])
    sandbox = ScriptedSandbox({GUESSED: 0, COUNTED: 3})
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=3).run(job(GUESSED), _NoTools(), _none)
    assert outcome.ok and outcome.output == 3 and sandbox.ran == [GUESSED, COUNTED]
    assert "it still looks for ' 5xx ', which none of the inputs holds" in str(llm.calls[1][-1].content)


async def test_a_none_is_rewritten_once_with_the_yaml_paths_shown() -> None:
    flags = "owner: growth-team\nflags:\n  new-checkout:\n    enabled: true\n    rollout: 25\n"
    guessed = "import yaml\nresult = yaml.safe_load(inputs['flags']['content']).get('new-checkout')"
    nested = "import yaml\nresult = yaml.safe_load(inputs['flags']['content'])['flags']['new-checkout']['rollout']"
    llm = ScriptedChatModel(replies=[f"```python\n{nested}\n```"])
    sandbox = ScriptedSandbox({guessed: None, nested: 25})
    read = PackageJob(thread_id="T1", run_id="R1", node_id="rollout", goal="new-checkout's rollout", code=guessed,
                      inputs={"flags": {"path": "config/flags.yaml", "content": flags}})
    outcome = await ReflexionPackageRunner(sandbox, llm, max_attempts=3).run(read, _NoTools(), _none)
    assert outcome.ok and outcome.output == 25 and sandbox.ran == [guessed, nested]
    prompt = str(llm.calls[0][-1].content)
    assert "the code found no value where it looked" in prompt
    assert "yaml.safe_load(inputs['flags']['content'])['flags']['new-checkout']['rollout']: int, e.g. 25" in prompt
