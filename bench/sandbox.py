"""Sandbox benchmark: cold start per backend, tool-bridge round trip, state size.

    python -m bench.sandbox [--quick]

Cold start: wall time of ``Sandbox.run`` for a trivial script (``result = 1``), i.e. create +
start + channel + exit + cleanup, p50/p95 over N runs. Bridge round trip: time of one
``tools.echo(...)`` call measured inside the sandbox (call frame → host → gateway with
argument validation → reply frame). State size: bytes the engine keeps for a thread
(checkpointed state + node-result rows) after fetching a 1 MB page, packaged vs split.
Targets: docker <= 400 ms, bwrap <= 60 ms, bridge <= 10 ms.
Prints a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from langchain_core.tools import StructuredTool

from agent.gateway import GreenToolGateway
from agent.ports import Sandbox, SandboxLimits
from agent.tools.registry import Risk, ToolRegistry
from infra.settings import Settings
from infra.toolbox import build_registry
from infra.wiring import open_services
from sandbox.backends.bwrap import BwrapSandbox
from sandbox.backends.docker import DockerSandbox
from sandbox.reflexion import ReflexionPackageRunner
from tests.fakes.chat import ScriptedChatModel

TARGETS_MS = {"docker": 400.0, "bwrap": 60.0, "bridge": 10.0}
BRIDGE_SCRIPT = """
import time
durations = []
for i in range({calls}):
    started = time.perf_counter()
    tools.echo(text=str(i))
    durations.append((time.perf_counter() - started) * 1000)
result = durations
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def echo_gateway() -> GreenToolGateway:
    async def echo(text: str) -> str:
        """Return the text."""
        return text

    registry = ToolRegistry()
    registry.add(StructuredTool.from_function(coroutine=echo, name="echo"), Risk.GREEN)
    return GreenToolGateway(registry)


def backends() -> dict[str, tuple[Sandbox | None, str | None]]:
    docker_backend = DockerSandbox()
    bwrap_backend = BwrapSandbox()
    return {
        "docker": (docker_backend, docker_backend.problem()),
        "bwrap": (bwrap_backend, bwrap_backend.probe()),
    }


async def cold_starts(sandbox: Sandbox, runs: int) -> list[float]:
    gateway, limits = echo_gateway(), SandboxLimits(wall_seconds=30)
    await sandbox.run("result = 1", {}, gateway, limits)  # warm the page cache, not the sandbox
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        outcome = await sandbox.run("result = 1", {}, gateway, limits)
        timings.append((time.perf_counter() - started) * 1000)
        if not outcome.ok:
            raise RuntimeError(f"{sandbox.name}: trivial script failed: {outcome.error}")
    return timings


async def bridge_round_trips(sandbox: Sandbox, calls: int) -> list[float]:
    limits = SandboxLimits(wall_seconds=60, tool_calls=calls)
    outcome = await sandbox.run(BRIDGE_SCRIPT.format(calls=calls), {}, echo_gateway(), limits)
    if not outcome.ok:
        raise RuntimeError(f"{sandbox.name}: bridge script failed: {outcome.error}")
    return [float(x) for x in outcome.result]


PARAGRAPH = "<p>" + "Deploy windows are Tuesday and Thursday; the on-call engineer signs off. " * 4 + "</p>\n"


@contextmanager
def page_server(size: int) -> Iterator[str]:
    """A local HTTP server with one HTML page of about ``size`` bytes."""
    body = ("<html><body>" + PARAGRAPH * (size // len(PARAGRAPH) + 1) + "</body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page"
    finally:
        server.shutdown()
        server.server_close()


async def state_sizes(sandbox: Sandbox) -> dict[str, int]:
    """What the engine keeps for a thread (checkpointed state + node-result rows) after
    fetching and word-counting a 1 MB page, as one package vs split into atomic nodes."""
    with tempfile.TemporaryDirectory() as tmp, page_server(1_000_000) as url:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite", workspace=workspace)
        code = (f"page = tools.http_get(url={url!r})\n"
                "result = {'words': len(page['text'].split())}\n")
        llm = ScriptedChatModel(replies=[
            {"nodes": [{"id": "count", "package": {"goal": "count the words", "code": code}}]},
            {"action": "finish", "answer": "counted"},
            {"nodes": [{"id": "page", "tool": "http_get", "args": {"url": url}},
                       {"id": "copy", "tool": "write_file",
                        "args": {"path": "page.txt", "content": "${page.text}"}}]},
            {"action": "finish", "answer": "copied"},
        ])
        runner = ReflexionPackageRunner(sandbox, llm)
        async with open_services(settings, llm=llm, registry=build_registry(settings),
                                 packages=runner) as svc:
            sizes = {}
            for thread, request in (("packaged", "count the words"), ("split", "copy the page")):
                await svc.engine.ask(thread, request)
                sizes[f"{thread}_state_bytes"] = (await svc.engine.state_bytes(thread)
                                                  + await svc.store.result_bytes(thread))
            return sizes


async def main(quick: bool) -> dict[str, Any]:
    runs, calls = (20, 50) if quick else (50, 200)
    figures: dict[str, Any] = {}
    rows: list[tuple[str, str, str, str, str]] = []
    bridge_p50s = []
    for name, (sandbox, problem) in backends().items():
        if sandbox is None or problem:
            rows.append((f"{name} cold start", "-", "-", "-", f"unavailable: {problem}"))
            continue
        starts = await cold_starts(sandbox, runs)
        trips = await bridge_round_trips(sandbox, calls)
        figures[f"{name}_start_p50_ms"] = round(statistics.median(starts), 1)
        figures[f"{name}_start_p95_ms"] = round(percentile(starts, 95), 1)
        figures[f"{name}_bridge_p50_ms"] = round(statistics.median(trips), 2)
        bridge_p50s.append(statistics.median(trips))
        rows.append((f"{name} cold start", str(runs), f"{statistics.median(starts):.1f}",
                     f"{percentile(starts, 95):.1f}", f"<= {TARGETS_MS[name]:.0f}"))
        rows.append((f"{name} bridge round trip", str(calls), f"{statistics.median(trips):.2f}",
                     f"{percentile(trips, 95):.2f}", f"<= {TARGETS_MS['bridge']:.0f}"))
    if bridge_p50s:
        figures["bridge_roundtrip_p50_ms"] = round(max(bridge_p50s), 2)
    usable = [sandbox for sandbox, problem in backends().values() if sandbox and not problem]
    if usable:
        sizes = await state_sizes(usable[0])
        figures.update(sizes)
        rows.append(("state packaged (bytes)", "1", str(sizes["packaged_state_bytes"]), "-", "< 50000"))
        rows.append(("state split (bytes)", "1", str(sizes["split_state_bytes"]), "-", "(page carried)"))
    print(f"{'measure':<28} {'n':>4} {'p50 ms':>9} {'p95 ms':>9}  target")
    for label, n, p50, p95, target in rows:
        print(f"{label:<28} {n:>4} {p50:>9} {p95:>9}  {target}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs (under 60 s)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.quick))))
