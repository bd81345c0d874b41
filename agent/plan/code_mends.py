"""Slips in package code whose fix is plain, mended before the plan is checked.

Small models write a loop and its test on one line, as they would a one-line ``if``::

    for s in inputs['status']['json']['services']: if s['status'] == 'degraded': result = s['name']

Python refuses a compound statement after a colon, so the code does not parse, the checks that
read it (its inputs' keys, the names it uses) cannot run, and the sandbox's reflexion gets a
rewrite that a small model often gets wrong. :func:`unfolded_blocks` puts each such header on
a line of its own, its body indented under it: what the code says, laid out as Python needs.
The same line often ends its body with a jump and no separator, ``… : result = s['name'] break``:
a ``;`` goes before that ``break`` (or ``continue``).

They also write a file's reading as they would on their own disk, ``open(inputs['orders']['path'])``
or ``open('status.json')`` for the page a node fetched, though the sandbox has only the text the
read returned: :func:`opened_inputs_as_text` reads that text instead
(``io.StringIO(inputs['orders']['content'])``). And they split one computation
over two packages as if they shared a scope (``regions`` built in one, ``max(regions, …)`` in
the next): :func:`joined_packages` runs the first one's code at the head of the second.
"""

from __future__ import annotations

import ast
import re
import symtable
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from agent.plan.early_reads import read_before_set
from agent.plan.edges import dependencies
from agent.plan.format import PlanNode
from agent.plan.input_fields import BODY_KEYS, input_id
from agent.plan.mends.contract import Draft, Mend, MendContext, node_wise
from agent.plan.package_code import parse_python, parses, source_span, spliced, undefined_names
from agent.plan.references import referenced_ids

_HEADERS = frozenset({"for", "if", "elif", "else", "while", "with", "try", "except", "finally"})
_INDENT = "    "


_JUMP_UNSEPARATED = re.compile(r"(?<=[\w)\]}'\"])[ \t]+(break|continue)[ \t]*$")


def unfolded_blocks(code: str) -> str | None:
    """``code`` with compound statements written one after another on a line unfolded into
    indented lines, and a ``break`` or ``continue`` written after a statement with no ``;``
    separated from it, when the code does not parse and the result does; else None."""
    try:
        parse_python(code)
        return None  # (a "… break" inside a string of Python that parses stays as it is)
    except SyntaxError:
        pass
    given = code.split("\n")
    lines = [_JUMP_UNSEPARATED.sub(r"; \1", part) for line in given for part in _unfolded(line)]
    if lines == given:
        return None
    text = "\n".join(lines)
    try:
        parse_python(text)
    except SyntaxError:
        return None
    return text


def _unfolded(line: str) -> list[str]:
    stripped = line.strip()
    if _keyword(stripped) not in _HEADERS:
        return [line]
    colon = _header_end(stripped)
    body = stripped[colon + 1:].strip() if colon is not None else ""
    if colon is None or _keyword(body) not in _HEADERS - {"elif", "else", "except", "finally"}:
        return [line]  # a simple statement after the colon is Python already
    indent = line[:len(line) - len(line.lstrip())]
    return [indent + stripped[:colon + 1], *_unfolded(indent + _INDENT + body)]


def _keyword(text: str) -> str:
    word = text.split(None, 1)[0] if text.strip() else ""
    return word.split(":", 1)[0]


def _header_end(text: str) -> int | None:
    """Where the header of the compound statement ``text`` ends: its first colon outside
    brackets and strings."""
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return index
    return None


