"""Prompt assembly for the planner and the joiner (prompt texts live in agent/prompts/)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.state import AgentState
from agent.tools.registry import Risk, ToolRegistry

_HISTORY_RUNS = 5
_RESULT_CHARS = 1_200


@cache
def prompt_text(name: str) -> str:
    return resources.files("agent.prompts").joinpath(name).read_text(encoding="utf-8")


def fill(template: str, **values: object) -> str:
    """Put values into ``{name}`` slots; other braces (JSON in examples) stay as they are."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def describe_tools(registry: ToolRegistry) -> str:
    """Each tool as a signature, its risk and description, then what each argument is: the
    schema's content at about half its JSON's prompt tokens."""
    lines = []
    for spec in registry:
        risk = "RED, needs approval" if spec.risk is Risk.RED else "green"
        schema = spec.json_schema()
        required = set(schema.get("required", []))
        props: dict[str, Any] = schema.get("properties", {})
        params = ", ".join(_parameter(name, prop, name in required) for name, prop in props.items())
        lines.append(f"- `{spec.name}({params})` {risk}: {spec.description.strip()}")
        lines.extend(f"  {name}: {prop['description']}" for name, prop in props.items()
                     if prop.get("description"))
    return "\n".join(lines)


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


def _clip(value: Any, limit: int = _RESULT_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " …"


def describe_results(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    for node_id, result in results.items():
        status = result.get("status", "?")
        if status == "done":
            shown = result.get("output", result.get("preview"))
            lines.append(f"- {node_id}: done → {_clip(shown)}")
        else:
            lines.append(f"- {node_id}: {status} — {result.get('error', '')}")
    return "\n".join(lines) or "(no results)"


def describe_history(state: AgentState) -> str:
    runs = state.get("history", [])[-_HISTORY_RUNS:]
    if not runs:
        return ""
    parts = []
    for number, run in enumerate(runs, 1):
        parts.append(
            f"### Earlier run {number}\nRequest: {run['request']}\nAnswer: {_clip(run['answer'])}\n"
            f"Results:\n{describe_results(run['results'])}"
        )
    return "\n\n".join(parts)


def describe_earlier_plans(state: AgentState) -> str:
    """The results of the plans a replan replaced (empty without a replan)."""
    parts = [f"### Plan {number}\n{describe_results(results)}"
             for number, results in enumerate(state.get("earlier_results") or [], 1)]
    return ("## Earlier plans for this request ran (replaced; what they did stands)\n" + "\n\n".join(parts)
            if parts else "")


def planner_messages(
    state: AgentState, registry: ToolRegistry, max_nodes: int
) -> list[BaseMessage]:
    system = fill(
        prompt_text("planner.md"),
        tools=describe_tools(registry),
        examples=prompt_text("planner_examples.md"),
        max_nodes=max_nodes,
    )
    parts = []
    history = describe_history(state)
    if history:
        parts.append(f"## This thread so far\n{history}")
    parts.append(f"## Request\n{state['request']}")
    if state.get("feedback"):
        earlier = describe_earlier_plans(state)
        parts.append(
            (f"{earlier}\n\n" if earlier else "")
            + "## The previous plan for this request ran\n"
            f"Results:\n{describe_results(state.get('results') or {})}\n"
            f"What to change: {state['feedback']}\nMake a new plan (what ran stays done: do not "
            "repeat a red call that already ran)."
        )
    if state.get("plan_problems"):
        problems = "\n".join(f"- {p}" for p in state["plan_problems"])
        parts.append(
            "## Your previous plan was invalid\n"
            f"Plan: {_clip(state.get('draft'), 6_000)}\nProblems:\n{problems}\n"
            "Submit a corrected plan that fixes every problem."
        )
    return [SystemMessage(system), HumanMessage("\n\n".join(parts))]


def joiner_messages(state: AgentState, replans_left: int) -> list[BaseMessage]:
    note = (
        f"You may replan {replans_left} more time(s)." if replans_left > 0
        else "No replans are left: answer with what the results give."
    )
    plan = state.get("plan") or {}
    history = describe_history(state)
    body = (
        (f"## This thread so far\n{history}\n\n" if history else "")
        + f"## Request\n{state['request']}\n\n"
        + (f"{earlier}\n\n" if (earlier := describe_earlier_plans(state)) else "")
        + f"## Plan\n{plan.get('thought', '')}\n\n"
        f"## Results\n{describe_results(state.get('results') or {})}"
    )
    return [SystemMessage(fill(prompt_text("joiner.md"), replan_note=note)), HumanMessage(body)]
