"""The requests of ``bench.e2e``, the simulated tools they use, and the scripted model.

Shapes follow the LLMCompiler paper: two parallel lookups then an answer (HotpotQA-like),
eight parallel lookups (movie-recommendation-like), lookups with dependencies between
them (ParallelQA-like), and a three-hop chain that dagbot packages.

The scripted model answers each system with the calls that system needs, so every system
makes the same tool calls with the same arguments and gives the same answer: dagbot gets a
plan (``${id}`` references stand for what a ReAct agent reads from a tool result and
copies into its next call), a ReAct agent gets each wave of independent calls in one turn,
and the sequential baseline one call per turn. dagbot's plans are written as its planner
prompt asks: a node names its tool as the key of its arguments (``{"id": "paper", "search":
{"query": …}}``), the same tool on several inputs is one fan-out node (a list under the tool's
name; the tool takes one argument, so its items are plain values), a node nothing refers to has no ``id`` (the
prompt lets it be left out), and no ``thought`` (the prompt does not ask for one, as no
system here writes text beside its calls).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from infra.emulators.openai_wire import ModelReply, ToolCall, WireRequest

SEARCH_S = 0.5
"""Latency of one ``search`` call (a web or Wikipedia search)."""
CALCULATE_S = 0.05
FILLER = ("It is described at length in the sources, with dates, places and the people involved, "
          "and the summary below quotes the passages most often cited by later work. ") * 3


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def lead_of(query: str) -> str:
    """The reference a search result points to next."""
    return f"ref {_digest(query)[:6]}"


def figure_of(query: str) -> int:
    return int(_digest(query)[:4], 16) % 1000


def search_result(query: str) -> dict[str, Any]:
    return {"title": query, "text": f"{query}: {FILLER}", "lead": lead_of(query),
            "figure": figure_of(query)}


@dataclass
class ToolTimes:
    """When each simulated tool call of one request started (``time.monotonic()``)."""

    starts: list[float] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)


RECORDER: ContextVar[ToolTimes] = ContextVar("e2e_tool_times")
"""The request being measured: set per request, so requests may run side by side."""


class SearchArgs(BaseModel):
    query: str = Field(description="What to search for: a title, a name, or a reference.")


class CalculateArgs(BaseModel):
    expression: str = Field(description="Two numbers and an operator, e.g. '12 - 5'.")


def bench_tools() -> list[StructuredTool]:
    """The simulated tools, for every system alike; calls are recorded in ``RECORDER``."""

    async def search(query: str) -> dict[str, Any]:
        times = RECORDER.get()
        times.starts.append(time.monotonic())
        times.calls.append(("search", query))
        await asyncio.sleep(SEARCH_S)
        return search_result(query)

    async def calculate(expression: str) -> dict[str, Any]:
        times = RECORDER.get()
        times.starts.append(time.monotonic())
        times.calls.append(("calculate", expression))
        await asyncio.sleep(CALCULATE_S)
        match = re.fullmatch(r"\s*(-?\d+)\s*([-+*])\s*(-?\d+)\s*", expression)
        if not match:
            raise ValueError(f"cannot calculate {expression!r}")
        a, op, b = int(match[1]), match[2], int(match[3])
        return {"value": a - b if op == "-" else a + b if op == "+" else a * b}

    return [
        StructuredTool.from_function(coroutine=search, name="search", args_schema=SearchArgs,
                                     description="Search the web; returns title, text, lead, figure."),
        StructuredTool.from_function(coroutine=calculate, name="calculate", args_schema=CalculateArgs,
                                     description="Evaluate 'a op b' with op one of + - *."),
    ]


Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Shape:
    name: str
    request: str
    waves: list[list[Call]]
    """The tool calls in waves: each wave depends only on earlier ones (a ReAct turn each)."""
    plan: dict[str, Any]
    """dagbot's plan for the same work."""
    answer: str

    @property
    def calls(self) -> list[Call]:
        return [call for wave in self.waves for call in wave]


def _search(query: str) -> Call:
    return ("search", {"query": query})


def _node(node_id: str, tool: str, **args: Any) -> dict[str, Any]:
    """A tool node as the planner writes it: its tool's name the key of its args."""
    return {"id": node_id, tool: args}


def _each(node_id: str | None, tool: str, items: list[Any]) -> dict[str, Any]:
    """A fan-out node, its tool's name the key of its items; with no id when nothing refers to
    it (the prompt lets it be left out)."""
    return {tool: items} if node_id is None else {"id": node_id, tool: items}


def hotpot() -> Shape:
    people = ["Scott Derrickson", "Ed Wood"]
    return Shape(
        name="hotpot: 2 parallel",
        request="Were Scott Derrickson and Ed Wood of the same nationality?",
        waves=[[_search(p) for p in people]],
        plan={"nodes": [_each(None, "search", people)]},
        answer="Yes: both Scott Derrickson and Ed Wood are American, so they share a nationality.",
    )


