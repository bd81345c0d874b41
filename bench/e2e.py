"""End to end against the agents users pick instead, on one model and one set of tools.

    python -m bench.e2e [--quick] [--db postgres|sqlite] [--repeats N] [--no-prefix-cache]
    python -m bench.e2e --mcp [--quick]   (a green tool through an MCP server vs direct: bench.e2e_mcp)

One local OpenAI-compatible server (infra.emulators.model_server) with a latency model
(infra.emulators.model_latency: first token after 0.5 s plus 0.2 ms per prompt token, then
60 tokens/s; tokens counted as characters / 4 for every system) and simulated tools with
fixed latencies (search 0.5 s, calculate 0.05 s) serve the same requests (bench.e2e_shapes) to:

- ``dagbot``: the real graph (planner → scheduler → joiner, the PostgreSQL checkpointer and
  stores), with the planner streamed and nodes dispatched as they arrive;
- ``dagbot-nostream``: the same, the planner's whole reply awaited first;
- ``react``: LangChain's ``create_agent`` (the successor of LangGraph's prebuilt
  ``create_react_agent``), its model free to call tools in parallel, on the same checkpointer;
- ``sequential``: the same agent, its model calling one tool per turn.

``--quick`` runs each cell once, and the sequential baseline's four requests side by side
(they are mostly waiting; the others run one request at a time).

dagbot's chain is its first call, then a package for the two dependent hops, run in the real
sandbox (bubblewrap or Docker) when one can run here, since that is what dagbot does in
production; otherwise by a stand-in that makes the package's two tool calls through the same
green-tool gateway (the table says which).

Prints a table, then one JSON line:
- e2e_ratio_vs_react: dagbot's time / ReAct's, mean over the shapes (goal ≤ 0.6)
- tokens_ratio_vs_react: dagbot's tokens (prompt + completion) / ReAct's, mean over shapes (≤ 1.0)
- first_tool_fraction: dagbot's time to its first tool start / time to generate the whole
  plan, both from the planner request, mean over shapes (goal ≤ 0.3)
- e2e_ratio_floor_any_system: the least time any system could answer in on this latency model
  / ReAct's time, mean over shapes; first_tool_fraction_floor: the least first-tool fraction
  dagbot's plans allow (both bench.e2e_floor)
- llm_calls_per_request: per system, mean over shapes
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import SecretStr

from agent.events import AnswerReady, RunFailed
from agent.execution.context import EngineSettings
from agent.ports.sandbox import EmitFn, PackageJob, PackageOutcome, PackageRunner, ToolGateway
from agent.tools.registry import Risk, ToolRegistry
from bench.common import scratch_database
from bench.e2e_floor import any_system_floor_s, first_tool_floor
from bench.e2e_shapes import RECORDER, ScriptedModel, Shape, ToolTimes, bench_tools, shapes
from infra.emulators.model_latency import LatencyModel
from infra.emulators.model_server import ModelServer, Served
from infra.openai_client import ChatOpenAIWithRole
from infra.settings import Settings
from infra.storage.checkpoint import open_checkpointer
from infra.wiring import Services, open_services

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SYSTEMS = ("dagbot", "dagbot-nostream", "react", "sequential")
INSTANT = LatencyModel(ttft_s=0.0, tokens_per_s=1e9, prompt_s_per_token=0.0)
REACT_PROMPT = ("You are an operations assistant. Use the tools to answer; call independent tools "
                "in the same turn. Answer in one or two sentences.")


@dataclass
class Run:
    system: str
    shape: str
    seconds: float
    llm_calls: int
    tokens: int
    prompt_tokens: int
    first_tool_s: float | None
    """From the first model request to the first tool start."""
    plan_s: float | None
    """dagbot: from the planner request to the end of its reply."""
    plan_prompt_tokens: int | None
    """dagbot: the planner request's prompt tokens it had to process (not a cached prefix)."""
    prefilled_tokens: int = 0
    """Prompt tokens processed, all requests (not a cached prefix)."""
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    """dagbot: where the time went (see PHASES)."""


PHASES = {
    "to planner": "from the request to the planner's model request (engine, checkpoints)",
    "plan 1st token": "the planner's time to first token: latency plus its prompt's prefill",
    "plan tokens": "the planner writing the plan (tools start meanwhile when streamed)",
    "tools after plan": ("from the plan's end to the joiner's request (to the answer when the plan "
                         "carries it): tools still running, engine"),
    "joiner": "the joiner's model request, first token to last (0 when the plan carries the answer)",
    "after joiner": "from the joiner's reply to the answer (engine, checkpoints)",
}


