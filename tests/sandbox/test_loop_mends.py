"""A loop over a JSON object meant to go over the one list it holds (sandbox/loop_mends.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.loop_mends import HELPER_CODE, failing_line, mended_object_loop

ERROR = "string indices must be integers, not 'str'"


def trace(line: int) -> str:
    return f'Traceback (most recent call last):\n  File "<package>", line {line}, in <module>\nTypeError: {ERROR}'


def run(code: str, inputs: dict[str, Any]) -> Any:
    scope: dict[str, Any] = {"inputs": inputs}
    exec(code, scope)  # the test's own code, as mended: no model wrote it
    return scope["result"]


STATUS = {"updated": "now", "services": [{"name": "api", "p99": 120}, {"name": "checkout", "p99": 870}]}


GET_ERROR = "'str' object has no attribute 'get'"


@pytest.mark.parametrize(("code", "line", "error", "expected"), [
    ("data = inputs['s']\nresult = [s['name'] for s in data if s['p99'] > 200]", 2, ERROR, ["checkout"]),
    ("data = inputs['s']\nnames = []\nfor s in data:\n    if s.get('p99') > 200:\n        names.append(s['name'])\n"
     "result = names", 4, GET_ERROR, ["checkout"]),
    ("result = {s['name']: s['p99'] for s in inputs['s']}", 1, ERROR, {"api": 120, "checkout": 870}),
])
def test_the_loop_on_the_failing_line_goes_over_the_objects_one_list(code: str, line: int, error: str,
                                                                     expected: Any) -> None:
    with pytest.raises((TypeError, AttributeError), match=error):
        run(code, {"s": STATUS})
    error_type = "TypeError" if error == ERROR else "AttributeError"
    mended = mended_object_loop(code, error_type, error, trace(line))
    assert mended is not None and mended.startswith(HELPER_CODE)
    assert run(mended, {"s": STATUS}) == expected


def test_an_object_with_no_single_list_is_left_as_it_is_and_fails_the_same_way() -> None:
    code = "result = [s['name'] for s in inputs['s']]"
    mended = mended_object_loop(code, "TypeError", ERROR, trace(1))
    assert mended is not None
    two_lists = {"services": [{"name": "a"}], "regions": [{"name": "eu"}]}
    with pytest.raises(TypeError, match="string indices must be integers"):
        run(mended, {"s": two_lists})


@pytest.mark.parametrize(("code", "error_type", "error", "line"), [
    ("result = [s['name'] for s in inputs['s']]", "KeyError", "'name'", 1),  # another error
    ("result = [s['name'] for s in inputs['s']]", "TypeError", "unsupported operand", 1),
    ("x = 1\nresult = [s['name'] for s in inputs['s']]", "TypeError", ERROR, 1),  # no loop on that line
    ("result = [s[0] for s in inputs['s']]", "TypeError", ERROR, 1),  # its item read by index, not key
    ("result = [s['name'] for s in", "TypeError", ERROR, 1),  # no Python
    (HELPER_CODE + "result = [s['name'] for s in rows_of(inputs['s'])]", "TypeError", ERROR, 10),  # mended once
])
def test_nothing_to_mend(code: str, error_type: str, error: str, line: int) -> None:
    assert mended_object_loop(code, error_type, error, trace(line)) is None


def test_the_failing_line_is_the_packages_last_frame() -> None:
    assert failing_line('File "<package>", line 3, in <module>\n  File "<package>", line 7, in f\n') == 7
    assert failing_line('File "/usr/lib/python3.11/json/__init__.py", line 346') is None
    assert failing_line(None) is None
