"""The schemas sent to the model as tools: pydantic's generated titles are left out (prompt
tokens cost time to first token); everything a model needs stays."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.llm import as_tool, without_titles
from agent.plan import Plan


class Page(BaseModel):
    title: str = Field(description="A property named title is kept.")
    tags: list[str] = []


def _walk(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [*value.items(), *(item for sub in value.values() for item in _walk(sub))]
    if isinstance(value, list):
        return [item for sub in value for item in _walk(sub)]
    return []


def test_generated_titles_go_and_a_property_named_title_stays() -> None:
    schema = without_titles(Page.model_json_schema())
    assert schema["properties"]["title"] == {"description": "A property named title is kept.", "type": "string"}
    assert schema["required"] == ["title"]
    assert not any(key == "title" and isinstance(value, str) for key, value in _walk(schema))


def test_the_plan_tool_keeps_its_structure() -> None:
    parameters = as_tool(Plan, "submit_plan")["function"]["parameters"]
    assert parameters["required"] == ["nodes"]
    assert list(parameters["properties"]) == ["nodes", "answer", "thought"]  # nodes are written first
    node = parameters["$defs"]["PlanNode"]
    assert set(node["properties"]) == {"id", "tool", "args", "package", "depends_on", "why"}
    assert node["properties"]["package"]["anyOf"][0] == {"$ref": "#/$defs/PackageSpec"}
    assert not any(key == "title" and isinstance(value, str) for key, value in _walk(parameters))
