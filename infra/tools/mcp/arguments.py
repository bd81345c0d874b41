"""An MCP tool's ``inputSchema`` as the argument model the registry validates with.

The registry, the plan's checks and the Edit form validate arguments with a pydantic model
(:meth:`agent.tools.registry.ToolSpec.args_model`). For an MCP tool that model holds no fields
of its own: it checks the arguments against the server's JSON schema (jsonschema, the draft
the schema names), one error per problem at the argument it concerns, and gives the schema
back unchanged as its JSON schema, so the planner and the Edit form see what the server wrote.
"""

from __future__ import annotations

import copy
import re
from typing import Any, ClassVar

import jsonschema
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, ValidationError, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

_MESSAGE_CHARS = 300


class UnusableSchema(ValueError):
    """The server's inputSchema is no JSON schema of an object: the tool is left out."""


class JsonSchemaArguments(BaseModel):
    """Arguments checked against :attr:`input_schema` (see the module)."""

    model_config = ConfigDict(extra="allow")
    input_schema: ClassVar[dict[str, Any]] = {}
    validator: ClassVar[Any] = None

    @model_validator(mode="before")
    @classmethod
    def _against_the_schema(cls, data: Any) -> Any:
        errors = sorted(cls.validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [line for error in errors for line in _lines(error)]
            raise ValidationError.from_exception_data(cls.__name__, lines)
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return copy.deepcopy(cls.input_schema)


def arguments_model(name: str, schema: dict[str, Any]) -> type[JsonSchemaArguments]:
    """The argument model of tool ``name``. Raises :class:`UnusableSchema`."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise UnusableSchema("its inputSchema is not a JSON schema of an object")
    checker = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        checker.check_schema(schema)
    except SchemaError as exc:
        raise UnusableSchema(f"its inputSchema is not a valid JSON schema: {_clipped(exc.message)}") from None
    model = create_model(f"{name}_arguments", __base__=JsonSchemaArguments)
    model.input_schema = copy.deepcopy(schema)
    model.validator = checker(model.input_schema)
    return model


def _lines(error: jsonschema.ValidationError) -> list[InitErrorDetails]:
    """pydantic's errors for one of jsonschema's: a missing or unknown argument at its own name,
    as pydantic words them; anything else in jsonschema's words (braces made parentheses:
    pydantic reads them as a template)."""
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return [InitErrorDetails(type="missing", loc=(*path, name), input=instance) for name in missing]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties") or {})
        patterns = list(error.schema.get("patternProperties") or {})
        extra = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        return [InitErrorDetails(type="extra_forbidden", loc=(*path, k), input=instance[k]) for k in extra]
    message = f"should be of type {error.validator_value}" if error.validator == "type" else error.message
    escaped = _clipped(message).replace("{", "(").replace("}", ")")
    return [InitErrorDetails(type=PydanticCustomError("json_schema", escaped), loc=path, input=instance)]


def _clipped(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"
