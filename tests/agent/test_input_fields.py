"""Package code reading a key its input's tool never returns: mended where one fix fits, told
otherwise (agent/plan/input_fields.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import PlanError
from agent.plan.validation import validate_plan
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path)))
    return registry


def plan_with(code: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [
        {"id": "status", "tool": "http_get", "args": {"url": "https://status.example.com/status.json"}},
        {"id": "log", "tool": "read_file", "args": {"path": "logs/app.log"}},
        {"id": "pages", "tool": "http_get", "each": [{"url": "https://a.example.com"}, {"url": "https://b.example.com"}]},
        {"id": "p", "package": {"goal": "g", "code": code}}, *extra]}


def mended(code: str, registry: ToolRegistry) -> str:
    package = validate_plan(plan_with(code), registry).node("p").package
    assert package is not None
    return package.code


def test_a_body_read_under_another_tools_name_reads_this_tools_body(registry: ToolRegistry) -> None:
    code = "# the café's log\nhead = inputs['status']['content'][:80]\nresult = inputs.get('log')['text'] + head"
    assert mended(code, registry) == (
        "# the café's log\nhead = inputs['status']['text'][:80]\nresult = inputs.get('log')['content'] + head")


def test_a_json_field_read_from_the_response_is_read_from_its_json(registry: ToolRegistry) -> None:
    code = "result = [s['name'] for s in inputs['status']['services'] if inputs['status'].get('ok')]"
    assert mended(code, registry) == (
        "result = [s['name'] for s in inputs['status']['json']['services'] if inputs['status']['json'].get('ok')]")


def test_a_field_read_from_the_body_text_is_read_from_its_json(registry: ToolRegistry) -> None:
    # bench.quality status-and-incidents: "string indices must be integers" in three attempts
    code = "status = inputs['status']['text']['services']\nresult = min(status, key=lambda x: x['status'])['name']"
    assert mended(code, registry) == code.replace("['text']['services']", "['json']['services']")
    # the body under read_file's name, too: one fix, not two on the same key
    other = code.replace("['text']", "['content']")
    assert mended(other, registry) == code.replace("['text']['services']", "['json']['services']")
    kept = "result = inputs['status']['text'][0] + inputs['log']['content']['x']"  # an index; no json
    assert mended(kept, registry) == kept


def test_reads_that_fit_and_outputs_not_declared_are_left_alone(registry: ToolRegistry) -> None:
    code = ("result = [inputs['status']['json']['services'], inputs['status']['status'], "
            "inputs['pages'][0]['text'], inputs['log']['content'], inputs['p2']['anything']]")
    other = {"id": "p2", "package": {"goal": "g", "code": "result = {'anything': 1}"}}
    plan = validate_plan(plan_with(code, other), registry)
    package = plan.node("p").package
    assert package is not None and package.code == code


def test_a_key_no_fix_fits_is_told_to_the_repair_round_when_there_is_one(registry: ToolRegistry) -> None:
    code = "result = len(inputs['log']['lines'])"
    # on its own, reflexion mends it when it fails, with the input in view
    assert validate_plan(plan_with(code), registry).node("p").package is not None
    with pytest.raises(PlanError) as caught:
        validate_plan(plan_with(code, {"id": "q", "tool": "read_file", "args": {}}), registry)
    assert ("node 'p', field 'package.code': reads inputs['log']['lines'], but node 'log' returns "
            "{content, note, path, size, truncated}: read one of those") in [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("path", "code", "expected"), [
    # bench.quality replicas: a field of the file read as a field of read_file's output
    ("deploy.yaml", "result = inputs['deploy']['replicas']",
     "import yaml\nresult = yaml.safe_load(inputs['deploy']['content'])['replicas']"),
    ("conf/app.JSON", "port = inputs['deploy'].get('port', 80)\nresult = inputs['deploy']['path'] + str(port)",
     "import json\nport = json.loads(inputs['deploy']['content']).get('port', 80)\n"
     "result = inputs['deploy']['path'] + str(port)"),
    ("pyproject.toml", "result = inputs['deploy']['project']['name']",
     "import tomllib\nresult = tomllib.loads(inputs['deploy']['content'])['project']['name']"),
])
def test_a_field_of_a_structured_file_is_read_from_its_text_parsed(
        registry: ToolRegistry, path: str, code: str, expected: str) -> None:
    plan = validate_plan(plan_with(code, {"id": "deploy", "tool": "read_file", "args": {"path": path}}), registry)
    package = plan.node("p").package
    assert package is not None and package.code == expected


def test_the_mended_read_gives_the_files_field(registry: ToolRegistry) -> None:
    plan = validate_plan(plan_with("result = inputs['deploy']['replicas'] * 2",
                                   {"id": "deploy", "tool": "read_file", "args": {"path": "deploy.yaml"}}), registry)
    package = plan.node("p").package
    assert package is not None
    scope: dict[str, Any] = {"inputs": {"deploy": {"path": "deploy.yaml", "content": "service: checkout\nreplicas: 4\n",
                                                   "size": 29, "truncated": False}}}
    exec(package.code, scope)  # this test's own code, as mended: no model wrote it
    assert scope["result"] == 8


def test_a_field_of_a_file_of_no_structured_format_is_still_a_fault(registry: ToolRegistry) -> None:
    code = "result = inputs['notes']['replicas']"
    plan = plan_with(code, {"id": "notes", "tool": "read_file", "args": {"path": "notes/replicas.md"}},
                     {"id": "q", "tool": "read_file", "args": {}})
    with pytest.raises(PlanError) as caught:
        validate_plan(plan, registry)
    assert any("reads inputs['notes']['replicas']" in str(p) for p in caught.value.problems)
