"""The last step of validation: the checks a mended draft must pass to be a plan that runs.

Every problem is named by node and field, in a sentence the repair round (and a person) can
act on. The checks only look; the fixes are the mends' (:mod:`agent.plan.mends`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from agent.errors import FileWhereTableGoes, PlanProblem
from agent.plan.edges import call_args, dependencies, find_cycle
from agent.plan.format import NODE_ID_PATTERN, PlanNode
from agent.plan.input_fields import unknown_input_fields
from agent.plan.limits import PlanLimits
from agent.plan.mends.contract import Draft
from agent.plan.mends.named_recipients import names_someone
from agent.plan.package_code import (
    NO_RESULT,
    beyond_tools,
    outward_uses,
    outward_why,
    package_code_problems,
    package_input_ids,
    parse_python,
)
from agent.plan.reference_fields import unknown_reference_fields
from agent.plan.references import is_whole_reference, malformed_references, strings
from agent.tools.argument_errors import describe, problems_in
from agent.tools.registry import Risk, ToolRegistry

_ID = re.compile(NODE_ID_PATTERN)


def plan_problems(draft: Draft, registry: ToolRegistry, limits: PlanLimits,
                  refused: Mapping[str, str], *, code_faults_to_sandbox: bool = False,
                  found: Sequence[PlanProblem] = ()) -> list[PlanProblem]:
    """Every problem of ``draft``'s nodes and edges, after those ``found`` while parsing (see
    :func:`agent.plan.validation.validated_plan` for ``refused`` and ``code_faults_to_sandbox``)."""
    problems: list[PlanProblem] = list(found)
    nodes = list(draft.nodes)
    seen: set[str] = set(draft.unparsed)
    ids = {node.id for node in nodes}
    for node in nodes:
        if not _ID.match(node.id):
            problems.append(PlanProblem(node.id, "id", f"must match {NODE_ID_PATTERN}"))
        if node.id in seen:
            problems.append(PlanProblem(node.id, "id", "duplicate id"))
        seen.add(node.id)
        problems.extend(p for p in _check_node(node, registry, limits)
                        if not (code_faults_to_sandbox and p.code_fault))
        problems.extend(_check_access(node, refused))
        problems.extend(_unfillable_references(node, ids))
        problems.extend(p for p in unknown_input_fields(node, nodes, registry) if not code_faults_to_sandbox)

    for node in nodes:
        for dep in sorted(dependencies(node)):
            if dep == node.id and node.package and dep in package_input_ids(node.package.code):
                problems.append(PlanProblem(node.id, "package.code", (
                    f"reads inputs['{dep}'], its own output: a package's inputs are other nodes' outputs; "
                    "add a node that gets what it needs (read_file, http_get…) and read inputs['that "
                    "node's id']")))
            elif dep == node.id:
                problems.append(PlanProblem(node.id, "depends_on", "a node cannot depend on itself"))
            elif dep not in seen and node.package and dep in package_input_ids(node.package.code):
                problems.append(PlanProblem(node.id, "package.code",
                                            f"reads inputs['{dep}'] but no node has the id '{dep}'"))
            elif dep not in seen:
                problems.append(PlanProblem(node.id, "depends_on", f"refers to unknown node '{dep}'"))

    problems.extend(unknown_reference_fields(nodes, registry))
    if all(p.local for p in problems):
        cycle = find_cycle({n.id: dependencies(n) for n in nodes})
        if cycle:
            problems.append(PlanProblem(cycle[0], "depends_on", "cycle: " + " -> ".join(cycle)))
    return problems


def _utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8; a lone surrogate (reported as a problem of its own) counts 3."""
    return len(text.encode(errors="surrogatepass"))


def _check_node(node: PlanNode, registry: ToolRegistry, limits: PlanLimits) -> list[PlanProblem]:
    problems: list[PlanProblem] = []
    if (node.tool is None) == (node.package is None):
        return [PlanProblem(node.id, "tool/package", "needs exactly one of 'tool' or 'package'")]
    size = sum(_utf8_size(json.dumps(part, ensure_ascii=False)) for part in (node.args, node.each)
               if part is not None)
    if size > limits.max_args_bytes:
        problems.append(PlanProblem(node.id, "args", (
            f"arguments are {size} bytes, over the limit of {limits.max_args_bytes}; "
            "pass large data with a ${id} reference")))
    if node.tool is not None:
        if node.tool not in registry:
            known = ", ".join(registry.names())
            return [*problems, PlanProblem(node.id, "tool", f"unknown tool '{node.tool}' (known: {known})")]
        if node.each is not None:
            problems.extend(_check_each(node, registry, limits))
        problems.extend(_check_args(node, registry))
    elif node.package is not None:
        if node.args:
            problems.append(PlanProblem(node.id, "args", "package nodes take no args; use inputs"))
        if node.each is not None:
            problems.append(PlanProblem(node.id, "each", "a package takes no 'each'; loop in its code"))
        problems.extend(_check_package_code(node, registry, limits))
    return problems


def _unfillable_references(node: PlanNode, node_ids: set[str]) -> list[PlanProblem]:
    """``${…}`` in a tool node's arguments that name a node but compute from its output
    (``${oncall.content.splitlines()[0]}``): sent as written, and no edge to wait on (a small
    model mailed that text before the read it names had run)."""
    found = {text: named for value in strings([node.args, node.each or []])
             for text, named in malformed_references(value, node_ids).items()}
    return [PlanProblem(node.id, "args", (
        f"{text!r} is no reference dagbot can fill: write ${{{named}}} or ${{{named}.field}} (a list's "
        f"item: ${{{named}.0}}); to compute from {named}'s output (split lines, pick a name, count), add "
        "a package node that reads it and sets result, and refer to that node"))
        for text, named in found.items()]