def opened_inputs_as_text(code: str, text_keys: Mapping[str, str],
                          sources: Mapping[str, str] | None = None) -> str | None:
    """``code`` with each ``open(inputs['x']['path'])`` for reading text, where node ``x``'s
    output holds the file's text under ``text_keys['x']``, made ``io.StringIO`` of that text
    (``import io`` put first); None when there is no such call. ``open('name')`` of a literal
    is read so too when exactly one node ``x`` of ``sources`` (node id: the path or URL it read)
    read that path, or a path or URL whose last part is that name. A mode with ``b``, ``w``,
    ``a`` or ``x`` is left alone (the checks refuse it as before)."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return None
    edits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
                and node.args and _text_mode(node)):
            continue
        read = _input_field(node.args[0]) or _named_source(node.args[0], sources or {})
        if read is not None and read[0] in text_keys and read[1] != text_keys[read[0]]:
            if node.lineno != node.end_lineno:
                return None  # (a call over several lines: left to reflexion)
            text = f"io.StringIO(inputs[{read[0]!r}][{text_keys[read[0]]!r}])"
            edits.append((*source_span(code, node), text))
    return "import io\n" + spliced(code, edits) if edits else None


def _named_source(expr: ast.expr, sources: Mapping[str, str]) -> tuple[str, str] | None:
    """``('x', 'path')`` when ``expr`` is a literal naming what node ``x`` alone read."""
    if not (isinstance(expr, ast.Constant) and isinstance(expr.value, str) and expr.value.strip()):
        return None
    name = expr.value.strip().removeprefix("./")
    readers = {node_id for node_id, source in sources.items()
               if name in (source.removeprefix("./"), PurePosixPath(urlsplit(source).path).name)}
    return (readers.pop(), "path") if len(readers) == 1 else None


def _text_mode(call: ast.Call) -> bool:
    modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    return all(isinstance(m, ast.Constant) and isinstance(m.value, str) and not set(m.value) & set("bwax")
               for m in modes)


def _input_field(expr: ast.expr) -> tuple[str, str] | None:
    """``('x', 'k')`` when ``expr`` is ``inputs['x']['k']``."""
    if (isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant)
            and isinstance(expr.slice.value, str) and (node_id := input_id(expr.value)) is not None):
        return node_id, expr.slice.value
    return None


def joined_packages(nodes: list[PlanNode], depends_on: Callable[[PlanNode], set[str]]) -> list[PlanNode]:
    """``nodes`` where a package uses names it never defines that exactly one other package
    defines (at its top level), and that package does not wait for it: the other's code first,
    then its own, with the other's dependencies. The other package stays as it was. A package
    that itself reads ``result`` before setting it is no source (dev longest-pipeline: a reply
    package ``result = result[0][0]`` beside the totals made two)."""
    missing_by_id = {node.id: _missing_names(node) for node in nodes}
    # (a package reading ``result`` before it sets it goes on from another's: no source of it)
    packages = {node.id: node for node in nodes
                if node.package is not None and "result" not in missing_by_id[node.id]}
    defined = {node_id: _top_level_names(node.package.code) for node_id, node in packages.items()
               if node.package is not None}
    joined = []
    for node in nodes:
        missing = missing_by_id[node.id]
        sources = [other for other_id, other in packages.items()
                   if other_id != node.id and missing and missing <= defined[other_id]]
        if len(sources) == 1 and node.id not in _upstream(sources[0], nodes, depends_on):
            source = sources[0]
            assert node.package is not None and source.package is not None
            code = f"{source.package.code.rstrip()}\n{node.package.code}"
            deps = sorted((set(node.depends_on) | depends_on(source)) - {source.id, node.id})
            node = node.model_copy(update={
                "package": node.package.model_copy(update={"code": code}), "depends_on": deps})
        joined.append(node)
    return joined


def _missing_names(node: PlanNode) -> set[str]:
    """The names ``node``'s code uses and never defines; ``result`` too when it is read and
    never set, or read before it is set (the sandbox starts it as None: the code means another
    package's: ``result = max(result.items(), …)``)."""
    if node.package is None:
        return set()
    code = node.package.code
    try:
        tree = parse_python(code)
        missing = undefined_names(code, tree)
        table = symtable.symtable(code, "<package>", "exec")
    except SyntaxError:
        return set()
    names = {s.get_name(): s for s in table.get_symbols()}
    result = names.get("result")
    if result and result.is_referenced() and (
            not result.is_assigned() or any(name == "result" for name, _ in read_before_set(tree))):
        return missing | {"result"}
    return missing


def _top_level_names(code: str) -> set[str]:
    """The names ``code`` assigns or imports; of code that does not parse, the names its
    unindented lines assign (dev longest-pipeline: ``result = {… for r in rows} for r in
    rows}`` in one package, ``result = max(result.items(), …)`` in the next; joined, reflexion
    mends the one script, where alone the second could only fail)."""
    try:
        parse_python(code)
        table = symtable.symtable(code, "<package>", "exec")
    except SyntaxError:
        return set(_ASSIGNED_LINE.findall(code))
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


_ASSIGNED_LINE = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)", re.MULTILINE)


def _upstream(node: PlanNode, nodes: list[PlanNode], depends_on: Callable[[PlanNode], set[str]]) -> set[str]:
    by_id = {n.id: n for n in nodes}
    seen: set[str] = set()
    todo = list(depends_on(node))
    while todo:
        node_id = todo.pop()
        if node_id not in seen and node_id in by_id:
            seen.add(node_id)
            todo.extend(depends_on(by_id[node_id]))
    return seen


def _with_code(node: PlanNode, code: str) -> PlanNode:
    assert node.package is not None
    return node.model_copy(update={"package": node.package.model_copy(update={"code": code})})


def _unfolded_package(node: PlanNode, context: MendContext) -> PlanNode:
    if node.package is None or parses(node.package.code):
        return node
    code = unfolded_blocks(node.package.code)
    return node if code is None else _with_code(node, code)


def _opened_as_text(draft: Draft, context: MendContext) -> Draft:
    """Package code that opens a read's path, or the name of what a node read, reads the
    read's text instead (:func:`opened_inputs_as_text`)."""
    text_keys, sources = {}, {}
    for node in draft.nodes:
        keys = context.registry.returns_of(node.tool) if node.tool is not None and node.each is None else None
        body = [key for key in BODY_KEYS if key in (keys or ())]
        if len(body) == 1:
            text_keys[node.id] = body[0]
            source = (node.args or {}).get("path") or (node.args or {}).get("url")
            if isinstance(source, str) and not referenced_ids(source):
                sources[node.id] = source
    mended = []
    for node in draft.nodes:
        code = opened_inputs_as_text(node.package.code, text_keys, sources) if node.package else None
        mended.append(_with_code(node, code) if code else node)
    return draft.with_nodes(mended)


UNFOLDED_BLOCKS = Mend(
    name="unfolded-blocks", fix=node_wise(_unfolded_package),
    slip="a step's code wrote a block on one line; it was laid out as Python needs")
OPENED_AS_TEXT = Mend(
    name="opened-as-text", fix=_opened_as_text,
    slip="a step's code opened a file the sandbox does not have; it reads the text read for it")
JOINED_PACKAGES = Mend(
    name="joined-packages",
    fix=lambda draft, context: draft.with_nodes(joined_packages(list(draft.nodes), dependencies)),
    slip="a step's code used names another step's code defines; that code runs first in it")
