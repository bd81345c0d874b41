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
    lines = []
    for spec in registry:
        risk = "RED, needs approval" if spec.risk is Risk.RED else "green"
        schema = spec.json_schema()
        props = {
            name: {k: v for k, v in prop.items() if k in ("type", "description", "default", "items")}
            for name, prop in schema.get("properties", {}).items()
        }
        required = schema.get("required", [])
        lines.append(
            f"- `{spec.name}` ({risk}): {spec.description.strip()}\n"
            f"  args: {json.dumps(props, ensure_ascii=False)}; required: {required}"
        )
    return "\n".join(lines)


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
        parts.append(
            "## The previous plan for this request ran\n"
            f"Results:\n{describe_results(state.get('results') or {})}\n"
            f"What to change: {state['feedback']}\nMake a new plan."
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
        + f"## Request\n{state['request']}\n\n## Plan\n{plan.get('thought', '')}\n\n"
        f"## Results\n{describe_results(state.get('results') or {})}"
    )
    return [SystemMessage(fill(prompt_text("joiner.md"), replan_note=note)), HumanMessage(body)]
