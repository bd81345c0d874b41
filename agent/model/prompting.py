"""Prompt assembly for the planner and the joiner (prompt texts live in agent/prompts/)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from functools import cache
from importlib import resources
from typing import Any

import structlog
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.model.cron_schedules import cron_schedules_section
from agent.model.flagged_rows import flagged_rows_section
from agent.model.matching_lines import matching_lines_section
from agent.model.named_keys import named_keys_section
from agent.model.named_rows import named_rows_section
from agent.model.prompt_budget import (
    DEFAULT_PROMPT_CHARS,
    MIN_ROOM,
    RESULT_CHARS,
    clip_end,
    clip_middle,
    fitted,
    sendable,
)
from agent.model.reply_marks import was_cut_off, was_repeating
from agent.model.tool_choice import (
    TOOLS_SHARE,
    ToolChoice,
    bm25,
    choose_tools,
    planned_tools,
    planner_query,
    words,
)
from agent.model.untrusted import NOTICE, rebalanced, wrapped
from agent.plan.format import canonical_node
from agent.state import AgentState
from agent.tools.registry import Risk, ToolRegistry, ToolSpec

_HISTORY_RUNS = 5
REQUEST_CHARS = 2_000
"""Characters of an earlier run's request shown in the thread's history."""
_DRAFT_CHARS = 6_000
log = structlog.get_logger(__name__)


@cache
def prompt_text(name: str) -> str:
    return resources.files("agent.prompts").joinpath(name).read_text(encoding="utf-8")


def fill(template: str, **values: object) -> str:
    """Put values into ``{name}`` slots; other braces (JSON in examples) stay as they are."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def describe_tools(registry: ToolRegistry, choice: ToolChoice | None = None) -> str:
    """Each tool as a signature, its risk and description, then what each argument is: the
    schema's content at about half its JSON's prompt tokens. ``choice``: only its tools shown
    so, the others named on one line (:mod:`agent.model.tool_choice`)."""
    shown = registry if choice is None else registry.without(choice.also)
    lines = [describe_tool(spec) for spec in shown]
    if choice is not None and choice.also:
        lines.append(f"Also available (ask by name): {', '.join(choice.also)}")
    return "\n".join(lines)


def describe_tool(spec: ToolSpec) -> str:
    risk = "RED, needs approval" if spec.risk is Risk.RED else "green"
    schema = spec.json_schema()
    required = set(schema.get("required", []))
    props: dict[str, Any] = schema.get("properties", {})
    params = ", ".join(_parameter(name, prop, name in required) for name, prop in props.items())
    lines = [f"- `{spec.name}({params})` {risk}: {essentials(spec.description)}"]
    lines.extend(f"  {name}: {prop['description']}" for name, prop in props.items()
                 if prop.get("description"))
    return "\n".join(lines)


