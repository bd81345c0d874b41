"""Benchmark: 50 concurrent /agent requests through the real Slack app.

    python -m bench.slack [--quick] [--requests N] [--database-url URL]

The app (real Bolt app over HTTP, real engine, SQLite or the given database, a fake
LLM and simulated tools) runs in its own process, as in production; this process plays
Slack: the emulated Web API (infra/emulators/slack/) and signed requests. Each request
plans one red node (``deploy``) and one green node.

- Live rounds (3, or 1 with --quick): 50 people send /agent at once; each clicks Approve
  1-4 s after their approval message appears (reading time), while the other runs go on.
  This gives ``approval_to_start_*``.
- Stress rounds, reported beside it: everyone clicks the instant their approval appears
  (``immediate_*``, in the middle of the 50 runs' start-up work), and all 50 click in the
  same instant once every run has parked (``burst_*``).

Prints ack latency p50/p99, time to the first status message p50/p99 (all rounds),
click-to-red-tool-start p50/p99, then one JSON line.
Targets: ack p99 <= 300 ms, first status p99 <= 1000 ms, approval-to-start p50 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.tools import StructuredTool

from agent.execution.context import EngineSettings
from agent.tools.registry import Risk, ToolRegistry
from bench.common import percentile
from bot.app import BotDeps, SlackAccess, build_bot
from bot.config import BotConfig
from bot.server import asgi_app
from infra.emulators.asgi_server import BackgroundServer
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.emulators.slack.driver import SlackDriver
from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import Message
from infra.operations.logging import configure_logging
from infra.settings import Settings
from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from infra.storage.slack_store import SqlSlackStore
from infra.wiring import open_services

ROOT = Path(__file__).resolve().parents[1]
HUMAN = (1.0, 4.0)
"""Seconds between an approval appearing and its click: people read before they approve."""
SECRET = "bench-signing-secret"
USER = "U0BENCH"
CHANNEL = "C0OPS"


def registry(starts: Path) -> ToolRegistry:
    """A green lookup and a red deploy that notes when it starts (monotonic, machine-wide)."""
    async def lookup(key: str) -> str:
        await asyncio.sleep(0.05)
        return f"value of {key}"

    async def deploy(target: str) -> dict[str, str]:
        with starts.open("a") as f:
            f.write(f"{target} {time.monotonic()}\n")
        return {"deployed": target}

    tools = ToolRegistry()
    tools.add(StructuredTool.from_function(coroutine=lookup, name="lookup", description="Look a key up."),
              Risk.GREEN)
    tools.add(StructuredTool.from_function(coroutine=deploy, name="deploy", description="Deploy a target."),
              Risk.RED)
    return tools


def fake_llm() -> ScriptedChatModel:
    """Plans deploy(rN) + lookup for 'bench request N'; finishes once results are in."""
    def reply(messages: list[BaseMessage]) -> dict[str, Any] | str:
        prompt = str(messages[-1].content)
        if "## Results" in prompt:
            return "deployed and looked up"
        number = re.findall(r"bench request (\d+)", prompt)[-1]
        return {"thought": "deploy needs approval", "nodes": [
            {"id": "deploy", "tool": "deploy", "args": {"target": f"r{number}"}, "why": "bench"},
            {"id": "check", "tool": "lookup", "args": {"key": f"k{number}"}},
        ]}
    return ScriptedChatModel(replies=[reply], repeat_last=True, record=False)  # (thousands of calls)


@dataclass
class Request:
    number: int
    sent_at: float = 0.0
    ack_ms: float = 0.0
    root: Message | None = None
    first_status_ms: float = 0.0
    clicked_at: float = 0.0


class Watch:
    """Indexes what the app posts as it arrives, so 50 waiters don't rescan every message."""

    def __init__(self, slack: SlackServer) -> None:
        self.slack = slack
        self.roots: dict[str, Message] = {}
        """Request text → the root message quoting it."""
        self.first_reply_at: dict[str, float] = {}
        """Root ts → when the first reply in its thread (the status message) was posted."""
        self.approvals: dict[str, Message] = {}
        self.answers = 0
        self._messages = 0
        self._calls = 0

    def scan(self) -> None:
        for message in self.slack.messages[self._messages:]:
            if message.is_from_bot and message.thread_ts is None and "> " in message.text:
                self.roots[message.text.rsplit("> ", 1)[1]] = message
            elif message.is_from_bot and message.text.startswith("Approval needed") and message.thread_ts:
                self.approvals[message.thread_ts] = message
            elif message.is_from_bot and ":stopwatch:" in message.content:
                self.answers += 1
        self._messages = len(self.slack.messages)
        for call in self.slack.calls[self._calls:]:
            root = call.args.get("thread_ts")
            if call.method == "chat.postMessage" and root and root not in self.first_reply_at:
                self.first_reply_at[root] = call.at
        self._calls = len(self.slack.calls)

    async def settled(self, count: int) -> None:
        """Every run so far has posted its answer."""
        await self.slack.wait_for(lambda: self.answers >= count, within=120, what="every answer")

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.01)


