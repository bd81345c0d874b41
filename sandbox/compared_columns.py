"""A key package code compares with a value, when the inputs hold that value under one other key.

A planner copies its example's names: "what percentage of the builds passed?" was written as
``r['outcome'] == 'passed'`` (the example's column) for a CSV whose column is ``result``, and
the reflexion model, told that no input has ``outcome``, wrote the same read three times. The
value the code compares with says which column is meant: when the inputs hold ``'passed'``
under exactly one key (a CSV column, an object's field, at any depth), :func:`mended_compared_key`
reads that key instead. A value found under no key, or under several, is not plain: the reflexion
model gets the failure, as before. It is the runtime mend ``compared-column`` of
:data:`sandbox.runtime_mends.RUNTIME_MENDS`, tried after ``missing-key`` (a key spelt another way).
"""

from __future__ import annotations

import ast
from typing import Any

from agent.plan.package_code import key_read, parse_python, source_span, spliced
from sandbox.key_mends import keyed_texts


def mended_compared_key(code: str, missing: str, inputs: Any) -> str | None:
    """``code`` with its reads of key ``missing`` made reads of the one key under which the inputs
    hold every value the code compares those reads with; None when that is not exactly one key."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    reads, compared = _compared_reads(tree, missing)
    if not reads or not compared or any(read.lineno != read.end_lineno for read in reads):
        return None
    holders = _keys_holding(inputs, compared)
    if len(holders) != 1:
        return None
    [key] = holders
    return spliced(code, [(*source_span(code, read), repr(key)) for read in reads])


def _compared_reads(tree: ast.AST, key: str) -> tuple[list[ast.Constant], set[str]]:
    """The constants ``'key'`` read in ``tree``, and the text values those reads are compared
    with (``x['key'] == 'v'``, ``x.get('key') in ('v', 'w')``)."""
    reads: list[ast.Constant] = []
    compared: set[str] = set()
    for node in ast.walk(tree):
        read = key_read(node)
        if read is not None and isinstance(read[1], ast.Constant) and read[1].value == key:
            reads.append(read[1])
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            sides = [node.left, node.comparators[0]]
            if any(_reads_key(side, key) for side in sides):
                compared |= {text for side in sides for text in _texts(side)}
    return reads, compared


def _reads_key(expr: ast.expr, key: str) -> bool:
    read = key_read(expr)
    return read is not None and isinstance(read[1], ast.Constant) and read[1].value == key


def _texts(expr: ast.expr) -> set[str]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in expr.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def _keys_holding(inputs: Any, wanted: set[str]) -> set[str]:
    """The keys under which ``inputs`` hold every one of ``wanted``: objects' fields at any
    depth, and the columns of CSV texts."""
    found: dict[str, set[str]] = {}
    for key, value in keyed_texts(inputs):
        if isinstance(key, str) and isinstance(value, str) and value in wanted:
            found.setdefault(key, set()).add(value)
    return {key for key, values in found.items() if values == wanted}
