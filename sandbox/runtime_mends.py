"""What a runtime mend is, every one in the order they are tried, and the one function that tries them.

A runtime mend fixes one slip of package code written before its inputs existed, seen only
when an attempt fails: with the error and the inputs in hand the fix is plain, so the next
attempt runs the mended code and the reflexion model is not asked (anything less certain still
goes to it). Each is a :class:`RuntimeMend`, shaped like the plan's mends
(:mod:`agent.plan.mends.contract`): a name (kebab-case, stable: it is logged and kept with the
attempts it wrote), the slip it fixes as a person reads it, and a function from the failure to
new code, or None when it does not apply. Their code lives with the slips they fix
(:mod:`sandbox.key_mends`, :mod:`sandbox.nested_keys`, :mod:`sandbox.compared_columns`,
:mod:`sandbox.package_values`, :mod:`sandbox.loop_mends`);
:data:`RUNTIME_MENDS` lists them and :func:`mend_in_place` gives the first that applies.
``tests/sandbox/test_runtime_mends.py``
pins the order.

Each mend answers to one kind of error (missing-key, nested-key and compared-column a ``KeyError``,
header-row a ``ValueError``, object-loop a ``TypeError`` or ``AttributeError``); of those for
a ``KeyError``, missing-key (the key spelt another way) is asked first, then nested-key (the key
read at the top of a document that holds it further down), then compared-column (the key the
compared value is held under). package-value answers to any of those three, but
only for a read of ``['result']`` of an input that is no object, so it comes before object-loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.ports.sandbox import SandboxResult
from sandbox.compared_columns import mended_compared_key
from sandbox.key_mends import mended_header_row, mended_missing_key, missing_key
from sandbox.loop_mends import mended_object_loop
from sandbox.nested_keys import mended_nested_key
from sandbox.package_values import mended_package_value


@dataclass(frozen=True)
class RuntimeFailure:
    """What a runtime mend sees of a failed attempt: its code, how it failed, the job's inputs."""

    code: str
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    """The package's own traceback lines, as the sandbox reported them."""
    inputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, outcome: SandboxResult, inputs: dict[str, Any]) -> RuntimeFailure:
        return cls(code=code, error_type=outcome.error_type, error=outcome.error,
                   traceback=outcome.traceback, inputs=inputs)


@dataclass(frozen=True)
class RuntimeMend:
    name: str
    """Stable kebab-case name: the log line and the package's state say which mend wrote the code."""
    slip: str
    """The slip it fixes, as a person reads it after "dagbot mended the package's code:"."""
    fix: Callable[[RuntimeFailure], str | None]
    """The failed code with the slip fixed, or None when the failure is not that slip."""


def _for_missing_key(mend: Callable[[str, str, Any], str | None]) -> Callable[[RuntimeFailure], str | None]:
    """A fix for a ``KeyError``: ``mend(code, key, inputs)`` with the key the error names."""
    def fix(failure: RuntimeFailure) -> str | None:
        key = missing_key(failure.error_type, failure.error)
        return None if key is None else mend(failure.code, key, failure.inputs)
    return fix


MISSING_KEY = RuntimeMend(
    name="missing-key", fix=_for_missing_key(mended_missing_key),
    slip="a key the inputs hold exactly once spelt another way or with a qualifier was read by its "
         "guessed name")


NESTED_KEY = RuntimeMend(
    name="nested-key", fix=_for_missing_key(mended_nested_key),
    slip="a key the inputs' document holds at one place below its top was read at the top; it is "
         "read where it is")
COMPARED_COLUMN = RuntimeMend(
    name="compared-column", fix=_for_missing_key(mended_compared_key),
    slip="a key the inputs do not have was compared with a value they hold under one other key; "
         "that key is read")
HEADER_ROW = RuntimeMend(
    name="header-row",
    fix=lambda f: mended_header_row(f.code, f.error_type, f.error, f.inputs),
    slip="a CSV's header row was read as data")
PACKAGE_VALUE = RuntimeMend(
    name="package-value",
    fix=lambda f: mended_package_value(f.code, f.error_type, f.inputs),
    slip="another step's value was read under 'result', as if it were an object; the value itself is read")
OBJECT_LOOP = RuntimeMend(
    name="object-loop",
    fix=lambda f: mended_object_loop(f.code, f.error_type, f.error, f.traceback),
    slip="a loop went over a JSON object instead of the one list of objects it holds")

RUNTIME_MENDS: tuple[RuntimeMend, ...] = (
    MISSING_KEY, NESTED_KEY, COMPARED_COLUMN, HEADER_ROW, PACKAGE_VALUE, OBJECT_LOOP)


def mend_in_place(
    failure: RuntimeFailure, mends: Sequence[RuntimeMend] = RUNTIME_MENDS
) -> tuple[str, str] | None:
    """The first of ``mends``, in order, that applies to ``failure``: its name and the mended
    code; None when none does (the reflexion model is asked)."""
    for mend in mends:
        code = mend.fix(failure)
        if code is not None:
            return mend.name, code
    return None
