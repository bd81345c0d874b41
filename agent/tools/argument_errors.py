"""Why arguments do not fit a tool's schema, in words a person can act on, that never quote
the value of a secret argument.

Built from pydantic's structured errors (without their input), one problem per error: the
argument's path and what is expected. For a secret argument, pydantic's message is used only
when it is made of the schema alone (a pattern, a bound, the allowed values). Other messages
may quote what was given: a validator's own words (``value_error``), a parser's detail
(``uuid_parsing``: "found `x` at 1"), a discriminator's tag, a custom error. Those keep only
what is expected, or say that the tool's check refused the value.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticKnownError, core_schema

BUILT_IN = frozenset(typing.get_args(core_schema.ErrorType))
FROM_SCHEMA = frozenset({"pattern", "max_length", "min_length", "gt", "ge", "lt", "le", "multiple_of",
                         "expected", "max_digits", "decimal_places", "whole_digits", "class_name"})
"""Context keys of pydantic's messages whose values come from the schema, never the input."""
REFUSED_BY_CHECK = "was refused by the tool's own check (its words are not shown: the value is secret)"
NOT_VALID = "is not valid (what is wrong is not shown: the value is secret)"
WHOLE = "(arguments)"
"""The path of an error about the arguments as a whole."""


@dataclass(frozen=True)
class ArgumentProblem:
    argument: str
    """The argument at fault ('' for the arguments as a whole)."""
    path: str
    """Where: the argument's name, then any index or key inside it (``hosts.2``)."""
    expected: str

    def __str__(self) -> str:
        return f"{self.path}: {self.expected}"


def problems_in(exc: ValidationError | Iterable[ErrorDetails],
                      secret: Collection[str]) -> list[ArgumentProblem]:
    """One problem per error of ``exc`` (or of the errors given), ``secret`` naming the secret
    arguments. An error about the arguments as a whole may concern any of them: it is worded
    as for a secret one when the tool has any."""
    errors = exc.errors(include_url=False, include_input=False) if isinstance(exc, ValidationError) else exc
    problems = []
    for err in errors:
        argument = str(err["loc"][0]) if err["loc"] else ""
        hidden = argument in secret if argument else bool(secret)
        problems.append(ArgumentProblem(
            argument=argument, path=".".join(str(part) for part in err["loc"]) or WHOLE,
            expected=_secret_safe(err) if hidden else err["msg"]))
    return problems


def describe(problems: Iterable[ArgumentProblem]) -> str:
    return "; ".join(str(problem) for problem in problems)


def _secret_safe(err: ErrorDetails) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind not in BUILT_IN or kind in ("value_error", "assertion_error"):
        return REFUSED_BY_CHECK
    if set(ctx) <= FROM_SCHEMA:
        return err["msg"]
    try:
        template = PydanticKnownError(kind, ctx).message_template  # type: ignore[arg-type]
    except (TypeError, KeyError):
        template = ""
    head, detail, _ = template.partition(", {error}")  # "Input should be a valid UUID, {error}"
    return head if detail and "{" not in head else NOT_VALID