def dagbot_phases(served: list[Served], started: float, ended: float) -> dict[str, float]:
    planner = next(s for s in served if s.role == "planner")
    joiner = next((s for s in reversed(served) if s.role == "joiner"), None)
    if joiner is None:  # the plan carried the answer: no joiner call
        after_plan, joining, after_joiner = ended - planner.ended, 0.0, 0.0
    else:
        after_plan, joining = joiner.arrived - planner.ended, joiner.ended - joiner.arrived
        after_joiner = ended - joiner.ended
    return dict(zip(PHASES, [
        planner.arrived - started, planner.first_token - planner.arrived,
        planner.ended - planner.first_token, after_plan, joining, after_joiner], strict=True))


def chat_model(server: ModelServer, name: str) -> ChatOpenAIWithRole:
    return ChatOpenAIWithRole(model=name, base_url=server.url, api_key=SecretStr("unused"), temperature=0,
                              max_retries=0, timeout=60, stream_usage=True)


# ------------------------------------------------------------------- dagbot


class GatewayPackages:
    """Stand-in for the sandbox when none can run here: the package's two calls, made
    through the same green-tool gateway package code would use. It runs no package code."""

    name = "stand-in (no sandbox here)"
    max_attempts = 1

    async def run(self, job: PackageJob, tools: ToolGateway, emit: EmitFn) -> PackageOutcome:
        hop1 = job.inputs["paper"]
        hop2 = await tools.call("search", {"query": hop1["lead"]})
        hop3 = await tools.call("search", {"query": hop2["lead"]})
        return PackageOutcome(ok=True, output={"trail": [hop1["title"], hop2["title"], hop3["title"]],
                                               "end": hop3["text"][:200]})


def package_runner(llm: ChatOpenAIWithRole) -> tuple[PackageRunner, str]:
    from sandbox.backends.bwrap import BwrapSandbox
    from sandbox.backends.docker import DockerSandbox
    from sandbox.reflexion import ReflexionPackageRunner

    for sandbox in (BwrapSandbox(), DockerSandbox()):
        problem = sandbox.probe() if isinstance(sandbox, BwrapSandbox) else sandbox.problem()
        if problem is None:
            return ReflexionPackageRunner(sandbox, llm), f"real sandbox ({sandbox.name})"
    return GatewayPackages(), GatewayPackages.name


@asynccontextmanager
async def dagbot(db_url: str, server: ModelServer, streaming: bool,
                 ) -> AsyncIterator[tuple[Services, str]]:
    llm = chat_model(server, "dagbot" if streaming else "dagbot-nostream")
    registry = ToolRegistry()
    for tool in bench_tools():
        registry.add(tool, Risk.GREEN)
    packages, how = package_runner(llm)
    engine = EngineSettings(decision_poll_seconds=1.0, stream_planner=streaming)
    async with open_services(Settings(database_url=db_url), llm=llm, registry=registry,
                             packages=packages, engine_config=engine) as svc:
        yield svc, how


async def run_dagbot(svc: Services, shape: Shape) -> str:
    thread = f"e2e:{uuid.uuid4().hex}"
    queue = svc.events.open(thread)
    try:
        await svc.engine.ask(thread, shape.request)
        while not queue.empty():
            event = queue.get_nowait()
            if isinstance(event, AnswerReady):
                return event.answer
            if isinstance(event, RunFailed):
                raise RuntimeError(f"dagbot failed on {shape.name}: {event.error}")
    finally:
        svc.events.close(queue)
    raise RuntimeError(f"dagbot gave no answer on {shape.name}")


# -------------------------------------------------------------- baselines