def tools_for(state: AgentState, registry: ToolRegistry,
              prompt_chars: int = DEFAULT_PROMPT_CHARS) -> ToolChoice:
    """The tools the planner is shown in full for ``state``'s request (all of them, unless
    there are many: :mod:`agent.model.tool_choice`)."""
    return choose_tools(registry, planner_query(state), planned_tools(state),
                        size=lambda spec: len(describe_tool(spec)) + 1, budget=prompt_chars // TOOLS_SHARE)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def essentials(description: str) -> str:
    """What a planner needs of a tool's description: its first sentence (what it does) and the
    one that says what it returns. The rest (limits, time-outs, refusals) is for people and
    for errors, and only lengthens every prompt: the tool says so when it applies."""
    sentences = _SENTENCE_END.split(description.strip())
    kept = [sentences[0], *(s for s in sentences[1:] if s.startswith("Returns"))]
    return " ".join(kept)


def _type_of(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    options = prop.get("anyOf")
    if isinstance(options, list):
        return "|".join(_type_of(o) for o in options if o.get("type") != "null") or "any"
    if prop.get("type") == "array":
        return f"{_type_of(prop.get('items') or {})}[]"
    return str(prop.get("type", "any"))


def _parameter(name: str, prop: dict[str, Any], required: bool) -> str:
    if required:
        return f"{name}: {_type_of(prop)}"
    default = prop.get("default")
    shown = "" if default is None else f" = {json.dumps(default, ensure_ascii=False)}"
    return f"{name}?: {_type_of(prop)}{shown}"


def clip_value(value: Any, limit: int = RESULT_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " …"


def describe_results(results: dict[str, dict[str, Any]], chars: int = RESULT_CHARS,
                     computed_from: Mapping[str, str] | None = None) -> str:
    """Each node's result, an output clipped to ``chars``; one from outside dagbot (an
    ``untrusted`` source) marked as data (:mod:`agent.model.untrusted`). ``computed_from``:
    nodes whose output the package dagbot added computed the request's values from, each with
    that package: named, not shown (the values are in its result; shown the file too, the 1.5B
    joiner pasted it back as its answer)."""
    lines = []
    for node_id, result in results.items():
        status = result.get("status", "?")
        source = result.get("untrusted")
        if status == "done" and node_id in (computed_from or {}):
            lines.append(f"- {node_id}: done (what the request asks for was computed from it: see "
                         f"{(computed_from or {})[node_id]})")
        elif status == "done":
            shown = clip_value(result.get("output", result.get("preview")), chars)
            lines.append(f"- {node_id}: done → {wrapped(shown, source) if source else shown}")
        else:
            error = clip_value(result.get("error", ""), chars)
            lines.append(f"- {node_id}: {status} — {wrapped(error, source) if source else error}")
    return "\n".join(lines) or "(no results)"


def describe_history(state: AgentState, runs: int = _HISTORY_RUNS, chars: int = RESULT_CHARS) -> str:
    """The thread's last ``runs`` earlier runs (at most five), each result clipped to ``chars``;
    an earlier request is clipped too, so one long request does not crowd out the rest."""
    history = state.get("history", [])[-_HISTORY_RUNS:]
    kept = history[max(len(history) - runs, 0):] if runs > 0 else []
    parts = [] if len(kept) == len(history) else [
        f"({len(history) - len(kept)} earlier run(s) left out: the prompt would be too long)"]
    for number, run in enumerate(kept, 1):
        parts.append(
            f"### Earlier run {number}\nRequest: {clip_end(run['request'], REQUEST_CHARS)}\n"
            f"Answer: {clip_value(run['answer'], chars)}\nResults:\n{describe_results(run['results'], chars)}"
        )
    return "\n\n".join(parts)


def shows_marked_output(state: AgentState) -> bool:
    """Does a prompt for ``state`` show output marked as data (this plan's, a replaced plan's or
    an earlier run's)? Only such a prompt carries the notice (:data:`agent.model.untrusted.NOTICE`):
    a prompt with no marked output reads as it always did."""
    shown = [state.get("results") or {}, *(state.get("earlier_results") or []),
             *(run.get("results") or {} for run in state.get("history", [])[-_HISTORY_RUNS:])]
    return any(result.get("untrusted") for results in shown for result in results.values())


def history_runs(state: AgentState) -> int:
    return len(state.get("history", [])[-_HISTORY_RUNS:])


def describe_earlier_plans(state: AgentState, chars: int = RESULT_CHARS) -> str:
    """The results of the plans a replan replaced (empty without a replan)."""
    parts = [f"### Plan {number}\n{describe_results(results, chars)}"
             for number, results in enumerate(state.get("earlier_results") or [], 1)]
    return ("## Earlier plans for this request ran (replaced; what they did stands)\n" + "\n\n".join(parts)
            if parts else "")


PLAN_OUTPUT = {"tool_call": "submitted with `plan`",
               "json_schema": "written as one JSON object like the examples"}
"""How the planner's prompt says to give the plan, by ``EngineSettings.plan_output``."""


def example_tools(block: str) -> set[str]:
    """The tools a planner example (its request's line, then its plan's JSON) calls."""
    plan = json.loads(block[block.index("\n{"):])
    return {node["tool"] for node in map(canonical_node, plan["nodes"]) if "tool" in node}


EXAMPLES_BY_REQUEST = 2
"""Examples of planner_examples_by_request.md shown with a request: those closest to it."""


def example_blocks(name: str, registry: ToolRegistry) -> list[str]:
    """The planner examples of prompt file ``name`` (blocks apart by a blank line) that use
    only tools ``registry`` has: an example of a tool a deployment lacks would teach the model
    to call it."""
    blocks = prompt_text(name).strip().split("\n\n")
    return [b for b in blocks if all(t in registry for t in example_tools(b))]


_FILE_NAME = re.compile(r"[\w-]+\.([A-Za-z][A-Za-z0-9]{0,9})")
_ANNOTATION = re.compile(r"\s*\([^)]*\)\s*$")
_COMPOUND = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
"""A hyphen inside a word: a compound is one term ("a one-line summary" asks for no lines)."""
_MATCHED_CHARS = 2_000
"""Of a request, what examples are matched by (a long request's start says what it asks)."""


def example_terms(request: str) -> tuple[list[str], set[str]]:
    """What an example is matched by: the request's words outside paths and addresses (what
    is to be done: counted, summed, filtered…), a compound word as one, and the extensions of
    the files it names."""
    said, extensions = [], set()
    for token in request[:_MATCHED_CHARS].split():
        name = _FILE_NAME.fullmatch(token.strip("?!,;:'\"()`").rpartition("/")[2])
        if name:
            extensions.add(f"file.{name.group(1).lower()}")
        elif "/" not in token and "@" not in token:  # (a mail address says who, not what)
            said.append(_COMPOUND.sub("", token))
    return words(" ".join(said)), extensions


def closest_examples(blocks: list[str], request: str, count: int = EXAMPLES_BY_REQUEST) -> list[str]:
    """The ``count`` examples whose request (a block's first line, without its note in
    parentheses) is closest to ``request``, the closest last, next to the request: BM25 of the
    words saying what is to be done, as tools are chosen, and of the files' extensions, where
    they share such a word (an extension alone chooses nothing). A small model copies the shape
    of the example nearest its request, so the nearest should be one of its kind (a column
    summed, a list filtered, lines counted), and an example of a shape the request does not
    ask for (a count per group, an average…: :data:`_SHAPE_WORDS`) is not shown, and one of the
    shape it asks for comes nearest ("per service" is the shape of an example's "each worker")."""
    wanted, wanted_files = example_terms(request)
    terms = [example_terms(_ANNOTATION.sub("", block.splitlines()[0])) for block in blocks]
    scores = bm25([*wanted, *wanted_files], [[*said, *files] for said, files in terms])
    asked = _shapes(wanted)
    ranked = sorted((len(_shapes(said)), score, -index) for index, (score, (said, _))
                    in enumerate(zip(scores, terms, strict=True))
                    if set(said) & set(wanted) and _shapes(said) <= asked)
    return [blocks[-negated] for _, _, negated in ranked[-count:]]


_SHAPE_WORDS = {"per group": "each per every", "average": "average mean", "percentage": "percentage percent",
                "total": "total sum",
                "extreme": "most least largest smallest highest lowest top"}
"""Words that say a computation's shape. An example whose request has one is shown only to a
request of that shape: a count per group, copied for a plain count, groups what was to be
counted (the tuning set's count-errors and follow-up-write were shown the per-group example)."""
_SHAPES = {term: shape for shape, said in _SHAPE_WORDS.items() for term in words(said)}


def _shapes(terms: list[str]) -> set[str]:
    return {_SHAPES[term] for term in terms if term in _SHAPES}


def examples_for(registry: ToolRegistry, request: str = "") -> str:
    """The planner's examples: every one of planner_examples.md, then those of
    planner_examples_by_request.md closest to ``request`` (:func:`closest_examples`), each only
    if ``registry`` has the tools it calls."""
    shown = example_blocks("planner_examples.md", registry)
    shown += closest_examples(example_blocks("planner_examples_by_request.md", registry), request)
    return "\n\n".join(shown) + "\n"


def planner_messages(state: AgentState, registry: ToolRegistry, max_nodes: int,
                     prompt_chars: int = DEFAULT_PROMPT_CHARS,
                     plan_output: str = "tool_call",
                     draft_ran: dict[str, dict[str, Any]] | None = None,
                     file_shapes: Mapping[str, str] | None = None) -> list[BaseMessage]:
    """The planner's prompt, within ``prompt_chars`` (:mod:`agent.model.prompt_budget`).
    ``draft_ran``: in a repair round, the results of the invalid draft's nodes that already ran
    (green ones start while the plan is written), so the corrected plan is written with them in
    view: a value to write copied from them, a package reading the fields they have.
    ``file_shapes``: ``{path: shape}`` of the data files the request names
    (:mod:`agent.model.file_shapes`), shown beside it as data."""
    choice = tools_for(state, registry, prompt_chars)
    if choice.also:  # (what bench.tool_selection measures, seen in a deployment)
        log.info("the planner is shown some of the tools", run_id=state.get("run_id"),
                 shown=list(choice.shown), named_only=len(choice.also))
    system = fill(
        prompt_text("planner.md"),
        output=PLAN_OUTPUT[plan_output],
        tools=describe_tools(registry, choice),
        examples=examples_for(registry, state["request"]),
        max_nodes=max_nodes,
        untrusted="\n- " + NOTICE if shows_marked_output(state) or file_shapes else "",
    )

    def sections(runs: int, chars: int) -> list[str]:
        history = describe_history(state, runs, chars)
        parts = [f"## This thread so far\n{history}" if history else "", f"## Request\n{state['request']}"]
        if file_shapes:
            parts.append(describe_file_shapes(file_shapes))
        if state.get("feedback"):
            earlier = describe_earlier_plans(state, chars)
            parts.append(
                (f"{earlier}\n\n" if earlier else "")
                + "## The previous plan for this request ran\n"
                f"Results:\n{describe_results(state.get('results') or {}, chars)}\n"
                "Make a new plan (what ran stays done: do not repeat a red call that already ran).\n"
                f"What to change: {state['feedback']}"
            )
        if state.get("plan_problems"):
            parts.append(_repair_section(state, draft_ran or {}, chars))
        return parts

    body = rebalanced(fitted(sections, history_runs(state), _room(prompt_chars, system)))
    return [SystemMessage(system), HumanMessage(sendable(body))]


def describe_file_shapes(shapes: Mapping[str, str]) -> str:
    """The section that shows the named files' shapes: columns and keys to write code for."""
    lines = "\n".join(f"- {path}: {wrapped(shape, path)}" for path, shape in shapes.items())
    return ("## The files it names, as they are now (their shape only: a node still reads each; "
            f"write code for these columns and keys)\n{lines}")


def _repair_section(state: AgentState, draft_ran: dict[str, dict[str, Any]], chars: int) -> str:
    problems = "\n".join(f"- {p}" for p in state["plan_problems"])
    ran = (f"\nThese nodes of it already ran (keep them as they are; use their results: the fields "
           f"they have, or a value copied from them):\n{describe_results(draft_ran, chars)}"
           if draft_ran else "")
    draft = state.get("draft")
    if was_repeating(draft):
        return (
            "## Your previous plan repeated itself\n"
            f"Plan: {clip_middle(str(draft), _DRAFT_CHARS)}\nProblems:\n{problems}{ran}\n"
            "It wrote the same line again and again, so it was stopped. Submit a corrected plan "
            "that fixes every problem and writes each step once: a package's code sets `result` "
            "once, from its inputs."
        )
    if was_cut_off(draft):  # its end, where it was cut off, stays in sight
        return (
            "## Your previous plan was cut off\n"
            f"Plan: {clip_middle(str(draft), _DRAFT_CHARS)}\nProblems:\n{problems}{ran}\n"
            "The plan was longer than the model's output limit allows, so it was cut off before "
            "it ended. Submit a much shorter plan that fixes every problem: fan repeated calls of "
            "a tool out with `each` in one node, use fewer nodes, keep package code short, and "
            "leave work for a follow-up if it still does not fit."
        )
    return (
        "## Your previous plan was invalid\n"
        f"Plan: {clip_value(draft, _DRAFT_CHARS)}\nProblems:\n{problems}{ran}\n"
        "Submit a corrected plan that fixes every problem."
    )


def _room(prompt_chars: int, system: str) -> int:
    """Characters left for the prompt's body once its system prompt is counted."""
    return max(prompt_chars - len(system), MIN_ROOM)


def describe_changes(state: AgentState, red_tools: Collection[str],
                     edited: Mapping[str, str] | None = None) -> str:
    """The plan's red nodes and how each ended: the only changes this plan made. A call an
    approver edited says what it ran with: the plan's arguments are not what happened."""
    results = state.get("results") or {}
    lines = []
    for node in (state.get("plan") or {}).get("nodes") or []:
        if node.get("tool") in red_tools:
            result = results.get(node["id"], {})
            detail = result.get("error") or ""
            ran = (edited or {}).get(node["id"])
            lines.append(f"- {node['id']}: {node['tool']} {result.get('status', 'not run')}"
                         + (f" — {clip_value(detail, 300)}" if detail else "")
                         + (f" — not as planned: it ran as {clip_value(ran, 600)}" if ran else ""))
    return "\n".join(lines) or "(none: this plan wrote, sent or changed nothing)"


def _answered(state: AgentState) -> str:
    """The thread's answer before this request ("" for a thread's first)."""
    history = state.get("history") or []
    return str(history[-1].get("answer") or "") if history else ""


def joiner_messages(state: AgentState, replans_left: int, prompt_chars: int = DEFAULT_PROMPT_CHARS,
                    red_tools: Collection[str] = (),
                    edited: Mapping[str, str] | None = None,
                    computed_from: Mapping[str, str] | None = None) -> list[BaseMessage]:
    """The joiner's prompt, within ``prompt_chars`` (:mod:`agent.model.prompt_budget`).
    ``edited``: the red calls an approver edited, with what they ran as. ``computed_from``: see
    :func:`describe_results`."""
    note = (
        f"You may replan {replans_left} more time(s)." if replans_left > 0
        else "No replans are left: answer with what the results give."
    )
    system = fill(prompt_text("joiner.md"), replan_note=note,
                  untrusted=NOTICE + "\n" if shows_marked_output(state) else "")
    plan = state.get("plan") or {}
    changes = describe_changes(state, red_tools, edited)

    def sections(runs: int, chars: int) -> list[str]:
        history = describe_history(state, runs, chars)
        # the request comes last: a small model goes on from the last thing it read, and after
        # the results list it wrote more of that list
        return [
            f"## This thread so far\n{history}" if history else "",
            describe_earlier_plans(state, chars),
            f"## Plan\n{plan.get('thought', '')}",
            f"## Results\n{describe_results(state.get('results') or {}, chars, computed_from)}",
            named_rows_section(state["request"], plan, state.get("results") or {}, _answered(state)),
            flagged_rows_section(state["request"], plan, state.get("results") or {}),
            matching_lines_section(state["request"], state.get("results") or {}),
            named_keys_section(state["request"], plan, state.get("results") or {}),
            cron_schedules_section(plan, state.get("results") or {}),
            f"## Changes made\n{changes}",
            f"## Request\n{state['request']}",
        ]

    body = rebalanced(fitted(sections, history_runs(state), _room(prompt_chars, system)))
    return [SystemMessage(system), HumanMessage(sendable(body))]
