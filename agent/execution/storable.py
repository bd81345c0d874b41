"""Values the engine's stores can keep: what a tool, a package or a model produced, made
storable where it enters a run's results, state or answer.

Python's json writes NaN and Infinity, which sql_query and http_get outputs can hold, and
PostgreSQL's json columns refuse them; LangGraph's PostgreSQL checkpointer keeps string state
values in jsonb, which refuses the NUL character. Either would stop the run outside the graph.
So a non-finite float becomes its name (``"NaN"``, ``"Infinity"``, ``"-Infinity"``: the
joiner and the user still see what the source said) and NUL characters are dropped from
strings, dictionary keys included. Anything else is left as it is; a value with nothing to
change is returned as the same object.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

from agent.ports.stores import NodeResult

T = TypeVar("T")


def storable(value: T) -> T:
    """``value`` with non-finite floats named and NUL characters dropped (see the module)."""
    result: T = _storable(value)
    return result


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        items = [(_storable(k), _storable(v)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        converted = [_storable(item) for item in value]
        if all(c is item for c, item in zip(converted, value, strict=True)):
            return value
        return converted if isinstance(value, list) else tuple(converted)
    return value


def storable_result(result: NodeResult) -> NodeResult:
    """A node's result with its output, error and attempt log storable."""
    output, error, log = storable(result.output), storable(result.error), storable(result.attempt_log)
    if output is result.output and error is result.error and log is result.attempt_log:
        return result
    return dataclasses.replace(result, output=output, error=error, attempt_log=log)
