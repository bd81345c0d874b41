"""An empty result from code that looked for text its inputs do not hold (sandbox/empty_results.py)."""

from __future__ import annotations

import pytest

from sandbox.empty_results import doubt_of_empty_result, is_empty

LOG = {"log": {"path": "logs/gateway.log",
               "content": "10:00:01 GET /api/orders 200 34ms\n10:00:02 POST /api/checkout 502 1203ms\n"}}
READ = "lines = inputs['log']['content'].splitlines()\n"


@pytest.mark.parametrize("code", [
    "result = sum(1 for l in lines if ' 5xx ' in l)",
    "result = sum(l.count('ERROR') for l in lines)",
    "result = [l for l in lines if l.startswith('WARN') or 'error' in l]",
    "result = len([l for l in lines if l.endswith('5xx')])",
])
def test_an_empty_result_from_text_the_inputs_hold_nowhere_is_doubted(code: str) -> None:
    doubt = doubt_of_empty_result(READ + code, LOG, 0)
    assert doubt is not None and "occurs nowhere in the inputs" in doubt
    assert "POST /api/checkout 502 1203ms" in doubt  # the text as it is written


@pytest.mark.parametrize(("code", "output"), [
    ("result = sum(1 for l in lines if ' 5xx ' in l)", 3),  # not empty
    ("result = sum(1 for l in lines if ' 5xx ' in l)", False),  # an answer, not an empty result
    ("result = sum(1 for l in lines if ' 404 ' in l or ' 502 ' in l)", 0),  # one of them is there
    ("result = sum(1 for l in lines if l.split()[3] == '404')", 0),  # looks for no text in a text
    ("result = sum(1 for l in lines if l.split()[1] in ('PUT', 'DELETE'))", []),  # membership in values
    ("result = (", 0),  # does not parse
])
def test_anything_else_is_not_doubted(code: str, output: object) -> None:
    assert doubt_of_empty_result(READ + code, LOG, output) is None


def test_a_key_of_an_object_is_something_the_inputs_hold() -> None:
    inputs = {"status": {"json": {"services": [{"name": "api", "p99_ms": 120}]}}}
    assert doubt_of_empty_result("result = [s for s in inputs['status']['json']['services'] if 'p99_ms' in s "
                                 "and s['p99_ms'] > 500]", inputs, []) is None


def test_empty_means_zero_or_an_empty_value_never_false() -> None:
    assert [is_empty(v) for v in (0, 0.0, [], {}, "", None, False, "0", [0])] == [
        True, True, True, True, True, True, False, False, False]
