"""A one-item fan-out read as one call's output is that call (agent/plan/single_calls.py)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.plan.validation import validate_plan
from tests.fakes.tools import ToolLog, simulated_registry

REGISTRY = simulated_registry(ToolLog())


def one_item(**fields: Any) -> dict[str, Any]:
    return {"id": "got", "lookup": ["alpha"], **fields}


@pytest.mark.parametrize("reader", [
    {"id": "use", "lookup": {"key": "${got.value}"}},  # a field of one call's output
    {"id": "use", "package": {"goal": "g", "code": "result = inputs['got']['value'].upper()"}},
    {"id": "use", "package": {"goal": "g", "code": "result = inputs.get('got').get('value')"}},
    None,  # nothing reads it
])
def test_a_one_item_fan_out_read_as_one_call_is_that_call(reader: dict[str, Any] | None) -> None:
    plan = validate_plan({"nodes": [one_item(), *([reader] if reader else [])]}, REGISTRY)
    got = plan.node("got")
    assert (got.tool, got.args, got.each) == ("lookup", {"key": "alpha"}, None)


def test_an_answer_reading_a_field_makes_it_one_call_too() -> None:
    plan = validate_plan({"nodes": [one_item()], "answer": "It is ${got.value}."}, REGISTRY)
    assert plan.node("got").each is None and plan.node("got").args == {"key": "alpha"}


@pytest.mark.parametrize(("reader", "answer"), [
    ({"id": "use", "lookup": {"key": "${got.0}"}}, None),
    ({"id": "use", "lookup": {"key": "${got[0].value}"}}, None),
    (None, "First: ${got.0.value}"),
    ({"id": "use", "package": {"goal": "g", "code": "result = inputs['got'][0]['value']"}}, None),
    ({"id": "use", "package": {"goal": "g", "code": "result = [r['value'] for r in inputs['got']]"}}, None),
    ({"id": "use", "package": {"goal": "g", "code": "result = len(inputs['got'])"}}, None),
    ({"id": "use", "package": {"goal": "g", "code": "result = inputs['got'\n"}}, None),  # unparsed: left as is
])
def test_a_one_item_fan_out_read_as_a_list_stays_a_fan_out(reader: dict[str, Any] | None, answer: str | None) -> None:
    raw: dict[str, Any] = {"nodes": [one_item(), *([reader] if reader else [])]}
    if answer:
        raw["answer"] = answer
    plan = validate_plan(raw, REGISTRY)
    assert plan.node("got").each == [{"key": "alpha"}]


def test_a_fan_out_of_several_items_is_left_alone() -> None:
    plan = validate_plan({"nodes": [{"id": "got", "lookup": ["a", "b"]},
                                    {"id": "use", "lookup": {"key": "${got.value}"}}]}, REGISTRY)
    assert plan.node("got").each == [{"key": "a"}, {"key": "b"}]