def _check_each(node: PlanNode, registry: ToolRegistry, limits: PlanLimits) -> list[PlanProblem]:
    assert node.tool is not None and node.each is not None
    if registry.risk_of(node.tool) is Risk.RED:
        return [PlanProblem(node.id, "each", (
            f"'{node.tool}' is a red tool: give each of its calls a node of its own, so a human "
            "approves each one"))]
    if not 1 <= len(node.each) <= limits.max_each:
        return [PlanProblem(node.id, "each", f"needs 1 to {limits.max_each} items, not {len(node.each)}")]
    return []


def _check_access(node: PlanNode, refused: Mapping[str, str]) -> list[PlanProblem]:
    """A tool the requester may not use, as a node or from package code."""
    if node.tool is not None and node.tool in refused:
        return [PlanProblem(node.id, "tool", f"not allowed: {refused[node.tool]}")]
    if node.package is not None:
        try:
            names = package_tool_names(parse_python(node.package.code))
        except SyntaxError:
            return []  # (reported by _check_package_code)
        return [PlanProblem(node.id, "package.code", f"calls a tool that is not allowed: {refused[name]}")
                for name in sorted(names) if name in refused]
    return []


def _check_args(node: PlanNode, registry: ToolRegistry) -> list[PlanProblem]:
    assert node.tool is not None
    model = registry.get(node.tool).args_model()
    if model is None:
        return []
    problems = []
    for index, args in enumerate(call_args(node)):
        try:
            model.model_validate(args)
        except ValidationError as exc:
            # A whole-string reference stands for a value only known at run time: its type is
            # checked again when the node runs, with the real value.
            deferred = {k for k, v in args.items() if is_whole_reference(v)}
            # a recipient written as a name or a role: its address is looked up in the results
            # when the node runs (agent/execution/named_recipients.py), and checked then
            deferred |= {k for k in registry.address_args(node.tool) & set(args) if names_someone(args[k])}
            real = [e for e in exc.errors(include_url=False, include_input=False)
                    if not (e["loc"] and e["loc"][0] in deferred)]
            if real:
                detail = describe(problems_in(real, registry.secret_args(node.tool)))
                field = "args" if node.each is None else f"each.{index}"
                files = [error.path for e in real
                         if isinstance(error := (e.get("ctx") or {}).get("error"), FileWhereTableGoes)]
                problems.append(PlanProblem(node.id, field, f"do not fit tool '{node.tool}': {detail}",
                                            reads_file=files[0] if len(files) == len(real) else None))
    return problems


def _check_package_code(
    node: PlanNode, registry: ToolRegistry, limits: PlanLimits
) -> list[PlanProblem]:
    assert node.package is not None
    code = node.package.code
    if _utf8_size(code) > limits.max_code_bytes:
        return [PlanProblem(node.id, "package.code", f"code is over {limits.max_code_bytes} bytes")]
    try:
        tree = parse_python(code)
    except SyntaxError as exc:
        why = f"syntax error line {exc.lineno}: {exc.msg}"
        # what it imports still tells a package meant to act (sqlite3, subprocess…): the plan's
        # to change, not reflexion's (bench.quality sql-failed: an unterminated string, then sqlite3)
        return [PlanProblem(node.id, "package.code", why, code_fault=True, local=True),
                *_outward_problems(node.id, _imports(code))]
    problems = [PlanProblem(node.id, "package.code", why, code_fault=True, local=why == NO_RESULT)
                for why in package_code_problems(code, tree)]
    problems.extend(_outward_problems(node.id, tree))
    for name in sorted(package_tool_names(tree)):
        if name not in registry:
            problems.append(PlanProblem(node.id, "package.code", f"calls unknown tool '{name}'"))
        elif registry.risk_of(name) is Risk.RED:
            problems.append(PlanProblem(node.id, "package.code", (
                f"calls red tool '{name}'; red tools must be their own node so a human can "
                "approve them")))
    return problems


def _outward_problems(node_id: str, tree: ast.Module) -> list[PlanProblem]:
    return [PlanProblem(node_id, "package.code", outward_why(name), beyond_tools=beyond_tools(name))
            for name in outward_uses(tree)]


_IMPORT_LINE = re.compile(r"^[ \t]*(?:import|from)[ \t]+[\w.]+.*$", re.MULTILINE)


def _imports(code: str) -> ast.Module:
    """The import statements of ``code`` that parse on their own line."""
    statements = []
    for line in _IMPORT_LINE.findall(code):
        try:
            statements.extend(parse_python(line.strip()).body)
        except SyntaxError:
            continue
    return ast.Module(body=statements, type_ignores=[])


def package_tool_names(tree: ast.AST) -> set[str]:
    """Tool names package code uses: ``tools.NAME`` and ``getattr(tools, "NAME")``."""
    names: set[str] = set()
    for item in ast.walk(tree):
        if (isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name)
                and item.value.id == "tools"):
            names.add(item.attr)
        elif (isinstance(item, ast.Call) and isinstance(item.func, ast.Name)
              and item.func.id == "getattr" and len(item.args) >= 2
              and isinstance(item.args[0], ast.Name) and item.args[0].id == "tools"
              and isinstance(item.args[1], ast.Constant) and isinstance(item.args[1].value, str)):
            names.add(item.args[1].value)
    return names
