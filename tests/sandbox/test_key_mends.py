"""A key package code read that its inputs lack, mended when they hold exactly one key like it
(sandbox/key_mends.py)."""

from __future__ import annotations

import json

import pytest

from sandbox.key_mends import mended_header_row, mended_missing_key, missing_key

STATUS = {"services": [{"name": "api", "p99_ms": 120}, {"name": "checkout", "p99_ms": 870}]}


@pytest.mark.parametrize(("error_type", "error", "key"), [
    ("KeyError", "'p99'", "p99"),
    ("KeyError", '"it\'s"', "it's"),
    ("KeyError", "0", None),  # an index, not a name
    ("KeyError", "", None),
    ("IndexError", "'p99'", None),
    (None, None, None),
])
def test_the_missing_key_is_read_from_a_key_errors_message(error_type: str | None, error: str | None,
                                                            key: str | None) -> None:
    assert missing_key(error_type, error) == key


@pytest.mark.parametrize(("code", "missing", "inputs", "mended"), [
    # a JSON body's field, parsed by the tool or by the code from the text
    ("result = [s['p99'] for s in inputs['s']['json']['services']]", "p99", {"s": {"json": STATUS}},
     "result = [s['p99_ms'] for s in inputs['s']['json']['services']]"),
    ("import json\nv = json.loads(inputs['s']['text'])\nresult = [s.get('p99') for s in v['services']]", "p99",
     {"s": {"text": json.dumps(STATUS)}},
     "import json\nv = json.loads(inputs['s']['text'])\nresult = [s.get('p99_ms') for s in v['services']]"),
    # a CSV header's column spelt another way, a YAML key with a qualifier before it
    ("result = sum(int(r['Orders']) for r in rows)", "Orders", {"f": {"content": "region,orders\nnorth,1\n"}},
     "result = sum(int(r['orders']) for r in rows)"),
    ("result = doc['timeout']", "timeout", {"f": {"content": "env:\n  payment_timeout: 2000\n"}},
     "result = doc['payment_timeout']"),
    ("result = x['retryCount']", "retryCount", {"f": {"retry_count": 3}}, "result = x['retry_count']"),
])
def test_a_read_of_a_key_the_inputs_hold_once_spelt_another_way_is_mended(
        code: str, missing: str, inputs: dict[str, object], mended: str) -> None:
    assert mended_missing_key(code, missing, inputs) == mended


@pytest.mark.parametrize(("code", "missing", "inputs"), [
    ("result = s['p99']", "p99", {"a": {"p99_ms": 1, "p99_s": 2}}),  # two keys like it: not certain
    ("result = s['p99']", "p99", {"a": {"p99": 1, "p99_ms": 2}}),  # it is there: the path is wrong
    ("result = s['latency']", "latency", {"a": {"p99_ms": 1}}),  # nothing like it
    ("k = 'p99'\nresult = s[k]", "p99", {"a": {"p99_ms": 1}}),  # not spelt out where it is read
    ("result = s['p99'", "p99", {"a": {"p99_ms": 1}}),  # no Python
])
def test_anything_less_certain_is_left_to_reflexion(code: str, missing: str, inputs: dict[str, object]) -> None:
    assert mended_missing_key(code, missing, inputs) is None


ORDERS = {"orders": {"path": "data/orders.csv", "content": "region,orders\nnorth,120\neast,210\n"}}
BY_REGION = ("import csv, io\nregions = {}\nfor row in csv.reader(io.StringIO(inputs['orders']['content'])):\n"
             "    regions[row[0]] = int(row[1])\nresult = max(regions, key=regions.get)")


@pytest.mark.parametrize(("code", "error", "mended"), [
    # bench.quality most-orders: the header row counted as a region
    (BY_REGION, "invalid literal for int() with base 10: 'orders'",
     BY_REGION.replace("csv.reader(io.StringIO(inputs['orders']['content']))",
                       "list(csv.reader(io.StringIO(inputs['orders']['content'])))[1:]")),
    ("rows = inputs['orders']['content'].splitlines()\nresult = sum(float(r.split(',')[1]) for r in rows)",
     "could not convert string to float: 'orders'",
     "rows = inputs['orders']['content'].splitlines()[1:]\nresult = sum(float(r.split(',')[1]) for r in rows)"),
])
def test_a_csv_header_read_as_data_is_skipped(code: str, error: str, mended: str) -> None:
    assert mended_header_row(code, "ValueError", error, ORDERS) == mended


@pytest.mark.parametrize(("code", "error_type", "error"), [
    (BY_REGION, "ValueError", "invalid literal for int() with base 10: 'n/a'"),  # a value, not a column
    (BY_REGION, "TypeError", "invalid literal for int() with base 10: 'orders'"),
    (BY_REGION.replace("result =", "other = inputs['orders']['content'].splitlines()\nresult ="),
     "ValueError", "invalid literal for int() with base 10: 'orders'"),  # rows read in two places
])
def test_a_number_that_is_not_a_header_or_rows_read_twice_are_left_to_reflexion(
        code: str, error_type: str, error: str) -> None:
    assert mended_header_row(code, error_type, error, ORDERS) is None
