"""A dagbot process for the crash test: `run` starts a plan (and gets killed), `resume` recovers.

Usage: python -m tests.agent.crash_worker run|resume DATABASE_URL THREAD LOG EVENTS
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path

from langchain_core.tools import StructuredTool

from agent.events import AwaitingApproval
from agent.execution.context import EngineSettings
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import open_services

TOKEN = "tok-s3cr3t-42"  # a secret argument: the audit trail must never show it
PLAN = {"nodes": [
    {"id": "a", "tool": "step", "args": {"name": "a"}},
    {"id": "b", "tool": "step", "args": {"name": "b after ${a}"}},
    {"id": "slow", "tool": "step", "args": {"name": "slow", "slow": True}},
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod", "token": TOKEN}, "depends_on": ["a"]},
]}


def registry(log: Path, mode: str) -> ToolRegistry:
    def note(line: str) -> None:
        with log.open("a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    async def step(name: str, slow: bool = False) -> str:
        note(f"{name.split()[0]}:start")
        if slow and mode == "run":
            await asyncio.sleep(120)
        note(f"{name.split()[0]}:end")
        return f"did {name}"

    async def deploy(target: str, token: str = "") -> str:
        note("deploy:start")
        if mode == "run":
            await asyncio.sleep(120)
        note("deploy:end")
        return f"deployed {target}"

    reg = ToolRegistry()
    reg.add(StructuredTool.from_function(coroutine=step, name="step", description="A step."), Risk.GREEN)
    reg.add(StructuredTool.from_function(coroutine=deploy, name="deploy", description="Deploy."), Risk.RED,
            secret=("token",))
    return reg


async def main(mode: str, url: str, thread: str, log: Path, events_file: Path) -> None:
    replies = [PLAN, "first"] if mode == "run" else ["recovered"]
    settings = Settings(DATABASE_URL=url, DAGBOT_LEASE_TTL=1)
    async with open_services(settings, llm=ScriptedChatModel(replies=replies),
                             registry=registry(log, mode),
                             engine_config=EngineSettings(decision_poll_seconds=0.1)) as services:
        queue = services.events.open()
        engine = services.engine

        async def approve_everything() -> None:
            while True:
                event = await queue.get()
                with events_file.open("a") as f:
                    f.write(json.dumps({"kind": type(event).__name__, **dataclasses.asdict(event)},
                                       default=str) + "\n")
                if isinstance(event, AwaitingApproval):
                    await engine.decide(event.approval_id, approved=True, by="U-approver")

        watcher = asyncio.create_task(approve_everything())
        if mode == "run":
            await engine.ask(thread, "do the steps and deploy")
        else:
            resumed = await engine.recover()
            assert resumed == [thread], resumed
        await engine.idle()
        await asyncio.sleep(0.2)
        watcher.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])))
