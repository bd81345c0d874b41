"""The tool calls a package's code will make, read from code still being written.

A package's code arrives a few tokens at a time while the plan streams, and it can only run
once it is complete. Its first statements are often straight-line calls whose arguments come
from its inputs or from an earlier call's result::

    hop2 = tools.search(query=inputs["paper"]["lead"])
    hop3 = tools.search(query=hop2["lead"])

:func:`calls_so_far` reads such calls from the complete statements written so far, their
arguments worked out from the values known (the inputs that are done, the results of the
calls already made), without running anything: only constants, names and subscripts are
read, so nothing of the code runs outside the sandbox. The engine starts those calls early
(green tools only, through the same gateway rules) and the package, once it runs, takes each
result whose call is the same (:mod:`agent.execution.package_prefetch`).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.plan.package_code import parse_python

_UNKNOWN = object()
_MAX_DROPPED_LINES = 8
"""How many lines from the end of a prefix are given up on to find one that parses."""


@dataclass(frozen=True)
class CodeCall:
    """A call of the code: ``variable = tools.TOOL(**args)``, its arguments worked out."""

    variable: str
    tool: str
    args: dict[str, Any]


def complete_statements(code: str) -> list[ast.stmt]:
    """The top-level statements of ``code``, a prefix of a script still being written, that
    are complete: those before its last line break that parse (a line still being written,
    or a bracket still open, is left for later)."""
    lines = code.split("\n")[:-1]  # the last line may still be growing
    for end in range(len(lines), max(len(lines) - _MAX_DROPPED_LINES, 0), -1):
        try:
            return parse_python("\n".join(lines[:end]), "<package>").body
        except SyntaxError:
            continue
    return []


def calls_so_far(code: str, inputs: Mapping[str, Any],
                 made: Callable[[str, dict[str, Any]], Any]) -> list[CodeCall]:
    """The calls of ``code``'s straight-line start whose arguments are known: ``inputs`` are
    the package's inputs done so far, ``made(tool, args)`` the output of a call already made
    (LookupError when it is not, or not yet). Reading stops at the first statement that
    is not a plain assignment (a loop, a branch, an expression), since what follows may
    depend on it; a variable whose value is not known yet leaves the calls that read it out."""
    known: dict[str, Any] = {"inputs": inputs}
    calls: list[CodeCall] = []
    for statement in complete_statements(code):
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            break
        name, value = statement.targets[0].id, statement.value
        if name in ("inputs", "tools"):
            break
        call = _tool_call(value, known)
        if call is None:
            known[name] = _value(value, known)
            continue
        tool, args = call
        if args is None:
            known[name] = _UNKNOWN
            continue
        calls.append(CodeCall(name, tool, args))
        try:
            known[name] = made(tool, args)
        except LookupError:
            known[name] = _UNKNOWN
    return calls


def call_key(tool: str, args: Mapping[str, Any]) -> tuple[str, str]:
    """A call's identity: its tool and its arguments as canonical JSON."""
    return tool, json.dumps(args, sort_keys=True, default=str)


def _tool_call(value: ast.expr, known: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None] | None:
    """``tools.NAME(k=v, …)``: its tool and its arguments (None when one is not known yet);
    None when ``value`` is no such call."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and isinstance(value.func.value, ast.Name) and value.func.value.id == "tools"):
        return None
    if value.args or any(keyword.arg is None for keyword in value.keywords):
        return value.func.attr, None  # positional or ** arguments: not worked out here
    args = {str(keyword.arg): _value(keyword.value, known) for keyword in value.keywords}
    return value.func.attr, None if any(v is _UNKNOWN for v in args.values()) else args


def _value(expr: ast.expr, known: Mapping[str, Any]) -> Any:
    """``expr``'s value when it is a constant, a known name or a subscript of one by a
    constant; else ``_UNKNOWN``. Nothing is called or run."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str | int | float | bool):
        return expr.value
    if isinstance(expr, ast.Name):
        return known.get(expr.id, _UNKNOWN)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        container, key = _value(expr.value, known), expr.slice.value
        if isinstance(container, Mapping) and isinstance(key, str) and key in container:
            return container[key]
        if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container):
            return container[key]
    return _UNKNOWN
