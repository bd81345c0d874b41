"""Plan validation: pure functions, every problem named by node and field."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent.errors import PlanError, PlanProblem
from agent.plan.code_mends import joined_packages, opened_inputs_as_text, unfolded_blocks
from agent.plan.computed_references import computed_as_packages
from agent.plan.format import NODE_ID_PATTERN, Plan, PlanNode, canonical_node, tool_keys
from agent.plan.grounding import REPLY_IDS
from agent.plan.input_fields import BODY_KEYS, mended_input_fields, unknown_input_fields
from agent.plan.package_code import (
    NO_RESULT,
    beyond_tools,
    outward_uses,
    outward_why,
    package_code_problems,
    package_input_ids,
    parse_python,
)
from agent.plan.reference_fields import mended_reference_fields, unknown_reference_fields
from agent.plan.references import is_whole_reference, malformed_references, referenced_ids, strings
from agent.plan.single_calls import single_calls
from agent.tools.argument_errors import describe, problems_in
from agent.tools.registry import Risk, ToolRegistry

_ID = re.compile(NODE_ID_PATTERN)
_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair: JSON's ``\\ud83d`` without its partner (json.loads joins whole pairs)."""


@dataclass(frozen=True)
class PlanLimits:
    max_nodes: int = 40
    """Larger requests are better split into follow-ups in the thread."""
    max_args_bytes: int = 16_000
    """JSON size of one node's arguments; big data flows through references instead."""
    max_code_bytes: int = 20_000
    max_each: int = 40
    """Calls of one fan-out node (``each``), as many as separate nodes would be allowed."""


def dependencies(node: PlanNode) -> set[str]:
    """A node's edges: its ``depends_on``, every ``${id}`` it refers to, and for a package
    every ``inputs["id"]`` its code reads."""
    edges = set(node.depends_on) | referenced_ids(node.args) | referenced_ids(node.each or [])
    return edges | package_input_ids(node.package.code) if node.package else edges


def call_args(node: PlanNode) -> list[dict[str, Any]]:
    """The arguments of each call a tool node makes: ``args``, or ``args`` updated by each
    item of a fan-out (references still unresolved)."""
    if node.each is None:
        return [node.args]
    return [{**node.args, **item} for item in node.each]


def with_ids(raw_nodes: list[Any]) -> list[Any]:
    """``raw_nodes`` in the plan format's fields (:func:`~agent.plan.format.canonical_node`),
    with an id for each node that gives none: its tool's name, or ``package``, numbered when
    an earlier node has it (``read_file_2``). Only earlier nodes count, so a node's id is the
    same while the plan streams as in the whole plan."""
    taken: set[str] = set()
    named = []
    for raw in map(canonical_node, raw_nodes):
        if isinstance(raw, Mapping) and raw.get("id") is None:
            tool = raw.get("tool")
            base = (re.sub(r"[^a-z0-9_]", "_", tool.lower())[:28] if isinstance(tool, str) and tool
                    else "package" if "package" in raw else "node")
            base = base if _ID.match(base) else f"n_{base}"[:28]
            node_id, number = base, 2
            while node_id in taken:
                node_id, number = f"{base}_{number}", number + 1
            raw = {"id": node_id, **{k: v for k, v in raw.items() if k != "id"}}
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            taken.add(raw["id"])
        named.append(raw)
    return named


def item_argument(schema: Mapping[str, Any], args: Mapping[str, Any]) -> str | None:
    """The argument a fan-out's plain item (``"each": ["a.log", "b.log"]``) gives: the one
    required argument ``args`` leaves open, or else the tool's one argument ``args`` leaves
    open; None when that is not one argument (the items must then be objects)."""
    properties = list(schema.get("properties") or {})
    open_required = [name for name in schema.get("required") or () if name not in args]
    if open_required:
        return open_required[0] if len(open_required) == 1 else None
    open_args = [name for name in properties if name not in args]
    return open_args[0] if len(open_args) == 1 else None


def spelled_out_items(raw_node: Any, registry: ToolRegistry) -> tuple[Any, str | None]:
    """``raw_node`` with its fan-out's plain items (a string, a number) written as the argument
    objects they stand for, or why they cannot be (its tool leaves several arguments open)."""
    if not isinstance(raw_node, Mapping) or not isinstance(raw_node.get("each"), list):
        return raw_node, None
    items, tool, args = raw_node["each"], raw_node.get("tool"), raw_node.get("args") or {}
    if all(isinstance(item, Mapping) for item in items) or not isinstance(args, Mapping):
        return raw_node, None
    if not isinstance(tool, str) or tool not in registry:  # the node's problem is its tool: said so
        return {**raw_node, "each": [item if isinstance(item, Mapping) else {} for item in items]}, None
    schema = registry.get(tool).json_schema()
    name = item_argument(schema, args)
    if name is None:
        open_args = ", ".join(a for a in schema.get("properties") or {} if a not in args)
        return raw_node, (f"'{tool}' takes several arguments ({open_args}): write each item as "
                          "an object of them")
    spelled = [item if isinstance(item, Mapping) else {name: item} for item in items]
    return {**raw_node, "each": spelled}, None


