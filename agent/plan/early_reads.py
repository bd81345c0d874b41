"""Names package code reads before it sets them, found before it runs.

A 1.5B model split "which pipeline has the longest total build time?" into two packages, the
second of them ``result = max(result.items(), key=lambda x: x[1])``: it meant the first one's
result, read ``result`` (which the sandbox starts as None) before setting it, and failed three
attempts. :func:`undefined_names <agent.plan.package_code.undefined_names>` does not see it, as
the code does set ``result``, later. So each top-level statement that is not a block (an
assignment, an ``x += …``, an expression) is checked in order: a name it reads that the code
sets somewhere but no earlier statement has set yet (nor an import, a ``def``, the same
statement's own walrus) is read too early, a certain ``NameError`` (for ``result``, a None).
Blocks (``for``, ``if``, ``with``, ``try``) bind what they bind and are not checked inside:
a loop may read on its second pass what it set on its first. A lambda's or a comprehension's
own names are its own.
"""

from __future__ import annotations

import ast

_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)


def read_before_set(tree: ast.Module) -> list[tuple[str, int]]:
    """Each name (with the line) a top-level simple statement reads before any statement sets it."""
    set_anywhere = _bound(tree)
    bound: set[str] = set()
    early: list[tuple[str, int]] = []
    for statement in tree.body:
        if isinstance(statement, _SIMPLE):
            reads = _reads(statement.value) if statement.value is not None else set()
            if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
                reads.add(statement.target.id)
            own = {n.target.id for n in ast.walk(statement)
                   if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)}
            early.extend((name, statement.lineno) for name in sorted(reads - bound - own)
                         if name in set_anywhere and (name, statement.lineno) not in early)
        bound |= _bound(statement)
    return early


def _reads(expression: ast.expr) -> set[str]:
    """The names ``expression`` reads itself: not inside a lambda (read when it is called), not
    a comprehension's own targets."""
    own: set[str] = set()
    reads: set[str] = set()
    stack: list[ast.AST] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.comprehension):
            own |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return reads - own


def _bound(tree: ast.AST) -> set[str]:
    """Every name ``tree`` sets: assigned, a loop's or a ``with``'s target, imported, defined."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler):
            names.add(node.name or "")
    return names
