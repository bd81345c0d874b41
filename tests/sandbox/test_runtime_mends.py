"""The runtime mends: one shape, one ordered list, the first that applies wins, and reflexion
uses it without the model (sandbox/runtime_mends.py)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from agent.ports.sandbox import PackageJob, SandboxLimits, SandboxResult
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.key_mends import mended_header_row, mended_missing_key, missing_key
from sandbox.loop_mends import HELPER_CODE, mended_object_loop
from sandbox.reflexion import ReflexionPackageRunner
from sandbox.runtime_mends import (
    COMPARED_COLUMN,
    HEADER_ROW,
    MISSING_KEY,
    NESTED_KEY,
    OBJECT_LOOP,
    PACKAGE_VALUE,
    RUNTIME_MENDS,
    RuntimeFailure,
    RuntimeMend,
    mend_in_place,
)

STATUS = {"services": [{"name": "api", "p99_ms": 120}, {"name": "checkout", "p99_ms": 870}]}
ORDERS = {"orders": {"path": "data/orders.csv", "content": "region,orders\nnorth,120\neast,210\n"}}
BY_REGION = ("import csv, io\nregions = {}\nfor row in csv.reader(io.StringIO(inputs['orders']['content'])):\n"
             "    regions[row[0]] = int(row[1])\nresult = max(regions, key=regions.get)")
STRING_INDEX = "string indices must be integers, not 'str'"


def trace(line: int) -> str:
    return f'Traceback (most recent call last):\n  File "<package>", line {line}, in <module>\n'


KEY = RuntimeFailure(code="result = [s['p99'] for s in inputs['s']['json']['services']]",
                     error_type="KeyError", error="'p99'", traceback=trace(1), inputs={"s": {"json": STATUS}})
HEADER = RuntimeFailure(code=BY_REGION, error_type="ValueError",
                        error="invalid literal for int() with base 10: 'orders'", traceback=trace(4),
                        inputs=ORDERS)
BUILDS = {"builds": {"path": "ci/builds.csv", "content": "build,branch,result\nb-1,main,passed\nb-2,fix/x,failed\n"}}
PASSED = ("import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['builds']['content'])))\n"
          "result = round(100 * sum(r['outcome'] in ('passed',) for r in rows) / len(rows), 1)")
COMPARED = RuntimeFailure(code=PASSED, error_type="KeyError", error="'outcome'", traceback=trace(3), inputs=BUILDS)
"""dev-percent-passed: the percentage example's column ``outcome`` for a CSV whose is ``result``."""
WRAPPED = RuntimeFailure(code="result = len(inputs['hits']['result']) + len(inputs.get('hits').get('output'))",
                         error_type="TypeError", error="list indices must be integers or slices, not str",
                         traceback=trace(1), inputs={"hits": ["POST /api/checkout", "POST /api/checkout"]})
"""dev-checkout-requests: a package's list read as ``{'result': …}``."""
FLAGS = {"flags": {"path": "config/flags.yaml",
                   "content": "owner: growth\nflags:\n  new-checkout:\n    enabled: true\n    rollout: 25\n"}}
NESTED = RuntimeFailure(code="import yaml\nflags = yaml.safe_load(inputs['flags']['content'])\n"
                             "result = flags['new-checkout']['rollout']", error_type="KeyError",
                        error="'new-checkout'", traceback=trace(3), inputs=FLAGS)
"""fresh rollout: a YAML file's flag read at its top, where the file holds it under ``flags``."""
LOOP = RuntimeFailure(code="result = [s['name'] for s in inputs['s'] if s['p99_ms'] > 200]",
                      error_type="TypeError", error=STRING_INDEX, traceback=trace(1), inputs={"s": STATUS})


def test_the_runtime_mends_run_in_this_order() -> None:
    assert [mend.name for mend in RUNTIME_MENDS] == [
        "missing-key", "nested-key", "compared-column", "header-row", "package-value", "object-loop"]
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", mend.name) and mend.slip for mend in RUNTIME_MENDS)


