"""Package code that defines the function computing its value and never calls it, called.

A small model writes a package as it would a module: ``def compute_average_p99(inputs): …
return {'average_p99_ms': …}``, and nothing at the top level sets ``result``. The sandbox then
has no value, and told so, the same model wrote the same code back (bench.quality tuning
average-p99, the writer's code for dagbot's computed values). The fix is plain: the one
function nothing calls, which returns a value and needs at most one argument, is called with
``inputs`` (or with none) and its value is the package's: ``result = compute_average_p99(inputs)``
is added at the end.
"""

from __future__ import annotations

import ast

from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend, MendContext, node_wise
from agent.plan.package_code import NO_RESULT, package_code_problems, parse_python


def called_function(code: str) -> str | None:
    """``code`` with ``result = f(inputs)`` (or ``f()``) added, where ``code`` never sets
    ``result`` and ``f`` is its one top-level function that nothing calls and that returns a
    value; else None."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    if NO_RESULT not in package_code_problems(code, tree):
        return None
    called = called_names(tree)
    uncalled = [node for node in tree.body if isinstance(node, ast.FunctionDef)
                and node.name not in called and _returns_value(node)]
    if len(uncalled) != 1:
        return None
    function = uncalled[0]
    needed = len(function.args.posonlyargs) + len(function.args.args) - len(function.args.defaults)
    if needed > 1 or any(default is None for default in function.args.kw_defaults):
        return None  # (more than one argument it must be given: not one to guess)
    argument = "inputs" if needed == 1 else ""
    return f"{code.rstrip()}\n\nresult = {function.name}({argument})\n"


def called_names(tree: ast.Module) -> set[str]:
    """The names the code calls anywhere (``f(…)``), functions' bodies included."""
    return {node.func.id for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


def _returns_value(function: ast.FunctionDef) -> bool:
    """A ``return <value>`` of ``function`` itself (not of a function defined inside it)."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            pending.extend(ast.iter_child_nodes(node))
    return False


def _called_package(node: PlanNode, context: MendContext) -> PlanNode:
    if node.package is None or (code := called_function(node.package.code)) is None:
        return node
    return node.model_copy(update={"package": node.package.model_copy(update={"code": code})})


UNCALLED_FUNCTION = Mend(
    name="uncalled-function", fix=node_wise(_called_package),
    slip="a step's code defined the function computing its value and never called it; it is called")