def react_agent(server: ModelServer, name: str, saver: BaseCheckpointSaver[Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain.agents import create_agent
    return create_agent(chat_model(server, name), bench_tools(), system_prompt=REACT_PROMPT,
                        checkpointer=saver)


async def run_agent(agent: Any, shape: Shape) -> str:
    config = {"configurable": {"thread_id": f"e2e:{uuid.uuid4().hex}"}, "recursion_limit": 50}
    state = await agent.ainvoke({"messages": [HumanMessage(shape.request)]}, config)
    return str(state["messages"][-1].content)


# -------------------------------------------------------------- measuring


async def measure(system: str, runner: Any, shape: Shape, server: ModelServer) -> Run:
    times = ToolTimes()
    RECORDER.set(times)  # (in this task's context only: requests may run side by side)
    server.cache.forget(shape.name)  # asked again, it is a new request: no prefix of its own is cached
    first = len(server.served)
    started = time.monotonic()
    answer = await (run_dagbot(runner, shape) if system.startswith("dagbot") else run_agent(runner, shape))
    seconds = time.monotonic() - started
    served: list[Served] = [s for s in server.served[first:] if s.label == shape.name]
    if answer != shape.answer:
        raise RuntimeError(f"{system} on {shape.name}: wrong answer {answer!r}")
    if sorted(times.calls) != sorted((n, a.get("query", a.get("expression", ""))) for n, a in shape.calls):
        raise RuntimeError(f"{system} on {shape.name}: different tool calls {times.calls}")
    origin = served[0].arrived
    planner = next((s for s in served if s.role == "planner"), None)
    return Run(system=system, shape=shape.name, seconds=seconds, llm_calls=len(served),
               tokens=sum(s.prompt_tokens + s.completion_tokens for s in served),
               prompt_tokens=sum(s.prompt_tokens for s in served),
               first_tool_s=min(times.starts) - origin if times.starts else None,
               plan_s=planner.ended - planner.arrived if planner else None,
               plan_prompt_tokens=planner.prompt_tokens - planner.cached_tokens if planner else None,
               prefilled_tokens=sum(s.prompt_tokens - s.cached_tokens for s in served),
               phases=dagbot_phases(served, started, started + seconds) if planner else {})


@asynccontextmanager
async def system_runners(db_url: str, server: ModelServer, notes: dict[str, str]
                         ) -> AsyncIterator[dict[str, Any]]:
    """What runs each system's requests: each dagbot variant its engine (built with its
    setting), on one database; both baselines one checkpointer."""
    async with AsyncExitStack() as stack:
        svc, notes["package"] = await stack.enter_async_context(dagbot(db_url, server, True))
        nostream, _ = await stack.enter_async_context(dagbot(db_url, server, False))
        saver = await stack.enter_async_context(open_checkpointer(db_url))
        yield {"dagbot": svc, "dagbot-nostream": nostream, "react": react_agent(server, "react", saver),
               "sequential": react_agent(server, "sequential", saver)}


async def run_suite(db_url: str, repeats: int, latency: LatencyModel, side_by_side: bool
                    ) -> tuple[list[Run], dict[str, str]]:
    """Every system on every shape, ``repeats`` times, one request at a time; with
    ``side_by_side`` the sequential baseline's requests (the slowest, and light on the CPU) run
    together, to keep ``--quick`` short."""
    suite = shapes()
    model = ScriptedModel(suite)
    runs: list[Run] = []
    notes: dict[str, str] = {}
    with ModelServer(model, latency=latency, label=lambda request: model.shape_of(request.body).name,
                     role=model.role_of) as server:
        async with system_runners(db_url, server, notes) as runners:
            # warm-up (connections, the sandbox's page cache), the model instant
            server.latency = INSTANT
            await measure("dagbot", runners["dagbot"], suite[-1], server)
            await measure("dagbot-nostream", runners["dagbot-nostream"], suite[-1], server)
            await measure("react", runners["react"], suite[0], server)
            server.latency = latency
            for system in SYSTEMS:
                runner = runners[system]
                for _ in range(repeats):
                    if side_by_side and system == "sequential":
                        runs.extend(await asyncio.gather(*(measure(system, runner, shape, server)
                                                           for shape in suite)))
                        continue
                    for shape in suite:
                        runs.append(await measure(system, runner, shape, server))
    return runs, notes


# -------------------------------------------------------------- reporting


def mean_of(runs: list[Run], system: str, shape: str, attr: str) -> float:
    values = [getattr(r, attr) for r in runs if r.system == system and r.shape == shape]
    return statistics.mean(v for v in values if v is not None)


def figures(runs: list[Run], latency: LatencyModel) -> dict[str, Any]:
    names = list(dict.fromkeys(r.shape for r in runs))
    suite = {shape.name: shape for shape in shapes()}

    def ratio(system: str, attr: str, base: str = "react") -> float:
        return statistics.mean(mean_of(runs, system, s, attr) / mean_of(runs, base, s, attr) for s in names)

    def fraction(system: str) -> float:
        return statistics.mean(mean_of(runs, system, s, "first_tool_s") / mean_of(runs, system, s, "plan_s")
                               for s in names)

    return {
        "e2e_ratio_vs_react": round(ratio("dagbot", "seconds"), 3),
        "e2e_ratio_vs_react_nostream": round(ratio("dagbot-nostream", "seconds"), 3),
        "e2e_ratio_sequential_vs_react": round(ratio("sequential", "seconds"), 3),
        "e2e_ratio_floor_any_system": round(statistics.mean(
            any_system_floor_s(suite[s], latency) / mean_of(runs, "react", s, "seconds") for s in names), 3),
        "tokens_ratio_vs_react": round(ratio("dagbot", "tokens"), 3),
        "first_tool_fraction": round(fraction("dagbot"), 3),
        "first_tool_fraction_floor": round(statistics.mean(
            first_tool_floor(suite[s], latency, round(mean_of(runs, "dagbot", s, "plan_prompt_tokens")))
            for s in names), 3),
        "first_tool_fraction_nostream": round(fraction("dagbot-nostream"), 3),
        "first_tool_fraction_by_shape": {
            s: round(mean_of(runs, "dagbot", s, "first_tool_s") / mean_of(runs, "dagbot", s, "plan_s"), 3)
            for s in names},
        "prompt_tokens_per_request": {
            system: round(statistics.mean(mean_of(runs, system, s, "prompt_tokens") for s in names))
            for system in SYSTEMS},
        "prefilled_tokens_per_request": {
            system: round(statistics.mean(mean_of(runs, system, s, "prefilled_tokens") for s in names))
            for system in SYSTEMS},
        "reply_tokens_per_request": {
            system: round(statistics.mean(mean_of(runs, system, s, "tokens") - mean_of(
                runs, system, s, "prompt_tokens") for s in names)) for system in SYSTEMS},
        "llm_calls_per_request": {
            system: round(statistics.mean(mean_of(runs, system, s, "llm_calls") for s in names), 2)
            for system in SYSTEMS},
        "seconds_per_request": {
            system: round(statistics.mean(mean_of(runs, system, s, "seconds") for s in names), 2)
            for system in SYSTEMS},
    }


def phase_table(runs: list[Run], system: str = "dagbot") -> str:
    """Where dagbot's time goes, per shape (mean seconds)."""
    lines = [f"where {system}'s time goes (s):", f"{'shape':<26}" + "".join(f"{p:>17}" for p in PHASES)]
    for shape in dict.fromkeys(r.shape for r in runs):
        mine = [r.phases for r in runs if r.system == system and r.shape == shape and r.phases]
        lines.append(f"{shape:<26}" + "".join(f"{statistics.mean(m[p] for m in mine):>17.2f}"
                                              for p in PHASES))
    return "\n".join(lines)


def table(runs: list[Run], latency: LatencyModel) -> str:
    """Per shape, each system's mean figures, then the least time any system could take
    (bench.e2e_floor)."""
    suite = {shape.name: shape for shape in shapes()}
    lines = [f"{'shape':<26}{'system':<17}{'e2e s':>7}{'vs react':>9}{'calls':>6}{'tokens':>8}"
             f"{'1st tool s':>11}{'plan s':>8}"]
    for shape in dict.fromkeys(r.shape for r in runs):
        react = mean_of(runs, "react", shape, "seconds")
        for system in SYSTEMS:
            mine = [r for r in runs if r.system == system and r.shape == shape]
            if not mine:
                continue
            seconds = mean_of(runs, system, shape, "seconds")
            first = mean_of(runs, system, shape, "first_tool_s")
            plan = [r.plan_s for r in mine if r.plan_s is not None]
            lines.append(f"{shape:<26}{system:<17}{seconds:>7.2f}{seconds / react:>9.2f}"
                         f"{mean_of(runs, system, shape, 'llm_calls'):>6.0f}"
                         f"{mean_of(runs, system, shape, 'tokens'):>8.0f}{first:>11.2f}"
                         f"{(f'{statistics.mean(plan):.2f}' if plan else '-'):>8}")
        floor = any_system_floor_s(suite[shape], latency)
        lines.append(f"{shape:<26}{'floor, any':<17}{floor:>7.2f}{floor / react:>9.2f}")
    return "\n".join(lines)


async def main(quick: bool, db: str, repeats: int | None, prefix_caching: bool = True) -> dict[str, Any]:
    latency = LatencyModel(prefix_caching=prefix_caching)
    repeats = repeats or (1 if quick else 3)
    with scratch_database(PG_URL, "dagbot_e2e") as pg_url:
        url = pg_url if db == "postgres" else f"sqlite:///{tempfile.mkdtemp()}/e2e.sqlite"
        runs, notes = await run_suite(url, repeats, latency, side_by_side=quick)
    print(f"model: first token {latency.ttft_s} s + {latency.prompt_s_per_token * 1000:g} ms/prompt token"
          + (" not cached (prefix caching)" if latency.prefix_caching else "")
          + f", {latency.tokens_per_s:g} tokens/s; tokens = characters / 4; {repeats} run(s) per cell; "
          f"dagbot's package: {notes.get('package', '-')}; database: {db}"
          + ("; the sequential baseline's requests side by side" if quick else ""))
    print(table(runs, latency))
    print(phase_table(runs))
    result = figures(runs, latency)
    result.update({"repeats": repeats, "database": db})
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per cell, under 90 s")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--repeats", type=int, default=None, help="runs per cell (default 3, quick 1)")
    parser.add_argument("--no-prefix-cache", action="store_true",
                        help="every prompt processed whole (no server reuses a prefix)")
    parser.add_argument("--mcp", action="store_true",
                        help="only the overhead of a call through an MCP server (bench.e2e_mcp)")
    args = parser.parse_args()
    if args.mcp:
        from bench import e2e_mcp
        asyncio.run(e2e_mcp.main(args.quick))
    else:
        asyncio.run(main(args.quick, args.db, args.repeats, not args.no_prefix_cache))
