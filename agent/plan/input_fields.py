"""Package code's reads of a tool's output, held to the keys the tool returns.

A planner writes package code before any input exists, from the tools' "Returns" sentences,
and small models mix the tools up: ``inputs['status']['content']`` of an ``http_get`` (whose
body is ``text``; ``content`` is ``read_file``'s), or ``inputs['status']['services']`` of a
JSON body (its fields are under ``json``), or ``inputs['status']['text']['services']`` (a
field of the body's text, which has none). Each has one possible fix, made here before the
plan is checked: the body under the name this tool gives it, a JSON field read from ``json``.
A read with no such fix is a fault of the code where it stands (reflexion mends it when it
fails, with the input in view), told to the repair round when there is one. A file read whole
is a body too: ``inputs['deploy']['replicas']`` of a ``read_file`` of ``deploy.yaml`` means the
field the file sets, and reads it from the text parsed (``yaml.safe_load``, ``json.loads``,
``tomllib.loads`` by the file's suffix). Only direct
reads are looked at (``inputs['x']['k']``, ``inputs.get('x')['k']``, ``inputs['x'].get('k')``)
of nodes that call one tool (a fan-out's output is a list) whose keys are declared
(:attr:`agent.tools.registry.ToolSpec.returns`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePosixPath

from agent.errors import PlanProblem
from agent.plan.format import PlanNode
from agent.plan.mends.contract import Mend
from agent.plan.package_code import key_read, parse_python, source_span, spliced
from agent.tools.registry import ToolRegistry

BODY_KEYS = ("text", "content", "body")
"""The names tools give a body of text: one read under another's name means that one."""
_LOADERS = {".json": ("json", "json.loads"), ".yaml": ("yaml", "yaml.safe_load"),
            ".yml": ("yaml", "yaml.safe_load"), ".toml": ("tomllib", "tomllib.loads")}
"""What parses a file of each suffix in a package: its module, and the call."""


@dataclass(frozen=True)
class _Read:
    node_id: str
    key: str
    source: ast.expr  # inputs['x'], the value read from
    key_node: ast.expr  # the constant 'k'


def mended_input_fields(nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanNode]:
    """The nodes, each package's code with its reads of tool outputs mended where one fix fits."""
    outputs = declared_outputs(nodes, registry)
    files = _structured_files(nodes, outputs)
    mended = []
    for node in nodes:
        if node.package is not None and outputs:
            code = _mended_code(node.package.code, outputs)
            code = _parsed_file_fields(code, outputs, files)
            if code != node.package.code:
                node = node.model_copy(update={"package": node.package.model_copy(update={"code": code})})
        mended.append(node)
    return mended


def unknown_input_fields(node: PlanNode, nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanProblem]:
    """Reads by ``node``'s code of keys its inputs' tools never return (after mending)."""
    outputs = declared_outputs(nodes, registry)
    if node.package is None or not outputs:
        return []
    problems = []
    for read in _reads(_tree(node.package.code)):
        keys = outputs.get(read.node_id)
        if keys is not None and read.key not in keys:
            problems.append(PlanProblem(node.id, "package.code", (
                f"reads inputs['{read.node_id}']['{read.key}'], but node '{read.node_id}' returns "
                f"{{{', '.join(sorted(keys))}}}: read one of those"), code_fault=True, local=True))
    return problems


def declared_outputs(nodes: list[PlanNode], registry: ToolRegistry) -> dict[str, frozenset[str]]:
    """The keys each node that calls one tool returns, where its tool declares them."""
    outputs = {}
    for node in nodes:
        if node.tool is not None and node.each is None:
            keys = registry.returns_of(node.tool)
            if keys is not None:
                outputs[node.id] = keys
    return outputs


