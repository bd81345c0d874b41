"""Outputs the stores can keep (agent.execution.storable): a non-finite float is named, NUL characters are
dropped; unit checks here, runs through the real stores in test_engine_unstorable.py."""

from __future__ import annotations

import math

from agent.execution.storable import storable, storable_result
from agent.ports.stores import NodeResult, NodeStatus


def test_non_finite_floats_are_named_and_nul_characters_dropped() -> None:
    value = {"rate": math.nan, "peak": math.inf, "low": -math.inf, "ok": 0.5, "n": 3, "flag": True,
             "rows": [1.5, math.nan, ("a\x00b", None)], "ke\x00y": "banner\x00"}
    assert storable(value) == {"rate": "NaN", "peak": "Infinity", "low": "-Infinity", "ok": 0.5, "n": 3,
                               "flag": True, "rows": [1.5, "NaN", ("ab", None)], "key": "banner"}
    assert storable(math.nan) == "NaN" and storable("\x00") == ""


def test_a_value_with_nothing_to_change_is_the_same_object() -> None:
    value = {"a": [1, 2.5, "text", None, {"b": True}], "c": ("d",)}
    assert storable(value) is value
    result = NodeResult("n", NodeStatus.DONE, output=value, error=None, attempt_log=[{"attempt": 1}])
    assert storable_result(result) is result


def test_a_node_result_is_made_storable_whole() -> None:
    result = NodeResult("n", NodeStatus.FAILED, output=[math.nan], error="HTTP 500: \x00oops",
                        attempt_log=[{"attempt": 1, "error": "bad\x00"}], attempts=2)
    assert storable_result(result) == NodeResult(
        "n", NodeStatus.FAILED, output=["NaN"], error="HTTP 500: oops",
        attempt_log=[{"attempt": 1, "error": "bad"}], attempts=2)