# ------------------------------------------------------------------ the app process


async def serve_app(config: dict[str, str]) -> None:
    configure_logging("WARNING")
    tools = registry(Path(config["starts"]))
    config_ = BotConfig(bot_token=config["token"], signing_secret=SECRET, api_url=config["api_url"])
    access = SlackAccess(config_)
    async with open_services(
        Settings(database_url=config["database_url"]), llm=fake_llm(), registry=tools,
        engine_config=EngineSettings(decision_poll_seconds=1.0), context=access.engine_context,
    ) as services:
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store,
                       store=SqlSlackStore(services.store.engine), access=access)
        bot = build_bot(config_, deps)
        server = BackgroundServer(asgi_app(bot), lifespan="on")
        await server.start()
        print(f"BENCH_APP_URL={server.url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()


@asynccontextmanager
async def app_process(slack: SlackServer, database_url: str, starts: Path) -> AsyncIterator[str]:
    config = {"database_url": database_url, "api_url": slack.base_url, "token": slack.token,
              "starts": str(starts)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.slack", "--serve-app", json.dumps(config), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            if not line:
                raise RuntimeError("the app process exited during start-up")
            if line.startswith("BENCH_APP_URL="):
                break
        yield line.split("=", 1)[1].strip()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


# ------------------------------------------------------------------ playing Slack


async def one_request(watch: Watch, driver: SlackDriver, request: Request) -> None:
    text = f"bench request {request.number}"
    request.sent_at = time.monotonic()
    response = await driver.slash(USER, CHANNEL, text)
    request.ack_ms = (time.monotonic() - request.sent_at) * 1000
    assert response.status_code == 200, response.text
    request.root = await watch.slack.wait_for(lambda: watch.roots.get(text), within=60,
                                              what=f"root of {text}")
    root_ts = request.root.ts
    posted_at = await watch.slack.wait_for(lambda: watch.first_reply_at.get(root_ts), within=60,
                                           what="first status message")
    request.first_status_ms = (posted_at - request.sent_at) * 1000


async def parked(store: SqlStore, count: int) -> None:
    """Every run is quiet: all approvals pending, no runner holding a thread."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not await store.held_threads() and len(await store.pending()) >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("runs did not park")


def deploy_starts(starts: Path) -> dict[str, float]:
    if not starts.exists():
        return {}
    pairs = (line.split() for line in starts.read_text().splitlines() if line.strip())
    return {target: float(at) for target, at in pairs}


async def click(driver: SlackDriver, request: Request, approval: Message) -> None:
    request.clicked_at = time.monotonic()
    response = await driver.click(USER, approval, "Approve")
    assert response.status_code == 200, response.text


async def started_after_click(slack: SlackServer, starts: Path, requests: list[Request]) -> list[float]:
    def all_started() -> dict[str, float] | None:
        found = deploy_starts(starts)
        return found if all(f"r{r.number}" in found for r in requests) else None

    started = await slack.wait_for(all_started, within=60, what="every deploy started")
    return [(started[f"r{r.number}"] - r.clicked_at) * 1000 for r in requests]


async def live_round(watch: Watch, driver: SlackDriver, starts: Path, first: int, count: int,
                     reaction: tuple[float, float], rng: random.Random) -> tuple[list[Request], list[float]]:
    """Everyone asks at once; each clicks Approve a reaction time after their approval shows up."""
    async def ask_then_approve(request: Request, delay: float) -> None:
        await one_request(watch, driver, request)
        root_ts = request.root.ts  # type: ignore[union-attr]
        approval = await watch.slack.wait_for(lambda: watch.approvals.get(root_ts), within=60,
                                              what="approval")
        await asyncio.sleep(delay)
        await click(driver, request, approval)

    requests = [Request(first + i) for i in range(count)]
    delays = [rng.uniform(*reaction) for _ in requests]
    await asyncio.gather(*(ask_then_approve(r, d) for r, d in zip(requests, delays, strict=True)))
    return requests, await started_after_click(watch.slack, starts, requests)


async def burst_round(watch: Watch, driver: SlackDriver, store: SqlStore, starts: Path, first: int,
                      count: int) -> tuple[list[Request], list[float]]:
    """Everyone asks at once; once every run has parked, everyone clicks at the same moment."""
    requests = [Request(first + i) for i in range(count)]
    await asyncio.gather(*(one_request(watch, driver, r) for r in requests))
    approvals = []
    for r in requests:
        assert r.root is not None  # (one_request waits for it)
        approvals.append(await watch.slack.wait_for(partial(watch.approvals.get, r.root.ts), within=60))
    await parked(store, count)
    await asyncio.gather(*(click(driver, r, a) for r, a in zip(requests, approvals, strict=True)))
    return requests, await started_after_click(watch.slack, starts, requests)


async def bench(requests: int, rounds: int, database_url: str | None) -> dict[str, Any]:
    configure_logging("WARNING")
    workdir = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    url = database_url or f"sqlite:///{workdir}/bench.sqlite"
    starts = workdir / "deploy-starts.txt"
    started = time.monotonic()
    async with SlackServer() as slack, app_process(slack, url, starts) as app_url:
        slack.add_user(USER, "bench")
        driver = SlackDriver(slack, app_url, SECRET)
        watch = Watch(slack)
        watching = asyncio.create_task(watch.run())
        db = create_engine(url)
        store = SqlStore(db)
        done: list[Request] = []
        try:
            to_start: list[float] = []
            rng = random.Random(7)
            for _round in range(rounds):  # each round starts once the previous one has answered
                batch, latencies = await live_round(watch, driver, starts, len(done), requests, HUMAN, rng)
                done += batch
                to_start += latencies
                await watch.settled(len(done))
            batch, immediate = await live_round(watch, driver, starts, len(done), requests, (0.0, 0.0), rng)
            done += batch
            await watch.settled(len(done))
            batch, burst = await burst_round(watch, driver, store, starts, len(done), requests)
            done += batch
            await watch.settled(len(done))
        finally:
            watching.cancel()
            await driver.close()
            await db.dispose()
    acks = [r.ack_ms for r in done]
    firsts = [r.first_status_ms for r in done]
    return {
        "bench": "slack", "requests": len(done), "concurrency": requests, "answers": watch.answers,
        "ack_p50_ms": round(percentile(acks, 50), 1), "ack_p99_ms": round(percentile(acks, 99), 1),
        "first_status_p50_ms": round(percentile(firsts, 50), 1),
        "first_status_p99_ms": round(percentile(firsts, 99), 1),
        "approval_to_start_p50_ms": round(percentile(to_start, 50), 1),
        "approval_to_start_p99_ms": round(percentile(to_start, 99), 1),
        "immediate_approval_to_start_p50_ms": round(percentile(immediate, 50), 1),
        "immediate_approval_to_start_p99_ms": round(percentile(immediate, 99), 1),
        "burst_approval_to_start_p50_ms": round(percentile(burst, 50), 1),
        "burst_approval_to_start_p99_ms": round(percentile(burst, 99), 1),
        "wall_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one live round plus the stress rounds (< 60 s)")
    parser.add_argument("--requests", type=int, default=50, help="concurrent requests per round")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--serve-app", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_app:
        asyncio.run(serve_app(json.loads(args.serve_app)))
        return
    figures = asyncio.run(bench(args.requests, 1 if args.quick else 3, args.database_url))
    print(f"{figures['requests']} /agent requests, {figures['concurrency']} at a time; "
          f"{figures['answers']} answers")
    print(f"ack latency             p50 {figures['ack_p50_ms']:7.1f} ms   p99 {figures['ack_p99_ms']:7.1f} ms"
          "   (target p99 <= 300)")
    print(f"first status message    p50 {figures['first_status_p50_ms']:7.1f} ms   "
          f"p99 {figures['first_status_p99_ms']:7.1f} ms   (target p99 <= 1000)")
    print(f"click to red tool start p50 {figures['approval_to_start_p50_ms']:7.1f} ms   "
          f"p99 {figures['approval_to_start_p99_ms']:7.1f} ms   (target p50 <= 500)")
    for name, label in (("immediate", "clicking at once seen"), ("burst", "all parked, one instant")):
        p50, p99 = figures[f"{name}_approval_to_start_p50_ms"], figures[f"{name}_approval_to_start_p99_ms"]
        print(f"  ({label:23s}) p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
