"""Package code that defines the function computing its value and never calls it gets the call
(agent/plan/uncalled_function.py)."""

from __future__ import annotations

import pytest

from agent.plan.uncalled_function import called_function

WRITTEN = """import json

def compute_average_p99(inputs):
    services = json.loads(inputs['status']['text'])['services']
    values = [s['p99_ms'] for s in services]
    return {'average_p99_ms': sum(values) / len(values)}
"""


def test_the_one_function_nothing_calls_is_called_with_the_inputs() -> None:
    mended = called_function(WRITTEN)
    assert mended is not None and mended.endswith("\n\nresult = compute_average_p99(inputs)\n")
    scope: dict[str, object] = {"inputs": {"status": {"text": '{"services": [{"p99_ms": 100}, {"p99_ms": 300}]}'}}}
    exec(mended, scope)  # (the test's own code: what the sandbox would run)
    assert scope["result"] == {"average_p99_ms": 200.0}


def test_helpers_it_calls_and_a_function_of_no_arguments() -> None:
    code = ("def parse(text):\n    return text.split(',')\n\n"
            "def main():\n    return len(parse('a,b'))\n")
    assert called_function(code) == code.rstrip() + "\n\nresult = main()\n"


@pytest.mark.parametrize("code", [
    "result = 1\n\ndef unused():\n    return 2\n",  # result is set: nothing to add
    "def f(inputs):\n    return 1\n\nresult = f(inputs)\n",  # called already
    "def pick(a, b):\n    return a\n",  # two arguments to guess
    "def a():\n    return 1\n\ndef b():\n    return 2\n",  # which one?
    "def f():\n    print('no value')\n",  # returns nothing
    "def f(:\n",  # does not parse: left to Python's error
])
def test_what_it_leaves_alone(code: str) -> None:
    assert called_function(code) is None