def validate_plan(raw: Any, registry: ToolRegistry, limits: PlanLimits | None = None,
                  refused: Mapping[str, str] | None = None, *,
                  code_faults_to_sandbox: bool = False,
                  earlier_calls: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    """Return the plan, or raise :class:`PlanError` listing every problem found.

    ``refused``: tools the requester may not use here (the access policy), with why.
    Package code that fails where it stands (it does not parse, or sets no ``result``) is no
    problem of the plan on its own: the sandbox's reflexion mends it when it runs, with Python's
    error and the package's inputs in view, while the rest of the plan runs (a repair round
    rewrites the whole plan, and cannot see the inputs). With other problems it goes to the
    repair round with them.
    ``code_faults_to_sandbox``: package code that does not parse, or cannot work (a name it
    never defines, no ``result``, a workspace file opened: :mod:`agent.plan.package_code`), is
    no problem of the plan; it fails when it runs, with Python's own error, and the sandbox's
    reflexion rewrites it, as it does any failing package (the tools it calls are checked by
    the gateway when it calls them, as they always are). For the last round, when a plan's
    repair left such code as it was.
    ``earlier_calls``: the tool nodes of the thread's earlier runs, by id. A plan reading one
    that it does not have (``inputs['log']`` in a follow-up) gets it back, when its tool is
    green: the call is made again, or its result reused while fresh."""
    limits = limits or PlanLimits()
    refused = refused or {}
    problems: list[PlanProblem] = []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PlanError([PlanProblem(None, None, f"the plan is not valid JSON: {exc}")]) from None
    if not isinstance(raw, Mapping):
        raise PlanError([PlanProblem(None, None, "the plan must be a JSON object with 'nodes'")])
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, list):
        raise PlanError([PlanProblem(None, "nodes",
                                     "the plan needs a list of nodes ([] when no tool is needed)")])
    raw_nodes = with_ids(raw_nodes)
    if len(raw_nodes) > limits.max_nodes:
        raise PlanError([PlanProblem(None, "nodes", (
            f"{len(raw_nodes)} nodes is more than the limit of {limits.max_nodes}; "
            "bundle coupled steps into packages or leave work for a follow-up"))])
    extra = set(raw) - {"thought", "nodes", "answer"}
    if extra:
        problems.append(PlanProblem(None, None, f"unknown top-level field(s): {sorted(extra)}"))
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, str):
        problems.append(PlanProblem(None, "answer", "must be a string (the reply, with ${id} references)"))
        answer = None

    problems.extend(PlanProblem(None, field, _SURROGATE_PROBLEM)
                    for field in lone_surrogates({"thought": raw.get("thought"), "answer": answer}))
    nodes: list[PlanNode] = []
    unchecked: set[str] = set()
    for index, raw_node in enumerate(raw_nodes):
        label = raw_node.get("id") if isinstance(raw_node, Mapping) else None
        if not isinstance(label, str) or not label or _SURROGATE.search(label):
            label = f"#{index + 1}"
        if halves := lone_surrogates(raw_node):  # no further check: Python's parser refuses them
            problems.extend(PlanProblem(label, field, _SURROGATE_PROBLEM) for field in halves)
            unchecked.add(label)
            continue
        if (isinstance(raw_node, Mapping) and "tool" not in raw_node and "package" not in raw_node
                and len(named := tool_keys(raw_node)) > 1):
            problems.append(PlanProblem(label, None, (
                f"names {len(named)} tools ({', '.join(named)}): a node calls one tool, as "
                '{"id": "x", "TOOL": {ARGS}}; make a node for each')))
            unchecked.add(label)
            continue
        raw_node, items_unclear = spelled_out_items(raw_node, registry)
        if items_unclear is not None:
            problems.append(PlanProblem(label, "each", items_unclear))
            unchecked.add(label)
            continue
        try:
            nodes.append(PlanNode.model_validate(raw_node))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(x) for x in err["loc"]) or None
                problems.append(PlanProblem(label, field, err["msg"]))

    nodes = _unfolded_packages(_mended([_without_blank_options(node, registry) for node in nodes]))
    nodes = single_calls(computed_as_packages(nodes), answer)
    nodes = joined_packages(_opened_as_text(nodes, registry), dependencies)
    nodes = mended_input_fields(_recalled(nodes, answer, earlier_calls or {}, registry), registry)
    nodes, answer = mended_reference_fields(nodes, answer, registry)
    if answer and referenced_ids(answer) - {node.id for node in nodes} - unchecked:
        answer = None  # a template naming no node of the plan: the joiner answers instead
    nodes, answer = _reply_package_as_answer(nodes, answer)
    nodes = _without_reply_packages(nodes, answer)
    seen: set[str] = set(unchecked)
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
    if not all(p.local for p in problems):  # local faults alone: the sandbox's reflexion mends them
        raise PlanError(problems)
    # The validated plan lists every edge in depends_on, references included.
    nodes = [n.model_copy(update={"depends_on": sorted(dependencies(n))}) for n in nodes]
    if nodes and answer and not referenced_ids(answer):
        answer = None  # written before any result: a guess, so the joiner answers from the results
    return Plan(thought=str(raw.get("thought") or ""), nodes=nodes, answer=answer or None)


