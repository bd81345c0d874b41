"""Starting the tests' MCP servers: the fault server (tests/infra/mcp/fault_server.py) over stdio
or Streamable HTTP on 127.0.0.1, and configuration files naming them."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from agent.events import RunEvent
from bench.common import free_port

ROOT = Path(__file__).resolve().parents[3]
FAULT_SERVER = "tests.infra.mcp.fault_server"
QUICK_RESTARTS = {"restart_backoff_seconds": 0.1, "max_restart_backoff_seconds": 0.5}


def stdio_fault_server(log: Path, **keys: Any) -> dict[str, Any]:
    """The ``mcpServers`` entry that starts the fault server over stdio."""
    return {"command": sys.executable, "args": ["-m", FAULT_SERVER, "stdio"], "cwd": str(ROOT),
            "env": {"FAULT_SERVER_LOG": str(log)}, **QUICK_RESTARTS, **keys}


def write_config(path: Path, servers: dict[str, dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


class HttpFaultServer:
    """The fault server over Streamable HTTP (or SSE) at :attr:`url`, in a process of its own."""

    def __init__(self, log: Path, transport: str = "http") -> None:
        self.port = free_port()
        self.transport = transport
        self.url = f"http://127.0.0.1:{self.port}/{'mcp' if transport == 'http' else 'sse'}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", FAULT_SERVER, self.transport, str(self.port)], cwd=ROOT,
            env={"FAULT_SERVER_LOG": str(self.log), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the fault server exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the fault server did not listen within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def next_event(queue: asyncio.Queue[RunEvent], kind: type[RunEvent], seconds: float = 60) -> RunEvent:
    """The next event of ``kind`` a run publishes (the others passed over), within ``seconds``."""
    async def find() -> RunEvent:
        while not isinstance(event := await queue.get(), kind):
            pass
        return event
    return await asyncio.wait_for(find(), seconds)
