"""Keys package code reads that no input has, found before it runs (sandbox/unknown_keys.py)."""

from __future__ import annotations

import json

import pytest

from sandbox.unknown_keys import not_run_for, unknown_key_reads

BUILDS = {"builds": {"path": "ci/builds.csv", "content":
                     "build,pipeline,result\nb-1,api,passed\nb-2,web,failed\nb-3,api,passed\n"}}
COPIED = ("import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['builds']['content'])))\n"
          "ok = [r for r in rows if r.get('outcome') == 'success']\n"
          "result = f'{100 * len(ok) / len(rows):.1f}%'\n")


def test_a_column_copied_from_elsewhere_and_read_with_get_is_unknown() -> None:
    """dev percent-passed: the package read an example's columns with .get and answered 0%."""
    assert unknown_key_reads(COPIED, BUILDS) == [("outcome", 3)]


def test_the_not_run_attempt_reads_as_pythons_key_error_on_its_line() -> None:
    failed = not_run_for(COPIED, [("outcome", 3), ("state", 4)])
    assert not failed.ok and failed.error_type == "KeyError" and failed.error == "'outcome'"
    assert failed.traceback is not None
    assert 'File "<package>", line 3' in failed.traceback
    assert "r.get('outcome') == 'success'" in failed.traceback
    assert "none of the inputs has the key 'outcome' (nor 'state')" in failed.traceback


@pytest.mark.parametrize("code", [
    # the CSV's own columns
    "import csv, io\nrows = csv.DictReader(io.StringIO(inputs['builds']['content']))\n"
    "result = sum(r['result'] == 'passed' for r in rows)",
    # a dict the code builds and reads back
    "counts = {'passed': 0}\ncounts['failed'] = 1\nresult = counts['passed'] + counts.get('failed')",
    # a value of the data used as a key (a count by value)
    "from collections import Counter\nc = Counter(l.split(',')[1] for l in inputs['builds']['content'].splitlines())\n"
    "result = c['api']",
    # … lowercased
    "from collections import Counter\nc = Counter(l.split(',')[2].lower() for l in inputs['builds']['content'].splitlines())\n"
    "result = c.get('passed', 0) + c.get('FAILED', 0)",
    # a regex's named group
    "import re\nm = re.search(r'(?P<first>b-\\d)', inputs['builds']['content'])\nresult = m['first']",
    # tools are called: their results' keys are not known before the code runs
    "r = tools.http_get(url='https://status.internal/')\nresult = r['json']['anything']",
    # os.environ is not an input
    "import os\nresult = os.environ.get('HOME')",
    # does not parse: Python's own error says so
    "result = inputs['builds'][",
])
def test_keys_the_code_may_rightly_read_are_not_unknown(code: str) -> None:
    assert unknown_key_reads(code, BUILDS) == []


def test_a_json_texts_keys_count_and_its_text_does_not_hide_a_guess() -> None:
    body = {"consumers": [{"name": "a", "lag_ms": 5}]}
    inputs = {"queue": {"content": json.dumps(body)}}
    assert unknown_key_reads("result = [c['lag_ms'] for c in inputs['queue']['content']]", inputs) == []
    # 'lag' is inside the text '"lag_ms"', but it is no key: the parsed JSON is what counts
    assert unknown_key_reads("import json\nd = json.loads(inputs['queue']['content'])\n"
                             "result = sum(c['lag'] for c in d['consumers'])", inputs) == [("lag", 3)]


def test_yaml_and_toml_keys_in_a_text_are_known() -> None:
    inputs = {"cfg": {"content": "cache:\n  ttl_seconds: 300\n"},
              "toml": {"content": "[cache]\nmax_memory_mb = 2048\n"}}
    code = ("import yaml, tomllib\nresult = [yaml.safe_load(inputs['cfg']['content'])['cache']['ttl_seconds'], "
            "tomllib.loads(inputs['toml']['content'])['cache']['max_memory_mb']]")
    assert unknown_key_reads(code, inputs) == []


def test_inputs_too_large_to_look_through_are_not_judged() -> None:
    rows = [{"n": i} for i in range(30_000)]
    assert unknown_key_reads("result = inputs['rows'][0]['missing']", {"rows": rows}) == []
    assert unknown_key_reads("result = inputs['rows'][0]['missing']", {"rows": rows[:10]}) == [("missing", 1)]
