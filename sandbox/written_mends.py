"""Plain slips in the code the sandbox's model writes or rewrites, mended before it runs.

A 1.5B model writes a package as it would a script of its own: ``def compute(inputs): …`` and
no call; an "example usage" that sets ``inputs = {…}`` to values it made up; a file opened by
the path its read returned (``open(inputs['orders']['path'])``), which is not on the sandbox's
disk. Told why, the same model wrote the same code back (bench.quality tuning orders-total, the
writer's code for dagbot's computed values). Each fix is plain: the example's ``inputs`` goes
(the real ones are there), the function nothing calls is called
(:mod:`agent.plan.uncalled_function`), one it calls that sets ``result`` sets the package's
(``global result``), and the open reads the text the read returned
(:func:`agent.plan.code_mends.opened_inputs_as_text`, as the plan's own mend does), and an
import of a module the sandbox lacks that nothing uses goes, and one of the standard library
used and never imported (``io.StringIO`` with no ``import io``) is added.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from typing import Any

from agent.plan.code_mends import opened_inputs_as_text
from agent.plan.input_fields import BODY_KEYS
from agent.plan.package_code import PACKAGE_MODULES, parse_python, source_span, spliced, undefined_names
from agent.plan.uncalled_function import called_function, called_names


def mended_written_code(code: str, inputs: Mapping[str, Any]) -> str:
    """``code`` with the slips above mended (as it is when it has none)."""
    code = without_made_up_inputs(code) or code
    code = without_unused_missing_imports(code) or code
    code = with_standard_imports(code) or code
    code = called_function(code) or global_result(code) or code
    text_keys = {node_id: key for node_id, value in inputs.items() if isinstance(value, Mapping)
                 for key in BODY_KEYS if isinstance(value.get(key), str)}
    sources = {node_id: str(value.get("path") or value.get("url")) for node_id, value in inputs.items()
               if isinstance(value, Mapping) and (value.get("path") or value.get("url"))}
    return opened_inputs_as_text(code, text_keys, sources) or code


def without_made_up_inputs(code: str) -> str | None:
    """``code`` without its top-level assignments to ``inputs`` (the sandbox's own are the
    real ones); None when it has none, or does not parse."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    spans = [source_span(code, statement) for statement in tree.body
             if isinstance(statement, ast.Assign | ast.AnnAssign) and _targets_inputs(statement)]
    return spliced(code, [(start, end, "") for start, end in spans]) if spans else None


def without_unused_missing_imports(code: str) -> str | None:
    """``code`` without its top-level imports of modules the sandbox lacks that nothing in it
    uses (``import requests`` above code that calls only ``tools.http_get``: fresh
    follow-up-owner's rewrite was refused for the import, and the model wrote the same code
    back). A name it uses stays imported, and the code is told it cannot work; None when there
    is nothing to drop, or it does not parse."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    spans = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            names = [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            names = [(statement.module, alias.asname or alias.name) for alias in statement.names]
        else:
            continue
        if all(module.split(".")[0] not in PACKAGE_MODULES and bound not in used for module, bound in names):
            start, end = source_span(code, statement)
            spans.append((start, end + 1 if code.encode()[end:end + 1] == b"\n" else end))  # the whole line
    return spliced(code, [(start, end, "") for start, end in spans]) if spans else None


def with_standard_imports(code: str) -> str | None:
    """``code`` with ``import m`` first for each module of Python's standard library it uses as
    ``m.name`` and never imports or defines (``csv.DictReader(io.StringIO(text))`` with no
    ``import io``: fresh follow-up-owner's writer, told the name was never defined, wrote the
    same code back); None when there is none, or it does not parse."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    undefined = undefined_names(code, tree)
    used = {node.value.id for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    modules = sorted(name for name in undefined & used if name in sys.stdlib_module_names)
    return "".join(f"import {name}\n" for name in modules) + code if modules else None


def _targets_inputs(statement: ast.Assign | ast.AnnAssign) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return any(isinstance(target, ast.Name) and target.id == "inputs" for target in targets)


def global_result(code: str) -> str | None:
    """``code`` with ``global result`` first in each top-level function that sets ``result``
    only for itself, when the code calls it and never sets ``result`` at the top level (``def
    compute(): … result = {…}`` then ``compute()``); else None."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    if any(isinstance(target, ast.Name) and target.id == "result"
           for statement in tree.body if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign)
           for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])):
        return None
    called = called_names(tree)
    edits = []
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or function.name not in called \
                or not _sets_own_result(function):
            continue
        first = function.body[0]
        start, _ = source_span(code, first)
        edits.append((start, start, f"global result\n{' ' * first.col_offset}"))
    return spliced(code, edits) if edits else None


def _sets_own_result(function: ast.FunctionDef) -> bool:
    declared = any(isinstance(node, ast.Global) and "result" in node.names for node in ast.walk(function))
    return not declared and any(
        isinstance(node, ast.Name) and node.id == "result" and isinstance(node.ctx, ast.Store)
        for node in ast.walk(function))