def _mended_code(code: str, outputs: dict[str, frozenset[str]]) -> str:
    tree = _tree(code)
    # a body whose fields are read is the parsed one, whatever the body was called
    parsed = {source_span(code, body) for body in _keys_of_text(tree, outputs)}
    edits = [(start, end, "'json'") for start, end in parsed]
    for read in _reads(tree):
        keys = outputs.get(read.node_id)
        if keys is None or read.key in keys:
            continue
        body = [k for k in BODY_KEYS if k in keys]
        if read.key in BODY_KEYS and len(body) == 1:
            if (span := source_span(code, read.key_node)) not in parsed:
                edits.append((*span, repr(body[0])))
        elif "json" in keys and read.key not in BODY_KEYS:
            end = source_span(code, read.source)[1]
            edits.append((end, end, "['json']"))
    return spliced(code, edits)


def _structured_files(nodes: list[PlanNode], outputs: dict[str, frozenset[str]]
                      ) -> dict[str, tuple[str, str]]:
    """Each node that reads one whole file of a structured format (a ``path`` ending in .json,
    .yaml, .yml or .toml, a body of text and no parsed ``json``), by id: its body key, and the
    file's suffix."""
    files = {}
    for node in nodes:
        keys = outputs.get(node.id, frozenset())
        body = [k for k in BODY_KEYS if k in keys]
        path = (node.args or {}).get("path")
        suffix = PurePosixPath(path).suffix.lower() if isinstance(path, str) else ""
        if len(body) == 1 and "json" not in keys and suffix in _LOADERS:
            files[node.id] = (body[0], suffix)
    return files


def _parsed_file_fields(code: str, outputs: dict[str, frozenset[str]],
                        files: dict[str, tuple[str, str]]) -> str:
    """``code`` with each read of a field a structured file sets, ``inputs['x']['replicas']``,
    read from its text parsed: ``yaml.safe_load(inputs['x']['content'])['replicas']``."""
    edits, modules = [], set()
    for read in _reads(_tree(code)):
        if read.node_id not in files or read.key in outputs[read.node_id]:
            continue
        body, suffix = files[read.node_id]
        module, loader = _LOADERS[suffix]
        start, end = source_span(code, read.source)
        edits.append((start, end, f"{loader}({code.encode()[start:end].decode()}[{body!r}])"))
        modules.add(module)
    if not edits:
        return code
    return "".join(f"import {m}\n" for m in sorted(modules)) + spliced(code, edits)


def _tree(code: str) -> ast.Module | None:
    try:
        return parse_python(code)
    except SyntaxError:
        return None


def _keys_of_text(tree: ast.Module | None, outputs: dict[str, frozenset[str]]) -> list[ast.expr]:
    """The body keys of reads like ``inputs['x']['text']['services']``: a field read from a
    body of text (a str has no fields), where x's tool also returns that body parsed, ``json``."""
    found: list[ast.expr] = []
    for node in ast.walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str) and isinstance(node.value, ast.Subscript)):
            continue
        body = node.value.slice
        node_id = input_id(node.value.value)
        if (node_id is not None and "json" in outputs.get(node_id, ())
                and isinstance(body, ast.Constant) and body.value in BODY_KEYS):
            found.append(body)
    return found


def _reads(tree: ast.Module | None) -> list[_Read]:
    reads = []
    for node in ast.walk(tree) if tree is not None else ():
        if (read := key_read(node)) is None:
            continue
        source, key = read
        node_id = input_id(source)
        if node_id is not None and isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append(_Read(node_id, key.value, source, key))
    return reads


def input_id(expr: ast.expr) -> str | None:
    """``x`` when ``expr`` is ``inputs['x']`` or ``inputs.get('x')``."""
    read = key_read(expr)
    if read is None:
        return None
    base, key = read
    if isinstance(base, ast.Name) and base.id == "inputs" and isinstance(key, ast.Constant) \
            and isinstance(key.value, str):
        return key.value
    return None


INPUT_FIELDS = Mend(
    name="input-fields",
    fix=lambda draft, context: draft.with_nodes(mended_input_fields(list(draft.nodes), context.registry)),
    slip="a step's code read a field under a name its input does not have; it reads the one it has")
