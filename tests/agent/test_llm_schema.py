"""The schemas sent to the model as tools carry structure, not what costs prompt tokens (and
so time to first token) and says nothing: pydantic's generated titles, ``anyOf [X, null]``
for optional fields, ``additionalProperties``; everything a model needs stays."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.model.tool_schemas import as_tool, compact_schema
from agent.plan.format import Plan


class Page(BaseModel):
    """A page."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="A property named title is kept.")
    tags: list[str] = []
    parent: str | None = Field(default=None, description="Optional, so not required.")
    extra: dict[str, Any] = {}


def _walk(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [*value.items(), *(item for sub in value.values() for item in _walk(sub))]
    if isinstance(value, list):
        return [item for sub in value for item in _walk(sub)]
    return []


def test_generated_titles_null_options_and_additional_properties_go() -> None:
    schema = compact_schema(Page.model_json_schema())
    assert schema["properties"]["title"] == {"description": "A property named title is kept.", "type": "string"}
    assert schema["properties"]["parent"] == {"description": "Optional, so not required.", "type": "string"}
    assert schema["properties"]["extra"] == {"default": {}, "type": "object"}
    assert schema["required"] == ["title"]
    assert not any(key == "title" and isinstance(value, str) for key, value in _walk(schema))
    assert not any(key in ("anyOf", "additionalProperties") for key, _ in _walk(schema))


def test_the_plan_tool_keeps_its_structure() -> None:
    function = as_tool(Plan, "plan")["function"]
    parameters = function["parameters"]
    assert function["description"].startswith("A plan: nodes")
    assert parameters["required"] == ["nodes"]
    assert list(parameters["properties"]) == ["nodes", "answer", "thought"]  # nodes are written first
    node = parameters["$defs"]["PlanNode"]
    assert set(node["properties"]) == {"id", "tool", "args", "each", "package", "depends_on", "why"}
    assert node["properties"]["package"] == {"$ref": "#/$defs/PackageSpec"}
    assert node["properties"]["each"] == {"items": {"type": "object"}, "type": "array"}
    assert node["required"] == ["id"]
    assert "description" not in parameters and "description" not in node