@pytest.mark.parametrize(("mend", "failure", "mended"), [
    (MISSING_KEY, KEY, "result = [s['p99_ms'] for s in inputs['s']['json']['services']]"),
    (NESTED_KEY, NESTED, NESTED.code.replace("flags['new-checkout']", "flags['flags']['new-checkout']")),
    (COMPARED_COLUMN, COMPARED, PASSED.replace("r['outcome']", "r['result']")),
    (HEADER_ROW, HEADER, BY_REGION.replace("csv.reader(io.StringIO(inputs['orders']['content']))",
                                           "list(csv.reader(io.StringIO(inputs['orders']['content'])))[1:]")),
    (PACKAGE_VALUE, WRAPPED, "result = len(inputs['hits']) + len(inputs.get('hits'))"),
    (OBJECT_LOOP, LOOP, HELPER_CODE + "result = [s['name'] for s in rows_of(inputs['s']) if s['p99_ms'] > 200]"),
], ids=["missing-key", "nested-key", "compared-column", "header-row", "package-value", "object-loop"])
def test_each_runtime_mend_turns_its_failure_into_code(mend: RuntimeMend, failure: RuntimeFailure,
                                                       mended: str) -> None:
    assert mend.fix(failure) == mended
    assert mend_in_place(failure) == (mend.name, mended)
    # each answers to its own kind of error only: at most one applies to a failure
    assert [other.name for other in RUNTIME_MENDS if other.fix(failure) is not None] == [mend.name]


NONE_APPLIES = [
    RuntimeFailure(code="result = 1 / 0", error_type="ZeroDivisionError", error="division by zero",
                   traceback=trace(1)),
    # a KeyError missing-key declines (two keys like it) is not passed to the other mends
    RuntimeFailure(code="result = s['p99']", error_type="KeyError", error="'p99'", traceback=trace(1),
                   inputs={"a": {"p99_ms": 1, "p99_s": 2}}),
    RuntimeFailure(code=BY_REGION, error_type="ValueError", error="invalid literal for int() with base 10: 'n/a'",
                   traceback=trace(4), inputs=ORDERS),  # a value, not a column
    RuntimeFailure(code=LOOP.code, error_type="TypeError", error=STRING_INDEX, traceback=None,
                   inputs=LOOP.inputs),  # no package line to find the loop on
    RuntimeFailure(code="result = s['p99'", error_type="SyntaxError", error="'[' was never closed"),
    # an object's 'result' is a field it may have (a CSV row's result column): not this slip
    RuntimeFailure(code="result = inputs['build']['result']", error_type="KeyError", error="'result'",
                   traceback=trace(1), inputs={"build": {"id": "42", "status": "passed"}}),
    # the compared value is under no key, or under two: which column is meant is not plain
    RuntimeFailure(code=PASSED.replace("'passed'", "'success'"), error_type="KeyError", error="'outcome'",
                   traceback=trace(3), inputs=BUILDS),
    # a key held at a top (the read is of another object), or at two places below: not plain
    RuntimeFailure(code="result = x['owner']", error_type="KeyError", error="'owner'", traceback=trace(1),
                   inputs=FLAGS),
    RuntimeFailure(code="result = x['rollout']", error_type="KeyError", error="'rollout'", traceback=trace(1),
                   inputs={"f": {"a": {"rollout": 1}, "b": {"rollout": 2}}}),
    RuntimeFailure(code="result = [r['name'] for r in inputs['x'] if r['kind'] == 'a']", error_type="KeyError",
                   error="'kind'", traceback=trace(1), inputs={"x": [{"name": "a", "tag": "a"}]}),
]


@pytest.mark.parametrize("failure", NONE_APPLIES)
def test_a_failure_no_mend_fits_goes_to_reflexion(failure: RuntimeFailure) -> None:
    assert mend_in_place(failure) is None


def _as_before(failure: RuntimeFailure) -> str | None:
    """sandbox/reflexion.py's _mended before the runtime mends had a list (the reference)."""
    key = missing_key(failure.error_type, failure.error)
    if key is not None:
        return mended_missing_key(failure.code, key, failure.inputs)
    return (mended_header_row(failure.code, failure.error_type, failure.error, failure.inputs)
            or mended_object_loop(failure.code, failure.error_type, failure.error, failure.traceback))