_SURROGATE_PROBLEM = ("has half of a UTF-16 surrogate pair (an escape such as \\ud83d without its "
                      "partner), which is no character: write the character itself")


def lone_surrogates(value: Any, path: str = "") -> list[str]:
    """Where in a JSON value a string (or key) holds a lone surrogate: dotted paths."""
    if isinstance(value, str):
        return [path or "value"] if _SURROGATE.search(value) else []
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            if _SURROGATE.search(str(key)):  # named by where it is, never quoted
                found.append(path or "value")
            else:
                found.extend(lone_surrogates(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in lone_surrogates(item, f"{path}.{index}" if path else str(index))]
    return []


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


def _mended(nodes: list[PlanNode]) -> list[PlanNode]:
    """``nodes`` with the slips whose fix is unambiguous fixed: a node listing itself in
    ``depends_on`` (the edge is dropped), and an id given twice that nothing refers to (the
    later ones are numbered: ``lookup_2``). Anything else stays a problem to repair."""
    mended = [node.model_copy(update={"depends_on": [d for d in node.depends_on if d != node.id]})
              if node.id in node.depends_on else node for node in nodes]
    needed = {dep for node in mended for dep in dependencies(node)}
    taken = {node.id for node in mended}
    seen: set[str] = set()
    for index, node in enumerate(mended):
        if node.id in seen and node.id not in needed:
            number = 2
            while f"{node.id}_{number}" in taken:
                number += 1
            taken.add(f"{node.id}_{number}")
            mended[index] = node.model_copy(update={"id": f"{node.id}_{number}"})
        seen.add(mended[index].id)
    return mended


def _recalled(nodes: list[PlanNode], answer: str | None, earlier_calls: Mapping[str, Mapping[str, Any]],
              registry: ToolRegistry) -> list[PlanNode]:
    """``nodes`` with the green tool nodes of earlier runs that they (or the reply template) read
    and no node of the plan is, placed first: a follow-up's plan that reads ``inputs['log']``
    from the run before gets ``log`` back. Red calls are never made again so."""
    have = {node.id for node in nodes}
    wanted = sorted((referenced_ids(answer or "") | {d for node in nodes for d in dependencies(node)}) - have)
    recalled: list[PlanNode] = []
    while wanted:
        node_id = wanted.pop(0)
        call = earlier_calls.get(node_id) or {}
        tool = call.get("tool")
        if (node_id in have or not isinstance(tool, str) or tool not in registry
                or registry.risk_of(tool) is not Risk.GREEN):
            continue
        try:
            node = PlanNode.model_validate({**call, "id": node_id})
        except ValidationError:
            continue
        recalled.append(node)
        have.add(node_id)
        wanted.extend(sorted(dependencies(node) - have))
    return [*recalled, *nodes]


def _reply_package_as_answer(nodes: list[PlanNode], answer: str | None) -> tuple[list[PlanNode], str | None]:
    """A plan with no ``answer`` whose reply was written as a package's "code", in prose with
    references (``"code": "There are ${count} slow services."``, which is no Python): that
    text is the plan's answer, and the package is left out, when nothing uses it."""
    if answer:
        return nodes, answer
    ids = {node.id for node in nodes}
    used = {dep for node in nodes for dep in dependencies(node) if dep != node.id}
    for node in nodes:
        if not (node.package and node.id.lower() in REPLY_IDS and node.id not in used):
            continue
        text = node.package.code.strip()
        refs = referenced_ids(text)
        if refs and refs <= ids - {node.id} and not _parses(text):
            return [n for n in nodes if n is not node], text
    return nodes, answer


def _unfolded_packages(nodes: list[PlanNode]) -> list[PlanNode]:
    """``nodes`` with package code that writes blocks on one line laid out as Python needs
    (:func:`agent.plan.code_mends.unfolded_blocks`)."""
    mended = []
    for node in nodes:
        if (node.package is not None and not _parses(node.package.code)
                and (code := unfolded_blocks(node.package.code)) is not None):
            node = node.model_copy(update={"package": node.package.model_copy(update={"code": code})})
        mended.append(node)
    return mended


def _opened_as_text(nodes: list[PlanNode], registry: ToolRegistry) -> list[PlanNode]:
    """``nodes`` with package code that opens a read's path, or the name of what a node read
    (``open('status.json')``), reading the read's text instead
    (:func:`agent.plan.code_mends.opened_inputs_as_text`)."""
    text_keys, sources = {}, {}
    for node in nodes:
        keys = registry.returns_of(node.tool) if node.tool is not None and node.each is None else None
        body = [key for key in BODY_KEYS if key in (keys or ())]
        if len(body) == 1:
            text_keys[node.id] = body[0]
            source = (node.args or {}).get("path") or (node.args or {}).get("url")
            if isinstance(source, str) and not referenced_ids(source):
                sources[node.id] = source
    mended = []
    for node in nodes:
        code = opened_inputs_as_text(node.package.code, text_keys, sources) if node.package else None
        if node.package is not None and code:
            node = node.model_copy(update={"package": node.package.model_copy(update={"code": code})})
        mended.append(node)
    return mended


def _parses(code: str) -> bool:
    try:
        parse_python(code)
    except SyntaxError:
        return False
    return True


def _without_reply_packages(nodes: list[PlanNode], answer: str | None) -> list[PlanNode]:
    """``nodes`` without a package that has a reply's id (``answer``…) when nothing needs it and
    the plan's reply template uses other nodes' results: the model's reply written a second time,
    as code ("the reply is never a node"), often code that cannot run."""
    if not answer or not referenced_ids(answer):
        return nodes
    needed = referenced_ids(answer) | {dep for node in nodes for dep in dependencies(node) if dep != node.id}
    return [node for node in nodes
            if not (node.package and node.id.lower() in REPLY_IDS and node.id not in needed)]


def _without_blank_options(node: PlanNode, registry: ToolRegistry) -> PlanNode:
    """``node`` without the optional arguments it gives as ``""`` or ``null``, or as ``[]``
    where the argument's default is none: models fill arguments they do not mean to set so
    (``"cc": ""``, ``"cc": []``), and a tool would take the empty value as meant (a mail copied
    to an address "", or refused: "'cc' has invalid email address(es): []")."""
    if node.tool is None or node.tool not in registry.names():
        return node
    schema = registry.get(node.tool).json_schema()
    required = set(schema.get("required") or ())
    properties = schema.get("properties") or {}

    def blank(name: str, value: Any) -> bool:
        if value == []:
            return (properties.get(name) or {}).get("default") is None
        return value in ("", None)

    def kept(args: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in args.items() if k in required or not blank(k, v)}

    each = None if node.each is None else [kept(item) for item in node.each]
    return node.model_copy(update={"args": kept(node.args), "each": each})


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
            real = [e for e in exc.errors(include_url=False, include_input=False)
                    if not (e["loc"] and e["loc"][0] in deferred)]
            if real:
                detail = describe(problems_in(real, registry.secret_args(node.tool)))
                field = "args" if node.each is None else f"each.{index}"
                problems.append(PlanProblem(node.id, field, f"do not fit tool '{node.tool}': {detail}"))
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


def find_cycle(edges: Mapping[str, set[str]]) -> list[str] | None:
    """Return one cycle as a path (first node repeated at the end), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    stack: list[str] = []

    def visit(node_id: str) -> list[str] | None:
        colour[node_id] = grey
        stack.append(node_id)
        for dep in sorted(edges.get(node_id, ())):
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*stack[stack.index(dep):], dep]
            if colour[dep] == white and (found := visit(dep)):
                return found
        stack.pop()
        colour[node_id] = black
        return None

    for node_id in sorted(edges):
        if colour[node_id] == white and (found := visit(node_id)):
            return found
    return None
