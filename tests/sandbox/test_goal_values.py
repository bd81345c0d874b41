"""A compared value no input holds, made the one the package's goal names (sandbox/goal_values.py)."""

from __future__ import annotations

import json

import pytest

from sandbox.goal_values import mended_goal_values

BUILDS = "build,pipeline,branch,result\nb-1,api,main,passed\nb-2,web,main,failed\nb-3,api,fix,timed_out\n"
CSV = {"builds": {"path": "ci/builds.csv", "content": BUILDS}}
CONSUMERS = {"consumers": {"path": "queue/consumers.json", "content": json.dumps({"consumers": [
    {"name": "billing", "lag": 120, "state": "active"}, {"name": "mail", "lag": 8400, "state": "stalled"}]})}}
READ = "import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['builds']['content'])))\n"


@pytest.mark.parametrize(("goal", "code", "mended"), [
    # the example's column and value: the goal names the one value, held under one column
    ("percentage of builds that passed", "result = sum(r['outcome'] == 'success' for r in rows)",
     "result = sum(r['result'] == 'passed' for r in rows)"),
    # the right column, a value it never holds (the count would be 0)
    ("count the failed builds", "result = sum(1 for r in rows if r['result'] == 'failure')",
     "result = sum(1 for r in rows if r['result'] == 'failed')"),
    # written the other way round, and read with .get
    ("count the failed builds", "result = sum('failure' == r.get('result') for r in rows)",
     "result = sum('failed' == r.get('result') for r in rows)"),
    # a read lowercased: the value as the read will be
    ("builds that timed_out", "result = [r['build'] for r in rows if r['result'].upper() == 'TIMEOUT']",
     "result = [r['build'] for r in rows if r['result'].upper() == 'TIMED_OUT']"),
    # a key no input has, read twice: both reads read the column that holds the value
    ("share of passed builds", "ok = [r for r in rows if r['status'] == 'ok']\nresult = len(ok), r['status']",
     "ok = [r for r in rows if r['result'] == 'passed']\nresult = len(ok), r['result']"),
])
def test_a_value_no_input_holds_is_the_one_the_goal_names(goal: str, code: str, mended: str) -> None:
    assert mended_goal_values(READ + code, goal, CSV) == READ + mended


def test_a_json_list_of_objects_is_looked_through_too() -> None:
    code = ("import json\ndata = json.loads(inputs['consumers']['content'])\n"
            "result = [c['name'] for c in data['consumers'] if c['state'] == 'down']")
    assert mended_goal_values(code, "names of the stalled consumers", CONSUMERS) == code.replace("'down'", "'stalled'")


@pytest.mark.parametrize(("goal", "code"), [
    # the value is there: nothing to change
    ("percentage of builds that passed", "result = sum(r['result'] == 'passed' for r in rows)"),
    # the goal names no value the column holds (a count of 0 may be the answer)
    ("count the builds that went well", "result = sum(r['result'] == 'success' for r in rows)"),
    # the goal names two values of the column: which one is meant is not plain
    ("builds that passed or failed", "result = sum(r['result'] == 'ok' for r in rows)"),
    # a key no input has, the goal naming values under two keys
    ("passed builds on main", "result = sum(r['outcome'] == 'success' for r in rows)"),
    # != means the other values: left as written
    ("percentage of builds that passed", "result = sum(r['result'] != 'success' for r in rows)"),
    # not a key's read
    ("count the failed builds", "result = sum(1 for line in rows if line == 'failure')"),
])
def test_anything_less_plain_is_left_as_written(goal: str, code: str) -> None:
    assert mended_goal_values(READ + code, goal, CSV) is None


def test_code_that_does_not_parse_and_inputs_without_values_are_left_alone() -> None:
    assert mended_goal_values("result = (", "passed", CSV) is None
    assert mended_goal_values(READ + "result = sum(r['result'] == 'x' for r in rows)", "passed", {}) is None
