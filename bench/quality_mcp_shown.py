"""Which tools bench.quality's planner was shown (``--mcp``): read from the planner's prompts
as the model received them, so what is measured is what the real planner saw
(:func:`agent.model.prompting.tools_for` chose it; nothing in dagbot is changed to see it).

A tool is shown when its prompt's Tools section describes it in full (``- `name(…)` …``); a
tool only named on the "Also available" line is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import BaseMessage

from agent.model.llm import CALL_ROLE

_DESCRIBED = re.compile(r"^- `([A-Za-z_][A-Za-z0-9_]*)\(", re.M)
_PACKAGE_CALL = re.compile(r"\btools\.([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@dataclass(frozen=True)
class PlannerPrompt:
    request: str
    """The request it plans (its prompt's Request section)."""
    shown: frozenset[str]
    """The tools it describes in full."""


def tools_section(system: str) -> str:
    return system.split("\n## Tools\n", 1)[-1].split("\n## Examples\n", 1)[0]


def shown_tools(system: str) -> frozenset[str]:
    """The tools a planner's system prompt describes in full."""
    return frozenset(_DESCRIBED.findall(tools_section(system)))


def request_of(body: str) -> str:
    """The request a planner's prompt body plans (its ``## Request`` section)."""
    return body.split("## Request\n", 1)[-1].split("\n## ", 1)[0].strip()


class PlannerPrompts(AsyncCallbackHandler):
    """Keeps every planner prompt's request and the tools it describes (a model callback: the
    call's role, ``planner``, is in its run's metadata)."""

    def __init__(self) -> None:
        self.prompts: list[PlannerPrompt] = []

    async def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]],
                                  **kwargs: Any) -> None:
        if (kwargs.get("metadata") or {}).get(CALL_ROLE) != "planner":
            return
        for prompt in messages:
            system = next((m.text for m in prompt if m.type == "system"), "")
            body = "\n".join(m.text for m in prompt if m.type == "human")
            self.prompts.append(PlannerPrompt(request_of(body), shown_tools(system)))

    def take(self) -> list[PlannerPrompt]:
        """The prompts kept since the last call (one request's)."""
        taken, self.prompts = self.prompts, []
        return taken


def first_of_each_turn(prompts: Iterable[PlannerPrompt], requests: list[str]) -> list[PlannerPrompt]:
    """Each turn's first planner prompt (a replan's and a repair's come after it)."""
    firsts: dict[str, PlannerPrompt] = {}
    for prompt in prompts:
        turn = next((r for r in requests if r.strip() == prompt.request), prompt.request)
        firsts.setdefault(turn, prompt)
    return list(firsts.values())


def planned_tools(plans: Iterable[dict[str, Any]], registered: Iterable[str]) -> set[str]:
    """The registered tools plans call: their tool nodes', and those their packages' code calls."""
    names = set(registered)
    found = set()
    for plan in plans:
        for node in plan.get("nodes") or []:
            found.add(str(node.get("tool")))
            found |= set(_PACKAGE_CALL.findall(str((node.get("package") or {}).get("code", ""))))
    return found & names


def all_shown(needs: Iterable[str], shown: frozenset[str]) -> bool:
    """Whether every need (``a|b``: either) is among ``shown``."""
    return all(any(option in shown for option in need.split("|")) for need in needs)
