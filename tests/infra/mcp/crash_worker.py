"""A dagbot process for the MCP crash test (tests/infra/mcp/test_mcp_crash.py), after
tests/agent/crash_worker.py: ``run`` plans a red MCP call, approves it and is killed while the
server holds the call; ``resume`` recovers the thread in a new process, rejecting what it is
asked again.

Usage: python -m tests.infra.mcp.crash_worker run|resume DATABASE_URL DIR

DIR holds the fault server's log (``tools.log``: one line per call that ran) and each mode's
events (``run.events``, ``resume.events``, a JSON object a line).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path

from agent.events import AwaitingApproval
from agent.execution.context import EngineSettings
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import open_services
from tests.infra.mcp.helpers import stdio_fault_server, write_config

THREAD = "mcp-crash-thread"
LINE = "incident INC-7: paged the vendor"
PLAN = {"thought": "read, then the red call", "nodes": [
    {"id": "look", "tool": "faults__echo", "args": {"text": "status"}},
    {"id": "page", "tool": "faults__record_and_hold", "args": {"text": LINE}, "depends_on": ["look"]},
]}
REJECTED_BECAUSE = "the vendor was paged already"


def config(folder: Path, mode: str) -> Path:
    log = folder / "tools.log"
    env = {"FAULT_SERVER_LOG": str(log), **({"FAULT_SERVER_HOLD": "1"} if mode == "run" else {})}
    return write_config(folder / f"mcp-{mode}.json", {"faults": stdio_fault_server(log, env=env, green=["echo"])})


async def main(mode: str, url: str, folder: Path) -> None:
    replies = [PLAN] if mode == "run" else ["not paged again"]
    settings = Settings(DATABASE_URL=url, DAGBOT_LEASE_TTL=1, DAGBOT_MCP_CONFIG=str(config(folder, mode)))
    async with open_services(settings, llm=ScriptedChatModel(replies=replies),
                             engine_config=EngineSettings(decision_poll_seconds=0.1)) as services:
        queue = services.events.open()
        engine = services.engine

        async def decide_everything() -> None:
            while True:
                event = await queue.get()
                with (folder / f"{mode}.events").open("a") as f:
                    f.write(json.dumps({"kind": type(event).__name__, **dataclasses.asdict(event)},
                                       default=str) + "\n")
                if isinstance(event, AwaitingApproval):  # asked again after the crash: the person says no
                    await engine.decide(event.approval_id, approved=mode == "run", by="U-approver",
                                        reason=None if mode == "run" else REJECTED_BECAUSE)

        watcher = asyncio.create_task(decide_everything())
        if mode == "run":
            await engine.ask(THREAD, "page the vendor about INC-7")
        else:
            resumed = await engine.recover()
            assert resumed == [THREAD], resumed
        await engine.idle()
        await asyncio.sleep(0.2)
        watcher.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
