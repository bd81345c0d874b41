"""``${x.field}`` references held to the keys x's tool returns: mended where one fix fits,
sent to the repair round otherwise (agent/plan/reference_fields.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import PlanError
from agent.plan.validation import validate_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry

STATUS = {"id": "status", "http_get": {"url": "https://status.example.com/status.json"}}
LOG = {"id": "log", "read_file": {"path": "logs/app.log"}}


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path)))
    return registry


def save(content: str) -> dict[str, Any]:
    return {"id": "save", "write_file": {"path": "out.txt", "content": content}, "why": "asked"}


@pytest.mark.parametrize(("written", "mended"), [
    ("${status.content}", "${status.text}"),  # read_file's name for http_get's body
    ("${log.text}", "${log.content}"),  # and the other way round
    ("Now: ${status.services.0.name}", "Now: ${status.json.services.0.name}"),  # a field of the JSON body
    ("${status.text.services}", "${status.json.services}"),  # a field of the body's text
    ("${status.content.services[0]}", "${status.json.services.0}"),
    ("${status.text} ${log.content} ${status.json.updated}", "${status.text} ${log.content} ${status.json.updated}"),
    # the first of one call's results (bench.quality primary-oncall: ${oncall.0.content} of a read_file)
    ("${log.0.content}", "${log.content}"),
    ("${status.0.services.1}", "${status.json.services.1}"),
])
def test_a_reference_with_one_possible_fix_is_mended(registry: ToolRegistry, written: str, mended: str) -> None:
    plan = validate_plan({"nodes": [STATUS, LOG, save(written)], "answer": f"Saved {written}."}, registry)
    assert plan.node("save").args["content"] == mended
    assert plan.answer == f"Saved {mended}."


@pytest.mark.parametrize("written", ["${log.0}", "${log.1.content}", "${log.0.lines}"])
def test_other_indexes_of_one_calls_result_are_not_mended(registry: ToolRegistry, written: str) -> None:
    with pytest.raises(PlanError, match=r"node 'log' \(read_file\) returns"):
        validate_plan({"nodes": [LOG, save(written)]}, registry)


def test_a_field_the_tool_never_returns_goes_to_the_repair_round_naming_the_tool_that_does(
        registry: ToolRegistry) -> None:
    """A search_files node's ``${checkout.content}``, read_file meant: the write would fail."""
    search = {"id": "checkout", "search_files": {"query": "payments", "pattern": "runbooks/checkout.md"}}
    with pytest.raises(PlanError) as caught:
        validate_plan({"nodes": [search, save("${checkout.content}")]}, registry)
    assert [str(p) for p in caught.value.problems] == [
        "node 'save', field 'args': ${checkout.content}: node 'checkout' (search_files) returns {files_searched, "
        "matches, note, truncated}, no 'content' ('content' is what read_file returns): refer to one of those, or use "
        "the tool that gives what is needed"]


def test_an_answer_with_such_a_field_is_left_to_the_joiner_when_it_runs(registry: ToolRegistry) -> None:
    """No repair round for it (bench.quality: a 1.5B model returned the same plan in each of three
    cases); filled when the plan has run, it sends the run to the joiner (agent/answer/template.py)."""
    search = {"id": "checkout", "search_files": {"query": "payments"}}
    plan = validate_plan({"nodes": [search], "answer": "It says ${checkout.content}."}, registry)
    assert plan.answer == "It says ${checkout.content}."


def test_fields_of_fan_outs_packages_and_undeclared_tools_are_not_judged(registry: ToolRegistry) -> None:
    plan = validate_plan({"nodes": [
        {"id": "pages", "http_get": ["https://a.example.com", "https://b.example.com"]},
        {"id": "count", "package": {"goal": "g", "code": "result = {'n': len(inputs['pages'])}"}},
        save("${pages.0.text} ${count.n} ${count.whatever}")]}, registry)
    assert plan.node("save").args["content"] == "${pages.0.text} ${count.n} ${count.whatever}"
