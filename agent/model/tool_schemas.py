"""The schemas sent to the model: a tool definition made from a pydantic model, compacted, and
the ``response_format`` that holds a reply's text to a JSON schema."""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel


def json_schema_format(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``response_format`` that holds a reply's text to ``schema``."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def as_tool(schema: type[BaseModel], name: str) -> dict[str, Any]:
    """An OpenAI tool definition: the model's docstring describes it, its fields are the
    parameters (:func:`compact_schema`). A copy of the one made at the first call: pydantic
    takes milliseconds to generate the plan's schema, which does not change."""
    return copy.deepcopy(_tool_definition(schema, name))


@functools.cache
def _tool_definition(schema: type[BaseModel], name: str) -> dict[str, Any]:
    parameters = compact_schema(schema.model_json_schema())
    # the function's description says what the root's would; the prompt explains the parts
    for part in [parameters, *parameters.get("$defs", {}).values()]:
        part.pop("description", None)
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": (schema.__doc__ or name).strip(),
            "parameters": parameters,
        },
    }


def compact_schema(schema: Any) -> Any:
    """The JSON schema as the model needs it, without what costs prompt tokens (and so time
    to first token) and says nothing: pydantic's generated ``title`` strings (a property
    *named* title stays), ``anyOf [X, null]`` with ``default: null`` for an optional field
    (it is simply not required), and ``additionalProperties`` true or false (validation
    enforces it; a schema for other keys, as a plan node's tool keys, stays)."""
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        kept = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
        return compact_schema({**next(o for o in options if o != {"type": "null"}), **kept})
    return {key: ({name: compact_schema(sub) for name, sub in value.items()}
                  if key in ("properties", "$defs") and isinstance(value, dict) else compact_schema(value))
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
            and not (key == "additionalProperties" and isinstance(value, bool))}