def movies() -> Shape:
    titles = ["Star Wars", "The Matrix", "Inception", "Alien", "Blade Runner", "Jurassic Park",
              "Terminator 2", "Back to the Future"]
    return Shape(
        name="movie: 8 parallel",
        request="Which film is most like all of these: " + ", ".join(titles) + "?",
        waves=[[_search(t) for t in titles]],
        plan={"nodes": [_each(None, "search", titles)]},
        answer="Of these, The Matrix is closest to all the others: science fiction, landmark "
               "effects, and a hero's journey against a system.",
    )


def parallel_qa() -> Shape:
    a, b = "Eiffel Tower", "Statue of Liberty"
    c, d = lead_of(a), lead_of(b)
    return Shape(
        name="parallelqa: 2+2+1 deps",
        request=("What is the difference between the figures of the references cited first by "
                 "the Eiffel Tower's and the Statue of Liberty's articles?"),
        waves=[[_search(a), _search(b)], [_search(c), _search(d)],
               [("calculate", {"expression": f"{figure_of(c)} - {figure_of(d)}"})]],
        # the reply is the difference in a fixed sentence: the planner writes it (`answer`), and
        # dagbot needs no second model call; the ReAct agents read the result and write it
        plan={"nodes": [_each("pages", "search", [a, b]),
                        _each("refs", "search", ["${pages.0.lead}", "${pages.1.lead}"]),
                        _node("diff", "calculate", expression="${refs.0.figure} - ${refs.1.figure}")],
              "answer": "The difference is ${diff.value}."},
        answer=f"The difference is {figure_of(c) - figure_of(d)}.",
    )


CHAIN_CODE = """hop2 = tools.search(query=inputs["paper"]["lead"])
hop3 = tools.search(query=hop2["lead"])
result = {"trail": [inputs["paper"]["title"], hop2["title"], hop3["title"]], "end": hop3["text"][:200]}
"""


def chain() -> Shape:
    q1 = "Attention Is All You Need"
    q2 = lead_of(q1)
    q3 = lead_of(q2)
    return Shape(
        name="chain: 3 hops, packaged",
        request="Follow the citation trail of 'Attention Is All You Need' three references deep.",
        waves=[[_search(q1)], [_search(q2)], [_search(q3)]],
        # as the planner prompt asks: the chain's first call, its arguments known, is a node of
        # its own that runs while the package's code is written; the package reads it
        plan={"nodes": [_node("paper", "search", query=q1),
                        {"id": "trail", "package": {"goal": "follow the trail two more hops",
                                                    "code": CHAIN_CODE}}]},
        answer=f"The trail goes {q1} → {q2} → {q3}, which ends at a survey of the field.",
    )


SHAPES = [hotpot, movies, parallel_qa, chain]


def shapes() -> list[Shape]:
    return [make() for make in SHAPES]


# ------------------------------------------------------------------ the model


def _texts(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body.get("messages", []) if isinstance(m.get("content"), str))


def _reply_calls(calls: list[Call]) -> ModelReply:
    return ModelReply(calls=tuple(ToolCall(n, json.dumps(a, ensure_ascii=False)) for n, a in calls))


class ScriptedModel:
    """The policy of the latency server: which shape a request belongs to (its text), which
    system sent it (the model name: ``dagbot``, ``react`` or ``sequential``) and where that
    system is (dagbot: planner or joiner, see :meth:`role_of`; the others: tool results so
    far) decide the reply."""

    def __init__(self, suite: list[Shape]) -> None:
        self.suite = suite

    def shape_of(self, body: dict[str, Any]) -> Shape:
        text = _texts(body)
        for shape in self.suite:
            if shape.request in text:
                return shape
        raise LookupError("no shape's request in the prompt")

    @staticmethod
    def role_of(request: WireRequest) -> str:
        """``planner`` or ``joiner`` (dagbot's calls say which they are), else ``agent``
        (ReAct, sequential, or another dagbot request)."""
        return request.role if request.role in ("planner", "joiner") else "agent"

    def __call__(self, request: WireRequest) -> ModelReply:
        body = request.body
        shape = self.shape_of(body)
        system = str(body.get("model"))
        messages = body.get("messages", [])
        if system.startswith("dagbot"):
            role = self.role_of(request)
            if role == "planner":
                return ModelReply.call("plan", shape.plan)
            if role == "joiner":
                return ModelReply(text=shape.answer)
            raise LookupError(f"an unexpected dagbot request (tool choice {body.get('tool_choice')!r})")
        if system == "react":
            turn = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
            waves = shape.waves
        elif system == "sequential":
            turn = sum(1 for m in messages if m.get("role") == "tool")
            waves = [[call] for call in shape.calls]
        else:
            raise LookupError(f"unknown system {system!r}")
        return _reply_calls(waves[turn]) if turn < len(waves) else ModelReply(text=shape.answer)
