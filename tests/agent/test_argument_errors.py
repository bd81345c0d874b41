"""Argument errors name the argument and what is expected, and never quote a secret argument's
value: the same words in the Edit form, at plan validation and when a red call runs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, field_validator, model_validator

from agent.errors import PlanError, ToolArgumentError
from agent.execution.approval_edits import argument_problems
from agent.plan.validation import validate_plan
from agent.tools.registry import Risk, ToolRegistry

TYPED = "hunter2-TYPED-SECRET"


class RotateArgs(BaseModel):
    service: str
    token: str = Field(json_schema_extra={"writeOnly": True})
    hours: int = Field(default=24, ge=1, le=72)
    key_id: Annotated[UUID, Field(json_schema_extra={"secret": True})] | None = None
    """Secret only inside its anyOf branch."""

    @field_validator("token", "service")
    @classmethod
    def looks_like_a_token(cls, value: str, info: Any) -> str:
        # As validators often do: the refusal quotes what it refused.
        if info.field_name == "token" and not value.startswith("tok-"):
            raise ValueError(f"{value!r} is not a token: tokens start with tok-")
        if info.field_name == "service" and value != value.lower():
            raise ValueError(f"{value!r} is not a service name: use lower case")
        return value


class PairArgs(BaseModel):
    user: str
    password: str = Field(json_schema_extra={"writeOnly": True})

    @model_validator(mode="after")
    def different(self) -> PairArgs:
        if self.password == self.user:
            raise ValueError(f"the password {self.password} is the user name")
        return self


def registry() -> ToolRegistry:
    async def rotate(**_: Any) -> str:
        return "rotated"

    tools = ToolRegistry()
    tools.add(StructuredTool.from_function(coroutine=rotate, name="rotate", description="Rotate.",
                                           args_schema=RotateArgs), Risk.RED)
    tools.add(StructuredTool.from_function(coroutine=rotate, name="pair", description="Pair.",
                                           args_schema=PairArgs), Risk.RED)
    return tools


BAD = {"service": "Web", "token": TYPED, "hours": 100, "key_id": f"zz-{TYPED}"}
EXPECTED = {
    "service": "service: Value error, 'Web' is not a service name: use lower case",
    "token": "token: was refused by the tool's own check (its words are not shown: the value is secret)",
    "hours": "hours: Input should be less than or equal to 72",
    "key_id": "key_id: Input should be a valid UUID",
}


def test_edit_problems_name_each_argument_and_never_quote_a_secret() -> None:
    tools = registry()
    assert {"token", "key_id"} <= tools.secret_args("rotate")

    problems = argument_problems(tools, "rotate", BAD)

    assert problems == EXPECTED
    assert TYPED not in repr(problems)


def test_the_runner_and_plan_validation_use_the_same_words() -> None:
    tools = registry()
    with pytest.raises(ToolArgumentError) as raised:
        tools.validate_args("rotate", BAD)
    assert str(raised.value) == "bad arguments for 'rotate': " + "; ".join(EXPECTED.values())

    with pytest.raises(PlanError) as refused:
        validate_plan({"nodes": [{"id": "r", "tool": "rotate", "args": BAD}]}, tools)
    assert str(refused.value) == "node 'r', field 'args': do not fit tool 'rotate': " + "; ".join(
        EXPECTED.values())
    assert TYPED not in str(raised.value) + str(refused.value)


def test_an_error_about_the_arguments_as_a_whole_is_worded_as_for_a_secret() -> None:
    tools = registry()
    problems = argument_problems(tools, "pair", {"user": TYPED, "password": TYPED})
    assert problems == {"": "(arguments): was refused by the tool's own check (its words are not shown: "
                            "the value is secret)"}


def test_a_secret_argument_still_says_what_the_schema_expects() -> None:
    tools = registry()
    problems = argument_problems(tools, "rotate", {"service": "web", "token": ["tok-1"]})
    assert problems == {"token": "token: Input should be a valid string"}