@pytest.mark.parametrize("failure", [KEY, HEADER, LOOP, *NONE_APPLIES])
def test_the_list_mends_what_the_code_before_it_mended(failure: RuntimeFailure) -> None:
    """(compared-column came after that list, and mends a failure none of these is)"""
    fired = mend_in_place(failure)
    assert (fired and fired[1]) == _as_before(failure)


def test_the_first_mend_that_applies_wins() -> None:
    declines = RuntimeMend("declines", "nothing", lambda failure: None)
    first = RuntimeMend("first", "one slip", lambda failure: "result = 1")
    second = RuntimeMend("second", "another slip", lambda failure: "result = 2")
    assert mend_in_place(KEY, (declines, first, second)) == ("first", "result = 1")
    assert mend_in_place(KEY, (declines,)) is None


def test_a_failure_is_read_from_the_sandboxs_result() -> None:
    outcome = SandboxResult(ok=False, error_type="KeyError", error="'p99'", traceback=trace(1), stderr="noise")
    assert RuntimeFailure.of(KEY.code, outcome, KEY.inputs) == KEY


class ScriptedSandbox:
    """A sandbox that answers each run with the next scripted result; it keeps the scripts it ran."""

    name = "scripted-fake"

    def __init__(self, *results: SandboxResult) -> None:
        self.results = list(results)
        self.ran: list[str] = []

    async def run(self, code: str, inputs: dict[str, Any], tools: Any, limits: SandboxLimits) -> SandboxResult:
        self.ran.append(code)
        return self.results.pop(0)


class NoTools:
    async def call(self, name: str, args: dict[str, Any]) -> Any:
        raise AssertionError("the script calls no tool")


async def no_events(event: Any) -> None:
    return None


async def test_reflexion_runs_the_mended_code_without_the_model_and_says_which_mend(
        caplog: pytest.LogCaptureFixture) -> None:
    # reads 'p99' for 'p99_ms' (found before it runs: missing-key), then the loop goes over the
    # object (object-loop)
    code = "result = [s['name'] for s in inputs['s'] if s['p99'] > 200]"
    sandbox = ScriptedSandbox(
        SandboxResult(ok=False, error_type="TypeError", error=STRING_INDEX, traceback=trace(1)),
        SandboxResult(ok=True, result=["checkout"]))
    llm = ScriptedChatModel(replies=[])  # called, it would have no reply: the run would stop
    runner = ReflexionPackageRunner(sandbox, llm, max_attempts=3)
    job = PackageJob(thread_id="T1", run_id="R1", node_id="slow", goal="services with p99 above 200 ms",
                     code=code, inputs={"s": STATUS})
    with caplog.at_level(logging.INFO, logger="sandbox.reflexion"):
        final = await runner.final_state(job, NoTools(), no_events)

    assert final.get("ok") and final.get("output") == ["checkout"]
    assert llm.calls == []
    keyed = code.replace("s['p99']", "s['p99_ms']")
    assert sandbox.ran == [keyed, HELPER_CODE + keyed.replace("in inputs['s']", "in rows_of(inputs['s'])")]
    assert final.get("mended_by") == {2: "missing-key", 3: "object-loop"}
    said = [r.getMessage() for r in caplog.records if r.name == "sandbox.reflexion"]
    assert said == [
        "package slow: mended in place by missing-key after KeyError: 'p99' (line 1) (found before it "
        "ran: no input has that key)",
        "package slow: mended in place by object-loop after TypeError: string indices must be integers, "
        "not 'str' (line 1)",
    ]


async def test_code_the_model_wrote_is_not_put_down_to_a_mend() -> None:
    sandbox = ScriptedSandbox(SandboxResult(ok=False, error_type="ZeroDivisionError", error="division by zero",
                                            traceback=trace(1)),
                              SandboxResult(ok=True, result=1))
    llm = ScriptedChatModel(replies=["```python\nresult = 1\n```"])
    job = PackageJob(thread_id="T1", run_id="R1", node_id="n", goal="one", code="result = 1 / 0", inputs={})
    final = await ReflexionPackageRunner(sandbox, llm, max_attempts=2).final_state(job, NoTools(), no_events)
    assert final.get("ok") and len(llm.calls) == 1
    assert final.get("mended_by") == {}
