"""A loop over a JSON object that was meant to go over the one list it holds.

An API's body is most often an object that holds its list under one key, ``{"updated": …,
"services": [{…}, …]}``, and package code written before the body was seen loops over the
object itself: ``[s for s in data if s['p99'] > 200]`` goes over its keys, and fails with
``TypeError: string indices must be integers`` (or, with ``s.get('p99')``, ``AttributeError:
'str' object has no attribute 'get'``). :func:`mended_object_loop` makes each loop on
the failing line whose item is read by key go over ``rows_of(…)`` instead: the object's one
list of objects when it has exactly one, else the value unchanged (so the same error comes
back and the reflexion model gets it, as before). The check is made on the value itself when
the code runs again, not guessed from the code. It is the runtime mend ``object-loop`` of
:data:`sandbox.runtime_mends.RUNTIME_MENDS`.
"""

from __future__ import annotations

import ast
import re

from agent.plan.package_code import parse_python, source_span, spliced

_STRING_INDEX = re.compile(r"^string indices must be integers")
_STRING_GET = re.compile(r"^'str' object has no attribute 'get'")
_PACKAGE_LINE = re.compile(r'File "<package>", line (\d+)')
HELPER = "rows_of"
HELPER_CODE = f'''def {HELPER}(value):
    """The one list of objects an object holds, when it holds exactly one; else the value."""
    if isinstance(value, dict):
        lists = [v for v in value.values()
                 if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
        if len(lists) == 1:
            return lists[0]
    return value


'''


def failing_line(traceback: str | None) -> int | None:
    """The package's own line the error was raised on (its last frame in the traceback)."""
    found = _PACKAGE_LINE.findall(traceback or "")
    return int(found[-1]) if found else None


def mended_object_loop(code: str, error_type: str | None, error: str | None,
                       traceback: str | None) -> str | None:
    """``code`` with the loops on its failing line that read their item by key going over
    :data:`HELPER`'s list, when the attempt failed indexing a string by a key; else None."""
    said = (error or "").strip()
    if not ((error_type == "TypeError" and _STRING_INDEX.match(said))
            or (error_type == "AttributeError" and _STRING_GET.match(said))):
        return None
    line = failing_line(traceback)
    if line is None or HELPER in code:  # (mended once already: it was not that)
        return None
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    loops = [loop for loop in _loops(tree, line) if _item_read_by_key(loop, tree)]
    if not loops:
        return None
    edits = []
    for loop in loops:
        start, end = source_span(code, loop.iter)
        edits.append((start, end, f"{HELPER}({code.encode()[start:end].decode()})"))
    return HELPER_CODE + spliced(code, edits)


def _loops(tree: ast.Module, line: int) -> list[ast.For | ast.comprehension]:
    """The ``for`` loops and comprehensions whose item is used on ``line``: a comprehension
    written on it, or a loop whose body holds it."""
    found: list[ast.For | ast.comprehension] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and node.lineno <= line <= (node.end_lineno or node.lineno):
            found.append(node)
        elif (isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp)
              and node.lineno <= line <= (node.end_lineno or node.lineno)):
            found.extend(node.generators)
    return found


def _item_read_by_key(loop: ast.For | ast.comprehension, tree: ast.Module) -> bool:
    """Whether the loop's item is a plain name that is read by a string key (``s['p99']``,
    ``s.get('name')``) within the loop or comprehension."""
    if not isinstance(loop.target, ast.Name):
        return False
    name = loop.target.id
    scope: ast.AST = loop if isinstance(loop, ast.For) else _comprehension_of(loop, tree)
    for node in ast.walk(scope):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == name):
            return True
    return False


def _comprehension_of(generator: ast.comprehension, tree: ast.Module) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) \
                and generator in node.generators:
            return node
    return generator
